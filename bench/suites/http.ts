// http: throughput and latency of a read and an audited write route of the real server process under a
// fixed concurrency, against a bare Fastify + driver server on the same engine and data (see docs/bench.md).
import { ENGINES, higherBetter, lowerBetter, type Figure, type Suite } from '../harness.ts';
import { preparedScratch, SCALES } from '../lib/locality.ts';
import type { LoadResult } from '../lib/servers.ts';
import { loadLabel, measureRoute, ROUTE_NAMES, ROUTES, startPair, type Route } from '../lib/workload.ts';

export const httpSuite: Suite = {
  name: 'http',
  description: 'req/s and p50/p99 of GET /api/units/:id and POST /api/people (autocannon, 127.0.0.1) vs a bare Fastify + driver server',
  engines: ENGINES,
  scales: SCALES,
  defaultScale: 'street',
  async run(ctx) {
    const { scratch, locality } = await preparedScratch(ctx, 'http');
    const pair = await startPair(ctx, scratch, locality);
    const results = {} as Record<Route, { product: LoadResult; bare: LoadResult }>;
    for (const route of ROUTES) {
      const product = await measureRoute(ctx, pair, pair.product, route);
      const bare = await measureRoute(ctx, pair, pair.bare, route);
      results[route] = { product, bare };
    }
    await Promise.all([pair.product.stop(), pair.bare.stop()]);
    const load = loadLabel(ctx.options);
    const figures: Figure[] = [];
    for (const route of ROUTES) {
      const { product, bare } = results[route];
      figures.push(higherBetter(`${ROUTE_NAMES[route]}, ${load}: throughput`, 'req/s', product.requestsPerSec, bare.requestsPerSec));
      figures.push(lowerBetter(`${ROUTE_NAMES[route]}: latency p50`, 'ms', product.p50Ms, bare.p50Ms));
      figures.push(lowerBetter(`${ROUTE_NAMES[route]}: latency p99`, 'ms', product.p99Ms, bare.p99Ms));
    }
    return figures;
  },
};
