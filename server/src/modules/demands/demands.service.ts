// 民呼我应: the rules of the demand loop. Intake from every channel, routing, the state machine with its
// append-only timeline, assignments (one active at a time), deadlines in working time, who may take each
// step, and who is told. Every change runs in one transaction: the case row locked, its new state, its
// timeline event, its audit row and its notifications commit together or not at all.
import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { PiiCipher } from '../../platform/crypto/pii.ts';
import { recordAudit } from '../../platform/audit.ts';
import { hasPermissionAnywhere, hasPermissionAt, scopePaths } from '../../platform/access.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, type Messages } from '../../platform/errors.ts';
import { validatePhone } from '../../platform/crypto/phone.ts';
import { maskFromParts } from '../../platform/crypto/mask.ts';
import { GridRepository, type UnitRow } from '../grid/grid.repository.ts';
import { HazardsService } from '../basedata/hazards.service.ts';
import { DemandsRepository, type AssignmentRow, type DemandRow, type EventRow, type Tx } from './demands.repository.ts';
import { InboxRepository, type InboxBus, type NotificationInput } from './inbox.ts';
import { DemandRouter } from './routing.ts';
import { DemandSettings, type Category } from './settings.service.ts';
import {
  ACTION_LABELS,
  FINAL_STATUSES,
  STATUS_LABELS,
  TransitionRefused,
  allowedActions,
  isSatisfied,
  transition,
  type Channel,
  type DemandAction,
  type DemandStatus,
  type DemandType,
  type HandlerType,
  type Rating,
} from './demand.states.ts';

export const DEMAND: Messages = { 'zh-CN': '诉求', en: 'Demand' };
const UNIT: Messages = { 'zh-CN': '单元', en: 'Unit' };

/** Channels a caller without demand.report may use: a resident's own report, or an order for party members. */
const RESIDENT_CHANNELS: readonly Channel[] = ['resident', 'member_order'];
const TRACKING_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const NEARBY_DEFAULT_METRES = 150;

export interface ReportInput {
  channel: Channel;
  type: DemandType;
  category: string;
  title?: string;
  description: string;
  lng?: number;
  lat?: number;
  address?: string;
  houseId?: number;
  unitId?: number;
  reporterName?: string;
  reporterPhone?: string;
  /** the device's idempotency key: the same report sent twice (offline queue) is one case */
  clientKey?: string;
  photoIds?: string[];
  /** an anonymous uploader's proof that the photos are theirs */
  photoToken?: string;
  emergency?: boolean;
  sourceRef?: string;
  hazardId?: number;
}

export interface ReportOptions {
  /**
   * The caller is an Open311 client whose api_key the Open311 module has verified. Such a caller holds no
   * grants (its key is its whole authority) and reports on the 'open311' channel, and only there; no other
   * caller may use that channel.
   */
  open311Client?: boolean;
}

export type { HandlerInput } from '../../../../shared/demands.ts';
import type { HandlerInput } from '../../../../shared/demands.ts';

/** Who takes a step: the account (or the reporter's tracking code, or the clock) and what it is to the case. */
interface Who {
  ctx: RequestContext;
  kind: 'staff' | 'reporter' | 'member' | 'system';
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function trackingCode(): string {
  let s = '';
  for (let i = 0; i < 10; i++) s += TRACKING_ALPHABET[randomInt(TRACKING_ALPHABET.length)];
  return s;
}

function refused(e: TransitionRefused): ConflictError {
  const a = ACTION_LABELS[e.action];
  const s = STATUS_LABELS[e.from];
  return new ConflictError(
    { 'zh-CN': `诉求当前为“${s['zh-CN']}”，不能${a['zh-CN']}`, en: `The demand is ${s.en.toLowerCase()}; it cannot be ${a.en.toLowerCase()} now` },
    'transition_not_allowed',
    { status: e.from, action: e.action, allowed: allowedActions(e.from) },
  );
}

/** Metres between two points (equirectangular: exact enough for a duplicate radius of a few hundred metres). */
export function metresBetween(aLng: number, aLat: number, bLng: number, bLat: number): number {
  const rad = Math.PI / 180;
  const x = (bLng - aLng) * rad * Math.cos(((aLat + bLat) / 2) * rad);
  const y = (bLat - aLat) * rad;
  return Math.sqrt(x * x + y * y) * 6_371_000;
}

export class DemandsService {
  readonly repo: DemandsRepository;
  readonly settings: DemandSettings;
  readonly router: DemandRouter;
  private readonly grid: GridRepository;
  private readonly inbox: InboxRepository;
  private readonly hazards: HazardsService;
  private readonly sequencesReady = new Set<number>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly pii: PiiCipher,
    private readonly now: () => Date,
    private readonly bus: InboxBus,
    shared: { settings?: DemandSettings; router?: DemandRouter } = {},
  ) {
    this.repo = new DemandsRepository(db);
    this.settings = shared.settings ?? new DemandSettings(db);
    this.router = shared.router ?? new DemandRouter(db);
    this.grid = new GridRepository(db);
    this.inbox = new InboxRepository(db);
    this.hazards = new HazardsService(db, now);
  }

  /** A new transaction, or the caller's when this service was made on one (the demo seed runs in one). */
  private transaction<T>(fn: (trx: Tx) => Promise<T>): Promise<T> {
    return this.db.isTransaction ? fn(this.db as Tx) : this.db.transaction().execute(fn);
  }

  // ------------------------------------------------------------------ intake

