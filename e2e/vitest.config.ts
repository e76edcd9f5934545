// Tier 3: browser tests. playwright-core drives Debian's chromium against the real server (started by
// global-setup.ts on a free port with a fresh data directory) serving the built client from web/dist.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['e2e/**/*.e2e.ts'],
    globalSetup: ['e2e/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    // Files share one server; this order keeps the audit test after the writes it looks for.
    sequence: { shuffle: false },
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
    expect: { poll: { timeout: 10_000, interval: 100 } },
  },
});
