// Crash suite: a real server process under sustained writes (units, party organisations, posts, renames,
// moves — the modules' workload, through the HTTP API with login and CSRF) is killed with SIGKILL at random
// moments and restarted on the same data. After every kill: every write the client saw acknowledged is
// there, nothing half-written is visible (the modules' invariants), and rolled-up figures equal a recount.
//
//   npx tsx reliability/crash.ts [--engine pglite|postgres|both] [--full] [--seed N] [--rounds N]
import { setTimeout as sleep } from 'node:timers/promises';
import type { Engine } from '../server/src/db/connection.ts';
import { Random } from '../server/src/platform/random.ts';
import { createScratch } from './lib/databases.ts';
import { seedLocality } from './lib/seed.ts';
import { spawnServer, type ServerProcess } from './lib/server.ts';
import { ApiClient, loggedIn } from './lib/http.ts';
import { Report, runFromCli } from './lib/report.ts';
import { workloadObjects, workloadSteps } from './lib/hooks.ts';
import { Workload } from './lib/workload.ts';
import { checkEvidence, checkFigures, checkInvariants } from './lib/state-checks.ts';
import { intOption, parseSuiteArgs, type SuiteOptions } from './lib/options.ts';
import { isMain } from './lib/main.ts';

export interface CrashOptions extends SuiteOptions {
  /** kills (each verified after the restart); default 3 (CI) or 20 (full) */
  rounds?: number;
  /** concurrent writers */
  writers?: number;
  /** the server to run: the real one unless a planted-fault test says otherwise */
  entry?: string;
  serverEnv?: Record<string, string>;
  /** how long writes run (after the first acknowledged one) before the kill, in ms */
  killAfterMs?: [number, number];
  log?: (line: string) => void;
}

