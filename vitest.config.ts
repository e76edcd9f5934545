import { defineConfig } from 'vitest/config';

// Tiers 1 and 2: pure logic, services and routes against a real database (PGlite in-process, or the
// PostgreSQL named by TEST_DATABASE_URL, one fresh database per test file).
export default defineConfig({
  test: {
    include: ['server/**/*.test.ts', 'shared/**/*.test.ts', 'bench/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    // generous: CI shares two cores with the other suites; a test that is slow on a quiet machine is not the aim here
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
