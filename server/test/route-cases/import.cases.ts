// Route-matrix rows of bulk import (server/src/modules/basedata/import): spread at the END of CASES in
// route-matrix.test.ts, since starting an import or a resume lets a job run on (it is awaited up to 2 s,
// which a test file of a few rows never exceeds).
import { createReadStream } from 'node:fs';
import { CompiledQuery } from 'kysely';
import type { RequestContext } from '../../src/platform/context.ts';
import type { Db } from '../../src/db/connection.ts';
import type { PiiCipher } from '../../src/platform/crypto/pii.ts';
import type { ResidentsService } from '../../src/modules/basedata/residents.service.ts';
import { ImportService } from '../../src/modules/basedata/import/import.service.ts';
import { codeUnits, HEADERS, people, row, tmpDir, writeCsv } from '../../src/modules/basedata/import/import.testkit.ts';
import type { TinyLocality } from '../fixtures.ts';
import type { RouteCase } from '../route-matrix.test.ts';

const dir = tmpDir('tx-import-routes-');
const csv = () => writeCsv(dir, `r${Math.random().toString(36).slice(2)}.csv`, HEADERS, people(3, 400).map(row));

// The matrix hands `prepare` the services, not the database: the import service is built on the same
// database and cipher as the residents service (read from its fields, which TypeScript marks private).
function importsOf(residents: ResidentsService): ImportService {
  const db = Reflect.get(residents, 'db') as Db;
  const pii = Reflect.get(residents, 'pii') as PiiCipher;
  return new ImportService(db, pii, () => new Date('2026-11-20T02:00:00Z'), dir);
}

const asSecretaryA = (f: TinyLocality, unitPath: string): RequestContext => ({
  actor: {
    userId: f.users.secretary_a.id, username: 'secretary_a', displayName: 'secretary_a', mustChangePassword: false,
    grants: [{ grantId: 0, role: 'community_secretary', districtId: f.district, unitId: f.communityA, unitPath }],
  },
  clientIp: null,
});

/** An upload of secretary_a (a user's uploads are theirs), through the service. */
async function uploadAs(residents: ResidentsService, f: TinyLocality) {
  const service = importsOf(residents);
  // the service checks the grants: secretary_a's is their community
  const path = (await (Reflect.get(residents, 'db') as Db).executeQuery<{ path: string }>(CompiledQuery.raw('select path from org_unit where id = $1', [f.communityA]))).rows[0].path;
  const ctx = asSecretaryA(f, path);
  return { service, ctx, upload: await service.upload(ctx, createReadStream(csv()), 'ledger.csv') };
}

let coded = false;
async function ensureCodes(residents: ResidentsService, f: TinyLocality) {
  if (coded) return;
  coded = true;
  await codeUnits(Reflect.get(residents, 'db') as Db, f);
}

/** A finished job of secretary_a into community A; `mode` skip-bad-rows unless said. */
async function jobAs(residents: ResidentsService, f: TinyLocality, mode: 'dry_run' | 'skip_bad_rows' = 'skip_bad_rows') {
  await ensureCodes(residents, f);
  const { service, ctx, upload } = await uploadAs(residents, f);
  const job = await service.createJob(ctx, { uploadId: upload.id, kind: 'resident', unitId: f.communityA, mode, source: '民政局' });
  await service.execute(job.id);
  return job.id;
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]);

