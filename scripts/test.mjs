#!/usr/bin/env node
// `npm test`: tiers 1–2 (vitest: logic, services and routes on PGlite, or on PostgreSQL when
// TEST_DATABASE_URL is set), then tier 3 (browser tests) when a Chromium is found.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, env = {}) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1;

const engine = process.env.TEST_DATABASE_URL ? `PostgreSQL (${process.env.TEST_DATABASE_URL.replace(/\/\/[^@]*@/, '//')})` : 'PGlite (in-process)';
console.log(`\n== Tiers 1–2: unit, service and route tests on ${engine}`);
let failed = run('npx', ['vitest', 'run', ...process.argv.slice(2)]) !== 0;

const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (process.env.SKIP_E2E === '1') {
  console.log('\n== Tier 3 skipped: SKIP_E2E=1');
} else if (!existsSync(chromium)) {
  console.log(`\n!! NOTICE: no Chromium at ${chromium}: browser tests (tier 3) were NOT run. Install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH.`);
} else if (existsSync(path.join(root, 'e2e', 'vitest.config.ts'))) {
  console.log('\n== Tier 3: browser tests (building the web client first)');
  if (run('npx', ['vite', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn']) !== 0) failed = true;
  else if (run('npx', ['vitest', 'run', '--config', 'e2e/vitest.config.ts']) !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
