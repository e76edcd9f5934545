// The import API as the web client uses it: upload the raw file, preview (masked) with a suggested mapping,
// save a template, start, follow the job (GET and SSE), download the error report, roll back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { createTestApp, type Session, type TestApp } from '../../../../test/app.ts';
import { buildTinyLocality, loginAll, type TinyLocality } from '../../../../test/fixtures.ts';
import { systemContext } from '../../../platform/context.ts';
import { ImportService } from './import.service.ts';
import { codeUnits, HEADERS, people, query, row, tmpDir, writeCsv, wrongCheck } from './import.testkit.ts';

let h: TestApp;
let f: TinyLocality;
let s: Record<string, Session>;
const dir = tmpDir();
const list = people(6, 200);

async function send(session: Session, method: 'GET' | 'POST', url: string, options: { payload?: unknown; raw?: Buffer; type?: string } = {}) {
  const headers: Record<string, string> = { cookie: session.cookie };
  if (method !== 'GET') headers['x-csrf-token'] = session.csrf;
  if (options.raw) headers['content-type'] = options.type ?? 'application/octet-stream';
  return h.app.inject({ method, url, headers, payload: (options.raw ?? options.payload) as never });
}

beforeAll(async () => {
  h = await createTestApp({ dataDir: tmpDir('tx-import-app-') });
  f = await buildTinyLocality(h.database, h.clock.now);
  await codeUnits(h.database.db, f);
  s = await loginAll(h.app, f);
});
afterAll(async () => h?.close());

