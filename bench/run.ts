// `npm run bench -- <suite> [--engine pglite|postgres|all] [--scale NAME] …`: runs a suite, prints its
// figures and writes bench/results/<suite>.<engine>.json (the contract in /work/shared/ARCHITECTURE.md).
import { parseArgs } from 'node:util';
import path from 'node:path';
import { activeCleanups, DEFAULT_RESULTS_DIR, ENGINES, formatTable, killAllChildren, runSuite, type BenchOptions, type EngineName } from './harness.ts';
import { SUITES } from './suites/index.ts';

const USAGE = `Usage: npm run bench -- <suite|all> [options]

Suites:
${Object.values(SUITES)
  .map((s) => `  ${s.name.padEnd(8)} ${s.description}\n           scales: ${s.scales.join(', ')} (default ${s.defaultScale})`)
  .join('\n')}

Options:
  --engine pglite|postgres|all   database engine (default pglite; all = each engine the suite supports)
  --scale NAME                   data size (default: the suite's own)
  --seconds N                    time budget per query figure (default 2)
  --duration S                   HTTP load per route and server, seconds (default 10)
  --connections N                HTTP load: concurrent connections (default 50)
  --log-level L                  LOG_LEVEL of the product server under load (default warn)
  --out DIR                      where results files go (default bench/results)
  --smoke                        tiny data, sub-second budgets: checks the suite runs, measures nothing

PostgreSQL: scratch databases are created (and dropped) on BENCH_DATABASE_URL, else TEST_DATABASE_URL,
else postgres://postgres@127.0.0.1:5432/postgres. See docs/bench.md.`;

function positiveNumber(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got "${raw}"`);
  return value;
}

async function main(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      engine: { type: 'string' },
      scale: { type: 'string' },
      seconds: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      'log-level': { type: 'string' },
      out: { type: 'string' },
      smoke: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [name] = positionals;
  if (!name || values.help) {
    console.log(USAGE);
    process.exitCode = name || values.help ? 0 : 2;
    return;
  }
  const suites = name === 'all' ? Object.values(SUITES) : [SUITES[name]];
  if (!suites[0]) throw new Error(`unknown suite "${name}" (one of ${Object.keys(SUITES).join(', ')}, all)`);
  const engineArg = values.engine ?? 'pglite';
  if (engineArg !== 'all' && !(ENGINES as readonly string[]).includes(engineArg)) throw new Error(`--engine must be pglite, postgres or all, got "${engineArg}"`);
  const smoke = values.smoke ?? false;
  for (const suite of suites) {
    if (values.scale && !suite.scales.includes(values.scale)) throw new Error(`suite ${suite.name} has no scale "${values.scale}" (one of ${suite.scales.join(', ')})`);
  }
  const failures: string[] = [];
  for (const suite of suites) {
    const engines: EngineName[] = engineArg === 'all' ? [...suite.engines] : [engineArg as EngineName];
    for (const engine of engines) {
      const options: BenchOptions = {
        engine,
        scale: values.scale ?? (smoke ? 'tiny' : suite.defaultScale),
        smoke,
        seconds: positiveNumber('seconds', values.seconds, 2),
        duration: positiveNumber('duration', values.duration, smoke ? 0.5 : 10),
        connections: Math.round(positiveNumber('connections', values.connections, smoke ? 4 : 50)),
        logLevel: values['log-level'] ?? 'warn',
        outDir: path.resolve(values.out ?? DEFAULT_RESULTS_DIR),
      };
      const started = performance.now();
      console.log(`\n== ${suite.name} on ${engine}, scale ${options.scale}`);
      try {
        const { result, file } = await runSuite(suite, options, (m) => console.log(`   ${m}`));
        console.log(`\n${formatTable(result)}\n\nwrote ${path.relative(process.cwd(), file)} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
      } catch (err) {
        console.error(`!! ${suite.name} on ${engine} failed: ${(err as Error).stack ?? String(err)}`);
        failures.push(`${suite.name}/${engine}`);
      }
    }
  }
  if (failures.length) {
    console.error(`\nfailed: ${failures.join(', ')}`);
    process.exitCode = 1;
  }
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(130);
    stopping = true;
    console.error(`\n${signal}: stopping servers and removing scratch databases…`);
    killAllChildren();
    void Promise.allSettled([...activeCleanups].map((c) => c.run())).then(() => process.exit(130));
  });
}

main(process.argv.slice(2))
  .catch((err: unknown) => {
    console.error((err as Error).message ?? String(err));
    process.exitCode = 2;
  })
  // Open handles (a pool, a timer in a library) must not keep a finished run alive.
  .finally(() => process.exit());
