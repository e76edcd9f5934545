// Starts the real Tongxin server for the browser tests: a fresh data directory (demo data is seeded on
// start), a free port, wait for /healthz, read the demo logins; stops it afterwards (SIGTERM, then
// SIGKILL after 5 s). Skips, with a visible notice, when there is no Chromium. Builds nothing: the
// client must already be in web/dist (`npx vite build --config web/vite.config.ts`).
//
// E2E_BASE_URL + E2E_DATA_DIR point the suite at an already running server instead (its data dir holds
// demo-logins.json); nothing is started or stopped then.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import type { DemoLogin, E2EContext } from './context.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HEALTH_TIMEOUT_MS = 150_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

async function waitForHealth(baseUrl: string, server: ChildProcess, logFile: string) {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`The server exited with code ${server.exitCode} before it was healthy; see ${logFile}`);
    try {
      const response = await fetch(`${baseUrl}/healthz`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`The server did not answer /healthz within ${HEALTH_TIMEOUT_MS / 1000} s; see ${logFile}`);
}

/** The built client must come back from the server: the page, then its script with a JavaScript type. */
async function checkClientServed(baseUrl: string) {
  const page = await fetch(`${baseUrl}/`);
  const html = await page.text();
  const script = /<script[^>]+src="([^"]+\.js)"/.exec(html)?.[1];
  if (page.status !== 200 || !script) throw new Error(`GET / did not answer the built client (HTTP ${page.status})`);
  const asset = await fetch(new URL(script, baseUrl));
  const type = asset.headers.get('content-type') ?? '';
  if (asset.status !== 200 || !type.includes('javascript')) {
    throw new Error(`The server does not serve the client's assets: GET ${script} answered HTTP ${asset.status} (${type || 'no content type'}); static files under web/dist must be public`);
  }
}

async function readLogins(dataDir: string): Promise<DemoLogin[]> {
  return JSON.parse(await readFile(path.join(dataDir, 'demo-logins.json'), 'utf8')) as DemoLogin[];
}

/** Ends the server's whole process group (npx → tsx → node): SIGTERM, then SIGKILL after 5 s. */
async function stop(server: ChildProcess) {
  if (server.exitCode !== null || server.pid === undefined) return;
  const group = -server.pid;
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  try {
    process.kill(group, 'SIGTERM');
  } catch {
    return;
  }
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5_000));
  if ((await Promise.race([exited, timer])) === 'timeout') {
    try {
      process.kill(group, 'SIGKILL');
    } catch {
      // already gone
    }
    await exited;
  }
}

export default async function setup(project: TestProject) {
  const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  const context: E2EContext = { skip: null, baseUrl: '', chromiumPath, logins: [], runSuffix: '' };

  if (!existsSync(chromiumPath)) {
    context.skip = `no Chromium at ${chromiumPath}`;
    console.warn(`\n!! NOTICE: ${context.skip}: the browser tests (tier 3) are SKIPPED. Install Debian's chromium or set CHROMIUM_PATH.\n`);
    project.provide('e2e', context);
    return;
  }

  if (process.env.E2E_BASE_URL) {
    const dataDir = process.env.E2E_DATA_DIR;
    if (!dataDir) throw new Error('E2E_BASE_URL needs E2E_DATA_DIR (the server data directory holding demo-logins.json)');
    context.baseUrl = process.env.E2E_BASE_URL.replace(/\/$/, '');
    context.logins = await readLogins(dataDir);
    context.runSuffix = `-${Date.now().toString(36).slice(-4)}`;
    await checkClientServed(context.baseUrl);
    console.log(`e2e: using the running server at ${context.baseUrl}`);
    project.provide('e2e', context);
    return;
  }

  if (!existsSync(path.join(ROOT, 'web', 'dist', 'index.html'))) {
    throw new Error('web/dist/index.html is missing: build the client first (npx vite build --config web/vite.config.ts)');
  }

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tongxin-e2e-'));
  const port = await freePort();
  const logFile = path.join(dataDir, 'server.log');
  const log = createWriteStream(logFile);
  const server = spawn('npx', ['tsx', 'server/src/main.ts', 'start'], {
    cwd: ROOT,
    env: { ...process.env, TONGXIN_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  server.stdout?.pipe(log);
  server.stderr?.pipe(log);
  context.baseUrl = `http://127.0.0.1:${port}`;

  try {
    await waitForHealth(context.baseUrl, server, logFile);
    await checkClientServed(context.baseUrl);
    context.logins = await readLogins(dataDir);
  } catch (error) {
    await stop(server);
    throw error;
  }
  console.log(`e2e: server up at ${context.baseUrl} (data ${dataDir})`);
  project.provide('e2e', context);

  return async () => {
    await stop(server);
    log.end();
    if (process.env.E2E_KEEP_DATA !== '1') await rm(dataDir, { recursive: true, force: true });
  };
}
