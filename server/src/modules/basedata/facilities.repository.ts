// Facilities (设施): SQL only.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import { likePrefix } from '../grid/grid.repository.ts';
import { escapeLike, type Q } from './structures.shared.ts';

export interface FacilityValues {
  unit_id: number;
  kind: string;
  name: string;
  address: string | null;
  lng: number | null;
  lat: number | null;
  status: string;
  note: string | null;
}

const COLUMNS = ['f.district_id', 'f.id', 'f.unit_id', 'f.kind', 'f.name', 'f.address', 'f.lng', 'f.lat', 'f.status', 'f.note', 'f.created_at', 'f.updated_at', 'u.path as unit_path', 'u.name as unit_name'] as const;

export class FacilitiesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  private base(q: Q) {
    return q.selectFrom('facility as f').innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'f.district_id').onRef('u.id', '=', 'f.unit_id')).select(COLUMNS);
  }

  byId(id: number, q: Q = this.db) {
    return this.base(q).where('f.id', '=', id).executeTakeFirst();
  }

  async lock(id: number, q: Q) {
    await q.selectFrom('facility').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
  }

  search(s: { paths: string[]; unitPath?: string; q?: string; kind?: string; status?: string; limit: number; offset: number }, q: Q = this.db) {
    if (!s.paths.length) return Promise.resolve([]);
    let query = this.base(q).where((eb) => eb.or(s.paths.map((p) => eb('u.path', 'like', likePrefix(p)))));
    if (s.unitPath) query = query.where('u.path', 'like', likePrefix(s.unitPath));
    if (s.kind) query = query.where('f.kind', '=', s.kind);
    if (s.status) query = query.where('f.status', '=', s.status);
    if (s.q) {
      const like = `%${escapeLike(s.q)}%`;
      query = query.where((eb) => eb.or([eb('f.name', 'ilike', like), eb('f.address', 'ilike', like)]));
    }
    return query.orderBy('f.name').orderBy('f.id').limit(s.limit).offset(s.offset).execute();
  }

  insert(districtId: number, v: FacilityValues, q: Q) {
    return q.insertInto('facility').values({ district_id: districtId, ...v }).returning('id').executeTakeFirstOrThrow();
  }

  update(districtId: number, id: number, v: Partial<FacilityValues>, now: Date, q: Q) {
    return q.updateTable('facility').set({ ...v, updated_at: now }).where('district_id', '=', districtId).where('id', '=', id).execute();
  }
}
