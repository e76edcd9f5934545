// The unified grid's rules: the tree of units, party organisations, people, staff posts, linked
// organisations and boundaries. Every read is limited to the caller's scope; every write is audited
// in its own transaction.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/types.ts';
import type { Permission } from '../../../../shared/permissions.ts';
import type { RequestContext } from '../../platform/context.ts';
import { recordAudit } from '../../platform/audit.ts';
import { authorizeAt, hasPermissionAt, scopePaths } from '../../platform/access.ts';
import { ConflictError, NotFoundError, ValidationError, type Messages } from '../../platform/errors.ts';
import { businessDate } from '../../platform/clock.ts';
import { bboxOf, boundaryInside, parseBoundary, type Boundary } from '../../platform/geo.ts';
import { GridRepository, type UnitRow } from './grid.repository.ts';
import { KindsService } from './kinds.service.ts';
import { dateRangeProblem, isCurrent, moveProblem } from './grid.policy.ts';

const UNIT: Messages = { 'zh-CN': '单元', en: 'Unit' };
const PARTY_ORG: Messages = { 'zh-CN': '党组织', en: 'Party organisation' };
const PERSON: Messages = { 'zh-CN': '人员', en: 'Person' };
const POST: Messages = { 'zh-CN': '任职记录', en: 'Post' };
const LINKED_ORG: Messages = { 'zh-CN': '联建单位', en: 'Linked organisation' };

type Tx = Transaction<Database>;

export function unitView(u: UnitRow) {
  return {
    id: u.id,
    districtId: u.district_id,
    parentId: u.parent_id,
    kind: u.kind_code,
    name: u.name,
    code: u.code,
    path: u.path,
    depth: u.depth,
    archived: u.archived_at !== null,
  };
}
export type UnitView = ReturnType<typeof unitView>;

