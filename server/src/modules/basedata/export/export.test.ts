// Ledger export: real .xlsx files of a unit's subtree, de-identified by default (no plaintext number, no
// sensitive tag anywhere in the file), full only with resident.export and a purpose, every export audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, call, type Session, type TestApp } from '../../../../test/app.ts';
import { buildTinyLocality, loginAll, type TinyLocality } from '../../../../test/fixtures.ts';
import { fingerprint } from '../../../../test/fingerprint.ts';
import { idCheckCharacter } from '../../../platform/crypto/id-number.ts';
import { HOUSEHOLD_SHEET, NOTE_SHEET, RESIDENT_HEADERS, RESIDENT_SHEET } from './export.service.ts';
import { XLSX_MIME } from './export.routes.ts';

const withCheck = (first17: string) => first17 + idCheckCharacter(first17);
const ZHANG = withCheck('44010319800512003');
const WANG = withCheck('44010319750302002');
const LI = withCheck('44010319920101004');

let h: TestApp;
let f: TinyLocality;
let s: Record<string, Session>;

async function workbookOf(res: LightMyRequestResponse) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(res.rawPayload as unknown as ArrayBuffer);
  return wb;
}

/** Every cell of every sheet as text, for "this value is nowhere in the file" checks. */
function allText(wb: ExcelJS.Workbook): string {
  const parts: string[] = [];
  wb.eachSheet((ws) => ws.eachRow((row) => row.eachCell((cell) => parts.push(String(cell.value)))));
  return parts.join('|');
}

function rowsOf(wb: ExcelJS.Workbook, sheet: string): string[][] {
  const ws = wb.getWorksheet(sheet);
  const rows: string[][] = [];
  ws?.eachRow((row) => rows.push((row.values as unknown[]).slice(1).map((v) => (v === null || v === undefined ? '' : String(v)))));
  return rows;
}

const audits = (action: string) => h.database.db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();

beforeAll(async () => {
  h = await createTestApp();
  f = await buildTinyLocality(h.database, h.clock.now);
  s = await loginAll(h.app, f);
  const add = async (body: Record<string, unknown>) => {
    const res = await call(h.app, s.secretary_a, 'POST', '/api/residents', body);
    expect(res.statusCode, res.body).toBe(201);
  };
  await add({ unitId: f.gridA1, name: '张三', idNumber: ZHANG, phone: '13800138000', tags: ['elderly_alone'], sensitiveTags: ['petitioner'], address: '多宝路12号3栋201' });
  await add({ unitId: f.buildingA1, name: '王芳', idNumber: WANG, phone: '13700137000', address: '多宝路12号1栋101' });
  await add({ unitId: f.gridA2, name: '赵六' });
  expect((await call(h.app, s.worker_b1, 'POST', '/api/residents', { unitId: f.gridB1, name: '李四', idNumber: LI, phone: '13900139000' })).statusCode).toBe(201);
  // a household in grid A1, so its sheet appears
  await h.database.db.insertInto('household').values({ district_id: f.district, unit_id: f.gridA1, kind: 'registered_family', code: 'HH-A1-001', name: '张三户', address: '多宝路12号3栋201' }).execute();
});
afterAll(async () => h?.close());

