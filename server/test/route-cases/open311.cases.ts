// Route-matrix rows for the Open311 key management (server/src/modules/open311/open311.routes.ts, the routes
// under /api; the public /open311/v2 routes are tested in open311.test.ts): spread into CASES in
// route-matrix.test.ts. The shape is the matrix's RouteCase, restated so this file needs nothing from a test
// file; prepare makes its clients through the service, on the matrix's database (reached through the grid
// service it is handed). Only district_admin holds demand.config, so "outside" is a caller without it: 403 for
// the list and creation (the permission is held nowhere), 404 for a client they cannot see.
import type { TinyLocality } from '../fixtures.ts';
import type { GridService } from '../../src/modules/grid/grid.service.ts';
import type { ResidentsService } from '../../src/modules/basedata/residents.service.ts';
import { systemContext } from '../../src/platform/context.ts';
import { Open311ClientsService } from '../../src/modules/open311/open311.service.ts';

type Ids = TinyLocality & Record<string, number>;
interface Prep {
  grid: GridService;
  residents: ResidentsService;
  f: TinyLocality;
}
interface Open311Case {
  method: 'GET' | 'POST';
  route: string;
  prepare?: (h: Prep) => Promise<Record<string, number>>;
  url: (ids: Ids) => string;
  body?: (ids: Ids) => unknown;
  as: string;
  status: number;
  outside?: { as: string; url?: (ids: Ids) => string; body?: (ids: Ids) => unknown; status?: number };
  bad?: { url?: (ids: Ids) => string; body: (ids: Ids) => unknown; status?: number }[];
}

const sys = systemContext('matrix');
/** the matrix's clock (test/app.ts TestClock) */
const now = () => new Date('2026-11-20T02:00:00Z');
let counter = 0;
const client = async (p: Prep, unitId = p.f.communityA) => (await new Open311ClientsService(p.grid.repo.db, now).create(sys, { name: `矩阵客户端${++counter}`, unitId })).id;

export const OPEN311_CASES: Open311Case[] = [
  { method: 'GET', route: '/api/open311/clients', url: () => '/api/open311/clients?includeRevoked=true', as: 'district_admin', status: 200, outside: { as: 'street_admin', status: 403 },
    bad: [{ url: () => '/api/open311/clients?bogus=1', body: () => undefined }, { url: () => '/api/open311/clients?includeRevoked=perhaps', body: () => undefined }] },
  { method: 'POST', route: '/api/open311/clients', url: () => '/api/open311/clients', body: (i) => ({ name: '12345 热线', unitId: i.communityA }), as: 'district_admin', status: 201, outside: { as: 'street_admin', status: 403 },
    bad: [{ body: (i) => ({ name: '', unitId: i.communityA }) }, { body: (i) => ({ name: '   ', unitId: i.communityA }) }, { body: () => ({ name: '热线' }) }, { body: (i) => ({ name: '热线', unitId: i.communityA, key: 'mine' }) },
      { body: () => ({ name: '热线', unitId: 999_999_999 }), status: 404 }] },
  { method: 'POST', route: '/api/open311/clients/:id/revoke', prepare: async (p) => {
      const revoked = await client(p);
      await new Open311ClientsService(p.grid.repo.db, now).revoke(sys, revoked);
      return { open311Client: await client(p), revokedOpen311Client: revoked };
    }, url: (i) => `/api/open311/clients/${i.open311Client}/revoke`, as: 'district_admin', status: 200, outside: { as: 'street_admin' },
    bad: [{ url: () => '/api/open311/clients/abc/revoke', body: () => undefined }, { url: () => '/api/open311/clients/999999999/revoke', body: () => undefined, status: 404 },
      { url: (i) => `/api/open311/clients/${i.revokedOpen311Client}/revoke`, body: () => undefined, status: 409 }] },
];
