// Ledger export: SQL only. Rows come in keyset pages (by id) so a district's ledger never sits in memory.
import type { Kysely } from 'kysely';
import type { Database } from '../../../db/types.ts';
import { likePrefix } from '../../grid/grid.repository.ts';

export const EXPORT_PAGE = 2_000;

export class ExportRepository {
  constructor(private readonly db: Kysely<Database>) {}

  residentsPage(districtId: number, unitPath: string, afterId: number) {
    return this.db
      .selectFrom('resident as r')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'r.district_id').onRef('u.id', '=', 'r.unit_id'))
      .leftJoin('household as hh', (j) => j.onRef('hh.district_id', '=', 'r.district_id').onRef('hh.id', '=', 'r.household_id'))
      .select([
        'r.id',
        'r.name',
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
        'r.household_id',
        'hh.code as household_code',
        'u.name as unit_name',
      ])
      .where('r.district_id', '=', districtId)
      .where('u.path', 'like', likePrefix(unitPath))
      .where('r.archived_at', 'is', null)
      .where('r.id', '>', afterId)
      .orderBy('r.id')
      .limit(EXPORT_PAGE)
      .execute();
  }

  householdsPage(districtId: number, unitPath: string, afterId: number) {
    return this.db
      .selectFrom('household as h')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'h.district_id').onRef('u.id', '=', 'h.unit_id'))
      .leftJoin('resident as head', (j) => j.onRef('head.district_id', '=', 'h.district_id').onRef('head.id', '=', 'h.head_resident_id'))
      .select((eb) => [
        'h.id',
        'h.code',
        'h.name',
        'h.kind',
        'h.address',
        'head.name as head_name',
        'u.name as unit_name',
        eb
          .selectFrom('resident as m')
          .select((m) => m.fn.countAll<string>().as('n'))
          .whereRef('m.district_id', '=', 'h.district_id')
          .whereRef('m.household_id', '=', 'h.id')
          .where('m.archived_at', 'is', null)
          .as('members'),
      ])
      .where('h.district_id', '=', districtId)
      .where('u.path', 'like', likePrefix(unitPath))
      .where('h.archived_at', 'is', null)
      .where('h.id', '>', afterId)
      .orderBy('h.id')
      .limit(EXPORT_PAGE)
      .execute();
  }

  housesPage(districtId: number, unitPath: string, afterId: number) {
    return this.db
      .selectFrom('house as h')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'h.district_id').onRef('u.id', '=', 'h.unit_id'))
      .select(['h.id', 'h.address', 'h.building', 'h.unit_no', 'h.room', 'h.exclusive_area', 'h.usage', 'u.name as unit_name'])
      .where('h.district_id', '=', districtId)
      .where('u.path', 'like', likePrefix(unitPath))
      .where('h.archived_at', 'is', null)
      .where('h.id', '>', afterId)
      .orderBy('h.id')
      .limit(EXPORT_PAGE)
      .execute();
  }
}
