// The shared harness of `npm run bench`: scratch databases on either engine, a bare driver beside the
// product's connection, timers and percentiles, RSS sampling from /proc, child processes that are always
// killed, and the results file and table of the contract in /work/shared/ARCHITECTURE.md.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import pg from 'pg';
import { openPGlite, openPostgres, type DbHandle } from '../server/src/db/connection.ts';
import { allMigrations, migrateDatabase } from '../server/src/app.ts';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');
export const DEFAULT_RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

export const ENGINES = ['pglite', 'postgres'] as const;
export type EngineName = (typeof ENGINES)[number];

// ---------------------------------------------------------------- results

/** One line of a results file. `ratio` is value/baseline, or baseline/value where the name says so. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline: number;
  ratio: number;
}

export interface BenchResult {
  suite: string;
  engine: EngineName;
  scale: string;
  machine: { cpus: number; memGiB: number };
  figures: Figure[];
}

/** Rounds to `digits` significant digits, so files and tables show what the measurement can support. */
export function sig(value: number, digits = 4): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const factor = 10 ** (digits - 1 - magnitude);
  return Math.round(value * factor) / factor;
}

export const HIGHER_BETTER = '(higher better)';
export const LOWER_BETTER = '(lower better; ratio = baseline/value)';

/** A throughput: higher is better, ratio = value / baseline (1 = as fast as the engine's own limit). */
export function higherBetter(name: string, unit: string, value: number, baseline: number): Figure {
  return { name: `${name} — ${unit} ${HIGHER_BETTER}`, value: sig(value), unit, baseline: sig(baseline), ratio: sig(value / baseline, 3) };
}

/** A latency or a memory size: lower is better, ratio = baseline / value (1 = as good as the baseline). */
export function lowerBetter(name: string, unit: string, value: number, baseline: number): Figure {
  return { name: `${name} — ${unit} ${LOWER_BETTER}`, value: sig(value), unit, baseline: sig(baseline), ratio: sig(baseline / value, 3) };
}

export function machine() {
  return { cpus: os.cpus().length, memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10 };
}

export function writeResult(outDir: string, result: BenchResult): string {
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${result.suite}.${result.engine}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  return file;
}

