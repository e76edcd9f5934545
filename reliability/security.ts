// Security suite: the basics, checked against a real server process over HTTP — headers, the session cookie's
// flags, CSRF, session fixation, logout, lockout, one-time passwords, hostile headers, error bodies, CORS
// and the login rate limit. The checks themselves (reliability/security/checks.ts) take any transport, so
// in-process tests can run the same list through app.inject.
//
//   npx tsx reliability/security.ts [--engine pglite|postgres|both] [--seed N]
import type { Engine } from '../server/src/db/connection.ts';
import { createScratch } from './lib/databases.ts';
import { seedLocality } from './lib/seed.ts';
import { spawnServer, type ServerProcess } from './lib/server.ts';
import { Report, runFromCli } from './lib/report.ts';
import { parseSuiteArgs, type SuiteOptions } from './lib/options.ts';
import { isMain } from './lib/main.ts';
import { httpTransport, runSecurityChecks } from './security/checks.ts';

export interface SecurityOptions extends SuiteOptions {
  entry?: string;
  serverEnv?: Record<string, string>;
}

const MAX_FAILURES = 3;
const RATE_LIMIT = 60;

export async function runSecurity(o: SecurityOptions): Promise<Report> {
  const report = new Report('security', o.engine, o.full ? 'full' : 'ci', o.seed);
  const scratch = await createScratch(o.engine, { pgUrl: o.pgUrl });
  let server: ServerProcess | null = null;
  try {
    const seeded = await scratch.open();
    const locality = await seedLocality(seeded, { streets: 1, communitiesPerStreet: 2, gridsPerCommunity: 1, buildingsPerGrid: 1 }, (l) => {
      const communities = l.units.filter((u) => u.kind === 'community');
      return [
        { username: 'writer_a', role: 'community_secretary', unitId: communities[0].id },
        { username: 'writer_b', role: 'community_secretary', unitId: communities[1].id },
        { username: 'victim', role: 'resident', unitId: l.firstBranch.grid },
        { username: 'street_admin', role: 'street_admin', unitId: l.firstBranch.street },
      ];
    }, o.seed);
    await seeded.close();
    server = spawnServer({
      env: { ...scratch.serverEnv(), LOGIN_MAX_FAILURES: String(MAX_FAILURES), LOGIN_LOCK_MINUTES: '10', LOGIN_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT), ...o.serverEnv },
      entry: o.entry,
    });
    const base = await server.ready;
    const results = await runSecurityChecks({
      send: httpTransport(base),
      password: locality.password,
      writerA: { username: 'writer_a', unitId: locality.accounts[0].unitId },
      writerB: { username: 'writer_b' },
      victim: { username: 'victim' },
      admin: { username: 'street_admin', grantUnitId: locality.firstBranch.grid },
      maxFailures: MAX_FAILURES,
      rateLimitPerMinute: RATE_LIMIT,
    });
    for (const r of results) report.check(r.name, r.problems);
    report.figure('checks over HTTP', results.length);
    report.figure('server', base);
  } finally {
    await server?.stop();
    await scratch.drop();
  }
  return report;
}

if (isMain(import.meta.url)) {
  const { engines, options } = parseSuiteArgs();
  await runFromCli(engines, (engine) => runSecurity({ ...options, engine: engine as Engine }));
}
