import type { ModuleManifest } from '../../platform/module.ts';
import { auditRoutes } from './audit.routes.ts';

export const auditModule: ModuleManifest = {
  name: 'audit',
  permissions: ['audit.read'],
  menu: [{ path: '/audit', title: { 'zh-CN': '审计日志', en: 'Audit log' }, permission: 'audit.read', icon: 'Document', order: 90 }],
  routes: auditRoutes,
  tag: { name: 'audit', description: 'Who wrote what, when and from where' },
};