  /**
   * A new case from any channel. `ctx` is an account's context, or a public one (no grants) for a resident
   * without an account. Answers the case and whether it was created now (false: the same client key had
   * already made it, e.g. an offline queue sending twice).
   */
  async report(ctx: RequestContext, input: ReportInput, options: ReportOptions = {}): Promise<{ demand: DemandRow; created: boolean }> {
    const anonymous = ctx.actor.userId < 0;
    const staff = !anonymous && hasPermissionAnywhere(ctx.actor, 'demand.report');
    const open311 = input.channel === 'open311';
    if (open311 !== !!options.open311Client) throw new ForbiddenError();
    if (!RESIDENT_CHANNELS.includes(input.channel) && !staff && !open311) throw new ForbiddenError();
    if (!anonymous && !staff && !hasPermissionAnywhere(ctx.actor, 'demand.own')) throw new ForbiddenError();
    // the same submission again (an offline queue sending twice): the case it made, to its own sender only
    const again = (seen: DemandRow) => {
      if (seen.reporter_user_id !== (anonymous ? null : ctx.actor.userId)) {
        throw new ConflictError({ 'zh-CN': '该提交编号已被使用', en: 'This submission key is already used' }, 'client_key_taken');
      }
      return { demand: seen, created: false };
    };
    if (input.clientKey) {
      const seen = await this.repo.byClientKey(input.clientKey);
      if (seen) return again(seen);
    }
    const category = await this.settings.usableCategory(input.category);
    const description = input.description.trim();
    if (!description) throw new ValidationError({ 'zh-CN': '请描述诉求内容', en: 'Describe the demand' }, undefined, 'description_required');
    if ((input.lng === undefined) !== (input.lat === undefined)) {
      throw new ValidationError({ 'zh-CN': '位置须同时包含经度和纬度', en: 'A location needs both longitude and latitude' }, undefined, 'incomplete_location');
    }
    if (input.channel === 'hazard' && !input.hazardId) throw new ValidationError({ 'zh-CN': '请指明隐患', en: 'Name the hazard' }, undefined, 'hazard_required');
    if (input.emergency && !staff) throw new ForbiddenError({ 'zh-CN': '只有工作人员可以标记紧急', en: 'Only staff can mark a demand as an emergency' }, 'emergency_staff_only');
    const phone = input.reporterPhone?.trim() ? validatePhone(input.reporterPhone) : null;
    if (phone && !phone.ok) throw new ValidationError(phone.messages, { field: 'reporterPhone' }, 'invalid_phone');
    const photoIds = [...new Set(input.photoIds ?? [])];

    // Where it goes, read before the transaction: the spatial index and the case-number sequence are shared
    // and must not be touched from inside it (PGlite has one session; a sequence is made outside any case).
    let hazardUnitId: number | null = null;
    if (input.hazardId) {
      const hz = await this.db.selectFrom('hazard').select(['unit_id']).where('id', '=', input.hazardId).executeTakeFirst();
      hazardUnitId = hz ? Number(hz.unit_id) : null;
    }
    const hit = !hazardUnitId && input.lng !== undefined && input.lat !== undefined ? await this.router.gridAt(input.lng, input.lat) : null;
    // the router's entry already names the grid's district: no query for it
    const plannedDistrict = hazardUnitId ? (await this.grid.unit(hazardUnitId))?.district_id : hit ? hit.districtId : input.houseId ? (await this.db.selectFrom('house').select('district_id').where('id', '=', input.houseId).executeTakeFirst())?.district_id : input.unitId ? (await this.grid.unit(input.unitId))?.district_id : undefined;
    if (plannedDistrict !== undefined) await this.ensureSequence(Number(plannedDistrict));
    await this.settings.calendar();

    const result = await this.transaction(async (trx) => {
      let unit: UnitRow | undefined;
      let routedBy: 'boundary' | 'dwelling' | 'chosen' = 'chosen';
      let hazardSource: Awaited<ReturnType<HazardsService['openDemandFrom']>> | null = null;
      if (input.hazardId) {
        hazardSource = await this.hazards.openDemandFrom(ctx, input.hazardId, `demand:${input.clientKey ?? 'new'}`, trx);
        unit = await this.grid.unit(hazardSource.unitId, trx);
        routedBy = 'chosen';
      }
      const lng = input.lng ?? hazardSource?.location?.lng;
      const lat = input.lat ?? hazardSource?.location?.lat;
      if (!unit && hit) {
        unit = await this.grid.unit(hit.id, trx);
        routedBy = 'boundary';
      }
      if (!unit && input.houseId) {
        const house = await trx.selectFrom('house').select(['district_id', 'unit_id']).where('id', '=', input.houseId).executeTakeFirst();
        const houseUnit = house ? await this.grid.unit(house.unit_id, trx) : undefined;
        // a dwelling named by staff must be in their scope; a resident names their own address
        if (!houseUnit || (staff && !hasPermissionAt(ctx.actor, 'demand.report', houseUnit.path) && !hasPermissionAt(ctx.actor, 'house.read', houseUnit.path))) {
          throw new ValidationError({ 'zh-CN': `房屋 ${input.houseId} 不存在`, en: `House ${input.houseId} does not exist` }, { houseId: input.houseId }, 'unknown_reference');
        }
        unit = houseUnit;
        routedBy = 'dwelling';
      }
      if (!unit && input.unitId) {
        const chosen = await this.grid.unit(input.unitId, trx);
        // staff choose among the units they serve; a resident may name any unit (the public picker lists them)
        if (!chosen || (staff && !hasPermissionAt(ctx.actor, 'demand.report', chosen.path) && !hasPermissionAt(ctx.actor, 'demand.own', chosen.path))) throw new NotFoundError(UNIT);
        unit = chosen;
        routedBy = 'chosen';
      }
      if (!unit) {
        throw new ValidationError(
          lng !== undefined
            ? { 'zh-CN': '该位置不在任何网格内：请选择所在社区或网格，或填写所住房屋', en: 'The location lies outside every grid: choose the community or grid, or name the dwelling' }
            : { 'zh-CN': '请提供位置、所住房屋或所在单元', en: 'Give a location, the dwelling or the unit' },
          undefined,
          lng !== undefined ? 'outside_every_grid' : 'location_required',
        );
      }
      if (unit.archived_at) throw new ConflictError({ 'zh-CN': '单元已归档', en: 'The unit is archived' }, 'archived');

      const at = this.now();
      const due = await this.settings.deadlines(category, at, trx);
      if (!this.sequencesReady.has(unit.district_id)) throw new ConflictError({ 'zh-CN': '请重试', en: 'Please try again' }, 'retry');
      const seq = await this.repo.nextCaseSeq(unit.district_id, trx);
      const sealed = phone?.ok ? this.pii.seal('phone', 'demand.reporter_phone', phone.value) : null;
      const title = (input.title?.trim() || description.slice(0, 30)).slice(0, 100);
      const emergency = category.emergency || !!input.emergency;
      let d = await this.repo.insertDemand(
        {
          district_id: unit.district_id,
          case_no: `${at.getUTCFullYear()}-${String(seq).padStart(6, '0')}`,
          tracking_code: trackingCode(),
          client_key: input.clientKey ?? null,
          channel: input.channel,
          type: input.type,
          category_code: category.code,
          title,
          description,
          lng: lng ?? null,
          lat: lat ?? null,
          address: input.address?.trim() || null,
          house_id: routedBy === 'dwelling' ? input.houseId! : null,
          home_unit_id: unit.id,
          home_unit_path: unit.path,
          unit_id: unit.id,
          unit_path: unit.path,
          routed_by: routedBy,
          status: 'reported',
          emergency,
          claimable: input.channel === 'member_order',
          reporter_user_id: anonymous ? null : ctx.actor.userId || null,
          reporter_name: input.reporterName?.trim() || (anonymous ? null : ctx.actor.displayName),
          reporter_phone_cipher: sealed?.ciphertext ?? null,
          reporter_phone_hash: sealed?.lookupHash ?? null,
          reporter_phone_head: sealed?.head ?? null,
          reporter_phone_last4: sealed?.tail ?? null,
          source_ref: input.sourceRef?.trim() || (hazardSource ? `hazard:${hazardSource.hazardId}` : null),
          hazard_id: hazardSource?.hazardId ?? null,
          merged_into: null,
          decline_reason: null,
          reported_at: at,
          registered_at: null,
          first_dispatched_at: null,
          responded_at: null,
          handled_at: null,
          verified_at: null,
          closed_at: null,
          rated_at: null,
          respond_due_at: due.respondDueAt,
          finish_due_at: due.finishDueAt,
          level_since: at,
          level_due_at: due.finishDueAt,
          level_warn_at: due.warnAt,
          warned_at: null,
          overdue_at: null,
          rating: null,
          resolved: null,
        },
        trx,
      );
      const who: Who = { ctx, kind: staff ? 'staff' : 'reporter' };
      d = await this.step(trx, d, who, 'report', { data: { channel: input.channel, routedBy, unitId: unit.id } });
      if (photoIds.length) await this.attachPhotos(trx, ctx, d, photoIds, input.photoToken, 'report');
      const notices: NotificationInput[] = [];
      // a level that may not decide such a case hands it up at once ("大事不出镇")
      d = await this.escalateBeyondAuthority(trx, d, category);
      if (d.emergency) d = await this.notifySecretary(trx, d, notices);
      notices.push(...(await this.dispatchersOf(trx, d, 'new_case', { 'zh-CN': `新诉求 ${d.case_no}`, en: `New demand ${d.case_no}` }, d.emergency)));
      await this.notify(trx, notices);
      return { demand: d, notices };
    }).catch(async (e: unknown) => {
      // sent twice at once: the other request took the client key (its unique index) while this one was on its way
      const seen = input.clientKey && !this.db.isTransaction && (e as { code?: string }).code === '23505' ? await this.repo.byClientKey(input.clientKey) : undefined;
      if (!seen) throw e;
      return { demand: seen, notices: null };
    });
    if (result.notices === null) return again(result.demand);
    this.publish(result.notices);
    return { demand: result.demand, created: true };
  }

  private async ensureSequence(districtId: number) {
    if (this.sequencesReady.has(districtId)) return;
    await this.repo.ensureCaseSequence(districtId);
    this.sequencesReady.add(districtId);
  }

  /** Open cases of the same category near a point: shown before a report is sent and to the dispatcher. */
  async nearby(ctx: RequestContext | null, input: { category: string; lng: number; lat: number; radiusMetres?: number; excludeId?: number }) {
    const radius = Math.min(Math.max(input.radiusMetres ?? NEARBY_DEFAULT_METRES, 10), 2000);
    const category = await this.settings.usableCategory(input.category);
    const dLat = radius / 111_320;
    const dLng = radius / (111_320 * Math.max(Math.cos((input.lat * Math.PI) / 180), 0.01));
    const rows = await this.repo.nearby([category.code], { minLng: input.lng - dLng, maxLng: input.lng + dLng, minLat: input.lat - dLat, maxLat: input.lat + dLat }, input.excludeId ?? null);
    const items = rows
      .map((r) => ({ r, metres: Math.round(metresBetween(input.lng, input.lat, r.lng!, r.lat!)) }))
      .filter((x) => x.metres <= radius)
      .sort((a, b) => a.metres - b.metres);
    return {
      items: items.map(({ r, metres }) => {
        const full = ctx && this.readable(ctx, r);
        // strangers learn that a similar case is open nearby, not what it says or who sent it
        return full
          ? { id: r.id, caseNo: r.case_no, title: r.title, status: r.status, categoryCode: r.category_code, metres, reportedAt: r.reported_at }
          : { id: null, caseNo: null, title: null, status: r.status, categoryCode: r.category_code, metres, reportedAt: r.reported_at };
      }),
    };
  }

  // ------------------------------------------------------------------ reading

