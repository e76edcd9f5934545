// Residents: SQL only. Personal numbers arrive here already sealed (ciphertext, hash, mask parts).
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/types.ts';
import { likePrefix } from '../grid/grid.repository.ts';

type Q = Kysely<Database> | Transaction<Database>;

export const RESIDENT_COLUMNS = [
  'r.district_id',
  'r.id',
  'r.unit_id',
  'r.household_id',
  'r.house_id',
  'r.name',
  'r.name_initials',
  'r.gender',
  'r.birth_date',
  'r.id_cipher',
  'r.id_head',
  'r.id_last4',
  'r.phone_cipher',
  'r.phone_head',
  'r.phone_last4',
  'r.registration',
  'r.relation_to_head',
  'r.address',
  'r.tags',
  'r.sensitive_tags',
  'r.sources',
  'r.created_at',
  'r.updated_at',
  'r.archived_at',
  'u.path as unit_path',
  'u.name as unit_name',
] as const;

export interface ResidentValues {
  unit_id: number;
  household_id: number | null;
  house_id: number | null;
  name: string;
  name_initials: string;
  gender: string;
  birth_date: string | null;
  id_cipher: string | null;
  id_hash: string | null;
  id_head: string | null;
  id_last4: string | null;
  phone_cipher: string | null;
  phone_hash: string | null;
  phone_head: string | null;
  phone_last4: string | null;
  registration: string;
  relation_to_head: string | null;
  address: string | null;
  tags: string[];
  sensitive_tags: string[];
  sources: Record<string, string>;
}

export interface ResidentSearch {
  paths: string[];
  unitPath?: string;
  idHashes?: string[];
  phoneHashes?: string[];
  initials?: string;
  name?: string;
  address?: string;
  tag?: string;
  sensitiveTag?: string;
  limit: number;
  offset: number;
}

export class ResidentsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  private base(q: Q) {
    return q
      .selectFrom('resident as r')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'r.district_id').onRef('u.id', '=', 'r.unit_id'))
      .select(RESIDENT_COLUMNS);
  }

  byId(id: number, q: Q = this.db) {
    return this.base(q).where('r.id', '=', id).executeTakeFirst();
  }

  byIdHash(districtId: number, hashes: string[], q: Q = this.db) {
    return this.base(q).where('r.district_id', '=', districtId).where('r.id_hash', 'in', hashes).executeTakeFirst();
  }

  insert(districtId: number, values: ResidentValues, q: Q) {
    return q
      .insertInto('resident')
      .values({ district_id: districtId, ...values, sources: JSON.stringify(values.sources) })
      .returning(['id'])
      .executeTakeFirstOrThrow();
  }

  update(districtId: number, id: number, values: Partial<ResidentValues>, now: Date, q: Q) {
    const { sources, ...rest } = values;
    return q
      .updateTable('resident')
      .set({ ...rest, ...(sources ? { sources: JSON.stringify(sources) } : {}), updated_at: now })
      .where('district_id', '=', districtId)
      .where('id', '=', id)
      .execute();
  }

  search(s: ResidentSearch, q: Q = this.db) {
    if (!s.paths.length) return Promise.resolve([]);
    let query = this.base(q)
      .where('r.archived_at', 'is', null)
      .where((eb) => eb.or(s.paths.map((p) => eb('u.path', 'like', likePrefix(p)))));
    if (s.unitPath) query = query.where('u.path', 'like', likePrefix(s.unitPath));
    if (s.idHashes) query = query.where('r.id_hash', 'in', s.idHashes);
    if (s.phoneHashes) query = query.where('r.phone_hash', 'in', s.phoneHashes);
    if (s.initials) query = query.where('r.name_initials', 'like', likePrefix(s.initials));
    if (s.name) query = query.where('r.name', 'like', likePrefix(s.name));
    if (s.address) query = query.where('r.address', 'ilike', `%${s.address.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    if (s.tag) query = query.where((eb) => eb(eb.val(s.tag!), '=', eb.fn.any('r.tags')));
    if (s.sensitiveTag) query = query.where((eb) => eb(eb.val(s.sensitiveTag!), '=', eb.fn.any('r.sensitive_tags')));
    return query.orderBy('r.name').orderBy('r.id').limit(s.limit).offset(s.offset).execute();
  }

  insertReveal(values: { district_id: number; resident_id: number; user_id: number; field: string; purpose: string; expires_at: Date }, q: Q) {
    return q.insertInto('pii_reveal').values(values).returning(['id', 'expires_at']).executeTakeFirstOrThrow();
  }

  liveReveals(userId: number, residentId: number, now: Date, q: Q = this.db) {
    return q
      .selectFrom('pii_reveal')
      .select(['field', 'purpose', 'expires_at'])
      .where('user_id', '=', userId)
      .where('resident_id', '=', residentId)
      .where('expires_at', '>', now)
      .execute();
  }

  household(id: number, q: Q = this.db) {
    return q.selectFrom('household').select(['district_id', 'id', 'unit_id']).where('id', '=', id).executeTakeFirst();
  }

  house(id: number, q: Q = this.db) {
    return q.selectFrom('house').select(['district_id', 'id', 'unit_id']).where('id', '=', id).executeTakeFirst();
  }
}
