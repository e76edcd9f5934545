// Accounts and role grants. A grant reaches the unit's subtree; nobody can grant more than they hold:
// the granter needs `grant.write` at the unit and must themselves hold every permission of the role there.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/types.ts';
import { ROLE_PERMISSIONS, type RoleCode } from '../../../../shared/permissions.ts';
import type { RequestContext } from '../../platform/context.ts';
import { recordAudit } from '../../platform/audit.ts';
import { authorizeAt, hasPermissionAt, isSystem, scopePaths } from '../../platform/access.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../platform/errors.ts';
import { generatePassword, hashPassword, passwordWeakness } from '../../platform/auth/passwords.ts';
import { GridRepository } from '../grid/grid.repository.ts';
import { UsersRepository } from './users.repository.ts';

const USER = { 'zh-CN': '用户', en: 'User' };
const UNIT = { 'zh-CN': '单元', en: 'Unit' };
const GRANT = { 'zh-CN': '授权', en: 'Grant' };

export class UsersService {
  private readonly users: UsersRepository;
  private readonly grid: GridRepository;
  constructor(private readonly db: Kysely<Database>) {
    this.users = new UsersRepository(db);
    this.grid = new GridRepository(db);
  }

  async list(ctx: RequestContext, filter: { search?: string; limit?: number; offset?: number }) {
    const { total, items } = await this.users.listInScope(scopePaths(ctx.actor, 'user.read'), { search: filter.search, limit: filter.limit ?? 50, offset: filter.offset ?? 0 });
    return { total, items: items.map(userView) };
  }

  /** A user is visible when one of their grants lies in the caller's user.read scope. */
  private async visibleUser(ctx: RequestContext, id: number, q: Kysely<Database> | Transaction<Database> = this.db) {
    const user = await this.users.findById(id, q);
    if (!user) throw new NotFoundError(USER);
    if (isSystem(ctx.actor) || ctx.actor.userId === id) return user;
    const paths = scopePaths(ctx.actor, 'user.read');
    if (paths.includes('/')) return user;
    const grants = await this.users.grantRows(id, q);
    if (!grants.some((g) => paths.some((p) => g.unit_path.startsWith(p)))) throw new NotFoundError(USER);
    return user;
  }

  async detail(ctx: RequestContext, id: number) {
    const user = await this.visibleUser(ctx, id);
    const grants = await this.users.grantRows(id);
    return {
      ...userView(user),
      grants: grants
        .filter((g) => isSystem(ctx.actor) || hasPermissionAt(ctx.actor, 'user.read', g.unit_path) || ctx.actor.userId === id)
        .map((g) => ({ id: g.id, role: g.role_code, unitId: g.unit_id, unitName: g.unit_name, unitKind: g.unit_kind })),
    };
  }

  private assertCanGrant(ctx: RequestContext, role: RoleCode, unitPath: string) {
    authorizeAt(ctx.actor, 'grant.write', unitPath, UNIT);
    if (isSystem(ctx.actor)) return;
    const missing = ROLE_PERMISSIONS[role].filter((p) => !hasPermissionAt(ctx.actor, p, unitPath));
    if (missing.length) {
      throw new ForbiddenError({ 'zh-CN': `不能授予超出自身权限的角色（缺少：${missing.join('、')}）`, en: `You cannot grant a role with permissions you do not hold there (${missing.join(', ')})` }, 'grant_exceeds_own');
    }
  }

  /** Creates an account with its first grant; returns the one-time password, shown once. */
  async create(ctx: RequestContext, input: { username: string; displayName: string; role: RoleCode; unitId: number; password?: string }, trx?: Transaction<Database>) {
    const run = async (t: Transaction<Database>) => {
      const unit = await this.grid.unit(input.unitId, t);
      if (!unit) throw new NotFoundError(UNIT);
      authorizeAt(ctx.actor, 'user.write', unit.path, UNIT);
      this.assertCanGrant(ctx, input.role, unit.path);
      if (unit.archived_at) throw new ConflictError({ 'zh-CN': '单元已归档', en: 'The unit is archived' }, 'archived');
      if (await this.users.findByUsername(input.username, t)) throw new ConflictError({ 'zh-CN': `用户名“${input.username}”已被使用`, en: `Username "${input.username}" is taken` }, 'username_taken');
      const oneTime = input.password === undefined;
      const password = input.password ?? generatePassword();
      if (!oneTime) {
        const weakness = passwordWeakness(password, input.username);
        if (weakness) throw new ValidationError(weakness, undefined, 'weak_password');
      }
      const user = await this.users.insert({ username: input.username, display_name: input.displayName, password_hash: await hashPassword(password), must_change_password: oneTime }, t);
      await this.users.insertGrant({ user_id: user.id, role_code: input.role, district_id: unit.district_id, unit_id: unit.id, granted_by: ctx.actor.userId || null }, t);
      await recordAudit(t, ctx, { action: 'user.create', targetType: 'user', targetId: user.id, unit, after: { ...user, grant: { role: input.role, unitId: unit.id } } });
      return { user: userView(user), oneTimePassword: oneTime ? password : null };
    };
    return trx ? run(trx) : this.db.transaction().execute(run);
  }

