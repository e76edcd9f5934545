// Accounts and role grants: SQL only.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/types.ts';
import type { Grant } from '../../platform/context.ts';
import { isRoleCode } from '../../../../shared/permissions.ts';

type Q = Kysely<Database> | Transaction<Database>;

export const USER_PUBLIC_COLUMNS = ['id', 'username', 'display_name', 'must_change_password', 'disabled', 'locked_until', 'created_at'] as const;

export class UsersRepository {
  constructor(private readonly db: Kysely<Database>) {}

  findByUsername(username: string, q: Q = this.db) {
    return q.selectFrom('app_user').selectAll().where((eb) => eb(eb.fn('lower', ['username']), '=', username.toLowerCase())).executeTakeFirst();
  }

  findById(id: number, q: Q = this.db) {
    return q.selectFrom('app_user').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insert(values: { username: string; display_name: string; password_hash: string; must_change_password: boolean }, q: Q = this.db) {
    return q.insertInto('app_user').values(values).returning(USER_PUBLIC_COLUMNS).executeTakeFirstOrThrow();
  }

  update(id: number, values: Partial<{ display_name: string; disabled: boolean; password_hash: string; must_change_password: boolean; failed_logins: number; locked_until: Date | null; password_changed_at: Date }>, q: Q = this.db) {
    return q.updateTable('app_user').set(values).where('id', '=', id).returning(USER_PUBLIC_COLUMNS).executeTakeFirst();
  }

  /** Counts a failed login and locks the account when the count reaches the limit; returns the new state. */
  recordFailedLogin(id: number, maxFailures: number, lockUntil: Date, q: Q = this.db) {
    return q
      .updateTable('app_user')
      .set((eb) => ({
        failed_logins: eb('failed_logins', '+', 1),
        locked_until: eb.case().when('failed_logins', '>=', maxFailures - 1).then(lockUntil).else(eb.ref('locked_until')).end(),
      }))
      .where('id', '=', id)
      .returning(['failed_logins', 'locked_until'])
      .executeTakeFirst();
  }

  async grantsOf(userId: number, q: Q = this.db): Promise<Grant[]> {
    const rows = await q
      .selectFrom('role_grant as g')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'g.district_id').onRef('u.id', '=', 'g.unit_id'))
      .select(['g.id', 'g.role_code', 'g.district_id', 'g.unit_id', 'u.path'])
      .where('g.user_id', '=', userId)
      .where('u.archived_at', 'is', null)
      .orderBy('g.id')
      .execute();
    return rows.filter((r) => isRoleCode(r.role_code)).map((r) => ({
      grantId: r.id,
      role: r.role_code as Grant['role'],
      districtId: r.district_id,
      unitId: r.unit_id,
      unitPath: r.path,
    }));
  }

  /** Users holding at least one grant inside one of `paths` (or every user when a path is the root '/'). */
  async listInScope(paths: string[], filter: { search?: string; limit: number; offset: number }, q: Q = this.db) {
    if (!paths.length) return { total: 0, items: [] };
    let base = q.selectFrom('app_user as a');
    const everyone = paths.includes('/');
    if (!everyone) {
      base = base.where((eb) =>
        eb.exists(
          eb
            .selectFrom('role_grant as g')
            .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'g.district_id').onRef('u.id', '=', 'g.unit_id'))
            .whereRef('g.user_id', '=', 'a.id')
            .where((e) => e.or(paths.map((p) => e('u.path', 'like', `${p}%`))))
            .select('g.id'),
        ),
      );
    }
    if (filter.search) {
      const like = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      base = base.where((eb) => eb.or([eb('a.username', 'ilike', like), eb('a.display_name', 'ilike', like)]));
    }
    const total = Number((await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const items = await base
      .select(['a.id', 'a.username', 'a.display_name', 'a.must_change_password', 'a.disabled', 'a.locked_until', 'a.created_at'])
      .orderBy('a.id')
      .limit(filter.limit)
      .offset(filter.offset)
      .execute();
    return { total, items };
  }

  grantRows(userId: number, q: Q = this.db) {
    return q
      .selectFrom('role_grant as g')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'g.district_id').onRef('u.id', '=', 'g.unit_id'))
      .select(['g.id', 'g.role_code', 'g.unit_id', 'g.district_id', 'g.granted_at', 'u.name as unit_name', 'u.path as unit_path', 'u.kind_code as unit_kind'])
      .where('g.user_id', '=', userId)
      .orderBy('g.id')
      .execute();
  }

  insertGrant(values: { user_id: number; role_code: string; district_id: number; unit_id: number; granted_by: number | null }, q: Q = this.db) {
    return q.insertInto('role_grant').values(values).onConflict((oc) => oc.columns(['user_id', 'role_code', 'unit_id']).doNothing()).returningAll().executeTakeFirst();
  }

  findGrant(id: number, q: Q = this.db) {
    return q
      .selectFrom('role_grant as g')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'g.district_id').onRef('u.id', '=', 'g.unit_id'))
      .select(['g.id', 'g.user_id', 'g.role_code', 'g.unit_id', 'g.district_id', 'u.path as unit_path'])
      .where('g.id', '=', id)
      .executeTakeFirst();
  }

  deleteGrant(id: number, q: Q = this.db) {
    return q.deleteFrom('role_grant').where('id', '=', id).executeTakeFirst();
  }

  deleteSessionsOf(userId: number, q: Q = this.db) {
    return q.deleteFrom('user_session').where('user_id', '=', userId).execute();
  }
}
