// The fuzz suite catches a service that crashes on some input (500) and one that writes before it refuses (a
// write on a 4xx). Both are planted by patching the service in this test process only.
import { afterEach, describe, expect, it } from 'vitest';
import { GridService } from '../server/src/modules/grid/grid.service.ts';
import { runFuzz } from './fuzz.ts';
import { testOptions } from './lib/test-env.ts';

const original = { createChild: GridService.prototype.createChild, update: GridService.prototype.update };
afterEach(() => Object.assign(GridService.prototype, original));

describe('fuzz suite, planted faults', () => {
  it('reports a 500 on some input and a write made before a refusal', async () => {
    const report = await runFuzz({
      ...testOptions,
      runs: 400,
      // the two routes the faults are planted in: with every route in play the budget may never reach them
      onlyRoutes: ['POST /api/units', 'PATCH /api/units/:id'],
      prepare: () => {
        // crashes on names outside the Basic Multilingual Plane (emoji), as a naive byte-length check might
        GridService.prototype.createChild = function (ctx, input, trx) {
          if ([...input.name].length !== input.name.length) throw new TypeError('planted: cannot handle this name');
          return original.createChild.call(this, ctx, input, trx);
        };
        // touches the row before checking scope, name and state: the touch survives the refusal
        GridService.prototype.update = async function (ctx, id, patch) {
          await this.repo.db.updateTable('org_unit').set({ updated_at: new Date('2001-01-01T00:00:00Z') }).where('id', '=', id).execute();
          return original.update.call(this, ctx, id, patch);
        };
      },
    });
    expect(report.failed('no 5xx for anything a client can send')).toBe(true);
    expect(report.failed('nothing written on a 4xx')).toBe(true);
    expect(report.checks.find((c) => c.name === 'nothing written on a 4xx')!.problems.join('\n')).toMatch(/PATCH \/api\/units\//);
  });
});
