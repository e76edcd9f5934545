// Open311: SQL only. The client keys, and the public view of cases: every query that feeds the public
// GET routes names its columns, and none of them is the reporter's (name, phone, account) or the case's
// secrets (tracking code, client key), so nothing personal can reach an answer by accident.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, Open311ClientTable } from '../../db/types.ts';
import { likePrefix } from '../grid/grid.repository.ts';

type Q = Kysely<Database> | Transaction<Database>;
export type Tx = Transaction<Database>;
export type ClientRow = Selectable<Open311ClientTable>;

export interface PublicCaseFilter {
  districtId?: number;
  caseNos?: string[];
  categoryCodes?: string[];
  statuses?: string[];
  from?: Date;
  to?: Date;
  limit: number;
}

export class Open311Repository {
  constructor(readonly db: Kysely<Database>) {}

  // ---- client keys ----

  /** The client a key belongs to (by the key's SHA-256), unless the key was revoked. */
  activeClientByKeyHash(keyHash: string, q: Q = this.db) {
    return q.selectFrom('open311_client').selectAll().where('key_hash', '=', keyHash).where('revoked_at', 'is', null).executeTakeFirst();
  }

  insertClient(trx: Tx, values: { district_id: number; unit_id: number; name: string; key_hash: string; key_last4: string; created_by_user_id: number | null; created_at: Date }) {
    return trx.insertInto('open311_client').values(values).returningAll().executeTakeFirstOrThrow();
  }

  clientForUpdate(id: number, trx: Tx) {
    return trx
      .selectFrom('open311_client as c')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'c.district_id').onRef('u.id', '=', 'c.unit_id'))
      .selectAll('c')
      .select(['u.path as unit_path', 'u.name as unit_name'])
      .where('c.id', '=', id)
      .forUpdate('c')
      .executeTakeFirst();
  }

  revokeClient(trx: Tx, c: { district_id: number; id: number }, at: Date) {
    return trx.updateTable('open311_client').set({ revoked_at: at }).where('district_id', '=', c.district_id).where('id', '=', c.id).returningAll().executeTakeFirstOrThrow();
  }

  /** Clients whose unit lies under one of `paths` (the caller's scope), newest first. */
  clientsIn(paths: string[], includeRevoked: boolean, q: Q = this.db) {
    if (!paths.length) return Promise.resolve([]);
    let query = q
      .selectFrom('open311_client as c')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'c.district_id').onRef('u.id', '=', 'c.unit_id'))
      .select(['c.id', 'c.district_id', 'c.unit_id', 'c.name', 'c.key_last4', 'c.created_by_user_id', 'c.created_at', 'c.revoked_at', 'u.name as unit_name', 'u.path as unit_path'])
      .where((eb) => eb.or(paths.map((p) => eb('u.path', 'like', likePrefix(p)))));
    if (!includeRevoked) query = query.where('c.revoked_at', 'is', null);
    return query.orderBy('c.id', 'desc').limit(500).execute();
  }

  // ---- the public view of cases ----

  /** Whether `id` names a district (a unit that is its own district). */
  async isDistrict(id: number, q: Q = this.db): Promise<boolean> {
    const r = await q.selectFrom('org_unit').select('id').where('id', '=', id).whereRef('district_id', '=', 'id').executeTakeFirst();
    return !!r;
  }

  /**
   * Cases as Open311 shows them: newest first. With case numbers, those cases whatever their date (the spec
   * lets service_request_id override the other filters); otherwise by date range, category and status.
   */
  publicCases(f: PublicCaseFilter, q: Q = this.db) {
    let query = q
      .selectFrom('demand as d')
      .innerJoin('demand_category as c', 'c.code', 'd.category_code')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'd.district_id').onRef('u.id', '=', 'd.unit_id'))
      // the last timeline event: when the case last changed, on the application's clock
      .innerJoin('demand_event as e', (j) => j.onRef('e.district_id', '=', 'd.district_id').onRef('e.demand_id', '=', 'd.id').onRef('e.seq', '=', 'd.seq'))
      .leftJoin('demand as m', (j) => j.onRef('m.district_id', '=', 'd.district_id').onRef('m.id', '=', 'd.merged_into'))
      .select([
        'd.district_id',
        'd.id',
        'd.case_no',
        'd.type',
        'd.category_code',
        'c.name_zh as category_name_zh',
        'c.respond_minutes',
        'c.finish_minutes',
        'd.title',
        'd.status',
        'd.decline_reason',
        'm.case_no as merged_into_case_no',
        'd.lng',
        'd.lat',
        'd.address',
        'd.house_id',
        'u.name as unit_name',
        'd.reported_at',
        'd.closed_at',
        'd.finish_due_at',
        'e.at as last_event_at',
      ]);
    if (f.districtId !== undefined) query = query.where('d.district_id', '=', f.districtId);
    if (f.caseNos) {
      query = query.where('d.case_no', 'in', f.caseNos.length ? f.caseNos : ['']);
    } else {
      if (f.categoryCodes?.length) query = query.where('d.category_code', 'in', f.categoryCodes);
      if (f.statuses?.length) query = query.where('d.status', 'in', f.statuses);
      if (f.from) query = query.where('d.reported_at', '>=', f.from);
      if (f.to) query = query.where('d.reported_at', '<=', f.to);
    }
    return query.orderBy('d.reported_at', 'desc').orderBy('d.id', 'desc').limit(f.limit).execute();
  }

  /** The reporter's name, only to take it out of a published title (never answered itself). */
  async reporterNames(ids: { district_id: number; id: number }[], q: Q = this.db): Promise<Map<number, string>> {
    if (!ids.length) return new Map();
    const rows = await q
      .selectFrom('demand')
      .select(['id', 'reporter_name'])
      .where('id', 'in', ids.map((i) => i.id))
      .where('reporter_name', 'is not', null)
      .execute();
    return new Map(rows.map((r) => [Number(r.id), r.reporter_name ?? '']));
  }
}

export type PublicCaseRow = Awaited<ReturnType<Open311Repository['publicCases']>>[number];
