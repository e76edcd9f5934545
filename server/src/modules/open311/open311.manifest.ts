import type { ModuleManifest, ReliabilityHooks } from '../../platform/module.ts';
import { systemContext } from '../../platform/context.ts';
import { open311ClientRoutes, open311Routes } from './open311.routes.ts';
import { Open311ClientsService } from './open311.service.ts';

// Reliability hooks (docs/reliability.md). The suites only reach /api, so they see the key management; the
// public /open311/v2 routes are covered by open311.test.ts.
const open311Reliability: ReliabilityHooks = {
  // a client on a few communities and streets of each locality, so the list probe has something to leak
  seed: async ({ db, now, units }) => {
    const clients = new Open311ClientsService(db, now);
    const sys = systemContext('reliability-seed');
    const targets = [...units.filter((u) => u.kind === 'street').slice(0, 2), ...units.filter((u) => u.kind === 'community').slice(0, 4)];
    for (const [i, u] of targets.entries()) await clients.create(sys, { name: `可靠性测试客户端${i + 1}`, unitId: u.id });
  },
  leakListProbes: [
    {
      route: '/api/open311/clients',
      permission: 'demand.config',
      urls: async () => ['/api/open311/clients', '/api/open311/clients?includeRevoked=true'],
      itemUnitPaths: async (body, db) => {
        const rows = await db
          .selectFrom('open311_client as c')
          .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'c.district_id').onRef('u.id', '=', 'c.unit_id'))
          .select(['c.id', 'u.path'])
          .execute();
        const paths = new Map(rows.map((r) => [Number(r.id), r.path]));
        // the JSON the suite received from GET /api/open311/clients
        return (body as { items: { id: number }[] }).items.map((i) => paths.get(i.id) ?? '(unknown client)');
      },
    },
  ],
  fuzzFixtures: async (db) => {
    const ids = (await db.selectFrom('open311_client').select('id').orderBy('id').limit(10).execute()).map((r) => Number(r.id));
    const units = (await db.selectFrom('org_unit').select('id').orderBy('id').limit(10).execute()).map((r) => Number(r.id));
    return { params: { '/api/open311/clients/:id/revoke': { id: ids } }, fields: { unitId: units } };
  },
};

// Open311 GeoReport v2: the demand loop as a standard API for hotline systems and city apps.
export const open311Module: ModuleManifest = {
  name: 'open311',
  permissions: [],
  routes: open311ClientRoutes,
  rootRoutes: open311Routes,
  reliability: open311Reliability,
  tag: { name: 'open311', description: 'Open311 GeoReport v2 (/open311/v2) and its API keys' },
};