  /** Whether the caller may read the case: its units in their scope, their own report, or their own assignment. */
  private readable(ctx: RequestContext, d: DemandRow): boolean {
    if (hasPermissionAt(ctx.actor, 'demand.read', d.unit_path) || hasPermissionAt(ctx.actor, 'demand.read', d.home_unit_path)) return true;
    if (d.reporter_user_id !== null && d.reporter_user_id === ctx.actor.userId) return true;
    if (d.claimable && d.status === 'registered' && hasPermissionAt(ctx.actor, 'demand.claim', d.unit_path)) return true;
    return false;
  }

  private async readableOrHandler(ctx: RequestContext, d: DemandRow, q?: Tx): Promise<boolean> {
    if (this.readable(ctx, d)) return true;
    const active = await this.repo.activeAssignment(d.district_id, d.id, q);
    if (active && this.mayHandle(ctx, active)) return true;
    return ctx.actor.userId > 0 && this.repo.handledBy(d.district_id, d.id, ctx.actor.userId, q);
  }

  async caseFor(ctx: RequestContext, id: number): Promise<DemandRow> {
    const d = await this.repo.byId(id);
    if (!d || !(await this.readableOrHandler(ctx, d))) throw new NotFoundError(DEMAND);
    return d;
  }

  /** The case page: the case, its timeline, assignments, photos, and what the caller may do next. */
  async detail(ctx: RequestContext, id: number) {
    const d = await this.caseFor(ctx, id);
    const [events, assignments, photos, units] = await Promise.all([
      this.repo.events(d.district_id, d.id),
      this.repo.assignments(d.district_id, d.id),
      this.repo.photosOf(d.district_id, d.id),
      this.grid.unitsByIds([...new Set([d.unit_id, d.home_unit_id])]),
    ]);
    const active = assignments.find((a) => a.status === 'pending' || a.status === 'accepted') ?? null;
    const staffView = hasPermissionAt(ctx.actor, 'demand.read', d.unit_path) || hasPermissionAt(ctx.actor, 'demand.read', d.home_unit_path);
    return {
      ...this.view(d, { staff: staffView, units }),
      timeline: events.map((e) => this.eventView(e, staffView)),
      assignments: assignments.map((a) => this.assignmentView(a)),
      activeAssignment: active ? this.assignmentView(active) : null,
      photos: photos.map((p) => ({ id: p.id, stage: p.stage, width: p.width, height: p.height, url: `/api/demands/${d.id}/photos/${p.id}`, thumbUrl: `/api/demands/${d.id}/photos/${p.id}?thumb=true` })),
      actions: this.actionsFor(ctx, d, active),
    };
  }

  /** What the caller could do now, for the case page's buttons (the server checks again on each request). */
  private actionsFor(ctx: RequestContext, d: DemandRow, active: AssignmentRow | null): DemandAction[] {
    const s = d.status as DemandStatus;
    const dispatcher = hasPermissionAt(ctx.actor, 'demand.dispatch', d.unit_path);
    const verifier = hasPermissionAt(ctx.actor, 'demand.verify', d.unit_path) || hasPermissionAt(ctx.actor, 'demand.verify', d.home_unit_path) || this.isReporter(ctx, d);
    const handler = !!active && this.mayHandle(ctx, active);
    return allowedActions(s).filter((a) => {
      switch (a) {
        case 'register':
        case 'decline':
        case 'merge':
        case 'reroute':
        case 'dispatch':
        case 'escalate':
        case 'close':
          return dispatcher;
        case 'claim':
          return d.claimable && hasPermissionAt(ctx.actor, 'demand.claim', d.unit_path);
        case 'accept':
        case 'handle':
          return handler;
        case 'return':
          return handler;
        case 'verify':
        case 'rework':
          return verifier;
        case 'rate':
          return this.isReporter(ctx, d);
        default:
          return false;
      }
    });
  }

  private isReporter(ctx: RequestContext, d: DemandRow) {
    return d.reporter_user_id !== null && d.reporter_user_id === ctx.actor.userId;
  }

  view(d: DemandRow, opts: { staff: boolean; units?: UnitRow[] } = { staff: false }) {
    const unitName = (id: number) => opts.units?.find((u) => Number(u.id) === Number(id))?.name ?? null;
    return {
      id: d.id,
      caseNo: d.case_no,
      channel: d.channel,
      type: d.type,
      categoryCode: d.category_code,
      title: d.title,
      description: d.description,
      lng: d.lng,
      lat: d.lat,
      address: d.address,
      houseId: d.house_id,
      homeUnitId: d.home_unit_id,
      homeUnitName: unitName(d.home_unit_id),
      unitId: d.unit_id,
      unitName: unitName(d.unit_id),
      routedBy: d.routed_by,
      status: d.status,
      emergency: d.emergency,
      claimable: d.claimable,
      reporterName: opts.staff ? d.reporter_name : null,
      reporterPhone: opts.staff && d.reporter_phone_head ? maskFromParts('phone', { head: d.reporter_phone_head, tail: d.reporter_phone_last4 ?? '' }) : null,
      sourceRef: d.source_ref,
      hazardId: d.hazard_id,
      mergedInto: d.merged_into,
      declineReason: d.decline_reason,
      escalationLevel: d.escalation_level,
      reopenCount: d.reopen_count,
      reworkCount: d.rework_count,
      reportedAt: d.reported_at,
      registeredAt: d.registered_at,
      respondedAt: d.responded_at,
      handledAt: d.handled_at,
      verifiedAt: d.verified_at,
      closedAt: d.closed_at,
      ratedAt: d.rated_at,
      respondDueAt: d.respond_due_at,
      finishDueAt: d.finish_due_at,
      levelDueAt: d.level_due_at,
      warnedAt: d.warned_at,
      overdueAt: d.overdue_at,
      rating: d.rating,
      resolved: d.resolved,
    };
  }

  private eventView(e: EventRow, staff: boolean) {
    return {
      seq: e.seq,
      action: e.action,
      label: ACTION_LABELS[e.action as keyof typeof ACTION_LABELS] ?? { 'zh-CN': e.action, en: e.action },
      fromStatus: e.from_status,
      toStatus: e.to_status,
      // the public tracking page names roles, not people
      actorName: staff ? e.actor_name : null,
      actorKind: e.actor_kind,
      unitId: e.unit_id,
      note: e.note,
      data: staff ? e.data : null,
      at: e.at,
    };
  }

  assignmentView(a: AssignmentRow) {
    return {
      id: a.id,
      handlerType: a.handler_type,
      handlerUnitId: a.handler_unit_id,
      memberId: a.member_id,
      linkedOrgId: a.linked_org_id,
      handlerUserId: a.handler_user_id,
      handlerName: a.handler_name,
      status: a.status,
      note: a.note,
      createdAt: a.created_at,
      acceptedAt: a.accepted_at,
      endedAt: a.ended_at,
    };
  }

  /** The public tracking page: every step, no names, no numbers. */
  async track(code: string) {
    const d = await this.repo.byTrackingCode(code);
    if (!d) throw new NotFoundError(DEMAND);
    const [events, photos] = await Promise.all([this.repo.events(d.district_id, d.id), this.repo.photosOf(d.district_id, d.id)]);
    return {
      caseNo: d.case_no,
      status: d.status,
      categoryCode: d.category_code,
      type: d.type,
      title: d.title,
      reportedAt: d.reported_at,
      finishDueAt: d.finish_due_at,
      closedAt: d.closed_at,
      rating: d.rating,
      resolved: d.resolved,
      canVerify: d.status === 'handled',
      canRate: d.status === 'closed',
      timeline: events.map((e) => this.eventView(e, false)),
      photos: photos.map((p) => ({ id: p.id, stage: p.stage, thumbUrl: `/api/public/demands/${encodeURIComponent(code)}/photos/${p.id}?thumb=true`, url: `/api/public/demands/${encodeURIComponent(code)}/photos/${p.id}` })),
    };
  }

  /** The dispatcher's queue, or any staff member's list of cases in scope. */
  async queue(ctx: RequestContext, f: { unitId?: number; status?: string[]; category?: string; channel?: string; overdue?: boolean; emergency?: boolean; q?: string; from?: Date; to?: Date; limit?: number; offset?: number }) {
    const paths = scopePaths(ctx.actor, 'demand.read');
    let unitPath: string | undefined;
    if (f.unitId) {
      const unit = await this.grid.unit(f.unitId);
      if (!unit || !hasPermissionAt(ctx.actor, 'demand.read', unit.path)) throw new NotFoundError(UNIT);
      unitPath = unit.path;
    }
    const rows = await this.repo.queue({ paths, unitPath, statuses: f.status, category: f.category, channel: f.channel, overdue: f.overdue, emergency: f.emergency, q: f.q?.trim() || undefined, from: f.from, to: f.to, limit: f.limit ?? 50, offset: f.offset ?? 0 });
    const units = await this.grid.unitsByIds([...new Set(rows.map((r) => r.unit_id))]);
    return { items: rows.map((r) => this.view(r, { staff: true, units })) };
  }

