// Party members: a resident's party record — category (ordinary, in-service, floating, unemployed, elderly),
// full or probationary (预备党员 have no vote), branch (a party organisation in scope), join date; in-service
// members register (报到) with their residential community and name their work unit. A member's record is
// in scope where their branch is, and also in the community they registered with.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import type { Permission } from '../../../../shared/permissions.ts';
import type { RequestContext } from '../../platform/context.ts';
import { recordAudit } from '../../platform/audit.ts';
import { hasPermissionAt, scopePaths } from '../../platform/access.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../platform/errors.ts';
import { businessDate } from '../../platform/clock.ts';
import { GridRepository } from '../grid/grid.repository.ts';
import { assertPastDate, filterUnit, inTransaction, unknownReference, visibleAt, type Tx } from '../basedata/structures.shared.ts';
import { MembersRepository, type MemberValues } from './members.repository.ts';

export const MEMBER_CATEGORIES = ['ordinary', 'in_service', 'floating', 'unemployed', 'elderly'] as const;
export const MEMBER_STATUSES = ['full', 'probationary'] as const;
export const MEMBER: { 'zh-CN': string; en: string } = { 'zh-CN': '党员', en: 'Party member' };
const RESIDENT = { 'zh-CN': '居民', en: 'Resident' };
const PARTY_ORG = { 'zh-CN': '党组织', en: 'Party organisation' };
const USER = { 'zh-CN': '账号', en: 'Account' };
const UNIT = { 'zh-CN': '单元', en: 'Unit' };

export interface MemberInput {
  residentId: number;
  partyOrgId: number;
  category: (typeof MEMBER_CATEGORIES)[number];
  status: (typeof MEMBER_STATUSES)[number];
  joinedOn?: string | null;
  workUnit?: string | null;
  userId?: number | null;
}

export type MemberRow = NonNullable<Awaited<ReturnType<MembersRepository['byId']>>>;

/** The member's record is in scope at its branch's unit or at the community it registered with. */
export const memberPaths = (r: { unit_path: string; registered_unit_path: string | null }) => (r.registered_unit_path ? [r.unit_path, r.registered_unit_path] : [r.unit_path]);

export function memberAllowed(ctx: RequestContext, permission: Permission, r: { unit_path: string; registered_unit_path: string | null }) {
  return memberPaths(r).some((p) => hasPermissionAt(ctx.actor, permission, p));
}

export function memberView(r: MemberRow) {
  return {
    id: r.id,
    residentId: r.resident_id,
    name: r.name,
    partyOrgId: r.party_org_id,
    partyOrgName: r.party_org_name,
    unitId: r.unit_id,
    unitName: r.unit_name,
    category: r.category,
    status: r.status,
    // 预备党员 have no vote
    mayVote: r.status === 'full' && r.left_on === null,
    joinedOn: r.joined_on,
    workUnit: r.work_unit,
    registeredUnitId: r.registered_unit_id,
    registeredUnitName: r.registered_unit_name,
    registeredOn: r.registered_on,
    leftOn: r.left_on,
    userId: r.user_id,
  };
}

