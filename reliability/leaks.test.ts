// The access-leak suite catches a route that forgets the scope check and a list that forgets the scope
// filter, and refuses to pass while a GET route has no probe.
import { afterEach, describe, expect, it } from 'vitest';
import { GridService } from '../server/src/modules/grid/grid.service.ts';
import { GridRepository } from '../server/src/modules/grid/grid.repository.ts';
import { MODULES } from '../server/src/modules/index.ts';
import type { ModuleManifest } from '../server/src/platform/module.ts';
import { NotFoundError } from '../server/src/platform/errors.ts';
import { ResidentsService } from '../server/src/modules/basedata/residents.service.ts';
import { runLeaks, unprobedRoutes } from './leaks.ts';
import { testOptions } from './lib/test-env.ts';

// ResidentsService.view is private: the plant reaches it through the prototype, as any patch would.
type ResidentView = (this: unknown, ctx: unknown, row: { sensitive_tags: string[] }, revealed?: unknown) => Record<string, unknown>;
const residents = ResidentsService.prototype as unknown as { view: ResidentView };
const original = { unitFor: GridService.prototype.unitFor, searchPeople: GridRepository.prototype.searchPeople, residentView: residents.view };
afterEach(() => {
  residents.view = original.residentView;
  GridService.prototype.unitFor = original.unitFor;
  GridRepository.prototype.searchPeople = original.searchPeople;
});

describe('access-leak suite, planted faults', () => {
  it('reports a route without its scope check and a list without its scope filter', async () => {
    const report = await runLeaks({
      ...testOptions,
      prepare: () => {
        GridService.prototype.unitFor = async function (ctx, id, permission, q) {
          if (permission !== 'coverage.read') return original.unitFor.call(this, ctx, id, permission, q);
          const unit = await this.repo.unit(id, q);
          if (!unit) throw new NotFoundError();
          return unit;
        };
        GridRepository.prototype.searchPeople = function (_paths, filter, q) {
          return original.searchPeople.call(this, ['/'], filter, q);
        };
      },
    });
    const objectLeaks = report.checks.find((c) => c.name.startsWith('zero leaks: outside'))!;
    const listLeaks = report.checks.find((c) => c.name.startsWith('zero leaks: lists'))!;
    expect(objectLeaks.ok).toBe(false);
    expect(objectLeaks.problems.some((p) => /\/coverage → 200/.test(p))).toBe(true);
    expect(listLeaks.ok).toBe(false);
    expect(listLeaks.problems.some((p) => p.includes('/api/people'))).toBe(true);
  });
});

describe('access-leak suite, planted restricted-field leak', () => {
  it('reports sensitive tags shown to a role without resident.sensitive', async () => {
    const report = await runLeaks({
      ...testOptions,
      prepare: () => {
        residents.view = function (ctx, row, revealed) {
          return { ...original.residentView.call(this, ctx, row, revealed), sensitiveTags: row.sensitive_tags };
        };
      },
    });
    const fieldLeaks = report.checks.find((c) => c.name.startsWith('zero leaks: restricted fields'))!;
    expect(fieldLeaks.ok).toBe(false);
    expect(fieldLeaks.problems.some((p) => /^auditor\.\w+ GET \/api\/residents\/\d+: shows sensitiveTags/.test(p))).toBe(true);
    expect(fieldLeaks.problems.some((p) => /GET \/api\/residents\?.*: item \d+ shows sensitiveTags/.test(p))).toBe(true);
    // the plant leaks nothing else
    expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([fieldLeaks.name]);
  });
});

describe('probe completeness', () => {
  const routes = [
    { method: 'GET', url: '/api/users/:id' },
    { method: 'GET', url: '/api/units/:id' },
    { method: 'POST', url: '/api/units' },
  ];
  const withoutUserProbes: ModuleManifest[] = MODULES.map((m) => (m.name === 'users' ? { ...m, reliability: { ...m.reliability, leakProbes: [] } } : m));

  it('passes when every GET route has a probe', () => {
    expect(unprobedRoutes(routes, MODULES)).toEqual([]);
  });
  it('fails when a GET route has none (a module forgot to declare its probes)', () => {
    expect(unprobedRoutes(routes, withoutUserProbes)).toEqual([expect.stringContaining('GET /api/users/:id')]);
  });
  it('fails for a new module that registers a GET route and declares nothing', () => {
    const fresh: ModuleManifest = { name: 'visits', permissions: [] };
    expect(unprobedRoutes([...routes, { method: 'GET', url: '/api/visits/:id' }], [...MODULES, fresh])).toEqual([expect.stringContaining('GET /api/visits/:id')]);
  });
});
