// What the planted-fault tests share: the engine (PostgreSQL when TEST_DATABASE_URL is set, like the
// project's other tests), a fixed seed, and the planted server.
import type { Engine } from '../../server/src/db/connection.ts';
import { DEFAULT_PG_URL } from './options.ts';

export const testEngine: Engine = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite';
export const testOptions = { engine: testEngine, full: false, seed: 20261122, pgUrl: process.env.TEST_DATABASE_URL ?? DEFAULT_PG_URL };
export const PLANTED_SERVER = 'reliability/planted/server.ts';
export const plant = (...faults: string[]) => ({ NODE_ENV: 'test', RELIABILITY_PLANT: faults.join(',') });
