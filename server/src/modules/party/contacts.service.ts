// 户联系 / 1+10: contact groups with a leader, one linked member per household (each member about ten),
// assigned by hand or automatically (contacts.assign.ts), visits logged, a member's own households shown
// to them masked, and coverage per unit rolled up the tree with stated numerators and denominators.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import type { RequestContext } from '../../platform/context.ts';
import { recordAudit } from '../../platform/audit.ts';
import { authorizeAt, hasPermissionAt, scopePaths } from '../../platform/access.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../platform/errors.ts';
import { businessDate } from '../../platform/clock.ts';
import { maskFromParts, maskName } from '../../platform/crypto/mask.ts';
import { GridRepository } from '../grid/grid.repository.ts';
import { assertPastDate, filterUnit, inTransaction, unknownReference, UNIT, writableUnit, type Tx } from '../basedata/structures.shared.ts';
import { ContactsRepository } from './contacts.repository.ts';
import { MembersRepository } from './members.repository.ts';
import { MEMBER, memberAllowed, memberPaths, type MemberRow } from './members.service.ts';
import { planAssignment } from './contacts.assign.ts';

const GROUP = { 'zh-CN': '户联系小组', en: 'Contact group' };
const HOUSEHOLD = { 'zh-CN': '住户', en: 'Household' };
export const DEFAULT_COVERAGE_DAYS = 90;

export const COVERAGE_DEFINITION = {
  'zh-CN': '住户数：单元及下级单元中未注销的住户；已联系：当前有联系党员的住户；已走访：统计期（截至今天的最近 N 天，含今天）内有走访记录的住户；已覆盖：既有联系党员、统计期内又有走访的住户。比率 = 分子 / 住户数。',
  en: 'Households: active households in the unit and below; linked: with a member linked now; visited: with a visit logged in the last N days up to and including today; covered: both linked and visited. Each rate = numerator / households.',
};

const rate = (numerator: number, denominator: number) => ({ numerator, denominator, percent: denominator ? Math.round((numerator / denominator) * 1000) / 10 : null });

