// Demands (民呼我应): SQL only. Every query that reads cases for a caller takes the caller's scope as path
// prefixes; the service decides what those are.
import { sql, type Insertable, type Kysely, type Selectable, type Transaction, type Updateable } from 'kysely';
import type { Database, DemandAssignmentTable, DemandEventTable, DemandTable } from '../../db/types.ts';
import { likePrefix } from '../grid/grid.repository.ts';
import { OPEN_STATUSES } from './demand.states.ts';

export type Q = Kysely<Database> | Transaction<Database>;
export type Tx = Transaction<Database>;
export type DemandRow = Selectable<DemandTable>;
export type AssignmentRow = Selectable<DemandAssignmentTable>;
export type EventRow = Selectable<DemandEventTable>;

export interface EventInsert {
  district_id: number;
  demand_id: number;
  seq: number;
  action: string;
  from_status: string | null;
  to_status: string;
  actor_user_id: number | null;
  actor_name: string;
  actor_kind: 'staff' | 'reporter' | 'member' | 'system';
  unit_id: number;
  note: string | null;
  data: unknown;
  at: Date;
}

export interface QueueFilter {
  /** the caller's scope: cases held by (or routed to) a unit under one of these paths */
  paths: string[];
  unitPath?: string;
  statuses?: string[];
  category?: string;
  channel?: string;
  overdue?: boolean;
  emergency?: boolean;
  q?: string;
  from?: Date;
  to?: Date;
  limit: number;
  offset: number;
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export class DemandsRepository {
  constructor(readonly db: Kysely<Database>) {}

  categories(q: Q = this.db) {
    return q.selectFrom('demand_category').selectAll().orderBy('sort').orderBy('code').execute();
  }

  calendar(q: Q = this.db) {
    return q.selectFrom('demand_calendar').selectAll().where('id', '=', 1).executeTakeFirst();
  }

  /**
   * The next case number of a district: a sequence per district (no two districts share a counter, and no
   * hot row serialises every report of a district behind one lock). A number taken by a report that then
   * fails is skipped, as sequences do; case numbers are identifiers, not counts.
   */
  async nextCaseSeq(districtId: number, q: Q = this.db): Promise<number> {
    const name = `demand_case_seq_${Math.trunc(districtId)}`;
    const r = await sql<{ n: string }>`select nextval(${name}::regclass) as n`.execute(q);
    return Number(r.rows[0].n);
  }

  /** Creates a district's case-number sequence; safe to call again, and from two processes at once. */
  async ensureCaseSequence(districtId: number): Promise<void> {
    const name = `demand_case_seq_${Math.trunc(districtId)}`;
    try {
      await sql.raw(`create sequence if not exists ${name}`).execute(this.db);
    } catch (e) {
      // two first reports of a district racing: the other one created it
      if ((e as { code?: string }).code !== '23505' && (e as { code?: string }).code !== '42P07') throw e;
    }
  }

  insertDemand(values: Insertable<DemandTable>, trx: Tx) {
    return trx.insertInto('demand').values(values).returningAll().executeTakeFirstOrThrow();
  }

  byId(id: number, q: Q = this.db) {
    return q.selectFrom('demand').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The case, locked: every transition reads the state it changes under this lock, so none is skipped. */
  byIdForUpdate(id: number, trx: Tx) {
    return trx.selectFrom('demand').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  }

  /** Locks several cases in id order (every caller locking more than one case goes through here: no deadlock). */
  async lockInOrder(ids: number[], trx: Tx): Promise<void> {
    await trx.selectFrom('demand').select('id').where('id', 'in', [...new Set(ids)]).orderBy('id').forUpdate().execute();
  }

  byTrackingCode(code: string, q: Q = this.db) {
    return q.selectFrom('demand').selectAll().where('tracking_code', '=', code).executeTakeFirst();
  }

  byClientKey(key: string, q: Q = this.db) {
    return q.selectFrom('demand').selectAll().where('client_key', '=', key).executeTakeFirst();
  }

  async update(trx: Tx, row: { district_id: number; id: number }, patch: Omit<Updateable<DemandTable>, 'id' | 'district_id'>) {
    return trx
      .updateTable('demand')
      .set({ ...patch, updated_at: sql<Date>`now()` })
      .where('district_id', '=', row.district_id)
      .where('id', '=', row.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  insertEvent(trx: Tx, e: EventInsert) {
    return trx
      .insertInto('demand_event')
      .values({ ...e, data: e.data === undefined || e.data === null ? null : JSON.stringify(e.data) })
      .execute();
  }

  events(districtId: number, demandId: number, q: Q = this.db) {
    return q.selectFrom('demand_event').selectAll().where('district_id', '=', districtId).where('demand_id', '=', demandId).orderBy('seq').execute();
  }

  assignments(districtId: number, demandId: number, q: Q = this.db) {
    return q.selectFrom('demand_assignment').selectAll().where('district_id', '=', districtId).where('demand_id', '=', demandId).orderBy('id').execute();
  }

  activeAssignment(districtId: number, demandId: number, q: Q = this.db) {
    return q
      .selectFrom('demand_assignment')
      .selectAll()
      .where('district_id', '=', districtId)
      .where('demand_id', '=', demandId)
      .where('status', 'in', ['pending', 'accepted'])
      .executeTakeFirst();
  }

  /** The assignment that handled the case last (for rework: it goes back to the same hands). */
  lastDoneAssignment(districtId: number, demandId: number, q: Q = this.db) {
    return q
      .selectFrom('demand_assignment')
      .selectAll()
      .where('district_id', '=', districtId)
      .where('demand_id', '=', demandId)
      .where('status', '=', 'done')
      .orderBy('id', 'desc')
      .executeTakeFirst();
  }

  insertAssignment(trx: Tx, values: Insertable<DemandAssignmentTable>) {
    return trx.insertInto('demand_assignment').values(values).returningAll().executeTakeFirstOrThrow();
  }

  updateAssignment(trx: Tx, a: { district_id: number; id: number }, patch: Partial<Pick<AssignmentRow, 'status' | 'accepted_at' | 'ended_at' | 'note'>>) {
    return trx.updateTable('demand_assignment').set(patch).where('district_id', '=', a.district_id).where('id', '=', a.id).returningAll().executeTakeFirstOrThrow();
  }

  /** The dispatcher's queue: cases held in the scope, newest deadline pressure first. */
  queue(f: QueueFilter, q: Q = this.db) {
    if (!f.paths.length) return Promise.resolve([]);
    let query = q.selectFrom('demand as d').selectAll('d').where((eb) => eb.or(f.paths.flatMap((p) => [eb('d.unit_path', 'like', likePrefix(p)), eb('d.home_unit_path', 'like', likePrefix(p))])));
    if (f.unitPath) {
      const unitPath = f.unitPath;
      query = query.where((eb) => eb.or([eb('d.unit_path', 'like', likePrefix(unitPath)), eb('d.home_unit_path', 'like', likePrefix(unitPath))]));
    }
    if (f.statuses?.length) query = query.where('d.status', 'in', f.statuses);
    if (f.category) query = query.where((eb) => eb.or([eb('d.category_code', '=', f.category!), eb('d.category_code', 'in', eb.selectFrom('demand_category').select('code').where('parent_code', '=', f.category!))]));
    if (f.channel) query = query.where('d.channel', '=', f.channel);
    if (f.overdue) query = query.where('d.overdue_at', 'is not', null);
    if (f.emergency) query = query.where('d.emergency', '=', true);
    if (f.from) query = query.where('d.reported_at', '>=', f.from);
    if (f.to) query = query.where('d.reported_at', '<', f.to);
    if (f.q) {
      const pattern = `%${escapeLike(f.q)}%`;
      query = query.where((eb) => eb.or([eb('d.title', 'like', pattern), eb('d.case_no', 'like', pattern), eb('d.address', 'like', pattern), eb('d.description', 'like', pattern)]));
    }
    return query.orderBy('d.level_due_at').orderBy('d.id').limit(f.limit).offset(f.offset).execute();
  }

  /**
   * A handler's inbox: active assignments to the user themselves, or to a unit under one of `unitPaths`
   * (units they handle for), with their cases. Both halves are served by partial indexes on active rows.
   */
  inbox(userId: number, unitPaths: string[], limit: number, q: Q = this.db) {
    return q
      .selectFrom('demand_assignment as a')
      .innerJoin('demand as d', (j) => j.onRef('d.district_id', '=', 'a.district_id').onRef('d.id', '=', 'a.demand_id'))
      .selectAll('d')
      .select(['a.id as assignment_id', 'a.status as assignment_status', 'a.handler_type', 'a.handler_name', 'a.created_at as assigned_at'])
      .where('a.status', 'in', ['pending', 'accepted'])
      .where((eb) => {
        const mine = eb('a.handler_user_id', '=', userId);
        if (!unitPaths.length) return mine;
        return eb.or([mine, eb.and([eb('a.handler_user_id', 'is', null), eb.or(unitPaths.map((p) => eb('a.handler_unit_path', 'like', likePrefix(p))))])]);
      })
      .orderBy('d.level_due_at')
      .limit(limit)
      .execute();
  }

  /** 群众点单: registered orders open to claiming, in the member's scope. */
  pool(paths: string[], limit: number, q: Q = this.db) {
    if (!paths.length) return Promise.resolve([]);
    return q
      .selectFrom('demand as d')
      .selectAll('d')
      .where('d.claimable', '=', true)
      .where('d.status', '=', 'registered')
      .where((eb) => eb.or(paths.map((p) => eb('d.unit_path', 'like', likePrefix(p)))))
      .orderBy('d.level_due_at')
      .limit(limit)
      .execute();
  }

  mine(userId: number, limit: number, q: Q = this.db) {
    return q.selectFrom('demand').selectAll().where('reporter_user_id', '=', userId).orderBy('id', 'desc').limit(limit).execute();
  }

  /** Whether the user ever held an assignment of the case (a member who handled it may still read it). */
  async handledBy(districtId: number, demandId: number, userId: number, q: Q = this.db) {
    const r = await q.selectFrom('demand_assignment').select('id').where('district_id', '=', districtId).where('demand_id', '=', demandId).where('handler_user_id', '=', userId).executeTakeFirst();
    return !!r;
  }

  /** Open cases of the category (or its siblings under one top-level class) near a point, by bounding box. */
  nearby(categoryCodes: string[], box: { minLng: number; maxLng: number; minLat: number; maxLat: number }, excludeId: number | null, q: Q = this.db) {
    let query = q
      .selectFrom('demand')
      .selectAll()
      .where('status', 'in', [...OPEN_STATUSES])
      .where('category_code', 'in', categoryCodes)
      .where('lng', '>=', box.minLng)
      .where('lng', '<=', box.maxLng)
      .where('lat', '>=', box.minLat)
      .where('lat', '<=', box.maxLat);
    if (excludeId !== null) query = query.where('id', '<>', excludeId);
    return query.orderBy('id').limit(50).execute();
  }

  /** Open cases past their level deadline that the sweep has not marked overdue yet, oldest first. */
  overdueBy(at: Date, limit: number, q: Q = this.db) {
    return q
      .selectFrom('demand')
      .select(['id', 'district_id'])
      .where('status', 'in', [...OPEN_STATUSES])
      .where('overdue_at', 'is', null)
      .where('level_due_at', '<=', at)
      .orderBy('level_due_at')
      .limit(limit)
      .execute();
  }

  /** Open cases whose warning time has come and that were not warned yet. */
  warnBy(at: Date, limit: number, q: Q = this.db) {
    return q
      .selectFrom('demand')
      .select(['id', 'district_id'])
      .where('status', 'in', [...OPEN_STATUSES])
      .where('warned_at', 'is', null)
      .where('level_warn_at', '<=', at)
      .orderBy('level_warn_at')
      .limit(limit)
      .execute();
  }

  /** Open cases whose response deadline has passed without a handler's acceptance and were not flagged yet. */
  responseOverdue(at: Date, limit: number, q: Q = this.db) {
    return q
      .selectFrom('demand as d')
      .select(['d.id', 'd.district_id'])
      .where('d.status', 'in', ['reported', 'registered', 'dispatched'])
      .where('d.responded_at', 'is', null)
      .where('d.respond_due_at', '<=', at)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('demand_event as e').select('e.seq').whereRef('e.district_id', '=', 'd.district_id').whereRef('e.demand_id', '=', 'd.id').where('e.action', '=', 'response_overdue'))),
      )
      .orderBy('d.respond_due_at')
      .limit(limit)
      .execute();
  }

  photosOf(districtId: number, demandId: number, q: Q = this.db) {
    return q.selectFrom('demand_photo').selectAll().where('district_id', '=', districtId).where('demand_id', '=', demandId).orderBy('created_at').orderBy('id').execute();
  }
}
