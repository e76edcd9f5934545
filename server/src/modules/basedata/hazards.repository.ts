// Hazards (安全隐患): SQL only.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import { likePrefix } from '../grid/grid.repository.ts';
import { escapeLike, type Q } from './structures.shared.ts';

export interface HazardValues {
  unit_id: number;
  facility_id: number | null;
  category: string;
  description: string;
  severity: string;
  status: string;
  found_on: string;
  found_by_user_id: number | null;
  owner_unit: string | null;
  lng: number | null;
  lat: number | null;
  resolved_on: string | null;
}

const COLUMNS = [
  'z.district_id',
  'z.id',
  'z.unit_id',
  'z.facility_id',
  'z.category',
  'z.description',
  'z.severity',
  'z.status',
  'z.found_on',
  'z.found_by_user_id',
  'z.owner_unit',
  'z.lng',
  'z.lat',
  'z.resolved_on',
  'z.created_at',
  'z.updated_at',
  'u.path as unit_path',
  'u.name as unit_name',
] as const;

export class HazardsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  private base(q: Q) {
    return q.selectFrom('hazard as z').innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'z.district_id').onRef('u.id', '=', 'z.unit_id')).select(COLUMNS);
  }

  byId(id: number, q: Q = this.db) {
    return this.base(q).where('z.id', '=', id).executeTakeFirst();
  }

  async lock(id: number, q: Q) {
    await q.selectFrom('hazard').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
  }

  search(s: { paths: string[]; unitPath?: string; q?: string; status?: string; severity?: string; facilityId?: number; limit: number; offset: number }, q: Q = this.db) {
    if (!s.paths.length) return Promise.resolve([]);
    let query = this.base(q).where((eb) => eb.or(s.paths.map((p) => eb('u.path', 'like', likePrefix(p)))));
    if (s.unitPath) query = query.where('u.path', 'like', likePrefix(s.unitPath));
    if (s.status) query = query.where('z.status', '=', s.status);
    if (s.severity) query = query.where('z.severity', '=', s.severity);
    if (s.facilityId) query = query.where('z.facility_id', '=', s.facilityId);
    if (s.q) {
      const like = `%${escapeLike(s.q)}%`;
      query = query.where((eb) => eb.or([eb('z.description', 'ilike', like), eb('z.category', 'ilike', like), eb('z.owner_unit', 'ilike', like)]));
    }
    return query.orderBy('z.found_on', 'desc').orderBy('z.id', 'desc').limit(s.limit).offset(s.offset).execute();
  }

  insert(districtId: number, v: HazardValues, q: Q) {
    return q.insertInto('hazard').values({ district_id: districtId, ...v }).returning('id').executeTakeFirstOrThrow();
  }

  update(districtId: number, id: number, v: Partial<HazardValues>, now: Date, q: Q) {
    return q.updateTable('hazard').set({ ...v, updated_at: now }).where('district_id', '=', districtId).where('id', '=', id).execute();
  }

  facility(id: number, q: Q = this.db) {
    return q
      .selectFrom('facility as f')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'f.district_id').onRef('u.id', '=', 'f.unit_id'))
      .select(['f.id', 'f.district_id', 'u.path as unit_path'])
      .where('f.id', '=', id)
      .executeTakeFirst();
  }

  /** The hazard's append-only timeline: its audit rows. */
  timeline(id: number, q: Q = this.db) {
    return q
      .selectFrom('audit_log')
      .select(['action', 'actor_name', 'at', 'after'])
      .where('target_type', '=', 'hazard')
      .where('target_id', '=', String(id))
      .orderBy('id')
      .execute();
  }
}