  async update(ctx: RequestContext, id: number, patch: { displayName?: string; disabled?: boolean }) {
    return this.db.transaction().execute(async (trx) => {
      const before = await this.visibleUser(ctx, id, trx);
      await this.assertCanManage(ctx, id, trx);
      if (patch.disabled && id === ctx.actor.userId) throw new ValidationError({ 'zh-CN': '不能停用自己的账号', en: 'You cannot disable your own account' });
      const values: { display_name?: string; disabled?: boolean } = {};
      if (patch.displayName !== undefined) values.display_name = patch.displayName;
      if (patch.disabled !== undefined) values.disabled = patch.disabled;
      const after = (await this.users.update(id, values, trx))!;
      if (patch.disabled) await this.users.deleteSessionsOf(id, trx);
      await recordAudit(trx, ctx, { action: 'user.update', targetType: 'user', targetId: id, before: userView(before), after: userView(after) });
      return userView(after);
    });
  }

  /** Managing an account needs user.write over every unit the account is granted on: a street admin cannot reset a district admin. */
  private async assertCanManage(ctx: RequestContext, id: number, q: Transaction<Database>) {
    if (isSystem(ctx.actor)) return;
    const grants = await this.users.grantRows(id, q);
    const outside = grants.filter((g) => !hasPermissionAt(ctx.actor, 'user.write', g.unit_path));
    if (outside.length || (!grants.length && !scopePaths(ctx.actor, 'user.write').includes('/'))) {
      if (!grants.length || grants.some((g) => hasPermissionAt(ctx.actor, 'user.read', g.unit_path))) throw new ForbiddenError();
      throw new NotFoundError(USER);
    }
  }

  async resetPassword(ctx: RequestContext, id: number) {
    return this.db.transaction().execute(async (trx) => {
      await this.visibleUser(ctx, id, trx);
      await this.assertCanManage(ctx, id, trx);
      const password = generatePassword();
      await this.users.update(id, { password_hash: await hashPassword(password), must_change_password: true, failed_logins: 0, locked_until: null }, trx);
      await this.users.deleteSessionsOf(id, trx);
      await recordAudit(trx, ctx, { action: 'user.password_reset', targetType: 'user', targetId: id });
      return { oneTimePassword: password };
    });
  }

  async addGrant(ctx: RequestContext, userId: number, input: { role: RoleCode; unitId: number }) {
    return this.db.transaction().execute(async (trx) => {
      await this.visibleUser(ctx, userId, trx);
      const unit = await this.grid.unit(input.unitId, trx);
      if (!unit) throw new NotFoundError(UNIT);
      this.assertCanGrant(ctx, input.role, unit.path);
      if (unit.archived_at) throw new ConflictError({ 'zh-CN': '单元已归档', en: 'The unit is archived' }, 'archived');
      const grant = await this.users.insertGrant({ user_id: userId, role_code: input.role, district_id: unit.district_id, unit_id: unit.id, granted_by: ctx.actor.userId || null }, trx);
      if (!grant) throw new ConflictError({ 'zh-CN': '该用户在此单元已有此角色', en: 'The user already holds this role on this unit' }, 'duplicate');
      await recordAudit(trx, ctx, { action: 'grant.create', targetType: 'role_grant', targetId: grant.id, unit, after: grant });
      return { id: grant.id, role: grant.role_code, unitId: unit.id, unitName: unit.name, unitKind: unit.kind_code };
    });
  }

  async revokeGrant(ctx: RequestContext, grantId: number) {
    await this.db.transaction().execute(async (trx) => {
      const grant = await this.users.findGrant(grantId, trx);
      if (!grant) throw new NotFoundError(GRANT);
      authorizeAt(ctx.actor, 'grant.write', grant.unit_path, GRANT, 'user.read');
      if (grant.user_id === ctx.actor.userId) throw new ValidationError({ 'zh-CN': '不能撤销自己的授权', en: 'You cannot revoke your own grant' });
      this.assertCanGrant(ctx, grant.role_code as RoleCode, grant.unit_path);
      await this.users.deleteGrant(grantId, trx);
      const unit = await this.grid.unit(grant.unit_id, trx);
      await recordAudit(trx, ctx, { action: 'grant.delete', targetType: 'role_grant', targetId: grantId, unit, before: grant });
    });
  }
}

function userView(u: { id: number; username: string; display_name: string; must_change_password: boolean; disabled: boolean; locked_until: Date | null; created_at: Date }) {
  return {
    id: u.id,
    username: u.username,
    displayName: u.display_name,
    mustChangePassword: u.must_change_password,
    disabled: u.disabled,
    locked: u.locked_until !== null && u.locked_until > new Date(),
    createdAt: u.created_at.toISOString(),
  };
}
