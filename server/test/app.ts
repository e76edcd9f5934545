// Route-test helpers: an app on a fresh database with a controllable clock, logins, and a small client
// that carries the session cookie and CSRF token like the web client does.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { loadConfig, type Config } from '../src/config.ts';
import { buildApp } from '../src/app.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { createKeyring, createPiiCipher } from '../src/platform/crypto/index.ts';

export class TestClock {
  constructor(public current: Date = new Date('2026-11-20T02:00:00Z')) {}
  now = () => this.current;
  advance(ms: number) {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export interface TestApp {
  app: FastifyInstance;
  pii: ReturnType<typeof createPiiCipher>;
  database: TestDatabase;
  clock: TestClock;
  config: Config;
  close(): Promise<void>;
}

export async function createTestApp(overrides: Partial<Config> = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const clock = new TestClock();
  const config = { ...loadConfig({ TONGXIN_DATA_DIR: '/tmp/tongxin-test-unused', TONGXIN_WEB_DIST: '/nonexistent' }), loginRateLimitPerMinute: 10_000, ...overrides };
  const pii = createPiiCipher(createKeyring());
  const app = await buildApp({ config, database, pii, now: clock.now, logger: false });
  await app.ready();
  return {
    app,
    pii,
    database,
    clock,
    config,
    async close() {
      await app.close();
      await database.drop();
    },
  };
}

export interface Session {
  cookie: string;
  csrf: string;
  userId: number;
}

export async function login(app: FastifyInstance, username: string, password: string): Promise<Session> {
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
  if (res.statusCode !== 200) throw new Error(`login ${username} failed: ${res.statusCode} ${res.body}`);
  const cookie = res.cookies.find((c) => c.name === 'tx_session');
  return { cookie: `tx_session=${cookie!.value}`, csrf: res.json().csrfToken, userId: res.json().user.id };
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A request as the given session (or anonymous when null). */
export function call(app: FastifyInstance, session: Session | null, method: Method, url: string, payload?: unknown): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = {};
  if (session) {
    headers.cookie = session.cookie;
    if (method !== 'GET') headers['x-csrf-token'] = session.csrf;
  }
  return app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
}