export function formatTable(result: BenchResult): string {
  const fmt = (v: number) => (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : String(v));
  const rows = result.figures.map((f) => [f.name, fmt(f.value), f.unit, fmt(f.baseline), f.ratio.toFixed(3)]);
  const header = ['figure', 'value', 'unit', 'baseline', 'ratio'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const title = `${result.suite} · ${result.engine} · scale ${result.scale} · ${result.machine.cpus} cpus · ${result.machine.memGiB} GiB`;
  return [title, line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------- options and suites

export interface BenchOptions {
  engine: EngineName;
  scale: string;
  /** tiny data and sub-second budgets: proves the suite still runs, measures nothing worth reading */
  smoke: boolean;
  /** time budget per query figure, seconds */
  seconds: number;
  /** HTTP load per route and server, seconds */
  duration: number;
  /** HTTP load: concurrent connections */
  connections: number;
  /** LOG_LEVEL of the product server under load */
  logLevel: string;
  outDir: string;
}

export interface SuiteContext {
  options: BenchOptions;
  cleanup: Cleanup;
  log(message: string): void;
}

export interface Suite {
  name: string;
  description: string;
  engines: readonly EngineName[];
  scales: readonly string[];
  defaultScale: string;
  run(ctx: SuiteContext): Promise<Figure[]>;
}

// ---------------------------------------------------------------- cleanup and child processes

/** Things to undo, last first; run once whatever happened. */
export class Cleanup {
  private readonly steps: { label: string; fn: () => Promise<void> | void }[] = [];
  add(label: string, fn: () => Promise<void> | void): () => void {
    const step = { label, fn };
    this.steps.push(step);
    return () => {
      const i = this.steps.indexOf(step);
      if (i >= 0) this.steps.splice(i, 1);
    };
  }
  async run(): Promise<void> {
    while (this.steps.length) {
      const step = this.steps.pop()!;
      try {
        await step.fn();
      } catch (err) {
        console.error(`cleanup "${step.label}" failed: ${(err as Error).message}`);
      }
    }
  }
}

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Spawns a child the harness will kill however this process ends (normal exit, error, signal). */
export function spawnTracked(command: string, args: string[], options: SpawnOptions): ChildProcess {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // 'exit' handlers must be synchronous: SIGKILL is the one thing that surely works from here.
    process.on('exit', () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
  }
  const child = spawn(command, args, options);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL if the child has not exited within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Kills every tracked child now (signal handlers). */
export function killAllChildren() {
  for (const child of children) child.kill('SIGKILL');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------- timers

export interface Timing {
  runs: number;
  medianMs: number;
  p95Ms: number;
  meanMs: number;
  /** 1000 / median: the rate of one client calling back to back, robust to a noisy neighbour */
  perSecond: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export interface Budget {
  seconds: number;
  warmup?: number;
  minRuns?: number;
  maxRuns?: number;
}

export function budgetFor(options: BenchOptions, overrides: Partial<Budget> = {}): Budget {
  if (options.smoke) return { seconds: 0.05, warmup: 1, minRuns: 2, maxRuns: 20 };
  return { seconds: options.seconds, warmup: 3, minRuns: 10, maxRuns: 100_000, ...overrides };
}

function summarise(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const medianMs = percentile(sorted, 50);
  return { runs: sorted.length, medianMs, p95Ms: percentile(sorted, 95), meanMs: sorted.reduce((t, v) => t + v, 0) / sorted.length, perSecond: 1000 / medianMs };
}

async function timeRuns(fn: () => Promise<unknown>, seconds: number, minRuns: number, maxRuns: number, into: number[]) {
  const deadline = performance.now() + seconds * 1000;
  for (let n = 0; n < maxRuns && (n < minRuns || performance.now() < deadline); n++) {
    const t = performance.now();
    await fn();
    into.push(performance.now() - t);
  }
}

/** Calls `fn` back to back for the budget (after a warm-up) and summarises the per-call times. */
export async function measure(fn: () => Promise<unknown>, budget: Budget): Promise<Timing> {
  for (let i = 0; i < (budget.warmup ?? 3); i++) await fn();
  const samples: number[] = [];
  await timeRuns(fn, budget.seconds, budget.minRuns ?? 10, budget.maxRuns ?? 100_000, samples);
  return summarise(samples);
}

/**
 * Measures the product path and its baseline in alternating rounds (P B, B P, P B, …) on the same open
 * database, each side getting the budget in total, so a neighbour's burst of load or a cache warming up
 * lands on both sides rather than on whichever ran second.
 */
export async function measurePair(product: () => Promise<unknown>, baseline: () => Promise<unknown>, budget: Budget, rounds = 8): Promise<{ product: Timing; baseline: Timing }> {
  for (let i = 0; i < (budget.warmup ?? 3); i++) {
    await product();
    await baseline();
  }
  const p: number[] = [];
  const b: number[] = [];
  const minRuns = Math.max(1, Math.ceil((budget.minRuns ?? 10) / rounds));
  const maxRuns = Math.max(1, Math.ceil((budget.maxRuns ?? 100_000) / rounds));
  for (let r = 0; r < rounds; r++) {
    const sides: [() => Promise<unknown>, number[]][] = [
      [product, p],
      [baseline, b],
    ];
    if (r % 2) sides.reverse();
    for (const [fn, into] of sides) await timeRuns(fn, budget.seconds / rounds, minRuns, maxRuns, into);
  }
  return { product: summarise(p), baseline: summarise(b) };
}

// ---------------------------------------------------------------- memory

export interface ProcMemory {
  rssKiB: number;
  hwmKiB: number;
}

/** VmRSS (resident now) and VmHWM (peak resident) of a process, from /proc/<pid>/status. */
export function procMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`no ${name} in /proc/${pid}/status`);
    return Number(m[1]);
  };
  return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
}

/** Samples a process's VmRSS every `intervalMs` until stopped; answers the largest sample and the peak (VmHWM, or the largest sample if higher). */
export function sampleRss(pid: number, intervalMs = 100) {
  let maxRssKiB = 0;
  let hwmKiB = 0;
  let samples = 0;
  const take = () => {
    try {
      const m = procMemory(pid);
      maxRssKiB = Math.max(maxRssKiB, m.rssKiB);
      // The kernel updates VmHWM lazily: it can trail a VmRSS sample by a little.
      hwmKiB = Math.max(m.hwmKiB, maxRssKiB);
      samples++;
    } catch {
      // the process is gone; the caller will notice on its own
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { maxRssKiB, hwmKiB, samples };
    },
  };
}

export const MiB = (kib: number) => kib / 1024;

// ---------------------------------------------------------------- engines and scratch databases

/** The engine's own driver, without Kysely, services or HTTP: what the baselines run on. */
export interface BareDriver {
  engine: EngineName;
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /** Runs `fn` in one transaction on one connection. */
  transaction<T>(fn: (query: BareDriver['query']) => Promise<T>): Promise<T>;
}

/** The product's connection (server/src/db/connection.ts) and the bare driver, open on the same database. */
export interface Connections {
  product: DbHandle;
  bare: BareDriver;
  close(): Promise<void>;
}

/**
 * A scratch database for one suite run: a PGlite data directory under the OS temp dir, or a fresh
 * database on the PostgreSQL server. One process at a time may open a PGlite directory; `copy()` gives
 * a second directory with the same data for a second process.
 */
export interface Scratch {
  engine: EngineName;
  /** the TONGXIN_DATA_DIR of this run: PGlite's database (in `pgdata/`), the personal-data keyring (`keys/`) */
  dataDir: string;
  /** PostgreSQL: the scratch database's URL */
  url: string | null;
  /** the environment a server process needs to open this database */
  serverEnv(): Record<string, string>;
  open(): Promise<Connections>;
  /** PGlite: a copy of the (closed) data directory; PostgreSQL: the same database */
  copy(): Promise<Scratch>;
  drop(): Promise<void>;
}

export function adminUrl(): string {
  return process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
}

function bareOnPGlite(pglite: PGlite): BareDriver {
  return {
    engine: 'pglite',
    query: async <R,>(text: string, params: unknown[] = []) => (await pglite.query<R>(text, params)).rows,
    transaction: (fn) => pglite.transaction((tx) => fn(async <R,>(text: string, params: unknown[] = []) => (await tx.query<R>(text, params)).rows)),
  };
}

function bareOnPostgres(client: pg.Client): BareDriver {
  const query = async <R,>(text: string, params: unknown[] = []) => (await client.query(text, params)).rows as R[];
  return {
    engine: 'postgres',
    query,
    async transaction(fn) {
      await client.query('begin');
      try {
        const result = await fn(query);
        await client.query('commit');
        return result;
      } catch (err) {
        await client.query('rollback');
        throw err;
      }
    },
  };
}

type PGliteCreate = (...args: unknown[]) => Promise<PGlite>;

/**
 * Opens a PGlite directory through the product's own openPGlite and hands back the PGlite instance it
 * created as well: PGlite lets one instance own a directory, so the baselines must run on that same
 * instance. PGlite.create is wrapped for the duration of the call to see the instance go by (the casts
 * only restate its overloaded signature).
 */
async function openPGliteWithInstance(dataDir: string): Promise<{ handle: DbHandle; pglite: PGlite }> {
  const original = PGlite.create;
  let created: PGlite | undefined;
  const capturing: PGliteCreate = async function (this: unknown, ...args: unknown[]) {
    created = await (original as unknown as PGliteCreate).apply(this, args);
    return created;
  };
  PGlite.create = capturing as unknown as typeof PGlite.create;
  try {
    const handle = await openPGlite(dataDir);
    if (!created) throw new Error('openPGlite did not create a PGlite instance');
    return { handle, pglite: created };
  } finally {
    PGlite.create = original;
  }
}

/**
 * An empty, migrated PGlite directory, kept in the OS temp dir between runs (keyed by the PGlite version
 * and the migrations' text): creating a PGlite cluster costs seconds of initdb that no figure measures.
 */
async function pgliteTemplate(): Promise<string> {
  const pgliteVersion = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')) as { version: string }).version;
  const key = createHash('sha256')
    .update(pgliteVersion)
    .update(JSON.stringify(allMigrations()))
    .digest('hex')
    .slice(0, 16);
  const prefix = 'tongxin-bench-pglite-template-';
  const dir = path.join(os.tmpdir(), `${prefix}${key}`);
  if (existsSync(path.join(dir, 'ready'))) return dir;
  // Templates of other PGlite versions or migrations will not be used again.
  for (const old of readdirSync(os.tmpdir())) {
    if (old.startsWith(prefix) && !old.includes('.building-') && old !== path.basename(dir)) rmSync(path.join(os.tmpdir(), old), { recursive: true, force: true });
  }
  const building = `${dir}.building-${process.pid}-${randomBytes(3).toString('hex')}`;
  const handle = await openPGlite(building);
  await migrateDatabase(handle);
  await handle.close();
  writeFileSync(path.join(building, 'ready'), new Date().toISOString());
  try {
    renameSync(building, dir);
  } catch {
    // another run finished the same template first; theirs is as good
    rmSync(building, { recursive: true, force: true });
  }
  return dir;
}

function pgliteScratch(dataDir: string): Scratch {
  let isOpen = false;
  return {
    engine: 'pglite',
    dataDir,
    url: null,
    serverEnv: () => ({ TONGXIN_DATA_DIR: dataDir }),
    async open() {
      if (isOpen) throw new Error('the PGlite directory is already open in this process');
      isOpen = true;
      try {
        const { handle, pglite } = await openPGliteWithInstance(dataDir);
        return {
          product: handle,
          bare: bareOnPGlite(pglite),
          async close() {
            await handle.close();
            isOpen = false;
          },
        };
      } catch (err) {
        isOpen = false;
        throw err;
      }
    },
    async copy() {
      if (isOpen) throw new Error('close the PGlite directory before copying it');
      const target = mkdtempSync(path.join(os.tmpdir(), 'tongxin-bench-'));
      cpSync(path.join(dataDir, 'pgdata'), path.join(target, 'pgdata'), { recursive: true });
      return pgliteScratch(target);
    },
    async drop() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function postgresScratch(url: string, dataDir: string, drop: () => Promise<void>): Scratch {
  return {
    engine: 'postgres',
    dataDir,
    url,
    serverEnv: () => ({ DATABASE_URL: url, TONGXIN_DATA_DIR: dataDir }),
    async open() {
      const product = openPostgres(url, 10);
      // One connection: the baselines are one client calling back to back, like the product measurements.
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return {
        product,
        bare: bareOnPostgres(client),
        async close() {
          await Promise.all([product.close(), client.end()]);
        },
      };
    },
    async copy() {
      return postgresScratch(url, dataDir, async () => {});
    },
    drop,
  };
}

/** A fresh, migrated, empty scratch database on `engine` (or, on PGlite, an existing directory to adopt); dropped by `cleanup`. */
export async function createScratch(engine: EngineName, cleanup: Cleanup, label: string, existingDataDir?: string): Promise<Scratch> {
  if (engine === 'pglite') {
    let dataDir = existingDataDir;
    if (!dataDir) {
      const template = await pgliteTemplate();
      dataDir = mkdtempSync(path.join(os.tmpdir(), `tongxin-bench-${label}-`));
      cpSync(path.join(template, 'pgdata'), path.join(dataDir, 'pgdata'), { recursive: true });
    }
    const scratch = pgliteScratch(dataDir);
    cleanup.add(`remove ${dataDir}`, () => scratch.drop());
    return scratch;
  }
  const admin = adminUrl();
  // PostgreSQL holds the data; the directory holds what a server keeps beside it (the keyring).
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `tongxin-bench-${label}-`));
  cleanup.add(`remove ${dataDir}`, () => rmSync(dataDir, { recursive: true, force: true }));
  const name = `tx_bench_${label.replace(/[^a-z0-9]/g, '_')}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(`drop database if exists ${name} with (force)`);
    await c.end();
  };
  cleanup.add(`drop database ${name}`, drop);
  const scratch = postgresScratch(url.toString(), dataDir, drop);
  await withConnections(scratch, ({ product }) => migrateDatabase(product));
  return scratch;
}

/** Opens the product connection and the bare driver, runs `fn`, closes them whatever happens. */
export async function withConnections<T>(scratch: Scratch, fn: (connections: Connections) => Promise<T>): Promise<T> {
  const connections = await scratch.open();
  try {
    return await fn(connections);
  } finally {
    await connections.close();
  }
}

/** Throws when a baseline does not answer the same question as the product path it is compared with. */
export function assertSame(what: string, product: unknown, baseline: unknown) {
  const a = JSON.stringify(product);
  const b = JSON.stringify(baseline);
  if (a !== b) throw new Error(`baseline mismatch for ${what}: product ${a.slice(0, 300)} vs baseline ${b.slice(0, 300)}`);
}

// ---------------------------------------------------------------- running a suite

/** Cleanups of the suites running now, for the command line's signal handlers. */
export const activeCleanups = new Set<Cleanup>();

/** Checks a figure list against the results contract; throws on the first violation. */
export function checkFigures(figures: Figure[]) {
  if (!figures.length) throw new Error('a suite produced no figures');
  for (const f of figures) {
    for (const key of ['value', 'baseline', 'ratio'] as const) {
      if (typeof f[key] !== 'number' || !Number.isFinite(f[key]) || f[key] <= 0) throw new Error(`figure "${f.name}": ${key} is ${f[key]}`);
    }
    if (!f.name.includes(HIGHER_BETTER) && !f.name.includes(LOWER_BETTER)) throw new Error(`figure "${f.name}" does not say which direction is better`);
    if (!f.unit) throw new Error(`figure "${f.name}" has no unit`);
  }
}

/** Runs one suite on one engine, writes its results file, cleans up whatever happens. */
export async function runSuite(suite: Suite, options: BenchOptions, log: (message: string) => void = () => {}): Promise<{ result: BenchResult; file: string }> {
  if (!suite.engines.includes(options.engine)) throw new Error(`suite ${suite.name} does not run on ${options.engine}`);
  if (!suite.scales.includes(options.scale)) throw new Error(`suite ${suite.name} has no scale "${options.scale}" (one of ${suite.scales.join(', ')})`);
  const cleanup = new Cleanup();
  activeCleanups.add(cleanup);
  try {
    const figures = await suite.run({ options, cleanup, log });
    checkFigures(figures);
    const result: BenchResult = { suite: suite.name, engine: options.engine, scale: options.scale, machine: machine(), figures };
    return { result, file: writeResult(options.outDir, result) };
  } finally {
    await cleanup.run();
    activeCleanups.delete(cleanup);
  }
}
