// memory: resident memory of the real server process idle and under the http suite's load, against the bare
// Fastify + driver server under the same load (see docs/bench.md). Read from /proc/<pid>/status.
import { ENGINES, lowerBetter, MiB, procMemory, sampleRss, type Figure, type Suite } from '../harness.ts';
import { preparedScratch, SCALES } from '../lib/locality.ts';
import type { RunningServer } from '../lib/servers.ts';
import { loadLabel, measureRoute, ROUTES, startPair, type ServerPair } from '../lib/workload.ts';
import type { SuiteContext } from '../harness.ts';

interface Memory {
  idleKiB: number;
  loadMaxKiB: number;
  peakKiB: number;
}

async function memoryOf(ctx: SuiteContext, pair: ServerPair, server: RunningServer): Promise<Memory> {
  // Idle: started, answered its probes (and, for the product, a login), then left alone to settle.
  await new Promise((r) => setTimeout(r, ctx.options.smoke ? 200 : 3000));
  const idleKiB = procMemory(server.pid).rssKiB;
  const sampler = sampleRss(server.pid);
  for (const route of ROUTES) await measureRoute(ctx, pair, server, route);
  const sampled = sampler.stop();
  return { idleKiB, loadMaxKiB: sampled.maxRssKiB, peakKiB: sampled.hwmKiB };
}

export const memorySuite: Suite = {
  name: 'memory',
  description: 'server RSS idle and under the http load (VmRSS/VmHWM) vs the bare Fastify + driver server',
  engines: ENGINES,
  scales: SCALES,
  defaultScale: 'liwan',
  async run(ctx) {
    const { scratch, locality } = await preparedScratch(ctx, 'memory');
    const pair = await startPair(ctx, scratch, locality);
    const product = await memoryOf(ctx, pair, pair.product);
    const bare = await memoryOf(ctx, pair, pair.bare);
    await Promise.all([pair.product.stop(), pair.bare.stop()]);
    const load = `GET /api/units/:id then POST /api/people, ${loadLabel(ctx.options)} each`;
    const engineNote = ctx.options.engine === 'pglite' ? 'the server process, PGlite inside it' : 'the server process, PostgreSQL backends not counted';
    const figures: Figure[] = [
      lowerBetter(`server RSS idle after start-up and login (${engineNote}) vs bare Fastify + driver`, 'MiB', MiB(product.idleKiB), MiB(bare.idleKiB)),
      lowerBetter(`server RSS under load, largest 100 ms sample (${load})`, 'MiB', MiB(product.loadMaxKiB), MiB(bare.loadMaxKiB)),
      lowerBetter('server peak RSS (VmHWM) over start-up and load', 'MiB', MiB(product.peakKiB), MiB(bare.peakKiB)),
    ];
    return figures;
  },
};
