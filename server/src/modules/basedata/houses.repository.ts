// Houses (dwellings) and their owners: SQL only.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import { likePrefix } from '../grid/grid.repository.ts';
import { escapeLike, type Q } from './structures.shared.ts';

export interface HouseValues {
  unit_id: number;
  address: string;
  building: string | null;
  unit_no: string | null;
  room: string | null;
  exclusive_area: string | null;
  usage: string;
  lng: number | null;
  lat: number | null;
  sources: Record<string, string>;
}

const HOUSE_COLUMNS = [
  'h.district_id',
  'h.id',
  'h.unit_id',
  'h.address',
  'h.building',
  'h.unit_no',
  'h.room',
  'h.exclusive_area',
  'h.usage',
  'h.lng',
  'h.lat',
  'h.sources',
  'h.created_at',
  'h.updated_at',
  'h.archived_at',
  'u.path as unit_path',
  'u.name as unit_name',
] as const;

export class HousesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  private base(q: Q) {
    return q.selectFrom('house as h').innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'h.district_id').onRef('u.id', '=', 'h.unit_id')).select(HOUSE_COLUMNS);
  }

  byId(id: number, q: Q = this.db) {
    return this.base(q).where('h.id', '=', id).executeTakeFirst();
  }

  async lock(id: number, q: Q) {
    await q.selectFrom('house').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
  }

  byAddress(districtId: number, address: string, q: Q = this.db) {
    return this.base(q).where('h.district_id', '=', districtId).where('h.address', '=', address).where('h.archived_at', 'is', null).executeTakeFirst();
  }

  search(s: { paths: string[]; unitPath?: string; q?: string; usage?: string; includeArchived?: boolean; limit: number; offset: number }, q: Q = this.db) {
    if (!s.paths.length) return Promise.resolve([]);
    let query = this.base(q).where((eb) => eb.or(s.paths.map((p) => eb('u.path', 'like', likePrefix(p)))));
    if (!s.includeArchived) query = query.where('h.archived_at', 'is', null);
    if (s.unitPath) query = query.where('u.path', 'like', likePrefix(s.unitPath));
    if (s.q) query = query.where('h.address', 'ilike', `%${escapeLike(s.q)}%`);
    if (s.usage) query = query.where('h.usage', '=', s.usage);
    return query.orderBy('h.address').orderBy('h.id').limit(s.limit).offset(s.offset).execute();
  }

  insert(districtId: number, v: HouseValues, q: Q) {
    return q
      .insertInto('house')
      .values({ district_id: districtId, ...v, sources: JSON.stringify(v.sources) })
      .returning('id')
      .executeTakeFirstOrThrow();
  }

  update(districtId: number, id: number, v: Partial<HouseValues> & { archived_at?: Date | null }, now: Date, q: Q) {
    const { sources, ...rest } = v;
    return q
      .updateTable('house')
      .set({ ...rest, ...(sources ? { sources: JSON.stringify(sources) } : {}), updated_at: now })
      .where('district_id', '=', districtId)
      .where('id', '=', id)
      .execute();
  }

  owners(districtId: number, houseId: number, q: Q = this.db) {
    return q
      .selectFrom('house_owner as o')
      .innerJoin('resident as r', (j) => j.onRef('r.district_id', '=', 'o.district_id').onRef('r.id', '=', 'o.resident_id'))
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'r.district_id').onRef('u.id', '=', 'r.unit_id'))
      .select(['o.resident_id', 'o.share', 'r.name', 'u.path as resident_unit_path'])
      .where('o.district_id', '=', districtId)
      .where('o.house_id', '=', houseId)
      .orderBy('o.share', 'desc')
      .orderBy('o.resident_id')
      .execute();
  }

  async replaceOwners(districtId: number, houseId: number, owners: { residentId: number; share: string }[], q: Q) {
    await q.deleteFrom('house_owner').where('district_id', '=', districtId).where('house_id', '=', houseId).execute();
    if (owners.length) {
      await q
        .insertInto('house_owner')
        .values(owners.map((o) => ({ district_id: districtId, house_id: houseId, resident_id: o.residentId, share: o.share })))
        .execute();
    }
  }

  async activeHouseholds(districtId: number, houseId: number, q: Q = this.db) {
    const row = await q
      .selectFrom('household')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('district_id', '=', districtId)
      .where('house_id', '=', houseId)
      .where('archived_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  residentsByIds(ids: number[], q: Q = this.db) {
    if (!ids.length) return Promise.resolve([]);
    return q
      .selectFrom('resident as r')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'r.district_id').onRef('u.id', '=', 'r.unit_id'))
      .select(['r.id', 'r.district_id', 'r.name', 'r.archived_at', 'u.path as unit_path'])
      .where('r.id', 'in', ids)
      .execute();
  }
}
