// 设岗定责: posts defined per unit for members without party office; a member claims a post (capacity
// respected: claims on a post queue on its row lock, so two claims for the last place cannot both win),
// holds one post at a time (一人一岗), and ends it. A member claims for themselves (member_post.claim_own,
// their own account) or staff record it for them (member_post.write).
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import type { RequestContext } from '../../platform/context.ts';
import { recordAudit } from '../../platform/audit.ts';
import { authorizeAt, hasPermissionAt, scopePaths } from '../../platform/access.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../platform/errors.ts';
import { businessDate } from '../../platform/clock.ts';
import { GridRepository } from '../grid/grid.repository.ts';
import { assertPastDate, filterUnit, inTransaction, unknownReference, writableUnit, type Tx } from '../basedata/structures.shared.ts';
import { MemberPostsRepository } from './member-posts.repository.ts';
import { MembersRepository } from './members.repository.ts';
import { MEMBER, memberAllowed, memberPaths } from './members.service.ts';

const POST = { 'zh-CN': '党员岗位', en: 'Member post' };
const CLAIM = { 'zh-CN': '认岗记录', en: 'Post claim' };

type PostRow = NonNullable<Awaited<ReturnType<MemberPostsRepository['byId']>>>;

export const postView = (r: PostRow) => ({
  id: r.id,
  unitId: r.unit_id,
  unitName: r.unit_name,
  title: r.title,
  duties: r.duties,
  capacity: r.capacity,
  holders: Number(r.holders ?? 0),
  open: r.archived_at === null && Number(r.holders ?? 0) < r.capacity,
  archived: r.archived_at !== null,
});