export class MembersService {
  readonly repo: MembersRepository;
  private readonly grid: GridRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date,
  ) {
    this.repo = new MembersRepository(db);
    this.grid = new GridRepository(db);
  }

  /** Reading needs party_member.read on one of the member's units (else not found); acting needs `permission` there. */
  async memberFor(ctx: RequestContext, id: number, permission: Permission, q: Kysely<Database> | Tx = this.db): Promise<MemberRow> {
    if (q !== this.db) await this.repo.lock(id, q);
    const r = await this.repo.byId(id, q);
    if (!r) throw new NotFoundError(MEMBER);
    if (memberAllowed(ctx, permission, r)) return r;
    if (permission !== 'party_member.read' && memberAllowed(ctx, 'party_member.read', r)) throw new ForbiddenError();
    throw new NotFoundError(MEMBER);
  }

  async detail(ctx: RequestContext, id: number) {
    const r = await this.memberFor(ctx, id, 'party_member.read');
    const posts = await this.repo.activeClaims(r.district_id, r.id);
    return { ...memberView(r), posts: posts.map((p) => ({ claimId: p.id, postId: p.post_id, title: p.title, claimedOn: p.claimed_on })), linkedHouseholds: await this.repo.linkedHouseholds(r.district_id, r.id) };
  }

  async search(ctx: RequestContext, f: { q?: string; unitId?: number; category?: string; status?: string; includeLeft?: boolean; limit?: number; offset?: number }) {
    const unit = await filterUnit(this.grid, ctx, f.unitId, 'party_member.read');
    const rows = await this.repo.search({ paths: scopePaths(ctx.actor, 'party_member.read'), unitPath: unit?.path, q: f.q?.trim() || undefined, category: f.category, status: f.status, includeLeft: f.includeLeft, limit: f.limit ?? 50, offset: f.offset ?? 0 });
    return { items: rows.map(memberView) };
  }

  /** The branch: a party organisation the caller may add members at; its unit governs the record. */
  private async branch(ctx: RequestContext, partyOrgId: number, trx: Tx) {
    const org = await this.repo.partyOrg(partyOrgId, trx);
    // the branch is where the record is placed: like a unit, one outside the caller's scope does not exist for them
    if (!org || !visibleAt(ctx, 'party_org.read', org.unit_path)) throw new NotFoundError(PARTY_ORG);
    if (!hasPermissionAt(ctx.actor, 'party_member.write', org.unit_path)) throw new ForbiddenError();
    if (org.archived_at) throw new ConflictError({ 'zh-CN': '党组织所在单元已归档', en: 'The party organisation’s unit is archived' }, 'archived');
    return org;
  }

  /** An account may be tied to a member only if one of its grants lies in the caller's scope, in the member's district. */
  private async checkUser(ctx: RequestContext, districtId: number, userId: number | null | undefined, exceptMemberId: number | null, trx: Tx) {
    if (!userId) return;
    const grants = await this.repo.userGrantPaths(userId, trx);
    if (!grants.some((g) => g.district_id === districtId && hasPermissionAt(ctx.actor, 'party_member.write', g.path))) throw unknownReference(USER, userId);
    const other = await this.repo.byUser(districtId, userId, trx);
    if (other && other.id !== exceptMemberId) throw new ConflictError({ 'zh-CN': '该账号已关联另一名党员', en: 'The account is already tied to another member' }, 'duplicate_user');
  }

  private checkDates(input: { joinedOn?: string | null }) {
    if (input.joinedOn) assertPastDate(input.joinedOn, this.now(), { 'zh-CN': '入党日期', en: 'The joining date' }, 'invalid_joined_on');
  }

  async create(ctx: RequestContext, input: MemberInput, outer?: Tx) {
    return inTransaction(this.db, outer, async (trx) => {
      const org = await this.branch(ctx, input.partyOrgId, trx);
      const resident = await this.repo.resident(input.residentId, trx);
      if (!resident || resident.district_id !== org.district_id || resident.archived_at || !visibleAt(ctx, 'resident.read', resident.unit_path)) throw unknownReference(RESIDENT, input.residentId);
      if (await this.repo.byResident(org.district_id, input.residentId, trx)) throw new ConflictError({ 'zh-CN': '该居民已登记为党员', en: 'The resident is already registered as a member' }, 'duplicate_member');
      this.checkDates(input);
      if (input.category === 'in_service' && !input.workUnit?.trim()) {
        throw new ValidationError({ 'zh-CN': '在职党员须填写工作单位', en: 'An in-service member needs their work unit' }, undefined, 'work_unit_required');
      }
      await this.checkUser(ctx, org.district_id, input.userId, null, trx);
      const values: MemberValues = {
        resident_id: input.residentId,
        party_org_id: org.id,
        unit_id: org.unit_id,
        category: input.category,
        status: input.status,
        joined_on: input.joinedOn ?? null,
        work_unit: input.workUnit?.trim() || null,
        registered_unit_id: null,
        registered_on: null,
        left_on: null,
        user_id: input.userId ?? null,
      };
      const { id } = await this.repo.insert(org.district_id, values, trx);
      const view = memberView((await this.repo.byId(id, trx))!);
      await recordAudit(trx, ctx, { action: 'party_member.create', targetType: 'party_member', targetId: id, unit: { district_id: org.district_id, id: org.unit_id, path: org.unit_path }, after: view });
      return view;
    });
  }

  async update(ctx: RequestContext, id: number, patch: Partial<Omit<MemberInput, 'residentId'>> & { leftOn?: string | null }) {
    return this.db.transaction().execute(async (trx) => {
      const before = await this.memberFor(ctx, id, 'party_member.write', trx);
      const v: Partial<MemberValues> = {};
      if (patch.partyOrgId !== undefined && patch.partyOrgId !== before.party_org_id) {
        const org = await this.branch(ctx, patch.partyOrgId, trx);
        if (org.district_id !== before.district_id) throw unknownReference(PARTY_ORG, patch.partyOrgId);
        v.party_org_id = org.id;
        v.unit_id = org.unit_id;
      }
      this.checkDates(patch);
      if (patch.category !== undefined) v.category = patch.category;
      if (patch.status !== undefined) v.status = patch.status;
      if (patch.joinedOn !== undefined) v.joined_on = patch.joinedOn;
      if (patch.workUnit !== undefined) v.work_unit = patch.workUnit?.trim() || null;
      const category = v.category ?? before.category;
      const workUnit = v.work_unit !== undefined ? v.work_unit : before.work_unit;
      if (category === 'in_service' && !workUnit) throw new ValidationError({ 'zh-CN': '在职党员须填写工作单位', en: 'An in-service member needs their work unit' }, undefined, 'work_unit_required');
      if (category !== 'in_service' && before.registered_unit_id !== null) {
        // 报到 is for in-service members only; a member who is no longer one leaves the registration behind
        v.registered_unit_id = null;
        v.registered_on = null;
      }
      if (patch.userId !== undefined) {
        await this.checkUser(ctx, before.district_id, patch.userId, id, trx);
        v.user_id = patch.userId;
      }
      const unit = { district_id: before.district_id, id: before.unit_id, path: before.unit_path };
      if (patch.leftOn !== undefined) {
        if (patch.leftOn !== null) {
          assertPastDate(patch.leftOn, this.now(), { 'zh-CN': '离开日期', en: 'The leaving date' }, 'invalid_left_on');
          if (before.joined_on && patch.leftOn < before.joined_on) throw new ValidationError({ 'zh-CN': '离开日期不能早于入党日期', en: 'The leaving date cannot be before the joining date' }, undefined, 'invalid_left_on');
          if (before.left_on === null) {
            // a member who leaves hands back their households and posts, in the same transaction
            const unlinked = await this.repo.unlinkAll(before.district_id, id, trx);
            for (const l of unlinked) await recordAudit(trx, ctx, { action: 'contact.unlink', targetType: 'household', targetId: l.household_id, unit, before: { memberId: id }, after: { reason: 'party_member.left' } });
            const ended = await this.repo.endClaims(before.district_id, id, patch.leftOn, trx);
            for (const c of ended) await recordAudit(trx, ctx, { action: 'member_post.end', targetType: 'member_post_claim', targetId: c.id, unit, after: { postId: c.post_id, reason: 'party_member.left' } });
          }
        }
        v.left_on = patch.leftOn;
      }
      await this.repo.update(before.district_id, id, v, this.now(), trx);
      const after = memberView((await this.repo.byId(id, trx))!);
      await recordAudit(trx, ctx, { action: 'party_member.update', targetType: 'party_member', targetId: id, unit, before: memberView(before), after });
      return after;
    });
  }

  /** 报到: an in-service member registers with their residential community (and names their work unit). */
  async register(ctx: RequestContext, id: number, input: { registeredUnitId: number; registeredOn?: string; workUnit?: string }, outer?: Tx) {
    return inTransaction(this.db, outer, async (trx) => {
      const before = await this.memberFor(ctx, id, 'party_member.write', trx);
      if (before.category !== 'in_service') throw new ValidationError({ 'zh-CN': '只有在职党员到社区报到', en: 'Only in-service members register with a community' }, undefined, 'not_in_service');
      if (before.left_on) throw new ConflictError({ 'zh-CN': '该党员已离开', en: 'The member has left' }, 'member_left');
      const unit = await this.grid.unit(input.registeredUnitId, trx);
      if (!unit || unit.district_id !== before.district_id || unit.archived_at || !visibleAt(ctx, 'unit.read', unit.path)) throw unknownReference(UNIT, input.registeredUnitId);
      const on = input.registeredOn ?? businessDate(this.now());
      assertPastDate(on, this.now(), { 'zh-CN': '报到日期', en: 'The registration date' }, 'invalid_registered_on');
      const workUnit = input.workUnit?.trim() || before.work_unit;
      if (!workUnit) throw new ValidationError({ 'zh-CN': '在职党员须填写工作单位', en: 'An in-service member needs their work unit' }, undefined, 'work_unit_required');
      await this.repo.update(before.district_id, id, { registered_unit_id: unit.id, registered_on: on, work_unit: workUnit }, this.now(), trx);
      const after = memberView((await this.repo.byId(id, trx))!);
      await recordAudit(trx, ctx, {
        action: 'party_member.register',
        targetType: 'party_member',
        targetId: id,
        unit: { district_id: unit.district_id, id: unit.id, path: unit.path },
        before: { registeredUnitId: before.registered_unit_id, registeredOn: before.registered_on, workUnit: before.work_unit },
        after: { registeredUnitId: unit.id, registeredOn: on, workUnit },
      });
      return after;
    });
  }
}
