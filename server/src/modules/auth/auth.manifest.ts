import type { ModuleManifest } from '../../platform/module.ts';
import { authRoutes } from './auth.routes.ts';

export const authModule: ModuleManifest = {
  name: 'auth',
  permissions: [],
  routes: authRoutes,
  tag: { name: 'auth', description: 'Log in and out, the current session, password change' },
};