export async function runCrash(o: CrashOptions): Promise<Report> {
  const report = new Report('crash', o.engine, o.full ? 'full' : 'ci', o.seed);
  const rounds = o.rounds ?? (o.full ? 20 : 3);
  const writers = o.writers ?? 4;
  const [minKill, maxKill] = o.killAfterMs ?? (o.full ? [300, 8000] : [800, 3000]);
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const rng = new Random(o.seed);
  const scratch = await createScratch(o.engine, { pgUrl: o.pgUrl });
  const current: { server: ServerProcess | null } = { server: null };
  const startups: number[] = [];
  let acked = 0;
  let lostAnswers = 0;
  let writeMs = 0;
  let passed = 0;
  let figuresCompared = 0;
  let startupKills = 0;
  const rejected = new Map<number, number>();
  const serverErrors: string[] = [];
  try {
    const seeded = await scratch.open();
    const locality = await seedLocality(seeded, { streets: 1, communitiesPerStreet: 3, gridsPerCommunity: 2, buildingsPerGrid: 1 }, (l) => [{ username: 'writer', role: 'district_admin', unitId: l.districts[0] }], o.seed);
    const workload = new Workload(workloadSteps(), o.seed, `s${o.seed}`);
    workload.load(await workloadObjects(seeded.db));
    await seeded.close();
    let client: ApiClient | null = null;

    const start = async (round: number): Promise<string | null> => {
      for (let attempt = 0; attempt < 3; attempt++) {
        const t0 = Date.now();
        const server = spawnServer({ env: { ...scratch.serverEnv(), ...o.serverEnv }, entry: o.entry });
        current.server = server;
        // full mode: now and then the kill lands during start-up (crash recovery itself is interrupted)
        if (o.full && attempt === 0 && round > 1 && rng.chance(0.15)) {
          await sleep(rng.int(100, 2500));
          await server.kill9();
          // the checker must see what the interrupted recovery left, as the next start-up will
          scratch.snapshot();
          log(`  round ${round}: killed during start-up`);
          startupKills++;
          continue;
        }
        try {
          const base = await server.ready;
          startups.push(Date.now() - t0);
          return base;
        } catch (e) {
          report.check('the server starts again on the killed data (crash recovery)', [`round ${round}: ${(e as Error).message.slice(0, 1500)}`]);
          return null;
        }
      }
      return null;
    };

    const verify = async (kill: number) => {
      const before = report.checks.reduce((s, c) => s + c.count, 0);
      let checker;
      try {
        checker = await scratch.openChecker();
      } catch (e) {
        report.check('the killed database opens again', [`after kill ${kill}: ${(e as Error).message}`]);
        return;
      }
      report.check('the killed database opens again', []);
      try {
        await checkInvariants(checker.db, report, undefined, `after kill ${kill}: `);
        report.check('every write the client saw acknowledged survived', (await checkEvidence(checker.db, workload.evidence)).map((p) => `after kill ${kill}: ${p}`));
        figuresCompared += await checkFigures(client!, checker.db, report, undefined, `after kill ${kill}: `);
        workload.load(await workloadObjects(checker.db));
      } finally {
        await checker.close();
      }
      if (report.checks.reduce((s, c) => s + c.count, 0) === before) passed++;
    };

    for (let round = 1; round <= rounds + 1; round++) {
      const base = await start(round);
      if (!base) break;
      report.check('the server starts again on the killed data (crash recovery)', []);
      if (!client) client = await loggedIn(base, 'writer', locality.password);
      // the session lives in the database: it survives the kill like any other committed row
      else client.base = base;
      const health = await client.request('GET', '/healthz');
      report.check('/healthz answers 200 after the restart', health.status === 200 ? [] : [`round ${round}: ${health.status} ${health.text}`]);
      if (round > 1) await verify(round - 1);
      if (round > rounds) break;

      // sustained writes until the kill
      const killAfter = rng.int(minKill, maxKill);
      const t0 = Date.now();
      let alive = true;
      let roundAcked = 0;
      let firstAck: () => void = () => {};
      const acknowledgedOnce = new Promise<void>((resolve) => (firstAck = resolve));
      const api = client;
      const writer = async () => {
        while (alive) {
          const next = workload.next();
          if (!next) {
            await sleep(20);
            continue;
          }
          const res = await api.request(next.request.method, next.request.url, next.request.body, { timeoutMs: 60_000 });
          if (res.status === 0) {
            lostAnswers++;
            return;
          }
          if (res.status < 300) {
            acked++;
            roundAcked++;
            firstAck();
            workload.acknowledged(next.step, next.request, res.body);
          } else if (res.status >= 500) serverErrors.push(`${next.request.method} ${next.request.url} → ${res.status} ${res.text.slice(0, 200)}`);
          else rejected.set(res.status, (rejected.get(res.status) ?? 0) + 1);
        }
      };
      const running = Array.from({ length: writers }, writer);
      // the random moment is counted from the first acknowledged write, so a slow start still gets writes in
      await Promise.race([acknowledgedOnce, sleep(60_000)]);
      await sleep(killAfter);
      await current.server?.kill9();
      alive = false;
      await Promise.all(running);
      writeMs += Date.now() - t0;
      log(`  round ${round}/${rounds}: kill -9 ${killAfter} ms after the first acknowledged write; ${roundAcked} acknowledged this round`);
      scratch.snapshot();
    }
    report.check('no 5xx answers to the workload', serverErrors);
    if (current.server) {
      const how = await current.server.stop();
      report.check('the last server shuts down cleanly on SIGTERM', how === '0' ? [] : [`exit: ${how}`]);
    }
  } finally {
    await current.server?.kill9();
    await scratch.drop();
  }
  report.figure('kills verified (all checks passed)', `${passed}/${rounds}`);
  report.figure('writes acknowledged', acked);
  report.figure('answers lost in flight at the kills', lostAnswers);
  report.figure('writes rejected (4xx)', [...rejected].map(([s, n]) => `${s}×${n}`).join(' ') || '0');
  report.figure('write rate between kills', writeMs ? (acked / writeMs) * 1000 : 0, 'writes/s');
  report.figure('figures compared with recounts', figuresCompared);
  if (o.full) report.figure('kills during start-up (recovery interrupted)', startupKills);
  if (startups.length) {
    report.figure('restart to listening, mean', startups.reduce((s, x) => s + x, 0) / startups.length / 1000, 's');
    report.figure('restart to listening, max', Math.max(...startups) / 1000, 's');
  }
  return report;
}

if (isMain(import.meta.url)) {
  const { engines, options, rest } = parseSuiteArgs();
  await runFromCli(engines, (engine) => runCrash({ ...options, engine: engine as Engine, rounds: rest.rounds ? intOption(rest.rounds, 3) : undefined }));
}
