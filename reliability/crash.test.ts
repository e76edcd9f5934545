// The crash suite catches what it was built to find: a write answered before its commit, and audit rows
// written apart from their write, both only visible after a kill -9.
import { describe, expect, it } from 'vitest';
import { runCrash } from './crash.ts';
import { PLANTED_SERVER, plant, testOptions } from './lib/test-env.ts';

const quiet = { ...testOptions, rounds: 1, killAfterMs: [700, 1500] as [number, number], log: () => {} };

describe('crash suite, planted faults', () => {
  it('a write acknowledged before its transaction commits is reported lost', async () => {
    const report = await runCrash({ ...quiet, entry: PLANTED_SERVER, serverEnv: plant('ack-before-commit') });
    expect(report.failed('every write the client saw acknowledged survived')).toBe(true);
  });

  it('audit rows written in a separate transaction leave writes without their audit row', async () => {
    const report = await runCrash({ ...quiet, entry: PLANTED_SERVER, serverEnv: plant('audit-after-commit') });
    const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
    expect(failed.some((name) => /audit row/.test(name) || name === 'every write the client saw acknowledged survived'), failed.join('\n')).toBe(true);
  });
});
