// Server processes for the http and memory suites, and the load driven at them. The product server is the
// real CLI (`server/src/main.ts serve`, run by node with the tsx loader so the child's pid is the server's
// own, which /proc memory sampling needs); the baseline is bench/servers/bare-server.ts. Both listen on
// 127.0.0.1 on a free port and are stopped (SIGTERM, then SIGKILL) whatever happens.
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { KEYRING_ENV } from '../../server/src/platform/crypto/keyring.ts';
import { freePort, percentile, REPO_ROOT, spawnTracked, stopChild, type Cleanup, type Scratch } from '../harness.ts';

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
  // BENCH_PROFILE_DIR=DIR: the product server writes a V8 CPU profile there when it stops (where the time goes)
  const profile = kind === 'product' && process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const args = [...profile, '--import', 'tsx', ENTRY[kind], ...(kind === 'product' ? ['serve'] : [])];
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

export interface RateSpec {
  baseUrl: string;
  method: 'GET' | 'POST' | 'PATCH';
  /** the i-th request's path and (for writes) JSON body */
  request: (i: number) => { path: string; body?: unknown };
  headers?: Record<string, string>;
  /** requests per second, each sent at its scheduled time whatever the earlier answers did */
  rate: number;
  durationS: number;
  /** a fixed number of requests at the rate instead of a duration (smoke runs) */
  amount?: number;
  /** keep-alive connections at most; a request finding them all busy waits, and the wait counts in its latency */
  maxConnections: number;
}

export interface RateResult {
  requests: number;
  /** answers per second over the whole run, from the first send to the last answer */
  achievedPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Open-loop load at a fixed rate (the way wrk2 does it): request k is due at start + k/rate and its
 * latency is measured from that moment, so a server that falls behind shows it in the latency of every
 * request queued behind the slow one instead of quietly being sent fewer requests. autocannon's
 * `overallRate` is not used for this: it gives each connection rate/connections requests at the start of
 * every second, sent back to back, so the server sees a burst of `connections` concurrent requests once a
 * second and idles in between, and its latency correction assumes a 1 ms interval; p99 then describes
 * the burst, not a steady 500 req/s. Every answer must be 2xx.
 */
export async function runRate(spec: RateSpec): Promise<RateResult> {
  const url = new URL(spec.baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.maxConnections });
  const total = spec.amount ?? Math.max(1, Math.round(spec.rate * spec.durationS));
  const interval = 1000 / spec.rate;
  const latencies: number[] = [];
  const failures: string[] = [];
  let done = 0;
  let lastAnswer = 0;
  const start = performance.now();
  const finished = new Promise<void>((resolve) => {
    const settle = () => {
      lastAnswer = performance.now();
      if (++done === total) resolve();
    };
    const send = (k: number, due: number) => {
      const next = spec.request(k);
      const body = next.body === undefined ? undefined : JSON.stringify(next.body);
      const headers: Record<string, string | number> = { ...spec.headers };
      if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      const req = http.request({ agent, host: url.hostname, port: url.port, path: next.path, method: spec.method, headers, timeout: 60_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) latencies.push(performance.now() - due);
          else if (failures.length < 5) failures.push(`${res.statusCode} on ${next.path}`);
          else failures.push('');
          settle();
        });
      });
      req.on('timeout', () => req.destroy(new Error('no answer in 60 s')));
      req.on('error', (err) => {
        failures.push(err.message);
        settle();
      });
      req.end(body);
    };
    let k = 0;
    const tick = () => {
      const now = performance.now();
      for (; k < total && start + k * interval <= now; k++) send(k, start + k * interval);
      if (k < total) setTimeout(tick, Math.max(0, start + k * interval - performance.now()));
    };
    tick();
  });
  await finished;
  agent.destroy();
  if (failures.length) throw new Error(`${spec.method} at ${spec.rate} req/s on ${spec.baseUrl}: ${failures.length} of ${total} requests failed (${failures.filter(Boolean).slice(0, 5).join('; ')})`);
  const sorted = latencies.sort((a, b) => a - b);
  return { requests: total, achievedPerSec: total / ((lastAnswer - start) / 1000), p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted[sorted.length - 1] };
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
