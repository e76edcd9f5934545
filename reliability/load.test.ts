// The load suite catches a server that sometimes answers 500 under load.
import { describe, expect, it } from 'vitest';
import { runLoad } from './load.ts';
import { PLANTED_SERVER, plant, testOptions } from './lib/test-env.ts';

describe('load suite, planted fault', () => {
  it('one request in 10 failing with 500 is reported', async () => {
    const report = await runLoad({ ...testOptions, durationSec: 5, connections: 50, entry: PLANTED_SERVER, serverEnv: plant('sometimes-500') });
    expect(report.failed('no 5xx answers')).toBe(true);
    expect(report.failed('no connection errors')).toBe(false);
  });
});
