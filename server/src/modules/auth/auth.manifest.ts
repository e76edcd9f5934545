import type { ModuleManifest } from '../../platform/module.ts';
import { authRoutes } from './auth.routes.ts';

export const authModule: ModuleManifest = {
  name: 'auth',
  permissions: [],
  routes: authRoutes,
  reliability: { leakExempt: [{ route: '/api/auth/session', reason: "the caller's own session: who they are, their grants and menu" }] },
  tag: { name: 'auth', description: 'Log in and out, the current session, password change' },
};