export const IMPORT_CASES: RouteCase[] = [
  { method: 'POST', route: '/api/imports/uploads', url: () => '/api/imports/uploads?filename=ledger.csv', body: () => Buffer.from(`\uFEFF${HEADERS.join(',')}\r\n`), as: 'secretary_a', status: 201,
    outside: { as: 'worker_a1', status: 403 },
    bad: [{ body: () => PNG, status: 415 }, { url: () => '/api/imports/uploads', body: () => Buffer.from('a,b\r\n') }, { body: () => Buffer.alloc(0) }] },
  { method: 'GET', route: '/api/imports/uploads/:id/preview', prepare: async ({ residents, f }) => ({ uploadIdx: registerUpload((await uploadAs(residents, f)).upload.id) }),
    url: (i) => `/api/imports/uploads/${uploadIds[i.uploadIdx]}/preview?kind=resident`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ url: (i) => `/api/imports/uploads/${uploadIds[i.uploadIdx]}/preview?kind=people`, body: () => undefined }, { url: () => '/api/imports/uploads/not-a-uuid/preview', body: () => undefined }] },
  { method: 'GET', route: '/api/imports/templates', url: () => '/api/imports/templates?kind=resident', as: 'secretary_a', status: 200, outside: { as: 'worker_a1', status: 403 },
    bad: [{ url: () => '/api/imports/templates?kind=car', body: () => undefined }] },
  { method: 'POST', route: '/api/imports/templates', url: () => '/api/imports/templates', body: (i) => ({ unitId: i.communityA, kind: 'resident', name: '民政局台账', mapping: { 姓名: 'name', 公民身份号码: 'idNumber' } }), as: 'secretary_a', status: 201,
    outside: { as: 'secretary_b' },
    bad: [{ body: (i) => ({ unitId: i.communityA, kind: 'resident', name: '坏模板', mapping: { 姓名: 'nickname' } }) }, { body: (i) => ({ unitId: i.communityA, kind: 'resident', mapping: {} }) }] },
  { method: 'GET', route: '/api/imports', url: () => '/api/imports', as: 'secretary_a', status: 200, outside: { as: 'worker_a1', status: 403 }, bad: [{ url: () => '/api/imports?bogus=1', body: () => undefined }] },
  { method: 'GET', route: '/api/imports/:id', prepare: async ({ residents, f }) => ({ job: await jobAs(residents, f) }), url: (i) => `/api/imports/${i.job}`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ url: () => '/api/imports/abc', body: () => undefined }] },
  { method: 'GET', route: '/api/imports/:id/errors', prepare: async ({ residents, f }) => ({ job: await jobAs(residents, f, 'dry_run') }), url: (i) => `/api/imports/${i.job}/errors`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ url: (i) => `/api/imports/${i.job}/errors?limit=0`, body: () => undefined }] },
  { method: 'GET', route: '/api/imports/:id/error-report', prepare: async ({ residents, f }) => ({ job: await jobAs(residents, f, 'dry_run') }), url: (i) => `/api/imports/${i.job}/error-report`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ url: () => '/api/imports/0/error-report', body: () => undefined }] },
  { method: 'GET', route: '/api/imports/:id/events', prepare: async ({ residents, f }) => ({ job: await jobAs(residents, f, 'dry_run') }), url: (i) => `/api/imports/${i.job}/events`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ url: () => '/api/imports/-1/events', body: () => undefined }] },
  { method: 'POST', route: '/api/imports/:id/rollback', prepare: async ({ residents, f }) => ({ job: await jobAs(residents, f), dry: await jobAs(residents, f, 'dry_run') }), url: (i) => `/api/imports/${i.job}/rollback`, as: 'secretary_a', status: 200,
    outside: { as: 'secretary_b' },
    bad: [{ url: (i) => `/api/imports/${i.dry}/rollback`, body: () => undefined, status: 409 }, { url: () => '/api/imports/x/rollback', body: () => undefined }] },
  { method: 'POST', route: '/api/imports/:id/resume', prepare: async ({ residents, f }) => {
    const job = await jobAs(residents, f, 'dry_run');
    // as a process killed mid-import leaves it
    await (Reflect.get(residents, 'db') as Db).executeQuery(CompiledQuery.raw(`update import_job set status = 'running', finished_at = null, heartbeat_at = '2000-01-01' where id = $1`, [job]));
    return { job, finished: await jobAs(residents, f, 'dry_run') };
  }, url: (i) => `/api/imports/${i.job}/resume`, as: 'secretary_a', status: 202, outside: { as: 'secretary_b' },
    bad: [{ url: (i) => `/api/imports/${i.finished}/resume`, body: () => undefined, status: 409 }] },
  { method: 'POST', route: '/api/imports', prepare: async ({ residents, f }) => {
    await ensureCodes(residents, f);
    return { uploadIdx: registerUpload((await uploadAs(residents, f)).upload.id) };
  },
  url: () => '/api/imports', body: (i) => ({ uploadId: uploadIds[i.uploadIdx], kind: 'resident', unitId: i.communityA, mode: 'dry_run', source: '民政局' }), as: 'secretary_a', status: 202,
  outside: { as: 'secretary_b', body: (i) => ({ uploadId: uploadIds[i.uploadIdx], kind: 'resident', unitId: i.communityB, mode: 'dry_run', source: '民政局' }) },
  bad: [
    { body: (i) => ({ uploadId: uploadIds[i.uploadIdx], kind: 'resident', unitId: i.communityA, mode: 'dry_run', source: '民政局', mapping: { 姓名: 'name' } }) },
    { body: (i) => ({ uploadId: uploadIds[i.uploadIdx], kind: 'resident', unitId: i.communityA, mode: 'sometimes', source: '民政局' }) },
    { body: (i) => ({ uploadId: uploadIds[i.uploadIdx], kind: 'resident', unitId: i.communityA, mode: 'dry_run', source: '民政局', encoding: 'big5' }) },
  ] },
];

/** Upload ids are strings; the matrix's ids are numbers, so cases refer to them by index. */
const uploadIds: string[] = [];
function registerUpload(id: string): number {
  uploadIds.push(id);
  return uploadIds.length - 1;
}
