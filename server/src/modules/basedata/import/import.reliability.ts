// What the reliability suites need of bulk import (docs/reliability.md): a finished dry run with a rejected
// row in every community of the suites' localities, so the job routes have objects inside and outside each
// caller's scope; leak probes for them; the reasons two GET routes need no probe.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { Db } from '../../../db/connection.ts';
import type { ReliabilityHooks } from '../../../platform/module.ts';
import { systemContext } from '../../../platform/context.ts';
import { syntheticIdNumber } from '../basedata.reliability.ts';
import { ImportService } from './import.service.ts';

const MISSING_ID = 9007199254740991;
const JOB_ROUTES = ['/api/imports/:id', '/api/imports/:id/errors', '/api/imports/:id/error-report', '/api/imports/:id/events'] as const;

/** Import jobs are read with plain SQL, as the import module does (its tables are not in the Kysely types). */
async function jobPaths(db: Db): Promise<{ id: number; unit_path: string }[]> {
  return (await sql<{ id: number; unit_path: string }>`select id, unit_path from import_job order by id`.execute(db)).rows;
}

export const importReliability: ReliabilityHooks = {
  seed: async ({ db, pii, now, units }) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tongxin-reliability-import-'));
    try {
      const imports = new ImportService(db, pii, now, dir);
      const sys = systemContext('reliability-seed');
      let n = 900_000;
      for (const unit of units.filter((u) => u.kind === 'community')) {
        // one good row and one with a wrong check digit: the job has counts and an error row to serve
        const good = syntheticIdNumber(n++);
        const bad = syntheticIdNumber(n++);
        const wrong = bad.slice(0, 17) + (bad[17] === '0' ? '1' : '0');
        const file = path.join(dir, `community-${unit.id}.csv`);
        writeFileSync(file, `姓名,公民身份号码,联系电话\n导入甲${unit.id},${good},13800138000\n导入乙${unit.id},${wrong},13800138001\n`);
        const job = await imports.createJob(sys, { filePath: file, kind: 'resident', unitId: unit.id, mode: 'dry_run', source: '可靠性测试' });
        await imports.execute(job.id);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  leakProbes: JOB_ROUTES.map((route) => ({
    route,
    permission: 'resident.import' as const,
    missing: route.replace(':id', String(MISSING_ID)),
    objects: async (db: Db) => (await jobPaths(db)).map((j) => ({ url: route.replace(':id', String(j.id)), unitPath: j.unit_path })),
  })),
  leakListProbes: [
    {
      route: '/api/imports',
      permission: 'resident.import',
      urls: async () => ['/api/imports', '/api/imports?limit=3'],
      itemUnitPaths: async (body, db) => {
        const paths = new Map((await jobPaths(db)).map((j) => [Number(j.id), j.unit_path]));
        // the JSON the suite received from GET /api/imports
        return (body as { items: { id: number }[] }).items.map((i) => paths.get(i.id) ?? '(unknown job)');
      },
    },
  ],
  leakExempt: [
    { route: '/api/imports/uploads/:id/preview', reason: 'an upload belongs to the account that sent it, whatever its scope: everyone else gets 404 (import.routes.test.ts)' },
    { route: '/api/imports/templates', reason: "column mappings (header → field) of the caller's districts: settings with no personal data" },
  ],
};
