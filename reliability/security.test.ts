// The security suite catches missing headers, a weak cookie, an unchecked CSRF token, session fixation and a
// missing lockout on a planted server; and its checks take any transport: the same list passes in-process.
import { describe, expect, it } from 'vitest';
import { runSecurity } from './security.ts';
import { PLANTED_SERVER, plant, testOptions } from './lib/test-env.ts';
import { createScratch } from './lib/databases.ts';
import { seedLocality } from './lib/seed.ts';
import { buildInProcessApp } from './lib/app.ts';
import { injectTransport, runSecurityChecks } from './security/checks.ts';

describe('security suite, planted faults', () => {
  it('reports each planted weakness under its own check, and nothing else', async () => {
    const report = await runSecurity({ ...testOptions, entry: PLANTED_SERVER, serverEnv: plant('no-security-headers', 'weak-cookie', 'csrf-off', 'fixation', 'no-lockout') });
    const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
    const expected = ['security headers', 'the session cookie', 'CSRF', 'session fixation', 'logout ends', 'repeated wrong passwords'];
    expect(failed.map((n) => expected.find((e) => n.startsWith(e)) ?? n).sort()).toEqual([...expected].sort());
  });
});

describe('the same checks in-process (app.inject)', () => {
  it('pass on the real app', async () => {
    const scratch = await createScratch(testOptions.engine, { pgUrl: testOptions.pgUrl, inMemory: true });
    try {
      const database = await scratch.open();
      const l = await seedLocality(database, { streets: 1, communitiesPerStreet: 2, gridsPerCommunity: 1, buildingsPerGrid: 1 }, (x) => {
        const communities = x.units.filter((u) => u.kind === 'community');
        return [
          { username: 'writer_a', role: 'community_secretary', unitId: communities[0].id },
          { username: 'writer_b', role: 'community_secretary', unitId: communities[1].id },
          { username: 'victim', role: 'resident', unitId: x.firstBranch.grid },
          { username: 'street_admin', role: 'street_admin', unitId: x.firstBranch.street },
        ];
      });
      const app = await buildInProcessApp(database, scratch.dataDir, { loginMaxFailures: 3, loginRateLimitPerMinute: 60 });
      await app.ready();
      const results = await runSecurityChecks({
        send: injectTransport(app),
        password: l.password,
        writerA: { username: 'writer_a', unitId: l.accounts[0].unitId },
        writerB: { username: 'writer_b' },
        victim: { username: 'victim' },
        admin: { username: 'street_admin', grantUnitId: l.firstBranch.grid },
        maxFailures: 3,
        rateLimitPerMinute: 60,
      });
      await app.close();
      expect(results.filter((r) => r.problems.length)).toEqual([]);
    } finally {
      await scratch.drop();
    }
  });
});