export class ContactsService {
  readonly repo: ContactsRepository;
  private readonly members: MembersRepository;
  private readonly grid: GridRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date,
  ) {
    this.repo = new ContactsRepository(db);
    this.members = new MembersRepository(db);
    this.grid = new GridRepository(db);
  }

  // ---- groups ----
  private async groupFor(ctx: RequestContext, id: number, permission: 'contact.read' | 'contact.write', q: Kysely<Database> | Tx = this.db) {
    if (q !== this.db) await this.repo.lockGroup(id, q);
    const g = await this.repo.group(id, q);
    if (!g) throw new NotFoundError(GROUP);
    authorizeAt(ctx.actor, permission, g.unit_path, GROUP, 'contact.read');
    return g;
  }

  private async groupView(g: NonNullable<Awaited<ReturnType<ContactsRepository['group']>>>, q: Kysely<Database> | Tx = this.db) {
    const members = await this.repo.groupMembers(g.district_id, g.id, q);
    return {
      id: g.id,
      unitId: g.unit_id,
      unitName: g.unit_name,
      name: g.name,
      leaderMemberId: g.leader_member_id,
      members: members.map((m) => ({ memberId: m.id, name: m.name, households: Number(m.households ?? 0), leader: m.id === g.leader_member_id })),
    };
  }

  async groupDetail(ctx: RequestContext, id: number) {
    return this.groupView(await this.groupFor(ctx, id, 'contact.read'));
  }

  async groups(ctx: RequestContext, f: { unitId?: number; limit?: number; offset?: number }) {
    const unit = await filterUnit(this.grid, ctx, f.unitId, 'contact.read');
    const rows = await this.repo.groups({ paths: scopePaths(ctx.actor, 'contact.read'), unitPath: unit?.path, limit: f.limit ?? 50, offset: f.offset ?? 0 });
    return { items: rows.map((g) => ({ id: g.id, unitId: g.unit_id, unitName: g.unit_name, name: g.name, leaderMemberId: g.leader_member_id, members: Number(g.members ?? 0) })) };
  }

  /** A member the caller may know of, active, in the district, whose area lies in the given unit's subtree. */
  private async memberIn(ctx: RequestContext, memberId: number, districtId: number, unitPath: string | null, trx: Tx): Promise<MemberRow> {
    const m = await this.members.byId(memberId, trx);
    if (!m || m.district_id !== districtId || !memberAllowed(ctx, 'party_member.read', m)) throw unknownReference(MEMBER, memberId);
    if (m.left_on) throw new ConflictError({ 'zh-CN': '该党员已离开', en: 'The member has left' }, 'member_left');
    if (unitPath && !memberPaths(m).some((p) => p.startsWith(unitPath) || unitPath.startsWith(p))) {
      throw new ValidationError({ 'zh-CN': '该党员不属于此单元', en: 'The member does not belong to this unit' }, { memberId }, 'member_not_in_unit');
    }
    return m;
  }

  async createGroup(ctx: RequestContext, input: { unitId: number; name: string; leaderMemberId?: number | null; memberIds?: number[] }, outer?: Tx) {
    return inTransaction(this.db, outer, async (trx) => {
      const unit = await writableUnit(this.grid, ctx, input.unitId, 'contact.write', 'contact.read', trx);
      const ids = [...new Set([...(input.memberIds ?? []), ...(input.leaderMemberId ? [input.leaderMemberId] : [])])];
      for (const id of ids) await this.memberIn(ctx, id, unit.district_id, unit.path, trx);
      const { id } = await this.repo.insertGroup({ district_id: unit.district_id, unit_id: unit.id, name: input.name.trim(), leader_member_id: input.leaderMemberId ?? null }, trx);
      for (const m of ids) await this.repo.addGroupMember(unit.district_id, id, m, trx);
      const view = await this.groupView((await this.repo.group(id, trx))!, trx);
      await recordAudit(trx, ctx, { action: 'contact_group.create', targetType: 'contact_group', targetId: id, unit, after: view });
      return view;
    });
  }

  /** Renames the group or names its leader, who must be one of its members (null: no leader for now). */
  async updateGroup(ctx: RequestContext, id: number, patch: { name?: string; leaderMemberId?: number | null }) {
    return this.db.transaction().execute(async (trx) => {
      const g = await this.groupFor(ctx, id, 'contact.write', trx);
      const before = await this.groupView(g, trx);
      if (patch.leaderMemberId) {
        if (!before.members.some((m) => m.memberId === patch.leaderMemberId)) {
          throw new ValidationError({ 'zh-CN': '组长须是本组成员', en: 'The leader must be a member of the group' }, undefined, 'leader_not_member');
        }
      }
      await this.repo.updateGroup(g.district_id, id, { ...(patch.name !== undefined ? { name: patch.name.trim() } : {}), ...(patch.leaderMemberId !== undefined ? { leader_member_id: patch.leaderMemberId } : {}) }, trx);
      const after = await this.groupView((await this.repo.group(id, trx))!, trx);
      await recordAudit(trx, ctx, { action: 'contact_group.update', targetType: 'contact_group', targetId: id, unit: { district_id: g.district_id, id: g.unit_id, path: g.unit_path }, before, after });
      return after;
    });
  }

  async addGroupMember(ctx: RequestContext, id: number, memberId: number) {
    return this.db.transaction().execute(async (trx) => {
      const g = await this.groupFor(ctx, id, 'contact.write', trx);
      await this.memberIn(ctx, memberId, g.district_id, g.unit_path, trx);
      await this.repo.addGroupMember(g.district_id, id, memberId, trx);
      await recordAudit(trx, ctx, { action: 'contact_group.add_member', targetType: 'contact_group', targetId: id, unit: { district_id: g.district_id, id: g.unit_id, path: g.unit_path }, after: { memberId } });
      return this.groupView((await this.repo.group(id, trx))!, trx);
    });
  }

  /** Removing the leader leaves the group without one until another member is named. */
  async removeGroupMember(ctx: RequestContext, id: number, memberId: number) {
    return this.db.transaction().execute(async (trx) => {
      const g = await this.groupFor(ctx, id, 'contact.write', trx);
      const removed = await this.repo.removeGroupMember(g.district_id, id, memberId, trx);
      if (!removed) throw new NotFoundError({ 'zh-CN': '小组成员', en: 'Group member' });
      if (g.leader_member_id === memberId) await this.repo.updateGroup(g.district_id, id, { leader_member_id: null }, trx);
      await recordAudit(trx, ctx, { action: 'contact_group.remove_member', targetType: 'contact_group', targetId: id, unit: { district_id: g.district_id, id: g.unit_id, path: g.unit_path }, before: { memberId, leader: g.leader_member_id === memberId } });
      return this.groupView((await this.repo.group(id, trx))!, trx);
    });
  }

  // ---- links ----
  private async householdFor(ctx: RequestContext, id: number, permission: 'contact.read' | 'contact.write', trx: Tx) {
    await this.repo.lockHousehold(id, trx);
    const h = await this.repo.household(id, trx);
    if (!h) throw new NotFoundError(HOUSEHOLD);
    authorizeAt(ctx.actor, permission, h.unit_path, HOUSEHOLD, 'contact.read');
    if (h.archived_at) throw new ConflictError({ 'zh-CN': '住户已注销', en: 'The household is archived' }, 'archived');
    return h;
  }

  /** Links the household to a member, replacing any earlier link (one member per household at a time). */
  async setLink(ctx: RequestContext, householdId: number, memberId: number, outer?: Tx) {
    return inTransaction(this.db, outer, async (trx) => {
      const h = await this.householdFor(ctx, householdId, 'contact.write', trx);
      const m = await this.memberIn(ctx, memberId, h.district_id, null, trx);
      const before = await this.repo.link(h.district_id, householdId, trx);
      const on = businessDate(this.now());
      await this.repo.upsertLink({ district_id: h.district_id, household_id: householdId, member_id: m.id, assigned_on: on, assigned_by: ctx.actor.userId || null }, trx);
      await recordAudit(trx, ctx, { action: 'contact.link', targetType: 'household', targetId: householdId, unit: { district_id: h.district_id, id: h.unit_id, path: h.unit_path }, before: before ? { memberId: before.member_id } : null, after: { memberId: m.id } });
      return { householdId, householdName: h.name, unitId: h.unit_id, unitName: h.unit_name, memberId: m.id, memberName: m.name, assignedOn: on };
    });
  }

  async removeLink(ctx: RequestContext, householdId: number) {
    return this.db.transaction().execute(async (trx) => {
      const h = await this.householdFor(ctx, householdId, 'contact.write', trx);
      const removed = await this.repo.deleteLink(h.district_id, householdId, trx);
      if (!removed) throw new NotFoundError({ 'zh-CN': '联系关系', en: 'Contact link' });
      await recordAudit(trx, ctx, { action: 'contact.unlink', targetType: 'household', targetId: householdId, unit: { district_id: h.district_id, id: h.unit_id, path: h.unit_path }, before: { memberId: removed.member_id } });
    });
  }

  async links(ctx: RequestContext, f: { unitId?: number; memberId?: number; limit?: number; offset?: number }) {
    const unit = await filterUnit(this.grid, ctx, f.unitId, 'contact.read');
    const rows = await this.repo.links({ paths: scopePaths(ctx.actor, 'contact.read'), unitPath: unit?.path, memberId: f.memberId, limit: f.limit ?? 100, offset: f.offset ?? 0 });
    return { items: rows.map((r) => ({ householdId: r.household_id, householdName: r.household_name, unitId: r.unit_id, unitName: r.unit_name, memberId: r.member_id, memberName: r.member_name, assignedOn: r.assigned_on })) };
  }

  /**
   * Links every unlinked household under the unit to a member there, evenly and nearest first (see
   * contacts.assign.ts). `maxPerMember` caps the load (1+10: 10); `dryRun` only answers the plan.
   */
  async autoAssign(ctx: RequestContext, unitId: number, opts: { maxPerMember?: number; dryRun?: boolean }, outer?: Tx) {
    return inTransaction(this.db, outer, async (trx) => {
      const unit = await writableUnit(this.grid, ctx, unitId, 'contact.write', 'contact.read', trx);
      // one automatic assignment per district at a time: two over overlapping subtrees would both count the same free load
      await sql`select pg_advisory_xact_lock(7001, ${unit.district_id}::int)`.execute(trx);
      const households = await this.repo.unlinkedHouseholds(unit.district_id, unit.path, trx);
      const candidates = await this.repo.candidateMembers(unit.district_id, unit.path, trx);
      const members = candidates.map((m) => ({ id: m.id, areaPaths: [m.unit_path, ...(m.registered_path ? [m.registered_path] : [])], homePath: m.home_path, lng: m.lng, lat: m.lat, load: Number(m.load ?? 0) }));
      const plan = planAssignment(households.map((h) => ({ id: h.id, path: h.path, lng: h.lng, lat: h.lat })), members, opts.maxPerMember);
      const on = businessDate(this.now());
      let made = plan.links;
      if (!opts.dryRun) {
        const inserted = await this.repo.insertLinksIfFree(plan.links.map((l) => ({ district_id: unit.district_id, household_id: l.householdId, member_id: l.memberId, assigned_on: on, assigned_by: ctx.actor.userId || null })), trx);
        made = inserted.map((r) => ({ householdId: r.household_id, memberId: r.member_id }));
        const paths = new Map(households.map((h) => [h.id, h.path]));
        for (const l of made) {
          await recordAudit(trx, ctx, { action: 'contact.link', targetType: 'household', targetId: l.householdId, unit: { district_id: unit.district_id, id: unit.id, path: paths.get(l.householdId) ?? unit.path }, before: null, after: { memberId: l.memberId, auto: true } });
        }
        await recordAudit(trx, ctx, { action: 'contact.auto_assign', targetType: 'unit', targetId: unit.id, unit, after: { households: households.length, members: members.length, cap: plan.cap, assigned: made.length } });
      }
      const after = new Map(members.map((m) => [m.id, m.load]));
      for (const l of made) after.set(l.memberId, after.get(l.memberId)! + 1);
      return {
        unitId: unit.id,
        dryRun: !!opts.dryRun,
        households: households.length,
        members: members.length,
        cap: plan.cap,
        assigned: made.length,
        unassigned: households.length - made.length,
        links: made,
        perMember: members.map((m) => ({ memberId: m.id, before: m.load, after: after.get(m.id)! })),
      };
    });
  }

  // ---- visits ----
  /** Staff (contact.write) log a visit for the linked member; the member themselves with contact.visit_own. */
  async logVisit(ctx: RequestContext, householdId: number, input: { visitedOn: string; note?: string | null }, outer?: Tx) {
    return inTransaction(this.db, outer, async (trx) => {
      await this.repo.lockHousehold(householdId, trx);
      const h = await this.repo.household(householdId, trx);
      if (!h) throw new NotFoundError(HOUSEHOLD);
      const link = await this.repo.link(h.district_id, householdId, trx);
      const linkedMember = link ? await this.members.byId(link.member_id, trx) : undefined;
      const own = !!linkedMember && ctx.actor.userId !== 0 && linkedMember.user_id === ctx.actor.userId;
      const staff = hasPermissionAt(ctx.actor, 'contact.write', h.unit_path);
      if (!staff && !(own && hasPermissionAt(ctx.actor, 'contact.visit_own', h.unit_path))) {
        if (hasPermissionAt(ctx.actor, 'contact.read', h.unit_path) || (own && hasPermissionAt(ctx.actor, 'contact.read_own', h.unit_path))) throw new ForbiddenError();
        throw new NotFoundError(HOUSEHOLD);
      }
      if (h.archived_at) throw new ConflictError({ 'zh-CN': '住户已注销', en: 'The household is archived' }, 'archived');
      if (!link || !linkedMember) throw new ConflictError({ 'zh-CN': '该住户尚无联系党员', en: 'No member is linked to this household' }, 'no_linked_member');
      assertPastDate(input.visitedOn, this.now(), { 'zh-CN': '走访日期', en: 'The visit date' }, 'invalid_visited_on');
      const v = await this.repo.insertVisit({ district_id: h.district_id, household_id: householdId, member_id: link.member_id, visited_on: input.visitedOn, note: input.note?.trim() || null, created_by: ctx.actor.userId || null }, trx);
      await recordAudit(trx, ctx, { action: 'contact.visit', targetType: 'contact_visit', targetId: v.id, unit: { district_id: h.district_id, id: h.unit_id, path: h.unit_path }, after: { householdId, memberId: link.member_id, visitedOn: input.visitedOn } });
      return { id: v.id, householdId, householdName: h.name, memberId: v.member_id, memberName: linkedMember.name, visitedOn: v.visited_on, note: v.note };
    });
  }

  async visits(ctx: RequestContext, f: { unitId?: number; householdId?: number; memberId?: number; from?: string; to?: string; limit?: number; offset?: number }) {
    const unit = await filterUnit(this.grid, ctx, f.unitId, 'contact.read');
    const rows = await this.repo.visits({ paths: scopePaths(ctx.actor, 'contact.read'), unitPath: unit?.path, householdId: f.householdId, memberId: f.memberId, from: f.from, to: f.to, limit: f.limit ?? 100, offset: f.offset ?? 0 });
    return { items: rows.map((v) => ({ id: v.id, householdId: v.household_id, householdName: v.household_name, memberId: v.member_id, memberName: v.member_name, visitedOn: v.visited_on, note: v.note })) };
  }

  // ---- a member's own households ----
  /** The caller's own linked households (their member record is tied to their account), masked, within contact.read_own scope. */
  async myContacts(ctx: RequestContext) {
    const paths = scopePaths(ctx.actor, 'contact.read_own');
    if (!paths.length || !ctx.actor.userId) return { items: [] };
    const memberIds = (await this.repo.membersOfUser(ctx.actor.userId)).map((m) => m.id);
    const rows = (await this.repo.ownHouseholds(memberIds)).filter((r) => paths.some((p) => r.unit_path.startsWith(p)));
    return {
      items: rows.map((r) => ({
        householdId: r.household_id,
        kind: r.kind,
        // a 户联系 member sees masked data only (DOMAIN §9): surname and the house address they visit
        name: maskName(r.name),
        headName: r.head_name ? maskName(r.head_name) : null,
        headPhone: r.phone_cipher ? maskFromParts('phone', { head: r.phone_head ?? '', tail: r.phone_last4 ?? '' }) : null,
        address: r.house_address ?? r.address,
        unitName: r.unit_name,
        members: Number(r.members ?? 0),
        assignedOn: r.assigned_on,
        lastVisitOn: r.last_visit ?? null,
      })),
    };
  }

  // ---- coverage ----
  async coverage(ctx: RequestContext, unitId: number, days = DEFAULT_COVERAGE_DAYS) {
    const unit = await this.grid.unit(unitId);
    if (!unit) throw new NotFoundError(UNIT);
    authorizeAt(ctx.actor, 'contact.read', unit.path, UNIT, 'unit.read');
    const today = businessDate(this.now());
    const since = shiftDate(today, -(days - 1));
    const rows = await this.repo.coverageByUnit(unit.path, since, today);
    const sum = (pred: (path: string) => boolean) => {
      const t = { households: 0, linked: 0, visited: 0, covered: 0 };
      for (const r of rows) {
        if (!pred(r.path)) continue;
        t.households += Number(r.households);
        t.linked += Number(r.linked);
        t.visited += Number(r.visited);
        t.covered += Number(r.covered);
      }
      return t;
    };
    const withRates = (t: ReturnType<typeof sum>) => ({ ...t, linkedRate: rate(t.linked, t.households), visitedRate: rate(t.visited, t.households), coveredRate: rate(t.covered, t.households) });
    const children = await this.grid.children(unit.id);
    return {
      unitId: unit.id,
      unitName: unit.name,
      asOf: today,
      days,
      since,
      definition: COVERAGE_DEFINITION,
      totals: withRates(sum(() => true)),
      own: sum((p) => p === unit.path),
      children: children.map((c) => ({ id: c.id, name: c.name, kind: c.kind_code, ...withRates(sum((p) => p.startsWith(c.path))) })),
    };
  }
}

/** 'YYYY-MM-DD' moved by whole days (calendar arithmetic in UTC, no time zone involved). */
export function shiftDate(date: string, deltaDays: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + deltaDays);
  return d.toISOString().slice(0, 10);
}
