// Command-line options shared by every suite: `npx tsx reliability/<suite>.ts [--engine pglite|postgres|both] [--full] [--seed N]`.
import { parseArgs } from 'node:util';
import type { Engine } from '../../server/src/db/connection.ts';

export interface SuiteOptions {
  engine: Engine;
  /** the long version (on demand) instead of the short one (CI) */
  full: boolean;
  /** seeds every random choice of the run; printed so a failure can be replayed */
  seed: number;
  /** admin URL of the PostgreSQL server the suite makes (and drops) scratch databases on */
  pgUrl: string;
}

export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function parseSuiteArgs(argv = process.argv.slice(2)): { engines: Engine[]; options: Omit<SuiteOptions, 'engine'>; rest: Record<string, string | boolean | undefined> } {
  const { values } = parseArgs({
    args: argv,
    options: {
      engine: { type: 'string', default: 'pglite' },
      full: { type: 'boolean', default: false },
      seed: { type: 'string' },
      'pg-url': { type: 'string' },
      runs: { type: 'string' },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
    },
    strict: true,
  });
  const engines: Engine[] = values.engine === 'both' ? ['pglite', 'postgres'] : values.engine === 'postgres' ? ['postgres'] : values.engine === 'pglite' ? ['pglite'] : [];
  if (!engines.length) throw new Error(`--engine must be pglite, postgres or both; got "${values.engine}"`);
  const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
  if (!Number.isInteger(seed)) throw new Error('--seed must be an integer');
  const pgUrl = values['pg-url'] ?? process.env.RELIABILITY_PG_URL ?? process.env.TEST_DATABASE_URL ?? DEFAULT_PG_URL;
  return { engines, options: { full: values.full ?? false, seed, pgUrl }, rest: { runs: values.runs, rounds: values.rounds, duration: values.duration, connections: values.connections } };
}

export function intOption(value: string | boolean | undefined, fallback: number): number {
  if (value === undefined || typeof value === 'boolean') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive integer, got "${value}"`);
  return n;
}