  /** The handler's inbox: what is dispatched to them (or to a unit they handle for) and not finished. */
  async handlerInbox(ctx: RequestContext, limit = 100) {
    const rows = await this.repo.inbox(ctx.actor.userId, scopePaths(ctx.actor, 'demand.handle'), limit);
    const units = await this.grid.unitsByIds([...new Set(rows.map((r) => r.unit_id))]);
    return {
      items: rows.map((r) => ({
        ...this.view(r, { staff: hasPermissionAt(ctx.actor, 'demand.read', r.unit_path), units }),
        assignment: { id: r.assignment_id, status: r.assignment_status, handlerType: r.handler_type, handlerName: r.handler_name, assignedAt: r.assigned_at },
      })),
    };
  }

  /** 群众点单: orders party members in scope may claim. */
  async pool(ctx: RequestContext, limit = 100) {
    const rows = await this.repo.pool(scopePaths(ctx.actor, 'demand.claim'), limit);
    return { items: rows.map((r) => this.view(r, { staff: false })) };
  }

  async mine(ctx: RequestContext, limit = 100) {
    if (!hasPermissionAnywhere(ctx.actor, 'demand.own') && !hasPermissionAnywhere(ctx.actor, 'demand.report')) throw new ForbiddenError();
    const rows = await this.repo.mine(ctx.actor.userId, limit);
    return { items: rows.map((r) => ({ ...this.view(r, { staff: false }), trackingCode: r.tracking_code })) };
  }

  // ------------------------------------------------------------------ the loop

  /**
   * Locks the case, checks the caller may see it (else 404) and runs `fn`. Everything `fn` writes, and the
   * notifications it collects, commit together; the notifications are pushed to open pages afterwards.
   */
  private async change<T>(
    ctx: RequestContext,
    id: number,
    fn: (d: DemandRow, trx: Tx, notices: NotificationInput[]) => Promise<T>,
    opts: {
      /** the case is named by its tracking code (the reporter without an account), not by id and scope */
      byCode?: string;
      /** who else may find the case, to be told why the step is refused (a member who lost a claim) */
      alsoFinds?: (d: DemandRow) => boolean;
      /** other cases the step changes too: all are locked in id order first, so two such steps cannot deadlock */
      alsoLocks?: number[];
    } = {},
  ): Promise<T> {
    const { byCode, alsoFinds } = opts;
    const notices: NotificationInput[] = [];
    const result = await this.transaction(async (trx) => {
      if (opts.alsoLocks?.length) await this.repo.lockInOrder([id, ...opts.alsoLocks], trx);
      const found = byCode ? await this.repo.byTrackingCode(byCode, trx) : undefined;
      const d = await this.repo.byIdForUpdate(found ? found.id : id, trx);
      if (!d || (byCode ? d.tracking_code !== byCode : !alsoFinds?.(d) && !(await this.readableOrHandler(ctx, d, trx)))) throw new NotFoundError(DEMAND);
      try {
        const out = await fn(d, trx, notices);
        await this.notify(trx, notices);
        return out;
      } catch (e) {
        if (e instanceof TransitionRefused) throw refused(e);
        throw e;
      }
    });
    this.publish(notices);
    return result;
  }

  /**
   * One step of the state machine: the new state from the transition table, the next timeline event (its
   * primary key on (case, seq) makes two racing writers collide instead of both succeeding), the case row
   * and the audit row.
   */
  private async step(
    trx: Tx,
    d: DemandRow,
    who: Who,
    action: DemandAction | 'warn' | 'overdue' | 'response_overdue' | 'notify_secretary' | 'absorb',
    opts: { note?: string | null; data?: unknown; patch?: Parameters<DemandsRepository['update']>[2] } = {},
  ): Promise<DemandRow> {
    const from = action === 'report' ? null : (d.status as DemandStatus);
    const to: DemandStatus = action === 'report' ? 'reported' : isStateAction(action) ? transition(from!, action) : (d.status as DemandStatus);
    const at = this.now();
    const seq = d.seq + 1;
    await this.repo.insertEvent(trx, {
      district_id: d.district_id,
      demand_id: d.id,
      seq,
      action,
      from_status: from,
      to_status: to,
      actor_user_id: who.ctx.actor.userId > 0 ? who.ctx.actor.userId : null,
      actor_name: who.ctx.actor.displayName,
      actor_kind: who.kind,
      unit_id: opts.patch?.unit_id ?? d.unit_id,
      note: opts.note ?? null,
      data: opts.data ?? null,
      at,
    });
    const updated = await this.repo.update(trx, d, { ...opts.patch, status: to, seq });
    await recordAudit(trx, who.ctx, {
      action: `demand.${action}`,
      targetType: 'demand',
      targetId: d.id,
      unit: { district_id: d.district_id, id: updated.unit_id, path: updated.unit_path },
      before: action === 'report' ? undefined : { status: from, unitId: d.unit_id },
      after: { status: to, unitId: updated.unit_id, seq, ...(opts.note ? { note: opts.note } : {}) },
    });
    return updated;
  }

  private requireDispatcher(ctx: RequestContext, d: DemandRow) {
    if (!hasPermissionAt(ctx.actor, 'demand.dispatch', d.unit_path)) throw new ForbiddenError({ 'zh-CN': '只有该单元的派遣人员可以执行此操作', en: "Only the unit's dispatchers can do this" }, 'not_dispatcher');
  }

  /** Staff of the handling unit, the member's own account, or (for outside handlers) the unit's dispatchers acting for them. */
  private mayHandle(ctx: RequestContext, a: AssignmentRow): boolean {
    if (a.handler_user_id !== null) return a.handler_user_id === ctx.actor.userId;
    if (a.handler_type === 'unit') return hasPermissionAt(ctx.actor, 'demand.handle', a.handler_unit_path);
    return hasPermissionAt(ctx.actor, 'demand.dispatch', a.handler_unit_path);
  }

  private async requireHandler(ctx: RequestContext, d: DemandRow, trx: Tx): Promise<AssignmentRow> {
    const a = await this.repo.activeAssignment(d.district_id, d.id, trx);
    if (!a) throw refused(new TransitionRefused('accept', d.status as DemandStatus));
    if (!this.mayHandle(ctx, a)) throw new ForbiddenError({ 'zh-CN': '该诉求不是派给你的', en: 'This demand is not dispatched to you' }, 'not_handler');
    return a;
  }

  async register(ctx: RequestContext, id: number, input: { note?: string; claimable?: boolean }) {
    return this.change(ctx, id, async (d, trx) => {
      this.requireDispatcher(ctx, d);
      return this.step(trx, d, { ctx, kind: 'staff' }, 'register', { note: input.note, patch: { registered_at: d.registered_at ?? this.now(), ...(input.claimable !== undefined ? { claimable: input.claimable } : {}) } });
    });
  }

  async decline(ctx: RequestContext, id: number, input: { reason: string }) {
    const reason = input.reason.trim();
    if (!reason) throw new ValidationError({ 'zh-CN': '请说明不予受理的理由', en: 'Give the reason for declining' }, undefined, 'reason_required');
    return this.change(ctx, id, async (d, trx, notices) => {
      this.requireDispatcher(ctx, d);
      const out = await this.step(trx, d, { ctx, kind: 'staff' }, 'decline', { note: reason, patch: { decline_reason: reason } });
      notices.push(...this.toReporter(out, 'declined', { 'zh-CN': `诉求 ${out.case_no} 不予受理：${reason}`, en: `Demand ${out.case_no} was declined: ${reason}` }));
      return out;
    });
  }

  /** A duplicate goes into the case it repeats: it ends as merged, the other case records it. */
  async merge(ctx: RequestContext, id: number, input: { intoId: number; note?: string }) {
    if (input.intoId === id) throw new ValidationError({ 'zh-CN': '不能合并到自身', en: 'A demand cannot be merged into itself' }, undefined, 'merge_into_self');
    // two dispatchers merging two cases into each other at once would each hold one lock and wait for the other
    return this.change(ctx, id, async (d, trx) => {
      this.requireDispatcher(ctx, d);
      const into = await this.repo.byIdForUpdate(input.intoId, trx);
      if (!into || into.district_id !== d.district_id || !this.readable(ctx, into)) {
        throw new ValidationError({ 'zh-CN': `诉求 ${input.intoId} 不存在`, en: `Demand ${input.intoId} does not exist` }, { intoId: input.intoId }, 'unknown_reference');
      }
      if (FINAL_STATUSES.includes(into.status as DemandStatus) || into.status === 'closed') {
        throw new ConflictError({ 'zh-CN': '只能合并到仍在办理的诉求', en: 'A duplicate can only be merged into an open demand' }, 'merge_target_closed');
      }
      const out = await this.step(trx, d, { ctx, kind: 'staff' }, 'merge', { note: input.note, data: { into: into.id, intoCaseNo: into.case_no }, patch: { merged_into: into.id } });
      await this.step(trx, into, { ctx, kind: 'staff' }, 'absorb', { data: { duplicate: d.id, duplicateCaseNo: d.case_no } });
      return out;
    }, { alsoLocks: [input.intoId] });
  }