describe('de-identified export (GET)', () => {
  it('answers a real .xlsx of the unit subtree with masked numbers and no sensitive tags, and audits it', async () => {
    const res = await call(h.app, s.secretary_a, 'GET', `/api/residents/export?unitId=${f.communityA}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe(XLSX_MIME);
    expect(String(res.headers['content-disposition'])).toMatch(/^attachment; filename=".+\.xlsx"; filename\*=UTF-8''/);
    expect(res.headers['x-export-rows']).toBe('3');
    const wb = await workbookOf(res);
    const rows = rowsOf(wb, RESIDENT_SHEET);
    expect(rows[0]).toEqual(RESIDENT_HEADERS);
    const byName = new Map(rows.slice(1).map((r) => [r[1], r]));
    expect([...byName.keys()].sort()).toEqual(['张三', '王芳', '赵六'].sort());
    const zhang = byName.get('张三')!;
    expect(zhang[4]).toBe(`${ZHANG.slice(0, 6)}********${ZHANG.slice(-4)}`);
    expect(zhang[5]).toBe('138****8000');
    expect(zhang[11]).toBe('独居老人');
    const text = allText(wb);
    for (const secret of [ZHANG, WANG, LI, '13800138000', '13700137000', '信访', 'petitioner', '李四']) expect(text, secret).not.toContain(secret);
    expect(rowsOf(wb, HOUSEHOLD_SHEET).slice(1).map((r) => r[1])).toEqual(['HH-A1-001']);
    expect(rowsOf(wb, NOTE_SHEET).map((r) => r[0])).toContain('导出方式');
    const audit = (await audits('resident.export')).at(-1)!;
    expect(audit.actor_name).toBe('secretary_a');
    expect(String(audit.target_id)).toBe(String(f.communityA));
    expect(audit.after).toMatchObject({ mode: 'deidentified', rows: { residents: 3, households: 1, houses: 0 } });
  });

  it('a grid worker exports their own grid only', async () => {
    const res = await call(h.app, s.worker_a1, 'GET', `/api/residents/export?unitId=${f.gridA1}`);
    expect(res.statusCode).toBe(200);
    const names = rowsOf(await workbookOf(res), RESIDENT_SHEET).slice(1).map((r) => r[1]);
    expect(names.sort()).toEqual(['张三', '王芳'].sort());
  });

  it('an empty subtree gives a ledger with only its header row', async () => {
    const res = await call(h.app, s.secretary_b, 'GET', `/api/residents/export?unitId=${f.communityB}`);
    expect(res.statusCode).toBe(200);
    const wb = await workbookOf(res);
    expect(rowsOf(wb, RESIDENT_SHEET).map((r) => r[1])).toEqual(['姓名', '李四']);
    expect(wb.getWorksheet(HOUSEHOLD_SHEET)).toBeUndefined();
  });
});

describe('full export (POST)', () => {
  it('plaintext numbers (and sensitive tags for roles that see them) with resident.export and a purpose; audited with purpose and count', async () => {
    const res = await call(h.app, s.street_admin, 'POST', '/api/residents/export', { unitId: f.communityA, full: true, purpose: '低保年审核对身份' });
    expect(res.statusCode, res.body).toBe(200);
    const wb = await workbookOf(res);
    const rows = rowsOf(wb, RESIDENT_SHEET);
    expect(rows[0].at(-1)).toBe('敏感标签');
    const zhang = rows.find((r) => r[1] === '张三')!;
    expect(zhang[4]).toBe(ZHANG);
    expect(zhang[5]).toBe('13800138000');
    expect(zhang.at(-1)).toBe('信访');
    const audit = (await audits('resident.export_full')).at(-1)!;
    expect(audit.actor_name).toBe('street_admin');
    expect(audit.after).toMatchObject({ mode: 'full', purpose: '低保年审核对身份', rows: { residents: 3 } });
    // the audit log holds the purpose and the counts, never the numbers
    expect(JSON.stringify(await audits('resident.export_full'))).not.toContain(ZHANG);
  });

  it('full: false with a purpose is the de-identified ledger', async () => {
    const res = await call(h.app, s.secretary_a, 'POST', '/api/residents/export', { unitId: f.gridA1, full: false, purpose: '入户走访名单' });
    expect(res.statusCode).toBe(200);
    expect(allText(await workbookOf(res))).not.toContain(ZHANG);
    expect((await audits('resident.export')).at(-1)!.after).toMatchObject({ mode: 'deidentified', purpose: '入户走访名单' });
  });
});

describe('refusals write nothing', () => {
  const refused = async (session: Session | null, method: 'GET' | 'POST', url: string, body: unknown, status: number) => {
    const before = await fingerprint(h.database.db);
    const res = await call(h.app, session, method, url, body);
    expect(res.statusCode, res.body).toBe(status);
    expect(res.json().messages['zh-CN']).toMatch(/\S/);
    expect(await fingerprint(h.database.db)).toEqual(before);
  };

  it('unauthenticated → 401', async () => {
    await refused(null, 'GET', `/api/residents/export?unitId=${f.communityA}`, undefined, 401);
    await refused(null, 'POST', '/api/residents/export', { unitId: f.communityA, full: true, purpose: '低保年审核对身份' }, 401);
  });
  it('outside the scope the unit does not exist → 404', async () => {
    await refused(s.worker_b1, 'GET', `/api/residents/export?unitId=${f.gridA1}`, undefined, 404);
    await refused(s.member_a1, 'GET', `/api/residents/export?unitId=${f.gridA1}`, undefined, 404);
    await refused(s.secretary_b, 'POST', '/api/residents/export', { unitId: f.communityA, full: true, purpose: '低保年审核对身份' }, 404);
    await refused(s.secretary_a, 'GET', '/api/residents/export?unitId=987654321', undefined, 404);
  });
  it('a full export without resident.export → 403', async () => {
    await refused(s.secretary_a, 'POST', '/api/residents/export', { unitId: f.communityA, full: true, purpose: '低保年审核对身份' }, 403);
    await refused(s.auditor, 'POST', '/api/residents/export', { unitId: f.communityA, full: true, purpose: '低保年审核对身份' }, 403);
  });
  it('bad input → 400', async () => {
    await refused(s.secretary_a, 'GET', '/api/residents/export', undefined, 400);
    await refused(s.secretary_a, 'GET', '/api/residents/export?unitId=abc', undefined, 400);
    await refused(s.street_admin, 'POST', '/api/residents/export', { unitId: f.communityA, full: true }, 400);
    await refused(s.street_admin, 'POST', '/api/residents/export', { unitId: f.communityA, full: true, purpose: '    ' }, 400);
    await refused(s.street_admin, 'POST', '/api/residents/export', { unitId: f.communityA, full: 'yes', purpose: '低保年审核对身份' }, 400);
    await refused(s.street_admin, 'POST', '/api/residents/export', { unitId: f.communityA, full: true, purpose: '低保年审核对身份', columns: ['all'] }, 400);
  });
});