describe('upload → preview → import → report → rollback', () => {
  let uploadId: string;
  let jobId: number;
  it('takes the raw file, checks it by content, previews it masked with a suggested mapping', async () => {
    const file = writeCsv(dir, 'ledger.csv', HEADERS, [...list.map(row), row({ ...list[0], id: wrongCheck(people(1, 290)[0].id), no: 'BAD' })]);
    const up = await send(s.secretary_a, 'POST', '/api/imports/uploads?filename=%E5%B1%85%E6%B0%91.xlsx', { raw: readFileSync(file), type: 'text/csv' });
    expect(up.statusCode, up.body).toBe(201);
    // named .xlsx, but the content is CSV: the content decides
    expect(up.json()).toMatchObject({ format: 'csv', fileName: '居民.xlsx' });
    uploadId = up.json().id;
    const pv = await send(s.secretary_a, 'GET', `/api/imports/uploads/${uploadId}/preview?kind=resident`);
    expect(pv.statusCode, pv.body).toBe(200);
    const body = pv.json();
    expect(body.headers).toEqual(HEADERS);
    expect(body.suggestedMapping).toMatchObject({ 姓名: 'name', 公民身份号码: 'idNumber', 联系电话: 'phone' });
    expect(body.rows[0][4]).toBe(`${list[0].id.slice(0, 6)}********${list[0].id.slice(-4)}`);
    expect(body.rows[0][5]).toBe(`${list[0].phone.slice(0, 3)}****${list[0].phone.slice(-4)}`);
    for (const p of list) {
      expect(pv.body).not.toContain(p.id);
      expect(pv.body).not.toContain(p.phone);
    }
    // another user's upload does not exist for them
    expect((await send(s.secretary_b, 'GET', `/api/imports/uploads/${uploadId}/preview`)).statusCode).toBe(404);
  });

  it('saves and lists a template', async () => {
    const t = await send(s.secretary_a, 'POST', '/api/imports/templates', { payload: { unitId: f.communityA, kind: 'resident', name: '民政局', mapping: { 姓名: 'name', 公民身份号码: 'idNumber', 网格编码: 'unitCode' } } });
    expect(t.statusCode, t.body).toBe(201);
    const l = await send(s.street_admin, 'GET', '/api/imports/templates?kind=resident');
    expect(l.json().items.map((x: { name: string }) => x.name)).toContain('民政局');
  });

  it('imports with a template, reports progress and the bad row', async () => {
    const templates = (await send(s.secretary_a, 'GET', '/api/imports/templates')).json().items as { id: number; name: string }[];
    const templateId = templates.find((t) => t.name === '民政局')!.id;
    const r = await send(s.secretary_a, 'POST', '/api/imports', { payload: { uploadId, kind: 'resident', unitId: f.communityA, mode: 'skip_bad_rows', source: '民政局', templateId } });
    expect(r.statusCode, r.body).toBe(202);
    jobId = r.json().id;
    let job = r.json();
    for (let i = 0; i < 50 && job.status !== 'done'; i++) {
      await new Promise((res) => setTimeout(res, 100));
      job = (await send(s.secretary_a, 'GET', `/api/imports/${jobId}`)).json();
    }
    expect(job).toMatchObject({ status: 'done', counts: { inserted: 6, bad: 1 }, progress: { rowsDone: 7, totalRows: 7, percent: 100 } });
    const ev = await send(s.secretary_a, 'GET', `/api/imports/${jobId}/events`);
    expect(ev.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(ev.body).toContain('event: end');
    const errors = (await send(s.secretary_a, 'GET', `/api/imports/${jobId}/errors`)).json().items;
    expect(errors).toHaveLength(1);
    expect(errors[0].reasons[0].code).toBe('id_wrong_check_digit');
    const rep = await send(s.secretary_a, 'GET', `/api/imports/${jobId}/error-report`);
    expect(rep.statusCode).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(rep.rawPayload as unknown as ArrayBuffer);
    expect(wb.worksheets[0].rowCount).toBe(2);
    // the stored upload is gone once the import is done
    const up = await query<{ removed_at: Date | null }>(h.database.db, 'select removed_at from import_upload where id = $1', [uploadId]);
    expect(up[0].removed_at).not.toBeNull();
    // outside the job's scope it does not exist
    expect((await send(s.secretary_b, 'GET', `/api/imports/${jobId}`)).statusCode).toBe(404);
    expect((await send(s.worker_a1, 'GET', `/api/imports/${jobId}`)).statusCode).toBe(404);
  });

  it('rolls the job back', async () => {
    const before = Number((await query<{ n: number }>(h.database.db, 'select count(*)::int8 as n from resident'))[0].n);
    const r = await send(s.secretary_a, 'POST', `/api/imports/${jobId}/rollback`);
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ status: 'rolled_back', removed: { residents: 6 } });
    const after = Number((await query<{ n: number }>(h.database.db, 'select count(*)::int8 as n from resident'))[0].n);
    expect(after).toBe(before - 6);
    const audit = await query<{ action: string }>(h.database.db, `select action from audit_log where target_type = 'import_job' and target_id = $1 order by id`, [String(jobId)]);
    expect(audit.map((a) => a.action)).toEqual(['import.run', 'import.rollback']);
  });

  it('refuses a file over the size limit, an unsupported file, an empty one; keeps nothing of them', async () => {
    const small = new ImportService(h.database.db, h.pii, h.clock.now, tmpDir('tx-import-limit-'), { maxUploadBytes: 100 });
    await expect(small.upload(systemContext('t'), Readable.from([Buffer.alloc(60, 0x41), Buffer.alloc(60, 0x41)]), 'big.csv')).rejects.toMatchObject({ statusCode: 413 });
    const png = await send(s.secretary_a, 'POST', '/api/imports/uploads?filename=a.csv', { raw: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]) });
    expect(png.statusCode).toBe(415);
    expect(png.json().messages['zh-CN']).toMatch(/\.xlsx/);
    const before = await query(h.database.db, 'select id from import_upload');
    expect((await send(s.secretary_a, 'POST', '/api/imports/uploads?filename=a.csv', { raw: Buffer.alloc(0) })).statusCode).toBe(400);
    expect(await query(h.database.db, 'select id from import_upload')).toEqual(before);
  });
});