  /** Moves a case to another unit in the dispatcher's scope (the location was wrong, or it is another grid's). */
  async reroute(ctx: RequestContext, id: number, input: { unitId: number; note?: string }) {
    return this.change(ctx, id, async (d, trx, notices) => {
      this.requireDispatcher(ctx, d);
      const unit = await this.grid.unit(input.unitId, trx);
      if (!unit || !hasPermissionAt(ctx.actor, 'demand.dispatch', unit.path) || unit.district_id !== d.district_id) throw new NotFoundError(UNIT);
      if (unit.archived_at) throw new ConflictError({ 'zh-CN': '单元已归档', en: 'The unit is archived' }, 'archived');
      const out = await this.step(trx, d, { ctx, kind: 'staff' }, 'reroute', { note: input.note, data: { from: d.unit_id, to: unit.id }, patch: { unit_id: unit.id, unit_path: unit.path, ...(d.status === 'reported' && d.escalation_level === 0 ? { home_unit_id: unit.id, home_unit_path: unit.path } : {}) } });
      notices.push(...(await this.dispatchersOf(trx, out, 'new_case', { 'zh-CN': `转来诉求 ${out.case_no}`, en: `Demand ${out.case_no} routed to you` }, out.emergency)));
      return out;
    });
  }

  async dispatch(ctx: RequestContext, id: number, input: { handler: HandlerInput; note?: string }) {
    return this.change(ctx, id, async (d, trx, notices) => {
      this.requireDispatcher(ctx, d);
      transition(d.status as DemandStatus, 'dispatch');
      const target = await this.resolveHandler(ctx, d, input.handler, trx);
      const at = this.now();
      const previous = await this.repo.activeAssignment(d.district_id, d.id, trx);
      if (previous) await this.repo.updateAssignment(trx, previous, { status: 'cancelled', ended_at: at });
      const a = await this.repo.insertAssignment(trx, { ...target, district_id: d.district_id, demand_id: d.id, status: 'pending', assigned_by_user_id: ctx.actor.userId > 0 ? ctx.actor.userId : null, note: input.note?.trim() || null, created_at: at, accepted_at: null, ended_at: null });
      const out = await this.step(trx, d, { ctx, kind: 'staff' }, 'dispatch', { note: input.note, data: { assignment: a.id, handlerType: a.handler_type, handlerName: a.handler_name, replaced: previous?.id ?? null }, patch: { first_dispatched_at: d.first_dispatched_at ?? at } });
      notices.push(...(await this.handlersOf(trx, out, a)));
      return out;
    });
  }

  /** Dispatches several cases to one handler; each case is its own transaction and answers for itself. */
  async bulkDispatch(ctx: RequestContext, input: { ids: number[]; handler: HandlerInput; note?: string }) {
    const results: { id: number; ok: boolean; status?: string; code?: string; message?: Messages }[] = [];
    for (const id of [...new Set(input.ids)]) {
      try {
        const d = await this.dispatch(ctx, id, { handler: input.handler, note: input.note });
        results.push({ id, ok: true, status: d.status });
      } catch (e) {
        const err = e as { code?: string; messages?: Messages; statusCode?: number };
        if (!err.statusCode || err.statusCode >= 500) throw e;
        results.push({ id, ok: false, code: err.code, message: err.messages });
      }
    }
    return { results };
  }