export class GridService {
  readonly repo: GridRepository;
  private readonly kinds: KindsService;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date,
  ) {
    this.repo = new GridRepository(db);
    this.kinds = new KindsService(db);
  }

  /** Loads a unit the caller may act on with `permission`; outside their read scope it does not exist. */
  async unitFor(ctx: RequestContext, id: number, permission: Permission, q: Kysely<Database> | Tx = this.db): Promise<UnitRow> {
    const unit = await this.repo.unit(id, q);
    if (!unit) throw new NotFoundError(UNIT);
    authorizeAt(ctx.actor, permission, unit.path, UNIT);
    return unit;
  }

  private async lockedUnitFor(ctx: RequestContext, id: number, permission: Permission, trx: Tx): Promise<UnitRow> {
    const unit = await this.repo.unitForUpdate(id, trx);
    if (!unit) throw new NotFoundError(UNIT);
    authorizeAt(ctx.actor, permission, unit.path, UNIT);
    return unit;
  }

  private assertActive(unit: UnitRow) {
    if (unit.archived_at) throw new ConflictError({ 'zh-CN': `单元“${unit.name}”已归档`, en: `Unit "${unit.name}" is archived` }, 'archived');
  }

  // ---------- the tree ----------

  /** The tops of the caller's scope: the units their grants sit on, nested ones folded away. */
  async roots(ctx: RequestContext) {
    const paths = scopePaths(ctx.actor, 'unit.read');
    if (paths.includes('/')) {
      const roots = await this.db.selectFrom('org_unit as u').select(['u.id']).where('u.parent_id', 'is', null).where('u.archived_at', 'is', null).execute();
      return this.withChildCounts(await this.repo.unitsByIds(roots.map((r) => r.id)));
    }
    const ids = paths.map((p) => Number(p.split('/').filter(Boolean).pop()));
    return this.withChildCounts((await this.repo.unitsByIds(ids)).filter((u) => !u.archived_at));
  }

  async children(ctx: RequestContext, id: number) {
    const unit = await this.unitFor(ctx, id, 'unit.read');
    return this.withChildCounts(await this.repo.children(unit.id));
  }

  private async withChildCounts(units: UnitRow[]) {
    if (!units.length) return [];
    const counts = await this.db
      .selectFrom('org_unit')
      .select(['parent_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('parent_id', 'in', units.map((u) => u.id))
      .where('archived_at', 'is', null)
      .groupBy('parent_id')
      .execute();
    const byParent = new Map(counts.map((c) => [c.parent_id, Number(c.n)]));
    return units.map((u) => ({ ...unitView(u), childCount: byParent.get(u.id) ?? 0 }));
  }

  async search(ctx: RequestContext, filter: { search?: string; kind?: string; limit?: number }) {
    const rows = await this.repo.searchUnits(scopePaths(ctx.actor, 'unit.read'), { ...filter, limit: filter.limit ?? 50 });
    return rows.map(unitView);
  }

  /** A unit with everything the unit page shows; sections the caller may not read are left out. */
  async detail(ctx: RequestContext, id: number) {
    const unit = await this.unitFor(ctx, id, 'unit.read');
    const can = (p: Permission) => hasPermissionAt(ctx.actor, p, unit.path);
    const ancestorIds = unit.path.split('/').filter(Boolean).map(Number).filter((a) => a !== unit.id);
    const ancestors = (await this.repo.unitsByIds(ancestorIds))
      .filter((a) => hasPermissionAt(ctx.actor, 'unit.read', a.path))
      .sort((a, b) => a.depth - b.depth)
      .map((a) => ({ id: a.id, name: a.name, kind: a.kind_code }));
    const today = businessDate(this.now());
    const [partyOrg, posts, linkedOrgs, boundary, childCount, roles] = await Promise.all([
      can('party_org.read') ? this.repo.partyOrgOfUnit(unit.district_id, unit.id) : undefined,
      can('post.read') ? this.repo.postsOfUnit(unit.district_id, unit.id) : [],
      can('linked_org.read') ? this.repo.linkedOrgsOfUnit(unit.district_id, unit.id) : [],
      this.repo.unitBoundary(unit.district_id, unit.id),
      this.repo.activeChildCount(unit.id),
      this.repo.rolesOfKind(unit.kind_code),
    ]);
    return {
      unit: { ...unitView(unit), childCount, createdAt: unit.created_at.toISOString(), updatedAt: unit.updated_at.toISOString() },
      ancestors,
      boundary: boundary?.boundary ?? null,
      partyOrg: partyOrg ? partyOrgView(partyOrg) : null,
      posts: posts.map((p) => ({ ...postView(p), personName: p.person_name, current: isCurrent(p, today) })),
      roles: roles.map((r) => ({ code: r.code, name: { 'zh-CN': r.name_zh, en: r.name_en }, required: r.required, leader: r.leader, maxHolders: r.max_holders })),
      linkedOrgs: linkedOrgs.map(linkedOrgView),
      permissions: (['unit.update', 'unit.create', 'unit.move', 'unit.archive', 'party_org.write', 'post.write', 'person.write', 'linked_org.write', 'coverage.read'] as Permission[]).filter(can),
    };
  }

  /** Creates the top of a tree (command line only: no account has scope above a root). */
  async createRoot(trx: Tx, ctx: RequestContext, input: { kind: string; name: string; code?: string | null }) {
    const kind = await this.repo.kind(input.kind, trx);
    if (!kind?.is_root) throw new ValidationError({ 'zh-CN': `“${input.kind}”不是顶层单元类型`, en: `"${input.kind}" is not a top-level kind` });
    if (await this.repo.siblingWithName(null, input.name, null, trx)) throw duplicateName(input.name);
    const id = await this.repo.nextUnitId(trx);
    const unit = await this.repo.insertUnit({ district_id: id, id, parent_id: null, kind_code: input.kind, name: input.name, code: input.code ?? null, path: `/${id}/`, depth: 0 }, trx);
    await recordAudit(trx, ctx, { action: 'unit.create', targetType: 'unit', targetId: id, unit, after: unit });
    return unit;
  }

  async createChild(ctx: RequestContext, input: { parentId: number; kind: string; name: string; code?: string | null }, trx?: Tx) {
    const run = async (t: Tx) => {
      const parent = await this.lockedUnitFor(ctx, input.parentId, 'unit.create', t);
      this.assertActive(parent);
      if (!(await this.repo.kind(input.kind, t))) throw new ValidationError({ 'zh-CN': `未知的单元类型“${input.kind}”`, en: `Unknown unit kind "${input.kind}"` }, undefined, 'unknown_kind');
      if (!(await this.repo.childAllowed(parent.kind_code, input.kind, t))) {
        throw new ValidationError({ 'zh-CN': `“${parent.name}”下不能设立此类单元（${input.kind}）`, en: `A unit of kind "${input.kind}" may not sit under "${parent.name}" (${parent.kind_code})` }, undefined, 'kind_not_allowed');
      }
      if (await this.repo.siblingWithName(parent.id, input.name, null, t)) throw duplicateName(input.name);
      const id = await this.repo.nextUnitId(t);
      const districtKind = await this.kinds.districtKind(t);
      const districtId = input.kind === districtKind ? id : parent.district_id;
      const unit = await this.repo.insertUnit(
        { district_id: districtId, id, parent_id: parent.id, kind_code: input.kind, name: input.name, code: input.code ?? null, path: `${parent.path}${id}/`, depth: parent.depth + 1 },
        t,
      );
      await recordAudit(t, ctx, { action: 'unit.create', targetType: 'unit', targetId: id, unit, after: unit });
      return unit;
    };
    return trx ? run(trx) : this.db.transaction().execute(run);
  }

  async update(ctx: RequestContext, id: number, patch: { name?: string; code?: string | null }) {
    return this.db.transaction().execute(async (trx) => {
      const before = await this.lockedUnitFor(ctx, id, 'unit.update', trx);
      this.assertActive(before);
      if (patch.name !== undefined && patch.name !== before.name && (await this.repo.siblingWithName(before.parent_id, patch.name, before.id, trx))) throw duplicateName(patch.name);
      const after = await this.repo.updateUnit(before.district_id, before.id, patch, this.now(), trx);
      await recordAudit(trx, ctx, { action: 'unit.update', targetType: 'unit', targetId: id, unit: after, before, after });
      return unitView(after);
    });
  }

  async move(ctx: RequestContext, id: number, newParentId: number) {
    return this.db.transaction().execute(async (trx) => {
      await this.repo.lockTree(trx);
      const unit = await this.lockedUnitFor(ctx, id, 'unit.move', trx);
      this.assertActive(unit);
      if (unit.parent_id === null) throw new ValidationError({ 'zh-CN': '顶层单元不能移动', en: 'A top-level unit cannot be moved' }, undefined, 'move_not_allowed');
      const target = await this.lockedUnitFor(ctx, newParentId, 'unit.move', trx);
      const allowed = await this.repo.childAllowed(target.kind_code, unit.kind_code, trx);
      const problem = moveProblem(unit, target, allowed, await this.kinds.districtKind(trx));
      if (problem) throw new ValidationError(problem, undefined, 'move_not_allowed');
      if (target.id === unit.parent_id) return unitView(unit);
      if (await this.repo.siblingWithName(target.id, unit.name, unit.id, trx)) throw duplicateName(unit.name);
      const targetBoundary = (await this.repo.unitBoundary(target.district_id, target.id, trx))?.boundary as Boundary | null;
      const ownBoundary = (await this.repo.unitBoundary(unit.district_id, unit.id, trx))?.boundary as Boundary | null;
      if (targetBoundary && ownBoundary) {
        const outside = boundaryInside(ownBoundary, targetBoundary);
        if (outside) throw new ValidationError({ 'zh-CN': `边界不在新上级单元内：${outside['zh-CN']}`, en: `The boundary is not inside the new parent: ${outside.en}` }, undefined, 'boundary_outside_parent');
      }
      const newPath = `${target.path}${unit.id}/`;
      await this.repo.setParent(unit.district_id, unit.id, target.id, trx);
      await this.repo.moveSubtree(unit.path, newPath, target.depth + 1 - unit.depth, this.now(), trx);
      const after = (await this.repo.unit(unit.id, trx))!;
      await recordAudit(trx, ctx, { action: 'unit.move', targetType: 'unit', targetId: id, unit: after, before: { parentId: unit.parent_id, path: unit.path }, after: { parentId: target.id, path: after.path } });
      return unitView(after);
    });
  }

  /** Archives a unit with no active children. Units are never deleted: posts, grants and the audit log point at them. */
  async archive(ctx: RequestContext, id: number) {
    return this.db.transaction().execute(async (trx) => {
      const before = await this.lockedUnitFor(ctx, id, 'unit.archive', trx);
      this.assertActive(before);
      if (before.parent_id === null) throw new ValidationError({ 'zh-CN': '顶层单元不能归档', en: 'A top-level unit cannot be archived' }, undefined, 'archive_not_allowed');
      const children = await this.repo.activeChildCount(before.id, trx);
      if (children > 0) {
        throw new ConflictError({ 'zh-CN': `该单元还有 ${children} 个下级单元，请先移走或归档`, en: `The unit still has ${children} active child unit(s); move or archive them first` }, 'has_children');
      }
      const after = await this.repo.updateUnit(before.district_id, before.id, { archived_at: this.now() }, this.now(), trx);
      await recordAudit(trx, ctx, { action: 'unit.archive', targetType: 'unit', targetId: id, unit: after, before, after });
      return unitView(after);
    });
  }

  // ---------- boundaries ----------

  async setBoundary(ctx: RequestContext, id: number, value: unknown, outer?: Tx) {
    const parsed = parseBoundary(value);
    if ('problem' in parsed) throw new ValidationError(parsed.problem, undefined, 'invalid_boundary');
    const run = async (trx: Tx) => {
      const unit = await this.lockedUnitFor(ctx, id, 'unit.update', trx);
      this.assertActive(unit);
      if (unit.parent_id !== null) {
        const parent = (await this.repo.unit(unit.parent_id, trx))!;
        const parentBoundary = (await this.repo.unitBoundary(parent.district_id, parent.id, trx))?.boundary as Boundary | null;
        if (parentBoundary) {
          const problem = boundaryInside(parsed.boundary, parentBoundary);
          if (problem) throw new ValidationError({ 'zh-CN': `边界超出上级单元“${parent.name}”：${problem['zh-CN']}`, en: `The boundary is not inside the parent "${parent.name}": ${problem.en}` }, undefined, 'boundary_outside_parent');
        }
      }
      for (const child of await this.repo.childBoundaries(unit.id, trx)) {
        const problem = boundaryInside(child.boundary as Boundary, parsed.boundary);
        if (problem) throw new ValidationError({ 'zh-CN': `下级单元“${child.name}”的边界会超出新边界`, en: `Child unit "${child.name}" would fall outside the new boundary` }, undefined, 'boundary_excludes_child');
      }
      const before = await this.repo.unitBoundary(unit.district_id, unit.id, trx);
      await this.repo.setBoundary(unit.district_id, unit.id, parsed.boundary, bboxOf(parsed.boundary), this.now(), trx);
      await recordAudit(trx, ctx, { action: 'unit.boundary_set', targetType: 'unit', targetId: id, unit, before: before?.boundary ?? null, after: parsed.boundary });
      return parsed.boundary;
    };
    return outer ? run(outer) : this.db.transaction().execute(run);
  }

  async clearBoundary(ctx: RequestContext, id: number) {
    await this.db.transaction().execute(async (trx) => {
      const unit = await this.lockedUnitFor(ctx, id, 'unit.update', trx);
      const before = await this.repo.unitBoundary(unit.district_id, unit.id, trx);
      if (!before?.boundary) throw new NotFoundError({ 'zh-CN': '边界', en: 'Boundary' });
      await this.repo.setBoundary(unit.district_id, unit.id, null, null, this.now(), trx);
      await recordAudit(trx, ctx, { action: 'unit.boundary_clear', targetType: 'unit', targetId: id, unit, before: before.boundary });
    });
  }

  // ---------- party organisations ----------

  async bindPartyOrg(ctx: RequestContext, unitId: number, input: { kind: string; name: string; secretaryPersonId?: number | null; foundedOn?: string | null }, trx?: Tx) {
    const run = async (t: Tx) => {
      const unit = await this.lockedUnitFor(ctx, unitId, 'party_org.write', t);
      this.assertActive(unit);
      const kind = (await this.repo.kind(unit.kind_code, t))!;
      if (!kind.party_org_kinds.includes(input.kind)) {
        throw new ValidationError({ 'zh-CN': `此类单元不能设立该类党组织（${input.kind}）`, en: `A party organisation of kind "${input.kind}" cannot be bound to a unit of kind "${unit.kind_code}"` }, undefined, 'party_org_kind_not_allowed');
      }
      const problem = dateRangeProblem(input.foundedOn, null, { start: '成立日期', end: '', startEn: 'founding date', endEn: '' });
      if (problem) throw new ValidationError(problem);
      if (await this.repo.partyOrgOfUnit(unit.district_id, unit.id, t)) {
        throw new ConflictError({ 'zh-CN': `单元“${unit.name}”已有党组织，每个单元至多一个`, en: `Unit "${unit.name}" already has a party organisation (at most one per unit)` }, 'party_org_exists');
      }
      if (input.secretaryPersonId) await this.personInDistrict(input.secretaryPersonId, unit.district_id, t);
      const org = await this.repo.insertPartyOrg(
        { district_id: unit.district_id, unit_id: unit.id, kind: input.kind, name: input.name, secretary_person_id: input.secretaryPersonId ?? null, founded_on: input.foundedOn ?? null },
        t,
      );
      await recordAudit(t, ctx, { action: 'party_org.create', targetType: 'party_org', targetId: org.id, unit, after: org });
      return partyOrgView({ ...org, secretary_name: null });
    };
    return trx ? run(trx) : this.db.transaction().execute(run);
  }

  private async partyOrgFor(ctx: RequestContext, id: number, permission: Permission, trx: Tx) {
    const org = await this.repo.partyOrg(id, trx);
    if (!org) throw new NotFoundError(PARTY_ORG);
    const unit = (await this.repo.unit(org.unit_id, trx))!;
    authorizeAt(ctx.actor, permission, unit.path, PARTY_ORG, 'party_org.read');
    return { org, unit };
  }

  async updatePartyOrg(ctx: RequestContext, id: number, patch: { kind?: string; name?: string; secretaryPersonId?: number | null; foundedOn?: string | null }) {
    return this.db.transaction().execute(async (trx) => {
      const { org, unit } = await this.partyOrgFor(ctx, id, 'party_org.write', trx);
      if (patch.kind !== undefined) {
        const kind = (await this.repo.kind(unit.kind_code, trx))!;
        if (!kind.party_org_kinds.includes(patch.kind)) throw new ValidationError({ 'zh-CN': `此类单元不能设立该类党组织（${patch.kind}）`, en: `Kind "${patch.kind}" is not allowed on this unit` }, undefined, 'party_org_kind_not_allowed');
      }
      const problem = dateRangeProblem(patch.foundedOn, null, { start: '成立日期', end: '', startEn: 'founding date', endEn: '' });
      if (problem) throw new ValidationError(problem);
      if (patch.secretaryPersonId) await this.personInDistrict(patch.secretaryPersonId, org.district_id, trx);
      const values: Parameters<GridRepository['updatePartyOrg']>[2] = {};
      if (patch.kind !== undefined) values.kind = patch.kind;
      if (patch.name !== undefined) values.name = patch.name;
      if (patch.secretaryPersonId !== undefined) values.secretary_person_id = patch.secretaryPersonId;
      if (patch.foundedOn !== undefined) values.founded_on = patch.foundedOn;
      const after = await this.repo.updatePartyOrg(org.district_id, org.id, values, this.now(), trx);
      await recordAudit(trx, ctx, { action: 'party_org.update', targetType: 'party_org', targetId: id, unit, before: org, after });
      return partyOrgView({ ...after, secretary_name: null });
    });
  }

  async dissolvePartyOrg(ctx: RequestContext, id: number) {
    await this.db.transaction().execute(async (trx) => {
      const { org, unit } = await this.partyOrgFor(ctx, id, 'party_org.write', trx);
      await this.repo.deletePartyOrg(org.district_id, org.id, trx);
      await recordAudit(trx, ctx, { action: 'party_org.dissolve', targetType: 'party_org', targetId: id, unit, before: org });
    });
  }

  // ---------- people ----------

  private async personInDistrict(personId: number, districtId: number, q: Kysely<Database> | Tx) {
    const person = await this.repo.person(personId, q);
    if (!person || person.district_id !== districtId) throw new ValidationError({ 'zh-CN': `人员 ${personId} 不存在或不属于本区`, en: `Person ${personId} does not exist in this district` }, undefined, 'unknown_person');
    return person;
  }

  async createPerson(ctx: RequestContext, input: { unitId: number; name: string; note?: string | null }, trx?: Tx) {
    const run = async (t: Tx) => {
      const unit = await this.lockedUnitFor(ctx, input.unitId, 'person.write', t);
      this.assertActive(unit);
      const person = await this.repo.insertPerson({ district_id: unit.district_id, unit_id: unit.id, name: input.name, note: input.note ?? null, user_id: null }, t);
      await recordAudit(t, ctx, { action: 'person.create', targetType: 'person', targetId: person.id, unit, after: person });
      return personView(person);
    };
    return trx ? run(trx) : this.db.transaction().execute(run);
  }

  async updatePerson(ctx: RequestContext, id: number, patch: { name?: string; note?: string | null }) {
    return this.db.transaction().execute(async (trx) => {
      const before = await this.repo.person(id, trx);
      if (!before) throw new NotFoundError(PERSON);
      const unit = (await this.repo.unit(before.unit_id, trx))!;
      authorizeAt(ctx.actor, 'person.write', unit.path, PERSON, 'person.read');
      const after = await this.repo.updatePerson(before.district_id, before.id, patch, trx);
      await recordAudit(trx, ctx, { action: 'person.update', targetType: 'person', targetId: id, unit, before, after });
      return personView(after);
    });
  }

  async listPeople(ctx: RequestContext, filter: { unitId?: number; search?: string; limit?: number; offset?: number }) {
    if (filter.unitId) await this.unitFor(ctx, filter.unitId, 'person.read');
    const rows = await this.repo.searchPeople(scopePaths(ctx.actor, 'person.read'), { ...filter, limit: filter.limit ?? 50, offset: filter.offset ?? 0 });
    return rows.map((r) => ({ id: r.id, unitId: r.unit_id, unitName: r.unit_name, name: r.name, note: r.note }));
  }

  // ---------- staff posts ----------

  async appointPost(ctx: RequestContext, unitId: number, input: { role: string; personId?: number; personName?: string; startedOn: string; endedOn?: string | null }, trx?: Tx) {
    const run = async (t: Tx) => {
      const unit = await this.lockedUnitFor(ctx, unitId, 'post.write', t);
      this.assertActive(unit);
      const role = await this.repo.role(unit.kind_code, input.role, t);
      if (!role) throw new ValidationError({ 'zh-CN': `此类单元没有“${input.role}”岗位`, en: `Units of kind "${unit.kind_code}" have no role "${input.role}"` }, undefined, 'unknown_role');
      const problem = dateRangeProblem(input.startedOn, input.endedOn);
      if (problem) throw new ValidationError(problem);
      if (!input.personId === !input.personName) {
        throw new ValidationError({ 'zh-CN': '请指定已有人员（personId）或填写新人员姓名（personName），二者选一', en: 'Give either an existing personId or a new personName, not both' });
      }
      const person = input.personId
        ? await this.personInDistrict(input.personId, unit.district_id, t)
        : await this.repo.insertPerson({ district_id: unit.district_id, unit_id: unit.id, name: input.personName!, note: null, user_id: null }, t);
      if (input.personName) await recordAudit(t, ctx, { action: 'person.create', targetType: 'person', targetId: person.id, unit, after: person });
      const today = businessDate(this.now());
      if (role.max_holders && isCurrent({ started_on: input.startedOn, ended_on: input.endedOn ?? null }, today)) {
        const holders = await this.repo.currentHolders(unit.district_id, unit.id, role.code, today, t);
        if (holders >= role.max_holders) {
          throw new ConflictError({ 'zh-CN': `“${role.name_zh}”岗位最多 ${role.max_holders} 人，已满`, en: `Role "${role.name_en}" allows at most ${role.max_holders} holder(s) and is full` }, 'role_full');
        }
      }
      const post = await this.repo.insertPost(
        { district_id: unit.district_id, unit_id: unit.id, kind_code: unit.kind_code, role_code: role.code, person_id: person.id, started_on: input.startedOn, ended_on: input.endedOn ?? null },
        t,
      );
      await recordAudit(t, ctx, { action: 'post.create', targetType: 'staff_post', targetId: post.id, unit, after: post });
      return { ...postView(post), personName: person.name, current: isCurrent(post, today) };
    };
    return trx ? run(trx) : this.db.transaction().execute(run);
  }

  private async postFor(ctx: RequestContext, id: number, trx: Tx) {
    const post = await this.repo.post(id, trx);
    if (!post) throw new NotFoundError(POST);
    const unit = (await this.repo.unit(post.unit_id, trx))!;
    authorizeAt(ctx.actor, 'post.write', unit.path, POST, 'post.read');
    return { post, unit };
  }

  async updatePost(ctx: RequestContext, id: number, patch: { startedOn?: string; endedOn?: string | null }) {
    return this.db.transaction().execute(async (trx) => {
      const { post, unit } = await this.postFor(ctx, id, trx);
      const started = patch.startedOn ?? post.started_on;
      const ended = patch.endedOn === undefined ? post.ended_on : patch.endedOn;
      const problem = dateRangeProblem(started, ended);
      if (problem) throw new ValidationError(problem);
      const values: { started_on?: string; ended_on?: string | null } = {};
      if (patch.startedOn !== undefined) values.started_on = patch.startedOn;
      if (patch.endedOn !== undefined) values.ended_on = patch.endedOn;
      const after = await this.repo.updatePost(post.district_id, post.id, values, trx);
      await recordAudit(trx, ctx, { action: 'post.update', targetType: 'staff_post', targetId: id, unit, before: post, after });
      return { ...postView(after), current: isCurrent(after, businessDate(this.now())) };
    });
  }

  /** Removes a post recorded by mistake; a post that ended is closed with an end date instead. */
  async deletePost(ctx: RequestContext, id: number) {
    await this.db.transaction().execute(async (trx) => {
      const { post, unit } = await this.postFor(ctx, id, trx);
      await this.repo.deletePost(post.district_id, post.id, trx);
      await recordAudit(trx, ctx, { action: 'post.delete', targetType: 'staff_post', targetId: id, unit, before: post });
    });
  }

  // ---------- linked organisations ----------

  async addLinkedOrg(ctx: RequestContext, unitId: number, input: LinkedOrgInput, trx?: Tx) {
    const run = async (t: Tx) => {
      const unit = await this.lockedUnitFor(ctx, unitId, 'linked_org.write', t);
      this.assertActive(unit);
      const problem = dateRangeProblem(input.startedOn, input.endedOn);
      if (problem) throw new ValidationError(problem);
      const org = await this.repo.insertLinkedOrg(
        { district_id: unit.district_id, unit_id: unit.id, kind: input.kind, name: input.name, contact_name: input.contactName ?? null, note: input.note ?? null, started_on: input.startedOn ?? null, ended_on: input.endedOn ?? null },
        t,
      );
      await recordAudit(t, ctx, { action: 'linked_org.create', targetType: 'linked_org', targetId: org.id, unit, after: org });
      return linkedOrgView(org);
    };
    return trx ? run(trx) : this.db.transaction().execute(run);
  }

  private async linkedOrgFor(ctx: RequestContext, id: number, trx: Tx) {
    const org = await this.repo.linkedOrg(id, trx);
    if (!org) throw new NotFoundError(LINKED_ORG);
    const unit = (await this.repo.unit(org.unit_id, trx))!;
    authorizeAt(ctx.actor, 'linked_org.write', unit.path, LINKED_ORG, 'linked_org.read');
    return { org, unit };
  }

  async updateLinkedOrg(ctx: RequestContext, id: number, patch: Partial<LinkedOrgInput>) {
    return this.db.transaction().execute(async (trx) => {
      const { org, unit } = await this.linkedOrgFor(ctx, id, trx);
      const problem = dateRangeProblem(patch.startedOn === undefined ? org.started_on : patch.startedOn, patch.endedOn === undefined ? org.ended_on : patch.endedOn);
      if (problem) throw new ValidationError(problem);
      const values: Parameters<GridRepository['updateLinkedOrg']>[2] = {};
      if (patch.kind !== undefined) values.kind = patch.kind;
      if (patch.name !== undefined) values.name = patch.name;
      if (patch.contactName !== undefined) values.contact_name = patch.contactName;
      if (patch.note !== undefined) values.note = patch.note;
      if (patch.startedOn !== undefined) values.started_on = patch.startedOn;
      if (patch.endedOn !== undefined) values.ended_on = patch.endedOn;
      const after = await this.repo.updateLinkedOrg(org.district_id, org.id, values, trx);
      await recordAudit(trx, ctx, { action: 'linked_org.update', targetType: 'linked_org', targetId: id, unit, before: org, after });
      return linkedOrgView(after);
    });
  }

  async removeLinkedOrg(ctx: RequestContext, id: number) {
    await this.db.transaction().execute(async (trx) => {
      const { org, unit } = await this.linkedOrgFor(ctx, id, trx);
      await this.repo.deleteLinkedOrg(org.district_id, org.id, trx);
      await recordAudit(trx, ctx, { action: 'linked_org.delete', targetType: 'linked_org', targetId: id, unit, before: org });
    });
  }
}

export interface LinkedOrgInput {
  kind: string;
  name: string;
  contactName?: string | null;
  note?: string | null;
  startedOn?: string | null;
  endedOn?: string | null;
}

function duplicateName(name: string) {
  return new ConflictError({ 'zh-CN': `同一上级下已有名为“${name}”的单元`, en: `A sibling unit named "${name}" already exists` }, 'duplicate_name');
}

function partyOrgView(o: { id: number; unit_id: number; kind: string; name: string; secretary_person_id: number | null; secretary_name?: string | null; founded_on: string | null }) {
  return { id: o.id, unitId: o.unit_id, kind: o.kind, name: o.name, secretaryPersonId: o.secretary_person_id, secretaryName: o.secretary_name ?? null, foundedOn: o.founded_on };
}

function postView(p: { id: number; unit_id: number; role_code: string; person_id: number; started_on: string; ended_on: string | null }) {
  return { id: p.id, unitId: p.unit_id, role: p.role_code, personId: p.person_id, startedOn: p.started_on, endedOn: p.ended_on };
}

function personView(p: { id: number; unit_id: number; name: string; note: string | null }) {
  return { id: p.id, unitId: p.unit_id, name: p.name, note: p.note };
}

function linkedOrgView(o: { id: number; unit_id: number; kind: string; name: string; contact_name: string | null; note: string | null; started_on: string | null; ended_on: string | null }) {
  return { id: o.id, unitId: o.unit_id, kind: o.kind, name: o.name, contactName: o.contact_name, note: o.note, startedOn: o.started_on, endedOn: o.ended_on };
}
