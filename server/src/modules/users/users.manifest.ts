import path from 'node:path';
import type { Db } from '../../db/connection.ts';
import type { ModuleManifest, ReliabilityHooks } from '../../platform/module.ts';
import { ROLES } from '../../../../shared/permissions.ts';
import { usersRoutes } from './users.routes.ts';
import { seedUsersDemo } from './users.seed.ts';

// Reliability hooks (docs/reliability.md): accounts are visible where one of their grants lies in scope.
async function grantPathsByUser(db: Db) {
  const rows = await db.selectFrom('role_grant as g').innerJoin('org_unit as u', 'u.id', 'g.unit_id').select(['g.user_id', 'u.path']).execute();
  const byUser = new Map<number, string[]>();
  for (const r of rows) byUser.set(Number(r.user_id), [...(byUser.get(Number(r.user_id)) ?? []), r.path]);
  return byUser;
}

const usersReliability: ReliabilityHooks = {
  leakProbes: [
    {
      route: '/api/users/:id',
      permission: 'user.read',
      missing: '/api/users/9007199254740991',
      objects: async (db) => {
        const paths = await grantPathsByUser(db);
        return (await db.selectFrom('app_user').select('id').orderBy('id').execute()).map((u) => ({ url: `/api/users/${u.id}`, unitPath: paths.get(Number(u.id)) ?? [] }));
      },
    },
  ],
  leakListProbes: [
    {
      route: '/api/users',
      permission: 'user.read',
      urls: async () => ['/api/users?limit=500', '/api/users?search=a&limit=500', '/api/users?limit=5&offset=3'],
      itemUnitPaths: async (body, db) => {
        const paths = await grantPathsByUser(db);
        // the JSON the suite received from GET /api/users
        return (body as { items: { id: number }[] }).items.map((i) => paths.get(i.id) ?? []);
      },
    },
  ],
  leakExempt: [{ route: '/api/roles', reason: 'the built-in roles and their permissions: the same catalogue for everyone' }],
  fuzzFixtures: async (db) => ({
    params: {
      '/api/users/:id': { id: (await db.selectFrom('app_user').select('id').orderBy('id').limit(50).execute()).map((u) => Number(u.id)) },
      '/api/grants/:id': { id: (await db.selectFrom('role_grant').select('id').orderBy('id').limit(50).execute()).map((g) => Number(g.id)) },
    },
    fields: { role: [...ROLES], username: ['admin', 'district_admin', 'x'.repeat(40)] },
  }),
  workload: [
    {
      name: 'create an account on a grid',
      weight: 0.3,
      request: (v) => {
        const unitId = v.pick('unit:grid');
        return unitId === undefined ? null : { method: 'POST', url: '/api/users', body: { username: v.uniqueName('acct'), displayName: v.uniqueName('网格员'), role: 'grid_worker', unitId } };
      },
      // the JSON the workload received from POST /api/users
      evidence: (res) => ({ action: 'user.create', targetId: (res as { user: { id: number } }).user.id }),
    },
  ],
  loadReads: async () => ['/api/users?limit=20'],
  invariants: [
    {
      name: 'every account has its user.create audit row',
      sql: `select a.id from app_user a where not exists (select 1 from audit_log l where l.action = 'user.create' and l.target_id = a.id::text)`,
    },
    {
      name: "every grant has its grant.create audit row (or came with its account's user.create), and every grant.create row its grant unless a later grant.delete",
      sql: `select 'grant' as side, g.id::text as id from role_grant g
              where not exists (select 1 from audit_log l where l.action = 'grant.create' and l.target_id = g.id::text)
                and not exists (select 1 from audit_log l where l.action = 'user.create' and l.target_id = g.user_id::text
                                  and l.after -> 'grant' ->> 'role' = g.role_code and l.after -> 'grant' ->> 'unitId' = g.unit_id::text)
            union all
            select 'audit', l.target_id from audit_log l where l.action = 'grant.create'
              and not exists (select 1 from role_grant g where g.id::text = l.target_id)
              and not exists (select 1 from audit_log d where d.action = 'grant.delete' and d.target_id = l.target_id and d.id > l.id)`,
    },
  ],
};


export const usersModule: ModuleManifest = {
  name: 'users',
  migrationsDir: path.join(import.meta.dirname, 'migrations'),
  permissions: ['user.read', 'user.write', 'grant.write'],
  menu: [{ path: '/users', title: { 'zh-CN': '用户与授权', en: 'Users & grants' }, permission: 'user.read', icon: 'User', order: 70 }],
  routes: usersRoutes,
  seedDemo: seedUsersDemo,
  reliability: usersReliability,
  tag: { name: 'users', description: 'Accounts and role grants on org units' },
};
