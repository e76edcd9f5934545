// The app built in-process, as the route tests build it (the run's keyring, no static files, quiet), for the
// suites that send requests with app.inject: fuzz and access leaks.
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../../server/src/config.ts';
import { buildApp } from '../../server/src/app.ts';
import type { DbHandle } from '../../server/src/db/connection.ts';
import { reliabilityPii } from './keyring.ts';

export async function buildInProcessApp(database: DbHandle, dataDir: string, overrides: Partial<Config> = {}): Promise<FastifyInstance> {
  const config = { ...loadConfig({ TONGXIN_DATA_DIR: dataDir, TONGXIN_WEB_DIST: '/nonexistent' }), loginRateLimitPerMinute: 10_000, ...overrides };
  return buildApp({ config, database, pii: reliabilityPii, logger: false });
}
