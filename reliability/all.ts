// All five reliability suites, one after another, on one engine or both; the short versions by default.
//
//   npx tsx reliability/all.ts [--engine pglite|postgres|both] [--full] [--seed N]
import type { Engine } from '../server/src/db/connection.ts';
import { parseSuiteArgs } from './lib/options.ts';
import type { Report } from './lib/report.ts';
import { runCrash } from './crash.ts';
import { runLoad } from './load.ts';
import { runFuzz } from './fuzz.ts';
import { runLeaks } from './leaks.ts';
import { runSecurity } from './security.ts';

const SUITES = { crash: runCrash, load: runLoad, fuzz: runFuzz, leaks: runLeaks, security: runSecurity } as const;

const { engines, options } = parseSuiteArgs();
const summary: string[] = [];
let ok = true;
const t0 = Date.now();
for (const engine of engines) {
  for (const [name, run] of Object.entries(SUITES)) {
    const started = Date.now();
    let report: Report;
    try {
      report = await run({ ...options, engine: engine as Engine });
    } catch (e) {
      ok = false;
      summary.push(`FAIL ${name.padEnd(9)} ${engine.padEnd(9)} the suite could not run: ${(e as Error).stack ?? String(e)}`);
      continue;
    }
    report.print();
    ok &&= report.ok;
    const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
    summary.push(`${report.ok ? 'ok  ' : 'FAIL'} ${name.padEnd(9)} ${engine.padEnd(9)} ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s${failed.length ? `  failed: ${failed.join('; ')}` : ''}`);
  }
}
console.log(`\n== reliability (${options.full ? 'full' : 'short'}, seed ${options.seed}) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
for (const line of summary) console.log(`  ${line}`);
process.exit(ok ? 0 : 1);
