import path from 'node:path';
import type { ModuleManifest } from '../../platform/module.ts';
import { usersRoutes } from './users.routes.ts';
import { seedUsersDemo } from './users.seed.ts';

export const usersModule: ModuleManifest = {
  name: 'users',
  migrationsDir: path.join(import.meta.dirname, 'migrations'),
  permissions: ['user.read', 'user.write', 'grant.write'],
  menu: [{ path: '/users', title: { 'zh-CN': '用户与授权', en: 'Users & grants' }, permission: 'user.read', icon: 'User', order: 70 }],
  routes: usersRoutes,
  seedDemo: seedUsersDemo,
  tag: { name: 'users', description: 'Accounts and role grants on org units' },
};
