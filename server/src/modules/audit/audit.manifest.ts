import type { Db } from '../../db/connection.ts';
import type { ModuleManifest, ReliabilityHooks } from '../../platform/module.ts';
import { auditRoutes } from './audit.routes.ts';

// Reliability hooks (docs/reliability.md): an audit row is in scope where the unit it concerns is; rows about no
// unit (logins) belong to nobody's subtree.
const unitsOf = (db: Db) => db.selectFrom('org_unit').select(['id', 'path']).orderBy('id').execute();

const auditReliability: ReliabilityHooks = {
  leakProbes: [
    {
      route: '/api/audit',
      permission: 'audit.read',
      visibleWith: 'unit.read',
      missing: '/api/audit?unitId=9007199254740991&limit=200',
      objects: async (db) => (await unitsOf(db)).map((u) => ({ url: `/api/audit?unitId=${u.id}&limit=200`, unitPath: u.path })),
    },
  ],
  leakListProbes: [
    {
      route: '/api/audit',
      permission: 'audit.read',
      urls: async (db) => ['/api/audit?limit=200', '/api/audit?action=unit.&limit=200', ...(await unitsOf(db)).map((u) => `/api/audit?unitId=${u.id}&limit=200`)],
      itemUnitPaths: async (body, db) => {
        // the JSON the suite received from GET /api/audit
        const ids = (body as { items: { id: number }[] }).items.map((i) => i.id);
        if (!ids.length) return [];
        const rows = new Map((await db.selectFrom('audit_log').select(['id', 'unit_path']).where('id', 'in', ids).execute()).map((r) => [Number(r.id), r.unit_path]));
        return ids.map((id) => rows.get(id) ?? []);
      },
    },
  ],
  loadReads: async () => ['/api/audit?limit=50', '/api/audit?action=unit.&limit=20'],
};


export const auditModule: ModuleManifest = {
  name: 'audit',
  permissions: ['audit.read'],
  menu: [{ path: '/audit', title: { 'zh-CN': '审计日志', en: 'Audit log' }, permission: 'audit.read', icon: 'Document', order: 90 }],
  routes: auditRoutes,
  reliability: auditReliability,
  tag: { name: 'audit', description: 'Who wrote what, when and from where' },
};