export class MemberPostsService {
  readonly repo: MemberPostsRepository;
  private readonly members: MembersRepository;
  private readonly grid: GridRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date,
  ) {
    this.repo = new MemberPostsRepository(db);
    this.members = new MembersRepository(db);
    this.grid = new GridRepository(db);
  }

  private async postFor(ctx: RequestContext, id: number, permission: 'member_post.read' | 'member_post.write' | 'member_post.claim_own', q: Kysely<Database> | Tx = this.db) {
    if (q !== this.db) await this.repo.lock(id, q);
    const r = await this.repo.byId(id, q);
    if (!r) throw new NotFoundError(POST);
    authorizeAt(ctx.actor, permission, r.unit_path, POST, 'member_post.read');
    return r;
  }

  async detail(ctx: RequestContext, id: number) {
    const r = await this.postFor(ctx, id, 'member_post.read');
    const claims = await this.repo.claims(r.district_id, r.id);
    return { ...postView(r), claims: claims.map((c) => ({ id: c.id, memberId: c.member_id, name: c.name, claimedOn: c.claimed_on, endedOn: c.ended_on })) };
  }

  async search(ctx: RequestContext, f: { unitId?: number; includeArchived?: boolean; limit?: number; offset?: number }) {
    const unit = await filterUnit(this.grid, ctx, f.unitId, 'member_post.read');
    const rows = await this.repo.search({ paths: scopePaths(ctx.actor, 'member_post.read'), unitPath: unit?.path, includeArchived: f.includeArchived, limit: f.limit ?? 50, offset: f.offset ?? 0 });
    return { items: rows.map(postView) };
  }

  async create(ctx: RequestContext, input: { unitId: number; title: string; duties?: string | null; capacity?: number }, outer?: Tx) {
    return inTransaction(this.db, outer, async (trx) => {
      const unit = await writableUnit(this.grid, ctx, input.unitId, 'member_post.write', 'member_post.read', trx);
      const { id } = await this.repo.insert({ district_id: unit.district_id, unit_id: unit.id, title: input.title.trim(), duties: input.duties?.trim() || null, capacity: input.capacity ?? 1 }, trx);
      const view = postView((await this.repo.byId(id, trx))!);
      await recordAudit(trx, ctx, { action: 'member_post.create', targetType: 'member_post', targetId: id, unit, after: view });
      return view;
    });
  }

  async update(ctx: RequestContext, id: number, patch: { title?: string; duties?: string | null; capacity?: number; archived?: boolean }) {
    return this.db.transaction().execute(async (trx) => {
      const before = await this.postFor(ctx, id, 'member_post.write', trx);
      const holders = Number(before.holders ?? 0);
      if (patch.capacity !== undefined && patch.capacity < holders) {
        throw new ConflictError({ 'zh-CN': `已有 ${holders} 人在岗，容量不能小于在岗人数`, en: `${holders} members hold the post; the capacity cannot be lower` }, 'capacity_below_holders');
      }
      if (patch.archived === true && holders > 0) throw new ConflictError({ 'zh-CN': '岗位仍有人在岗，不能撤销', en: 'Members still hold the post' }, 'post_in_use');
      await this.repo.update(
        before.district_id,
        id,
        {
          ...(patch.title !== undefined ? { title: patch.title.trim() } : {}),
          ...(patch.duties !== undefined ? { duties: patch.duties?.trim() || null } : {}),
          ...(patch.capacity !== undefined ? { capacity: patch.capacity } : {}),
          ...(patch.archived !== undefined ? { archived_at: patch.archived ? (before.archived_at ?? this.now()) : null } : {}),
        },
        trx,
      );
      const after = postView((await this.repo.byId(id, trx))!);
      await recordAudit(trx, ctx, { action: 'member_post.update', targetType: 'member_post', targetId: id, unit: { district_id: before.district_id, id: before.unit_id, path: before.unit_path }, before: postView(before), after });
      return after;
    });
  }

  /** Staff with member_post.write at the post's unit may act for any member; a member with claim_own only for themselves. */
  private async mayActFor(ctx: RequestContext, post: PostRow, member: { user_id: number | null }) {
    if (hasPermissionAt(ctx.actor, 'member_post.write', post.unit_path)) return;
    if (ctx.actor.userId && member.user_id === ctx.actor.userId && hasPermissionAt(ctx.actor, 'member_post.claim_own', post.unit_path)) return;
    throw new ForbiddenError();
  }

  async claim(ctx: RequestContext, postId: number, input: { memberId: number; claimedOn?: string }, outer?: Tx) {
    return inTransaction(this.db, outer, async (trx) => {
      // the post's row lock serialises claims on it: the capacity check below sees every earlier claim
      const post = await this.postFor(ctx, postId, 'member_post.read', trx);
      await this.members.lock(input.memberId, trx);
      const member = await this.members.byId(input.memberId, trx);
      const mayKnow = member && (memberAllowed(ctx, 'party_member.read', member) || (ctx.actor.userId !== 0 && member.user_id === ctx.actor.userId));
      if (!member || member.district_id !== post.district_id || !mayKnow) throw unknownReference(MEMBER, input.memberId);
      await this.mayActFor(ctx, post, member);
      if (post.archived_at) throw new ConflictError({ 'zh-CN': '岗位已撤销', en: 'The post is archived' }, 'archived');
      if (member.left_on) throw new ConflictError({ 'zh-CN': '该党员已离开', en: 'The member has left' }, 'member_left');
      if (!memberPaths(member).some((p) => p.startsWith(post.unit_path))) {
        throw new ValidationError({ 'zh-CN': '只能认领本单元（或报到社区）的岗位', en: 'A member claims posts of their own unit or the community they registered with' }, undefined, 'member_not_in_unit');
      }
      const held = await this.repo.activeClaimsOfMember(post.district_id, member.id, trx);
      if (held.length) throw new ConflictError({ 'zh-CN': '该党员已在岗（一人一岗），请先结束原岗位', en: 'The member already holds a post; end it first' }, 'already_holds_post', { postId: held[0].post_id });
      if (Number(post.holders ?? 0) >= post.capacity) throw new ConflictError({ 'zh-CN': '岗位已满', en: 'The post is full' }, 'post_full', { capacity: post.capacity });
      const on = input.claimedOn ?? businessDate(this.now());
      assertPastDate(on, this.now(), { 'zh-CN': '认岗日期', en: 'The claim date' }, 'invalid_claimed_on');
      const claim = await this.repo.insertClaim({ district_id: post.district_id, post_id: post.id, member_id: member.id, claimed_on: on }, trx);
      await recordAudit(trx, ctx, { action: 'member_post.claim', targetType: 'member_post_claim', targetId: claim.id, unit: { district_id: post.district_id, id: post.unit_id, path: post.unit_path }, after: { postId: post.id, memberId: member.id, claimedOn: on } });
      return { id: claim.id, postId: post.id, memberId: member.id, claimedOn: claim.claimed_on, endedOn: null };
    });
  }

  async endClaim(ctx: RequestContext, claimId: number, input: { endedOn?: string }) {
    return this.db.transaction().execute(async (trx) => {
      const found = await this.repo.claim(claimId, trx);
      if (!found) throw new NotFoundError(CLAIM);
      const post = await this.repo.byId(found.post_id, trx);
      const member = await this.members.byId(found.member_id, trx);
      const own = !!member && ctx.actor.userId !== 0 && member.user_id === ctx.actor.userId;
      if (!post || !member || !(hasPermissionAt(ctx.actor, 'member_post.read', post.unit_path) || own)) throw new NotFoundError(CLAIM);
      await this.repo.lock(post.id, trx);
      await this.repo.lockClaim(claimId, trx);
      await this.mayActFor(ctx, post, member);
      const claim = (await this.repo.claim(claimId, trx))!;
      if (claim.ended_on) throw new ConflictError({ 'zh-CN': '该认岗已结束', en: 'The claim has already ended' }, 'claim_ended');
      const on = input.endedOn ?? businessDate(this.now());
      assertPastDate(on, this.now(), { 'zh-CN': '结束日期', en: 'The end date' }, 'invalid_ended_on');
      if (on < claim.claimed_on) throw new ValidationError({ 'zh-CN': '结束日期不能早于认岗日期', en: 'The end date cannot be before the claim date' }, undefined, 'invalid_ended_on');
      const ended = await this.repo.endClaim(post.district_id, claimId, on, trx);
      await recordAudit(trx, ctx, { action: 'member_post.end', targetType: 'member_post_claim', targetId: claimId, unit: { district_id: post.district_id, id: post.unit_id, path: post.unit_path }, after: { postId: post.id, memberId: member.id, endedOn: on } });
      return { id: ended.id, postId: ended.post_id, memberId: ended.member_id, claimedOn: ended.claimed_on, endedOn: ended.ended_on };
    });
  }
}
