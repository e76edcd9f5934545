// The HTTP workload shared by the http and memory suites: the product server and the bare baseline server
// on the same data, a read route and a write route on each, driven with the same load.
//   read:  product GET /api/units/:id (the unit page: session, unit, ancestors, party organisation, posts,
//          linked organisations, boundary, child count, roles)  vs  bare GET /units/:id (one SELECT)
//   write: product POST /api/people (session, CSRF, validation, locked unit, insert, audit row, one
//          transaction)  vs  bare POST /people (one INSERT)
// Requests rotate over every community and grid of the locality.
import type { SuiteContext, Scratch } from '../harness.ts';
import { withConnections } from '../harness.ts';
import { sampleVia, type Locality, type Sample } from './locality.ts';
import { login, probe, runLoad, startServer, type LoadResult, type LoadSpec, type RunningServer, type Session } from './servers.ts';

export const ROUTES = ['read', 'write'] as const;
export type Route = (typeof ROUTES)[number];

export interface ServerPair {
  product: RunningServer;
  bare: RunningServer;
  session: Session;
  sample: Sample;
}

/** Starts both servers (side by side; PGlite gets a copy of the directory for the second process) and checks both routes answer. */
export async function startPair(ctx: SuiteContext, scratch: Scratch, locality: Locality): Promise<ServerPair> {
  const sample = await withConnections(scratch, ({ product }) => sampleVia(product.db));
  const bareScratch = await scratch.copy();
  if (bareScratch.dataDir) ctx.cleanup.add('remove the bare server copy', () => bareScratch.drop());
  ctx.log('starting the product and the bare server…');
  const [product, bare] = await Promise.all([
    startServer('product', scratch, ctx.cleanup, { logLevel: ctx.options.logLevel }),
    startServer('bare', bareScratch, ctx.cleanup, { logLevel: ctx.options.logLevel }),
  ]);
  const session = await login(product.baseUrl, locality.user.username, locality.user.password);
  const pair = { product, bare, session, sample };
  for (const route of ROUTES) {
    for (const server of [product, bare]) {
      const spec = loadSpec(pair, server, route, ctx.options.connections, 1);
      const first = spec.request(0);
      await probe(server.baseUrl, spec.method, first.path, spec.headers ?? {}, first.body);
    }
  }
  return pair;
}

export function loadSpec(pair: ServerPair, server: RunningServer, route: Route, connections: number, durationS: number): LoadSpec {
  const units = [...pair.sample.communityIds, ...pair.sample.gridIds];
  const grids = pair.sample.gridIds;
  const districtId = pair.sample.district.districtId;
  const isProduct = server.kind === 'product';
  const headers: Record<string, string> = isProduct ? { cookie: pair.session.cookie, ...(route === 'write' ? { 'x-csrf-token': pair.session.csrf } : {}) } : {};
  if (route === 'read') {
    return { baseUrl: server.baseUrl, method: 'GET', headers, connections, durationS, request: (i) => ({ path: `${isProduct ? '/api' : ''}/units/${units[i % units.length]}` }) };
  }
  return {
    baseUrl: server.baseUrl,
    method: 'POST',
    headers,
    connections,
    durationS,
    request: (i) => {
      const unitId = grids[i % grids.length];
      return isProduct ? { path: '/api/people', body: { unitId, name: '压测人员' } } : { path: '/people', body: { districtId, unitId, name: '压测人员' } };
    },
  };
}

/** A short unmeasured load first (JIT, caches, pools), then the measured one. */
export async function measureRoute(ctx: SuiteContext, pair: ServerPair, server: RunningServer, route: Route): Promise<LoadResult> {
  const { connections, duration, smoke } = ctx.options;
  const spec = (durationS: number) => loadSpec(pair, server, route, connections, durationS);
  await runLoad(smoke ? { ...spec(duration), amount: connections } : spec(Math.min(2, duration / 5)));
  const result = await runLoad(smoke ? { ...spec(duration), amount: connections * 5 } : spec(duration));
  ctx.log(`${server.kind} ${route}: ${result.requestsPerSec.toFixed(0)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms (${result.requests} requests)`);
  return result;
}

/** How the load was shaped, for figure names. */
export function loadLabel(options: SuiteContext['options']) {
  return options.smoke ? `${options.connections} connections, ${options.connections * 5} requests` : `${options.connections} connections × ${options.duration} s`;
}

export const ROUTE_NAMES: Record<Route, string> = {
  read: 'GET /api/units/:id (unit page) vs bare GET /units/:id (one SELECT)',
  write: 'POST /api/people (audited write) vs bare POST /people (one INSERT)',
};
