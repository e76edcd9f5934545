// Keeps `npm run bench` from rotting: every registered suite runs in smoke mode (tiny data, sub-second
// budgets, PGlite) and must write a results file in the contract's shape. Nothing here judges a figure.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ENGINES, HIGHER_BETTER, LOWER_BETTER, formatTable, runSuite, type BenchOptions, type BenchResult } from './harness.ts';
import { SUITES } from './suites/index.ts';
import { forgetPrepared } from './lib/locality.ts';

const outDir = mkdtempSync(path.join(os.tmpdir(), 'tongxin-bench-smoke-'));
afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
  forgetPrepared();
});

const smoke = (): BenchOptions => ({ engine: 'pglite', scale: 'tiny', smoke: true, seconds: 0.05, duration: 0.5, connections: 4, logLevel: 'warn', outDir });

const close = (a: number, b: number) => Math.abs(a - b) <= 0.01 * Math.max(Math.abs(a), Math.abs(b));

describe('bench suites in smoke mode', () => {
  test('the registry: every suite runs on both engines and knows the tiny scale', () => {
    expect(Object.keys(SUITES)).toEqual(expect.arrayContaining(['tree', 'rollup', 'http', 'memory']));
    for (const [name, suite] of Object.entries(SUITES)) {
      expect(suite.name).toBe(name);
      expect([...suite.engines].sort()).toEqual([...ENGINES].sort());
      expect(suite.scales).toContain('tiny');
      expect(suite.scales).toContain(suite.defaultScale);
    }
  });

  // On a quiet two-core machine each suite takes seconds; a busy one can make it many times slower.
  test.each(Object.keys(SUITES))('%s writes <suite>.pglite.json in the contract shape', { timeout: 300_000 }, async (name) => {
    const { file, result } = await runSuite(SUITES[name], smoke());
    expect(path.basename(file)).toBe(`${name}.pglite.json`);
    const json = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
    expect(json).toEqual(result);
    expect(Object.keys(json)).toEqual(['suite', 'engine', 'scale', 'machine', 'figures']);
    expect(json).toMatchObject({ suite: name, engine: 'pglite', scale: 'tiny' });
    expect(Object.keys(json.machine)).toEqual(['cpus', 'memGiB']);
    expect(json.machine.cpus).toBeGreaterThan(0);
    expect(json.machine.memGiB).toBeGreaterThan(0);
    expect(json.figures.length).toBeGreaterThan(0);
    for (const f of json.figures) {
      expect(Object.keys(f).sort()).toEqual(['baseline', 'name', 'ratio', 'unit', 'value']);
      expect(typeof f.name).toBe('string');
      expect(typeof f.unit).toBe('string');
      for (const n of [f.value, f.baseline, f.ratio]) {
        expect(Number.isFinite(n)).toBe(true);
        expect(n).toBeGreaterThan(0);
      }
      if (f.name.endsWith(LOWER_BETTER)) expect(close(f.ratio, f.baseline / f.value), `${f.name}: ratio ${f.ratio}`).toBe(true);
      else {
        expect(f.name.endsWith(HIGHER_BETTER), `${f.name} must say which direction is better`).toBe(true);
        expect(close(f.ratio, f.value / f.baseline), `${f.name}: ratio ${f.ratio}`).toBe(true);
      }
    }
    expect(formatTable(json).split('\n')).toHaveLength(3 + json.figures.length);
  });
});
