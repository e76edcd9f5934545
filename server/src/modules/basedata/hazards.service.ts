// Hazards (安全隐患) found on patrol: found date, 责任单位, severity, and an explicit state machine
// open → rectifying → resolved → closed (a fix that did not hold goes back from resolved to rectifying).
// Every change is an audit row; those rows are the hazard's timeline.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import type { RequestContext } from '../../platform/context.ts';
import { recordAudit } from '../../platform/audit.ts';
import { authorizeAt, scopePaths } from '../../platform/access.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.ts';
import { businessDate } from '../../platform/clock.ts';
import { GridRepository } from '../grid/grid.repository.ts';
import { HazardsRepository, type HazardValues } from './hazards.repository.ts';
import { checkLocation } from './facilities.service.ts';
import { assertPastDate, filterUnit, inTransaction, unknownReference, visibleAt, writableUnit, type Tx } from './structures.shared.ts';

export const HAZARD_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const HAZARD_STATUSES = ['open', 'rectifying', 'resolved', 'closed'] as const;
export type HazardStatus = (typeof HAZARD_STATUSES)[number];

/** The allowed transitions; anything else is refused. Closed is final. */
export const HAZARD_TRANSITIONS: Record<HazardStatus, readonly HazardStatus[]> = {
  open: ['rectifying'],
  rectifying: ['resolved'],
  resolved: ['closed', 'rectifying'],
  closed: [],
};

export const canTransition = (from: HazardStatus, to: HazardStatus) => HAZARD_TRANSITIONS[from].includes(to);

const HAZARD = { 'zh-CN': '安全隐患', en: 'Hazard' };
const FACILITY = { 'zh-CN': '设施', en: 'Facility' };
const STATUS_LABEL: Record<HazardStatus, string> = { open: '待整改', rectifying: '整改中', resolved: '已整改', closed: '已销号' };

export interface HazardInput {
  unitId: number;
  facilityId?: number | null;
  category: string;
  description: string;
  severity: (typeof HAZARD_SEVERITIES)[number];
  foundOn: string;
  ownerUnit?: string | null;
  lng?: number | null;
  lat?: number | null;
}

type Row = NonNullable<Awaited<ReturnType<HazardsRepository['byId']>>>;

export const hazardView = (r: Row) => ({
  id: r.id,
  unitId: r.unit_id,
  unitName: r.unit_name,
  facilityId: r.facility_id,
  category: r.category,
  description: r.description,
  severity: r.severity,
  status: r.status,
  foundOn: r.found_on,
  foundByUserId: r.found_by_user_id,
  ownerUnit: r.owner_unit,
  lng: r.lng,
  lat: r.lat,
  resolvedOn: r.resolved_on,
  allowedTransitions: HAZARD_TRANSITIONS[r.status as HazardStatus] ?? [],
});

/** What a demand (民呼我应) made from a hazard starts from; see HazardsService.openDemandFrom. */
export interface HazardDemandSource {
  hazardId: number;
  districtId: number;
  unitId: number;
  unitPath: string;
  title: string;
  description: string;
  severity: string;
  ownerUnit: string | null;
  foundOn: string;
  location: { lng: number; lat: number } | null;
}

