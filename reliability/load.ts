// Load suite: 200 connections of mixed reads (unit detail, children with coverage badges, coverage reports,
// searches, lists — the modules' loadReads) and writes (the modules' workload, with the session cookie and
// CSRF header) against a real server process on loopback. Pass: no 5xx, no connection errors or timeouts;
// then the database must still satisfy every module invariant. Reports req/s and latency percentiles.
//
//   npx tsx reliability/load.ts [--engine pglite|postgres|both] [--full] [--seed N] [--duration S] [--connections N]
import autocannon from 'autocannon';
import type { Engine } from '../server/src/db/connection.ts';
import type { ReliabilityRequest, WorkloadStep } from '../server/src/platform/module.ts';
import { Random } from '../server/src/platform/random.ts';
import { createScratch } from './lib/databases.ts';
import { seedLocality } from './lib/seed.ts';
import { spawnServer, type ServerProcess } from './lib/server.ts';
import { loggedIn } from './lib/http.ts';
import { Report, runFromCli } from './lib/report.ts';
import { loadReads, workloadObjects, workloadSteps } from './lib/hooks.ts';
import { Workload } from './lib/workload.ts';
import { checkInvariants } from './lib/state-checks.ts';
import { intOption, parseSuiteArgs, type SuiteOptions } from './lib/options.ts';
import { isMain } from './lib/main.ts';

export interface LoadOptions extends SuiteOptions {
  durationSec?: number;
  connections?: number;
  /** share of requests that are writes */
  writeShare?: number;
  entry?: string;
  serverEnv?: Record<string, string>;
}

interface Pending {
  step: WorkloadStep;
  request: ReliabilityRequest;
}

export async function runLoad(o: LoadOptions): Promise<Report> {
  const report = new Report('load', o.engine, o.full ? 'full' : 'ci', o.seed);
  const duration = o.durationSec ?? (o.full ? 60 : 5);
  const connections = o.connections ?? 200;
  const writeShare = o.writeShare ?? 0.25;
  const rng = new Random(o.seed);
  const scratch = await createScratch(o.engine, { pgUrl: o.pgUrl });
  let server: ServerProcess | null = null;
  try {
    const seeded = await scratch.open();
    const locality = await seedLocality(seeded, { streets: 2, communitiesPerStreet: 4, gridsPerCommunity: 3, buildingsPerGrid: 2 }, (l) => [
      { username: 'writer', role: 'district_admin', unitId: l.districts[0] },
      { username: 'reader', role: 'auditor', unitId: l.districts[0] },
    ], o.seed);
    const reads = await loadReads(seeded.db);
    const workload = new Workload(workloadSteps(), o.seed, `l${o.seed}`);
    workload.load(await workloadObjects(seeded.db));
    await seeded.close();

    server = spawnServer({ env: { ...scratch.serverEnv(), ...o.serverEnv }, entry: o.entry });
    const base = await server.ready;
    const writer = await loggedIn(base, 'writer', locality.password);
    const reader = await loggedIn(base, 'reader', locality.password);
    const serverErrors: string[] = [];
    let writesAcked = 0;
    let writesSent = 0;
    const contexts = new WeakMap<object, Pending | null>();

    const result = await autocannon({
      url: base,
      connections,
      duration,
      timeout: 30,
      requests: [
        {
          setupRequest: (req, context) => {
            const next = rng.chance(writeShare) ? workload.next() : null;
            contexts.set(context, next);
            if (next) {
              writesSent++;
              return {
                ...req,
                method: next.request.method,
                path: next.request.url,
                headers: { cookie: writer.cookie!, 'x-csrf-token': writer.csrf!, 'content-type': 'application/json' },
                body: JSON.stringify(next.request.body ?? {}),
              };
            }
            return { ...req, method: 'GET', path: rng.pick(reads), headers: { cookie: reader.cookie! }, body: undefined };
          },
          onResponse: (status, body, context) => {
            const pending = contexts.get(context);
            if (status >= 500 && serverErrors.length < 50) serverErrors.push(`${pending ? `${pending.request.method} ${pending.request.url}` : 'GET'} → ${status} ${body.slice(0, 200)}`);
            if (pending && status < 300) {
              writesAcked++;
              try {
                workload.acknowledged(pending.step, pending.request, JSON.parse(body));
              } catch {
                // an empty body (204) makes nothing new to act on
              }
            }
          },
        },
      ],
    });

    const codes = Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => `${code}×${s.count ?? 0}`).join(' ');
    report.check('no 5xx answers', result['5xx'] ? [`${result['5xx']} answers were 5xx`, ...serverErrors] : []);
    report.check('no connection errors', result.errors - result.timeouts > 0 ? [`${result.errors - result.timeouts} connection errors`] : []);
    report.check('no timeouts (30 s)', result.timeouts ? [`${result.timeouts} requests timed out`] : []);
    report.check('requests were made', result.requests.total > 0 ? [] : ['no request completed']);
    report.figure('connections', connections);
    report.figure('duration', result.duration, 's');
    report.figure('requests', result.requests.total);
    report.figure('throughput', result.requests.average, 'req/s');
    report.figure('latency p50', result.latency.p50, 'ms');
    report.figure('latency p90', result.latency.p90, 'ms');
    report.figure('latency p99', result.latency.p99, 'ms');
    report.figure('latency max', result.latency.max, 'ms');
    report.figure('writes sent / acknowledged', `${writesSent} / ${writesAcked}`);
    report.figure('answers by status', codes || 'none');

    const how = await server.stop();
    report.check('the server shuts down cleanly on SIGTERM after the load', how === '0' ? [] : [`exit: ${how}`]);
    server = null;
    const after = await scratch.open();
    try {
      await checkInvariants(after.db, report, undefined, 'after the load: ');
    } finally {
      await after.close();
    }
  } finally {
    await server?.kill9();
    await scratch.drop();
  }
  return report;
}

if (isMain(import.meta.url)) {
  const { engines, options, rest } = parseSuiteArgs();
  await runFromCli(engines, (engine) =>
    runLoad({ ...options, engine: engine as Engine, durationSec: rest.duration ? intOption(rest.duration, 5) : undefined, connections: rest.connections ? intOption(rest.connections, 200) : undefined }),
  );
}