  /** 党员接单: the first member to claim an order from the pool gets it; the rest are told it is taken. */
  async claim(ctx: RequestContext, id: number) {
    // An order that was in the pool stays findable for the members it was open to: the one who lost the
    // race to claim it is told it is taken (409), not that it does not exist (the winner's case is not
    // readable to them any more).
    const wasInPool = (d: DemandRow) => d.claimable && d.registered_at !== null && hasPermissionAt(ctx.actor, 'demand.claim', d.unit_path);
    return this.change(ctx, id, async (d, trx, notices) => {
      if (!d.claimable || !hasPermissionAt(ctx.actor, 'demand.claim', d.unit_path)) throw new NotFoundError(DEMAND);
      if (d.status !== 'registered') throw new ConflictError({ 'zh-CN': '该单已被认领或不在接单池中', en: 'This order has been claimed already or is not in the pool' }, 'already_claimed');
      const member = await trx
        .selectFrom('party_member as m')
        .innerJoin('resident as r', (j) => j.onRef('r.district_id', '=', 'm.district_id').onRef('r.id', '=', 'm.resident_id'))
        .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'm.district_id').onRef('u.id', '=', 'm.unit_id'))
        .select(['m.id', 'm.district_id', 'm.unit_id', 'u.path', 'r.name'])
        .where('m.user_id', '=', ctx.actor.userId)
        .where('m.district_id', '=', d.district_id)
        .where('m.left_on', 'is', null)
        .executeTakeFirst();
      const at = this.now();
      const handler = member
        ? { handler_type: 'member', handler_unit_id: member.unit_id, handler_unit_path: member.path, member_id: member.id, linked_org_id: null, handler_user_id: ctx.actor.userId, handler_name: member.name }
        : { handler_type: 'member', handler_unit_id: d.unit_id, handler_unit_path: d.unit_path, member_id: null, linked_org_id: null, handler_user_id: ctx.actor.userId, handler_name: ctx.actor.displayName };
      const a = await this.repo.insertAssignment(trx, { ...handler, district_id: d.district_id, demand_id: d.id, status: 'accepted', assigned_by_user_id: ctx.actor.userId, note: null, created_at: at, accepted_at: at, ended_at: null });
      const who: Who = { ctx, kind: 'member' };
      // on the timeline as two steps, so no state is skipped: dispatched (to oneself), then accepted
      let out = await this.step(trx, d, who, 'dispatch', { data: { assignment: a.id, handlerType: 'member', handlerName: a.handler_name, claimed: true }, patch: { first_dispatched_at: d.first_dispatched_at ?? at } });
      out = await this.step(trx, out, who, 'accept', { data: { assignment: a.id, claimed: true }, patch: { responded_at: out.responded_at ?? at } });
      notices.push(...this.toReporter(out, 'claimed', { 'zh-CN': `您的需求 ${out.case_no} 已由党员认领`, en: `A party member took up your request ${out.case_no}` }));
      return out;
    }, { alsoFinds: wasInPool });
  }

  async accept(ctx: RequestContext, id: number, input: { note?: string } = {}) {
    return this.change(ctx, id, async (d, trx) => {
      transition(d.status as DemandStatus, 'accept');
      const a = await this.requireHandler(ctx, d, trx);
      const at = this.now();
      await this.repo.updateAssignment(trx, a, { status: 'accepted', accepted_at: at });
      return this.step(trx, d, { ctx, kind: a.handler_user_id ? 'member' : 'staff' }, 'accept', { note: input.note, data: { assignment: a.id }, patch: { responded_at: d.responded_at ?? at } });
    });
  }

  /** 退回: "not ours". The case goes back to the dispatcher with the reason; a case beyond this level's authority goes up. */
  async returnCase(ctx: RequestContext, id: number, input: { reason: string; beyondAuthority?: boolean }) {
    const reason = input.reason.trim();
    if (!reason) throw new ValidationError({ 'zh-CN': '请说明退回理由', en: 'Give the reason for returning it' }, undefined, 'reason_required');
    return this.change(ctx, id, async (d, trx, notices) => {
      transition(d.status as DemandStatus, 'return');
      const a = await this.requireHandler(ctx, d, trx);
      await this.repo.updateAssignment(trx, a, { status: 'returned', ended_at: this.now(), note: reason });
      let out = await this.step(trx, d, { ctx, kind: a.handler_user_id ? 'member' : 'staff' }, 'return', { note: reason, data: { assignment: a.id, beyondAuthority: !!input.beyondAuthority } });
      if (input.beyondAuthority) out = await this.escalateOneLevel(trx, out, { ctx, kind: 'staff' }, reason, notices);
      else notices.push(...(await this.dispatchersOf(trx, out, 'returned', { 'zh-CN': `诉求 ${out.case_no} 被退回：${reason}`, en: `Demand ${out.case_no} was returned: ${reason}` }, true)));
      return out;
    });
  }

  async escalate(ctx: RequestContext, id: number, input: { reason: string }) {
    const reason = input.reason.trim();
    if (!reason) throw new ValidationError({ 'zh-CN': '请说明上报理由', en: 'Give the reason for escalating' }, undefined, 'reason_required');
    return this.change(ctx, id, async (d, trx, notices) => {
      this.requireDispatcher(ctx, d);
      return this.escalateOneLevel(trx, d, { ctx, kind: 'staff' }, reason, notices);
    });
  }

  async handle(ctx: RequestContext, id: number, input: { result: string; photoIds?: string[] }) {
    const result = input.result.trim();
    if (!result) throw new ValidationError({ 'zh-CN': '请填写处置结果', en: 'Describe what was done' }, undefined, 'result_required');
    return this.change(ctx, id, async (d, trx, notices) => {
      transition(d.status as DemandStatus, 'handle');
      const a = await this.requireHandler(ctx, d, trx);
      const at = this.now();
      await this.repo.updateAssignment(trx, a, { status: 'done', ended_at: at });
      const out = await this.step(trx, d, { ctx, kind: a.handler_user_id ? 'member' : 'staff' }, 'handle', { note: result, data: { assignment: a.id }, patch: { handled_at: at } });
      if (input.photoIds?.length) await this.attachPhotos(trx, ctx, out, [...new Set(input.photoIds)], undefined, 'handle');
      notices.push(...this.toReporter(out, 'handled', { 'zh-CN': `诉求 ${out.case_no} 已处置，请确认是否解决`, en: `Demand ${out.case_no} was handled; please confirm it is fixed` }));
      notices.push(...(await this.verifiersOf(trx, out)));
      return out;
    });
  }

  /**
   * 核查 by the grid worker on the spot, or by the reporter (account or tracking code): fixed → verified;
   * not fixed → 返工, back to the same handler.
   */
  async verify(ctx: RequestContext, id: number, input: { fixed: boolean; note?: string; photoIds?: string[] }, trackingCode?: string) {
    return this.change(
      ctx,
      id,
      async (d, trx, notices) => {
        const reporter = !!trackingCode || this.isReporter(ctx, d);
        const verifier = hasPermissionAt(ctx.actor, 'demand.verify', d.unit_path) || hasPermissionAt(ctx.actor, 'demand.verify', d.home_unit_path);
        if (!reporter && !verifier) throw new ForbiddenError({ 'zh-CN': '只有网格员或诉求人可以核查', en: 'Only grid staff or the reporter can verify' }, 'not_verifier');
        const who: Who = { ctx, kind: verifier && !trackingCode ? 'staff' : 'reporter' };
        if (input.fixed) {
          const out = await this.step(trx, d, who, 'verify', { note: input.note, patch: { verified_at: this.now(), ...(reporter ? { resolved: true } : {}) } });
          if (input.photoIds?.length) await this.attachPhotos(trx, ctx, out, [...new Set(input.photoIds)], undefined, 'verify');
          notices.push(...(await this.dispatchersOf(trx, out, 'verified', { 'zh-CN': `诉求 ${out.case_no} 已核查，可结案`, en: `Demand ${out.case_no} is verified and can be closed` }, false)));
          return out;
        }
        const note = input.note?.trim();
        if (!note) throw new ValidationError({ 'zh-CN': '请说明需要返工的原因', en: 'Say what is still wrong' }, undefined, 'reason_required');
        transition(d.status as DemandStatus, 'rework');
        const last = await this.repo.lastDoneAssignment(d.district_id, d.id, trx);
        if (last) await this.repo.updateAssignment(trx, last, { status: 'accepted', ended_at: null });
        const out = await this.step(trx, d, who, 'rework', { note, data: { assignment: last?.id ?? null }, patch: { rework_count: d.rework_count + 1 } });
        if (last) notices.push(...(await this.handlersOf(trx, out, last, 'rework')));
        return out;
      },
      { byCode: trackingCode },
    );
  }

  async close(ctx: RequestContext, id: number, input: { note?: string; resolved?: boolean }) {
    return this.change(ctx, id, async (d, trx, notices) => {
      this.requireDispatcher(ctx, d);
      // without a reporter to ask, the verifier's word stands for 解决
      const resolved = d.resolved ?? (d.reporter_user_id === null && d.reporter_phone_hash === null && d.channel === 'patrol' ? (input.resolved ?? true) : null);
      // the verifier's word goes on the timeline too: the resolution rate must be recountable from it
      const data = resolved !== d.resolved ? { resolved } : undefined;
      const out = await this.step(trx, d, { ctx, kind: 'staff' }, 'close', { note: input.note, data, patch: { closed_at: this.now(), resolved } });
      notices.push(...this.toReporter(out, 'closed', { 'zh-CN': `诉求 ${out.case_no} 已办结，请评价`, en: `Demand ${out.case_no} is closed; please rate it` }));
      return out;
    });
  }

  /**
   * The reporter's rating, once per closure: 满意/基本满意/不满意 and whether the problem is fixed. "Not
   * fixed" or "not satisfied" reopens the case (counted), and it goes round the loop again.
   */
  async rate(ctx: RequestContext, id: number, input: { rating: Rating; resolved: boolean; comment?: string }, trackingCode?: string) {
    return this.change(
      ctx,
      id,
      async (d, trx, notices) => {
        if (!trackingCode && !this.isReporter(ctx, d)) throw new ForbiddenError({ 'zh-CN': '只有诉求人可以评价', en: 'Only the reporter can rate' }, 'not_reporter');
        const who: Who = { ctx, kind: 'reporter' };
        const at = this.now();
        let out = await this.step(trx, d, who, 'rate', { note: input.comment, data: { rating: input.rating, resolved: input.resolved }, patch: { rating: input.rating, resolved: input.resolved, rated_at: at } });
        if (!input.resolved || !isSatisfied(input.rating)) {
          const category = await this.settings.category(d.category_code, trx);
          const due = category ? await this.settings.deadlines(category, at, trx) : null;
          out = await this.step(trx, out, who, 'reopen', {
            note: input.comment,
            data: { rating: input.rating, resolved: input.resolved },
            patch: { reopen_count: d.reopen_count + 1, closed_at: null, verified_at: null, ...(due ? { level_since: at, level_due_at: due.finishDueAt, level_warn_at: due.warnAt, warned_at: null, overdue_at: null } : {}) },
          });
          notices.push(...(await this.dispatchersOf(trx, out, 'reopened', { 'zh-CN': `诉求 ${out.case_no} 被诉求人重新打开`, en: `Demand ${out.case_no} was reopened by the reporter` }, true)));
        }
        return out;
      },
      { byCode: trackingCode },
    );
  }

  // ------------------------------------------------------------------ escalation and the clock

  /** One level up the tree: the active assignment is cancelled, the upper level registers and dispatches it anew. */
  private async escalateOneLevel(trx: Tx, d: DemandRow, who: Who, reason: string, notices: NotificationInput[]): Promise<DemandRow> {
    const unit = await this.grid.unit(d.unit_id, trx);
    const parent = unit?.parent_id ? await this.grid.unit(unit.parent_id, trx) : undefined;
    if (!parent || parent.district_id !== d.district_id) {
      throw new ConflictError({ 'zh-CN': '已是最高层级，无法继续上报', en: 'This is the top level; the demand cannot go higher' }, 'top_level');
    }
    const at = this.now();
    const active = await this.repo.activeAssignment(d.district_id, d.id, trx);
    if (active) await this.repo.updateAssignment(trx, active, { status: 'cancelled', ended_at: at });
    const category = await this.settings.category(d.category_code, trx);
    const due = category ? await this.settings.deadlines(category, at, trx) : null;
    const out = await this.step(trx, d, who, 'escalate', {
      note: reason,
      data: { from: d.unit_id, to: parent.id, cancelledAssignment: active?.id ?? null },
      patch: {
        unit_id: parent.id,
        unit_path: parent.path,
        escalation_level: d.escalation_level + 1,
        // the upper level gets a fresh window; the case's own deadlines (and its on-time figure) stay
        ...(due ? { level_since: at, level_due_at: due.finishDueAt, level_warn_at: due.warnAt, warned_at: null, overdue_at: null } : {}),
      },
    });
    notices.push(...(await this.dispatchersOf(trx, out, 'escalated', { 'zh-CN': `下级上报诉求 ${out.case_no}：${reason}`, en: `Demand ${out.case_no} escalated to you: ${reason}` }, true)));
    return out;
  }

  /** Cases a level may not decide go up until a unit kind that may ("小事不出村、大事不出镇"). */
  private async escalateBeyondAuthority(trx: Tx, d: DemandRow, category: Category): Promise<DemandRow> {
    const allowed = category.decideKinds ?? (category.parentCode ? (await this.settings.category(category.parentCode, trx))?.decideKinds : null);
    if (!allowed?.length) return d;
    let out = d;
    const notices: NotificationInput[] = [];
    for (let guard = 0; guard < 20; guard++) {
      const unit = await this.grid.unit(out.unit_id, trx);
      if (!unit || allowed.includes(unit.kind_code) || !unit.parent_id) break;
      const parent = await this.grid.unit(unit.parent_id, trx);
      if (!parent || parent.district_id !== out.district_id) break;
      out = await this.escalateOneLevel(trx, out, { ctx: systemCtx(), kind: 'system' }, `超出${unit.name}的决定权限 / beyond ${unit.name}'s authority`, notices);
    }
    return out;
  }

  /**
   * The clock's sweep: warns cases near their level's deadline, marks overdue ones and moves every untouched
   * overdue case one level up. Each case in its own transaction, so one failure does not hold back the rest.
   * Answers what it did, for the logs and the tests.
   */
  async sweep(limit = 500): Promise<{ warned: number; overdue: number; escalated: number; responseOverdue: number }> {
    const at = this.now();
    const counts = { warned: 0, overdue: 0, escalated: 0, responseOverdue: 0 };
    const sys = systemCtx();
    for (const row of await this.repo.warnBy(at, limit)) {
      await this.clockStep(row.id, async (d, trx, notices) => {
        if (d.warned_at || d.level_warn_at > at || !isOpenStatus(d.status)) return;
        await this.step(trx, d, { ctx: sys, kind: 'system' }, 'warn', { data: { levelDueAt: d.level_due_at }, patch: { warned_at: at } });
        notices.push(...(await this.currentHandlersOrDispatchers(trx, d, 'warning', { 'zh-CN': `诉求 ${d.case_no} 即将超期`, en: `Demand ${d.case_no} is nearly due` })));
        counts.warned++;
      });
    }
    for (const row of await this.repo.responseOverdue(at, limit)) {
      await this.clockStep(row.id, async (d, trx) => {
        if (d.responded_at || d.respond_due_at > at) return;
        await this.step(trx, d, { ctx: sys, kind: 'system' }, 'response_overdue', { data: { respondDueAt: d.respond_due_at } });
        counts.responseOverdue++;
      });
    }
    for (const row of await this.repo.overdueBy(at, limit)) {
      await this.clockStep(row.id, async (d, trx, notices) => {
        if (d.overdue_at || d.level_due_at > at || !isOpenStatus(d.status)) return;
        let out = await this.step(trx, d, { ctx: sys, kind: 'system' }, 'overdue', { data: { levelDueAt: d.level_due_at }, patch: { overdue_at: at } });
        counts.overdue++;
        if (['reported', 'registered', 'dispatched', 'accepted'].includes(out.status)) {
          const unit = await this.grid.unit(out.unit_id, trx);
          const parent = unit?.parent_id ? await this.grid.unit(unit.parent_id, trx) : undefined;
          if (parent && parent.district_id === out.district_id) {
            out = await this.escalateOneLevel(trx, out, { ctx: sys, kind: 'system' }, '超期未办结，自动上报上级 / overdue: escalated automatically', notices);
            counts.escalated++;
          }
        }
      });
    }
    return counts;
  }

  private async clockStep(id: number, fn: (d: DemandRow, trx: Tx, notices: NotificationInput[]) => Promise<void>) {
    const notices: NotificationInput[] = [];
    await this.transaction(async (trx) => {
      const d = await this.repo.byIdForUpdate(id, trx);
      if (!d) return;
      await fn(d, trx, notices);
      await this.notify(trx, notices);
    });
    this.publish(notices);
  }

  // ------------------------------------------------------------------ handlers and photos

  private async resolveHandler(ctx: RequestContext, d: DemandRow, h: HandlerInput, trx: Tx): Promise<{ handler_type: HandlerType; handler_unit_id: number; handler_unit_path: string; member_id: number | null; linked_org_id: number | null; handler_user_id: number | null; handler_name: string }> {
    const unknown = (what: Messages, id: number) => new ValidationError({ 'zh-CN': `${what['zh-CN']} ${id} 不存在`, en: `${what.en} ${id} does not exist` }, { id }, 'unknown_reference');
    switch (h.type) {
      case 'unit': {
        const u = await this.grid.unit(h.unitId, trx);
        if (!u || u.district_id !== d.district_id || !hasPermissionAt(ctx.actor, 'demand.dispatch', u.path)) throw unknown(UNIT, h.unitId);
        if (u.archived_at) throw new ConflictError({ 'zh-CN': '单元已归档', en: 'The unit is archived' }, 'archived');
        return { handler_type: 'unit', handler_unit_id: u.id, handler_unit_path: u.path, member_id: null, linked_org_id: null, handler_user_id: null, handler_name: u.name };
      }
      case 'member': {
        const m = await trx
          .selectFrom('party_member as m')
          .innerJoin('resident as r', (j) => j.onRef('r.district_id', '=', 'm.district_id').onRef('r.id', '=', 'm.resident_id'))
          .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'm.district_id').onRef('u.id', '=', 'm.unit_id'))
          .select(['m.id', 'm.unit_id', 'm.user_id', 'm.left_on', 'u.path', 'r.name'])
          .where('m.id', '=', h.memberId)
          .where('m.district_id', '=', d.district_id)
          .executeTakeFirst();
        const what = { 'zh-CN': '党员', en: 'Party member' };
        if (!m || !hasPermissionAt(ctx.actor, 'demand.dispatch', m.path) || m.left_on) throw unknown(what, h.memberId);
        if (!m.user_id) throw new ConflictError({ 'zh-CN': '该党员还没有账号，无法接单', en: 'This member has no account to take the order with' }, 'member_without_account');
        return { handler_type: 'member', handler_unit_id: m.unit_id, handler_unit_path: m.path, member_id: m.id, linked_org_id: null, handler_user_id: m.user_id, handler_name: m.name };
      }
      case 'linked_org': {
        const o = await trx
          .selectFrom('linked_org as o')
          .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'o.district_id').onRef('u.id', '=', 'o.unit_id'))
          .select(['o.id', 'o.unit_id', 'o.name', 'o.ended_on', 'u.path'])
          .where('o.id', '=', h.linkedOrgId)
          .where('o.district_id', '=', d.district_id)
          .executeTakeFirst();
        const what = { 'zh-CN': '共建单位', en: 'Linked organisation' };
        if (!o || !hasPermissionAt(ctx.actor, 'demand.dispatch', o.path)) throw unknown(what, h.linkedOrgId);
        return { handler_type: 'linked_org', handler_unit_id: o.unit_id, handler_unit_path: o.path, member_id: null, linked_org_id: o.id, handler_user_id: null, handler_name: o.name };
      }
      default: {
        const name = h.name.trim();
        if (!name) throw new ValidationError({ 'zh-CN': '请填写承办部门或议事会名称', en: 'Name the department or council' }, undefined, 'handler_name_required');
        // an outside department or a council: the dispatching unit records its acceptance and result for it
        return { handler_type: h.type, handler_unit_id: d.unit_id, handler_unit_path: d.unit_path, member_id: null, linked_org_id: null, handler_user_id: null, handler_name: name };
      }
    }
  }

  /** Photos uploaded beforehand become part of the case; only their uploader (account or token) may attach them. */
  private async attachPhotos(trx: Tx, ctx: RequestContext, d: DemandRow, ids: string[], token: string | undefined, stage: 'report' | 'handle' | 'verify') {
    if (ids.length > 9) throw new ValidationError({ 'zh-CN': '每次最多 9 张照片', en: 'At most 9 photos at a time' }, undefined, 'too_many_photos');
    const rows = await trx.selectFrom('demand_photo').selectAll().where('id', 'in', ids).forUpdate().execute();
    const tokenHash = token ? sha256(token) : null;
    for (const id of ids) {
      const p = rows.find((r) => r.id === id);
      const mine = p && (ctx.actor.userId > 0 ? p.uploaded_by_user_id === ctx.actor.userId : p.uploaded_by_user_id === null && tokenHash !== null && p.upload_token_hash === tokenHash);
      if (!p || !mine || p.demand_id !== null) {
        throw new ValidationError({ 'zh-CN': `照片 ${id} 不存在或已使用`, en: `Photo ${id} does not exist or is already used` }, { photoId: id }, 'unknown_photo');
      }
    }
    await trx.updateTable('demand_photo').set({ district_id: d.district_id, demand_id: d.id, event_seq: d.seq, stage }).where('id', 'in', ids).execute();
  }

  // ------------------------------------------------------------------ who is told

  private async notify(trx: Tx, notices: NotificationInput[]) {
    if (notices.length) await this.inbox.insert(trx, dedupe(notices));
  }

  private publish(notices: NotificationInput[]) {
    for (const n of dedupe(notices)) if (n.urgent) this.bus.publish(n.user_id, { kind: n.kind, demandId: n.demand_id, title: n.title });
  }

  private notice(d: DemandRow, userId: number, kind: string, title: Messages, urgent: boolean): NotificationInput {
    return { district_id: d.district_id, user_id: userId, demand_id: d.id, kind, title: title['zh-CN'], body: title.en, urgent, created_at: this.now() };
  }

  private toReporter(d: DemandRow, kind: string, title: Messages): NotificationInput[] {
    return d.reporter_user_id ? [this.notice(d, d.reporter_user_id, kind, title, true)] : [];
  }

  /** Accounts granted demand.dispatch on the unit holding the case (its own dispatchers, not the whole district above). */
  private async dispatchersOf(trx: Tx, d: DemandRow, kind: string, title: Messages, urgent: boolean): Promise<NotificationInput[]> {
    const users = await this.usersWith(trx, d.district_id, d.unit_id, ['district_admin', 'street_admin', 'community_secretary', 'grid_leader']);
    return users.map((u) => this.notice(d, u, kind, title, urgent));
  }

  private async verifiersOf(trx: Tx, d: DemandRow): Promise<NotificationInput[]> {
    const users = await this.usersWith(trx, d.district_id, d.home_unit_id, ['grid_worker', 'grid_leader']);
    return users.map((u) => this.notice(d, u, 'to_verify', { 'zh-CN': `诉求 ${d.case_no} 待核查`, en: `Demand ${d.case_no} awaits verification` }, false));
  }

  private async handlersOf(trx: Tx, d: DemandRow, a: AssignmentRow, kind = 'dispatched'): Promise<NotificationInput[]> {
    const title = kind === 'rework' ? { 'zh-CN': `诉求 ${d.case_no} 需返工`, en: `Demand ${d.case_no} needs rework` } : { 'zh-CN': `新派单 ${d.case_no}`, en: `Demand ${d.case_no} dispatched to you` };
    if (a.handler_user_id) return [this.notice(d, a.handler_user_id, kind, title, true)];
    const users = a.handler_type === 'unit' ? await this.usersWith(trx, a.district_id, a.handler_unit_id, ['grid_worker', 'grid_leader', 'community_secretary', 'street_admin']) : await this.usersWith(trx, a.district_id, a.handler_unit_id, ['grid_leader', 'community_secretary', 'street_admin']);
    return users.map((u) => this.notice(d, u, kind, title, true));
  }

  private async currentHandlersOrDispatchers(trx: Tx, d: DemandRow, kind: string, title: Messages): Promise<NotificationInput[]> {
    const a = await this.repo.activeAssignment(d.district_id, d.id, trx);
    const out = a ? await this.handlersOf(trx, d, a, kind) : [];
    return [...out.map((n) => ({ ...n, title: title['zh-CN'], body: title.en })), ...(await this.dispatchersOf(trx, d, kind, title, true))];
  }

  /** The district as well as the unit: role_grant is indexed by (district_id, unit_id); by unit alone it is a scan of every grant. */
  private async usersWith(trx: Tx, districtId: number, unitId: number, roles: string[]): Promise<number[]> {
    const rows = await trx
      .selectFrom('role_grant as g')
      .innerJoin('app_user as u', 'u.id', 'g.user_id')
      .select('g.user_id')
      .distinct()
      .where('g.district_id', '=', districtId)
      .where('g.unit_id', '=', unitId)
      .where('g.role_code', 'in', roles)
      .where('u.disabled', '=', false)
      .execute();
    return rows.map((r) => Number(r.user_id));
  }

  /** 突发事件: the party organisation of the unit (or the nearest one above) is told at once, on the timeline too. */
  private async notifySecretary(trx: Tx, d: DemandRow, notices: NotificationInput[]): Promise<DemandRow> {
    const ids = d.unit_path.split('/').filter(Boolean).map(Number).reverse();
    const orgs = await trx
      .selectFrom('party_org as o')
      .leftJoin('person as p', (j) => j.onRef('p.district_id', '=', 'o.district_id').onRef('p.id', '=', 'o.secretary_person_id'))
      .select(['o.district_id', 'o.unit_id', 'o.name', 'p.name as secretary', 'p.user_id'])
      .where('o.unit_id', 'in', ids)
      .execute();
    const org = ids.map((id) => orgs.find((o) => Number(o.unit_id) === id)).find(Boolean);
    if (!org) return d;
    const users = new Set<number>(await this.usersWith(trx, org.district_id, org.unit_id, ['community_secretary', 'street_admin', 'district_admin', 'grid_leader']));
    if (org.user_id) users.add(Number(org.user_id));
    const title = { 'zh-CN': `【紧急】${d.case_no} ${d.title}`, en: `[Emergency] ${d.case_no} ${d.title}` };
    for (const u of users) notices.push(this.notice(d, u, 'emergency', title, true));
    return this.step(trx, d, { ctx: systemCtx(), kind: 'system' }, 'notify_secretary', { data: { partyOrg: org.name, secretary: org.secretary ?? null, notified: users.size } });
  }

  // ------------------------------------------------------------------ photos (upload side)

  /** Records an uploaded photo (stored by PhotoStore) as its uploader's, not yet part of any case. */
  async recordPhoto(ctx: RequestContext, photo: { id: string; format: string; bytes: number; width: number; height: number; sha256: string; path: string; thumbPath: string }) {
    const token = randomBytes(18).toString('base64url');
    await this.transaction(async (trx) => {
      await trx
        .insertInto('demand_photo')
        .values({ id: photo.id, district_id: null, demand_id: null, event_seq: null, stage: null, format: photo.format, bytes: photo.bytes, width: photo.width, height: photo.height, sha256: photo.sha256, path: photo.path, thumb_path: photo.thumbPath, uploaded_by_user_id: ctx.actor.userId > 0 ? ctx.actor.userId : null, upload_token_hash: sha256(token) })
        .execute();
      await recordAudit(trx, ctx, { action: 'demand_photo.upload', targetType: 'demand_photo', targetId: photo.id, after: { format: photo.format, bytes: photo.bytes, width: photo.width, height: photo.height, sha256: photo.sha256 } });
    });
    return { id: photo.id, width: photo.width, height: photo.height, bytes: photo.bytes, token };
  }

  /** What a resident without a location picks from: the roots, or a unit's active children (names only). */
  async publicUnits(parentId?: number) {
    const rows = await this.db
      .selectFrom('org_unit as u')
      .innerJoin('unit_kind as k', 'k.code', 'u.kind_code')
      .select(['u.id', 'u.name', 'u.kind_code', 'k.name_zh', 'k.name_en', 'k.is_grid'])
      .where('u.archived_at', 'is', null)
      .where((eb) => (parentId ? eb('u.parent_id', '=', parentId) : eb('u.parent_id', 'is', null)))
      .orderBy('u.code')
      .orderBy('u.name')
      .limit(500)
      .execute();
    return rows.map((r) => ({ id: r.id, name: r.name, kind: r.kind_code, kindName: { 'zh-CN': r.name_zh, en: r.name_en }, isGrid: r.is_grid }));
  }

  /** A photo of a case the caller may read (or of the case a tracking code names). */
  async photoFor(ctx: RequestContext | null, demandId: number | null, photoId: string, trackingCode?: string) {
    const d = trackingCode ? await this.repo.byTrackingCode(trackingCode) : demandId ? await this.repo.byId(demandId) : undefined;
    if (!d || (!trackingCode && (!ctx || !(await this.readableOrHandler(ctx, d))))) throw new NotFoundError({ 'zh-CN': '照片', en: 'Photo' });
    const p = await this.db.selectFrom('demand_photo').selectAll().where('id', '=', photoId).where('district_id', '=', d.district_id).where('demand_id', '=', d.id).executeTakeFirst();
    if (!p) throw new NotFoundError({ 'zh-CN': '照片', en: 'Photo' });
    return p;
  }
}

const STATE_ACTIONS = new Set<string>(['register', 'decline', 'merge', 'reroute', 'dispatch', 'claim', 'accept', 'return', 'escalate', 'handle', 'rework', 'verify', 'close', 'rate', 'reopen']);
const isStateAction = (a: string): a is DemandAction => STATE_ACTIONS.has(a);
const isOpenStatus = (s: string) => ['reported', 'registered', 'dispatched', 'accepted', 'handled', 'verified'].includes(s);

function systemCtx(): RequestContext {
  return { actor: { userId: 0, username: 'system', displayName: '系统', grants: [], mustChangePassword: false }, clientIp: null };
}

function dedupe(notices: NotificationInput[]): NotificationInput[] {
  const seen = new Set<string>();
  return notices.filter((n) => {
    const key = `${n.user_id}:${n.demand_id}:${n.kind}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