export class HazardsService {
  readonly repo: HazardsRepository;
  private readonly grid: GridRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date,
  ) {
    this.repo = new HazardsRepository(db);
    this.grid = new GridRepository(db);
  }

  private async hazardFor(ctx: RequestContext, id: number, permission: 'hazard.read' | 'hazard.write', q: Kysely<Database> | Tx = this.db) {
    if (q !== this.db) await this.repo.lock(id, q);
    const r = await this.repo.byId(id, q);
    if (!r) throw new NotFoundError(HAZARD);
    authorizeAt(ctx.actor, permission, r.unit_path, HAZARD, 'hazard.read');
    return r;
  }

  async detail(ctx: RequestContext, id: number) {
    const r = await this.hazardFor(ctx, id, 'hazard.read');
    const timeline = await this.repo.timeline(id);
    return { ...hazardView(r), timeline: timeline.map((t) => ({ action: t.action, by: t.actor_name, at: t.at, detail: t.after })) };
  }

  async search(ctx: RequestContext, f: { q?: string; unitId?: number; status?: string; severity?: string; facilityId?: number; limit?: number; offset?: number }) {
    const unit = await filterUnit(this.grid, ctx, f.unitId, 'hazard.read');
    const rows = await this.repo.search({ paths: scopePaths(ctx.actor, 'hazard.read'), unitPath: unit?.path, q: f.q?.trim() || undefined, status: f.status, severity: f.severity, facilityId: f.facilityId, limit: f.limit ?? 50, offset: f.offset ?? 0 });
    return { items: rows.map(hazardView) };
  }

  private async checkFacility(ctx: RequestContext, districtId: number, facilityId: number | null | undefined, trx: Tx) {
    if (!facilityId) return;
    const f = await this.repo.facility(facilityId, trx);
    if (!f || f.district_id !== districtId || !visibleAt(ctx, 'facility.read', f.unit_path)) throw unknownReference(FACILITY, facilityId);
  }

  async create(ctx: RequestContext, input: HazardInput, outer?: Tx) {
    return inTransaction(this.db, outer, async (trx) => {
      const unit = await writableUnit(this.grid, ctx, input.unitId, 'hazard.write', 'hazard.read', trx);
      assertPastDate(input.foundOn, this.now(), { 'zh-CN': '发现日期', en: 'The date found' }, 'invalid_found_on');
      checkLocation(input.lng, input.lat);
      await this.checkFacility(ctx, unit.district_id, input.facilityId, trx);
      const values: HazardValues = {
        unit_id: unit.id,
        facility_id: input.facilityId ?? null,
        category: input.category.trim(),
        description: input.description.trim(),
        severity: input.severity,
        status: 'open',
        found_on: input.foundOn,
        found_by_user_id: ctx.actor.userId || null,
        owner_unit: input.ownerUnit?.trim() || null,
        lng: input.lng ?? null,
        lat: input.lat ?? null,
        resolved_on: null,
      };
      const { id } = await this.repo.insert(unit.district_id, values, trx);
      const view = hazardView((await this.repo.byId(id, trx))!);
      await recordAudit(trx, ctx, { action: 'hazard.create', targetType: 'hazard', targetId: id, unit, after: view });
      return view;
    });
  }

  /** Edits the description fields; the status moves only through `transition`. */
  async update(ctx: RequestContext, id: number, patch: Partial<Omit<HazardInput, 'unitId'>>) {
    return this.db.transaction().execute(async (trx) => {
      const before = await this.hazardFor(ctx, id, 'hazard.write', trx);
      if (before.status === 'closed') throw new ConflictError({ 'zh-CN': '隐患已销号，不能修改', en: 'The hazard is closed' }, 'hazard_closed');
      const v: Partial<HazardValues> = {};
      if (patch.foundOn !== undefined) {
        assertPastDate(patch.foundOn, this.now(), { 'zh-CN': '发现日期', en: 'The date found' }, 'invalid_found_on');
        if (before.resolved_on && patch.foundOn > before.resolved_on) throw new ValidationError({ 'zh-CN': '发现日期不能晚于整改完成日期', en: 'The date found cannot be after the date resolved' }, undefined, 'invalid_found_on');
        v.found_on = patch.foundOn;
      }
      if (patch.facilityId !== undefined) {
        await this.checkFacility(ctx, before.district_id, patch.facilityId, trx);
        v.facility_id = patch.facilityId;
      }
      if (patch.lng !== undefined || patch.lat !== undefined) {
        const lng = patch.lng !== undefined ? patch.lng : before.lng;
        const lat = patch.lat !== undefined ? patch.lat : before.lat;
        checkLocation(lng, lat);
        v.lng = lng;
        v.lat = lat;
      }
      if (patch.category !== undefined) v.category = patch.category.trim();
      if (patch.description !== undefined) v.description = patch.description.trim();
      if (patch.severity !== undefined) v.severity = patch.severity;
      if (patch.ownerUnit !== undefined) v.owner_unit = patch.ownerUnit?.trim() || null;
      await this.repo.update(before.district_id, id, v, this.now(), trx);
      const after = hazardView((await this.repo.byId(id, trx))!);
      await recordAudit(trx, ctx, { action: 'hazard.update', targetType: 'hazard', targetId: id, unit: { district_id: before.district_id, id: before.unit_id, path: before.unit_path }, before: hazardView(before), after });
      return after;
    });
  }

  async transition(ctx: RequestContext, id: number, input: { to: HazardStatus; resolvedOn?: string; note?: string }, outer?: Tx) {
    return inTransaction(this.db, outer, async (trx) => {
      const before = await this.hazardFor(ctx, id, 'hazard.write', trx);
      return this.applyTransition(ctx, before, input, trx);
    });
  }

  private async applyTransition(ctx: RequestContext, before: Row, input: { to: HazardStatus; resolvedOn?: string; note?: string }, trx: Tx) {
    const from = before.status as HazardStatus;
    if (!canTransition(from, input.to)) {
      throw new ConflictError(
        { 'zh-CN': `隐患状态不能从“${STATUS_LABEL[from]}”变为“${STATUS_LABEL[input.to]}”`, en: `A hazard cannot go from ${from} to ${input.to}` },
        'invalid_transition',
        { from, to: input.to, allowed: HAZARD_TRANSITIONS[from] },
      );
    }
    const v: Partial<HazardValues> = { status: input.to };
    if (input.to === 'resolved') {
      const on = input.resolvedOn ?? businessDate(this.now());
      assertPastDate(on, this.now(), { 'zh-CN': '整改完成日期', en: 'The date resolved' }, 'invalid_resolved_on');
      if (on < before.found_on) throw new ValidationError({ 'zh-CN': '整改完成日期不能早于发现日期', en: 'The date resolved cannot be before the date found' }, undefined, 'invalid_resolved_on');
      v.resolved_on = on;
    } else if (input.resolvedOn !== undefined) {
      throw new ValidationError({ 'zh-CN': '只有整改完成时才填写完成日期', en: 'A resolution date belongs only to the move to resolved' }, undefined, 'unexpected_resolved_on');
    }
    if (input.to === 'rectifying') v.resolved_on = null;
    await this.repo.update(before.district_id, before.id, v, this.now(), trx);
    const after = hazardView((await this.repo.byId(before.id, trx))!);
    await recordAudit(trx, ctx, {
      action: 'hazard.transition',
      targetType: 'hazard',
      targetId: before.id,
      unit: { district_id: before.district_id, id: before.unit_id, path: before.unit_path },
      before: { status: from },
      after: { status: input.to, resolvedOn: after.resolvedOn, note: input.note ?? null },
    });
    return after;
  }

  /**
   * For the demand module (民呼我应): called inside the transaction that creates the demand. Checks the caller
   * may act on the hazard, moves an open hazard to rectifying, records which demand took it over, and returns
   * what the demand starts from. A closed or resolved hazard is refused (nothing left to fix).
   */
  async openDemandFrom(ctx: RequestContext, id: number, demandRef: string, trx: Tx): Promise<HazardDemandSource> {
    const r = await this.hazardFor(ctx, id, 'hazard.write', trx);
    if (r.status === 'resolved' || r.status === 'closed') {
      throw new ConflictError({ 'zh-CN': '隐患已整改或已销号', en: 'The hazard is already resolved or closed' }, 'hazard_not_open');
    }
    if (r.status === 'open') await this.applyTransition(ctx, r, { to: 'rectifying', note: `demand ${demandRef}` }, trx);
    await recordAudit(trx, ctx, { action: 'hazard.demand', targetType: 'hazard', targetId: id, unit: { district_id: r.district_id, id: r.unit_id, path: r.unit_path }, after: { demand: demandRef } });
    return {
      hazardId: r.id,
      districtId: r.district_id,
      unitId: r.unit_id,
      unitPath: r.unit_path,
      title: `${r.category}：${r.description.slice(0, 40)}`,
      description: r.description,
      severity: r.severity,
      ownerUnit: r.owner_unit,
      foundOn: r.found_on,
      location: r.lng !== null && r.lat !== null ? { lng: r.lng, lat: r.lat } : null,
    };
  }
}
