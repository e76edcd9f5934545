// Households and their members (residents' household_id): SQL only.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import { likePrefix } from '../grid/grid.repository.ts';
import { escapeLike, type Q } from './structures.shared.ts';

export interface HouseholdValues {
  unit_id: number;
  kind: string;
  code: string | null;
  name: string;
  house_id: number | null;
  head_resident_id: number | null;
  address: string | null;
  sources: Record<string, string>;
}

const COLUMNS = [
  'h.district_id',
  'h.id',
  'h.unit_id',
  'h.kind',
  'h.code',
  'h.name',
  'h.house_id',
  'h.head_resident_id',
  'h.address',
  'h.sources',
  'h.created_at',
  'h.updated_at',
  'h.archived_at',
  'u.path as unit_path',
  'u.name as unit_name',
] as const;

export class HouseholdsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  private base(q: Q) {
    return q.selectFrom('household as h').innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'h.district_id').onRef('u.id', '=', 'h.unit_id')).select(COLUMNS);
  }

  byId(id: number, q: Q = this.db) {
    return this.base(q).where('h.id', '=', id).executeTakeFirst();
  }

  async lock(id: number, q: Q) {
    await q.selectFrom('household').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
  }

  byCode(districtId: number, code: string, q: Q = this.db) {
    return q.selectFrom('household').select(['id']).where('district_id', '=', districtId).where('code', '=', code).executeTakeFirst();
  }

  search(s: { paths: string[]; unitPath?: string; q?: string; kind?: string; houseId?: number; includeArchived?: boolean; limit: number; offset: number }, q: Q = this.db) {
    if (!s.paths.length) return Promise.resolve([]);
    let query = this.base(q).where((eb) => eb.or(s.paths.map((p) => eb('u.path', 'like', likePrefix(p)))));
    if (!s.includeArchived) query = query.where('h.archived_at', 'is', null);
    if (s.unitPath) query = query.where('u.path', 'like', likePrefix(s.unitPath));
    if (s.kind) query = query.where('h.kind', '=', s.kind);
    if (s.houseId) query = query.where('h.house_id', '=', s.houseId);
    if (s.q) {
      const like = `%${escapeLike(s.q)}%`;
      query = query.where((eb) => eb.or([eb('h.name', 'ilike', like), eb('h.address', 'ilike', like), eb('h.code', '=', s.q!)]));
    }
    return query.orderBy('h.name').orderBy('h.id').limit(s.limit).offset(s.offset).execute();
  }

  insert(districtId: number, v: HouseholdValues, q: Q) {
    return q
      .insertInto('household')
      .values({ district_id: districtId, ...v, sources: JSON.stringify(v.sources) })
      .returning('id')
      .executeTakeFirstOrThrow();
  }

  update(districtId: number, id: number, v: Partial<HouseholdValues> & { archived_at?: Date | null }, now: Date, q: Q) {
    const { sources, ...rest } = v;
    return q
      .updateTable('household')
      .set({ ...rest, ...(sources ? { sources: JSON.stringify(sources) } : {}), updated_at: now })
      .where('district_id', '=', districtId)
      .where('id', '=', id)
      .execute();
  }

  members(districtId: number, householdId: number, q: Q = this.db) {
    return q
      .selectFrom('resident as r')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'r.district_id').onRef('u.id', '=', 'r.unit_id'))
      .select(['r.id', 'r.name', 'r.relation_to_head', 'r.gender', 'r.birth_date', 'r.phone_head', 'r.phone_last4', 'r.phone_cipher', 'u.path as unit_path'])
      .where('r.district_id', '=', districtId)
      .where('r.household_id', '=', householdId)
      .where('r.archived_at', 'is', null)
      .orderBy('r.id')
      .execute();
  }

  resident(id: number, q: Q = this.db) {
    return q
      .selectFrom('resident as r')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'r.district_id').onRef('u.id', '=', 'r.unit_id'))
      .select(['r.id', 'r.district_id', 'r.name', 'r.household_id', 'r.archived_at', 'u.path as unit_path'])
      .where('r.id', '=', id)
      .forUpdate(['r'])
      .executeTakeFirst();
  }

  setResidentHousehold(districtId: number, residentId: number, householdId: number | null, relation: string | null | undefined, now: Date, q: Q) {
    return q
      .updateTable('resident')
      .set({ household_id: householdId, ...(relation !== undefined ? { relation_to_head: relation } : {}), updated_at: now })
      .where('district_id', '=', districtId)
      .where('id', '=', residentId)
      .execute();
  }

  house(id: number, q: Q = this.db) {
    return q
      .selectFrom('house as h')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'h.district_id').onRef('u.id', '=', 'h.unit_id'))
      .select(['h.id', 'h.district_id', 'h.address', 'h.archived_at', 'u.path as unit_path'])
      .where('h.id', '=', id)
      .executeTakeFirst();
  }

  removeContactLink(districtId: number, householdId: number, q: Q) {
    return q.deleteFrom('contact_link').where('district_id', '=', districtId).where('household_id', '=', householdId).returningAll().executeTakeFirst();
  }
}
