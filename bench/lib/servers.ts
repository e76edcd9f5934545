// Server processes for the http and memory suites, and the load driven at them. The product server is the
// real CLI (`server/src/main.ts serve`, run by node with the tsx loader so the child's pid is the server's
// own, which /proc memory sampling needs); the baseline is bench/servers/bare-server.ts. Both listen on
// 127.0.0.1 on a free port and are stopped (SIGTERM, then SIGKILL) whatever happens.
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { KEYRING_ENV } from '../../server/src/platform/crypto/keyring.ts';
import { freePort, REPO_ROOT, spawnTracked, stopChild, type Cleanup, type Scratch } from '../harness.ts';

export type ServerKind = 'product' | 'bare';

export interface RunningServer {
  kind: ServerKind;
  pid: number;
  baseUrl: string;
  /** the last lines the server wrote, for error messages */
  logTail(): string;
  stop(): Promise<void>;
}

const ENTRY: Record<ServerKind, string> = {
  product: path.join(REPO_ROOT, 'server/src/main.ts'),
  bare: path.join(REPO_ROOT, 'bench/servers/bare-server.ts'),
};

export async function startServer(kind: ServerKind, scratch: Scratch, cleanup: Cleanup, options: { logLevel: string; readyTimeoutMs?: number }): Promise<RunningServer> {
  const port = await freePort();
  const logFile = path.join(os.tmpdir(), `tongxin-bench-${kind}-${process.pid}-${port}.log`);
  const fd = openSync(logFile, 'w');
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: options.logLevel, ...scratch.serverEnv() };
  // The database and the keyring are the scratch's alone, never something inherited from the caller.
  if (scratch.engine === 'pglite') delete env.DATABASE_URL;
  delete env[KEYRING_ENV];
  const args = ['--import', 'tsx', ENTRY[kind], ...(kind === 'product' ? ['serve'] : [])];
  const child = spawnTracked(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const logTail = () => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '';
    }
  };
  const stop = async () => {
    await stopChild(child);
    rmSync(logFile, { force: true });
  };
  const forget = cleanup.add(`stop the ${kind} server (pid ${child.pid})`, stop);
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 180_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the ${kind} server exited during start-up (${child.exitCode ?? child.signalCode}):\n${logTail()}`);
    try {
      const res = await fetch(`${baseUrl}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the ${kind} server did not answer /healthz in time:\n${logTail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    kind,
    pid: child.pid!,
    baseUrl,
    logTail,
    async stop() {
      forget();
      await stop();
    },
  };
}

export interface Session {
  cookie: string;
  csrf: string;
}

/** Logs in as the web client does: the session cookie plus the CSRF token for writes. */
export async function login(baseUrl: string, username: string, password: string): Promise<Session> {
  const res = await fetch(`${baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('tx_session='));
  const body = (await res.json()) as { csrfToken: string };
  if (!cookie) throw new Error('login answered no session cookie');
  return { cookie, csrf: body.csrfToken };
}

export interface LoadSpec {
  baseUrl: string;
  method: 'GET' | 'POST' | 'PATCH';
  /** the i-th request's path and (for writes) JSON body: lets requests rotate over units */
  request: (i: number) => { path: string; body?: unknown };
  headers?: Record<string, string>;
  connections: number;
  durationS: number;
  /** a fixed number of requests instead of a duration (smoke runs: done however slow the machine is) */
  amount?: number;
}

export interface LoadResult {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
}

/** Drives `connections` concurrent keep-alive connections for `durationS`; every answer must be 2xx. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  let i = 0;
  const result = await autocannon({
    url: spec.baseUrl,
    connections: spec.connections,
    duration: spec.durationS,
    // A slow answer is a measurement (it shows in p99), not an error: only a minute without one is.
    timeout: 60,
    ...(spec.amount ? { amount: spec.amount } : {}),
    headers: { ...(spec.method === 'GET' ? {} : { 'content-type': 'application/json' }), ...spec.headers },
    requests: [
      {
        method: spec.method,
        setupRequest: (req) => {
          const next = spec.request(i++);
          return { ...req, path: next.path, ...(next.body === undefined ? {} : { body: JSON.stringify(next.body) }) };
        },
      },
    ],
  });
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed > 0) {
    throw new Error(`${spec.method} load on ${spec.baseUrl}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts of ${result.requests.total} requests`);
  }
  if (!result['2xx']) throw new Error(`${spec.method} load on ${spec.baseUrl}: no request completed`);
  return { requestsPerSec: result['2xx'] / result.duration, p50Ms: result.latency.p50, p99Ms: result.latency.p99, requests: result['2xx'] };
}

/** One request, checked: proves a route answers before load is put on it. */
export async function probe(baseUrl: string, method: string, pathname: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(`${baseUrl}${pathname}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${pathname} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return res.json() as Promise<unknown>;
}
