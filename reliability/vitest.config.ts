import path from 'node:path';
import { defineConfig } from 'vitest/config';

// The reliability suites' own tests: each plants a fault and asserts the suite reports it.
// npx vitest run --config reliability/vitest.config.ts   (PostgreSQL too with TEST_DATABASE_URL set)
export default defineConfig({
  root: path.resolve(import.meta.dirname, '..'),
  test: {
    include: ['reliability/**/*.test.ts'],
    pool: 'forks',
    // several of these start server processes; one file at a time keeps two shared cores usable
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 300_000,
  },
});
