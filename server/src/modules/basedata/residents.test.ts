// Residents: masks by default, audited expiring reveals, sensitive tags only for allowed roles, search by
// name / pinyin initials / exact ID / phone, duplicates refused, and no plaintext number anywhere in the tables.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestApp, call, type Session, type TestApp } from '../../../test/app.ts';
import { buildTinyLocality, loginAll, type TinyLocality } from '../../../test/fixtures.ts';
import { idCheckCharacter } from '../../platform/crypto/id-number.ts';
import { tableNames } from '../../../test/fingerprint.ts';

const withCheck = (first17: string) => first17 + idCheckCharacter(first17);
const ZHANG = withCheck('44010319800512003');
const LI = withCheck('44010319920101004');

let h: TestApp;
let f: TinyLocality;
let s: Record<string, Session>;
let zhangId: number;

beforeAll(async () => {
  h = await createTestApp();
  f = await buildTinyLocality(h.database, h.clock.now);
  s = await loginAll(h.app, f);
  const zhang = await call(h.app, s.secretary_a, 'POST', '/api/residents', {
    unitId: f.gridA1, name: '张三', idNumber: ZHANG, phone: '138 0013 8000', tags: ['elderly_alone'], sensitiveTags: ['petitioner'], address: '多宝路12号3栋201',
  });
  expect(zhang.statusCode, zhang.body).toBe(201);
  zhangId = zhang.json().id;
  expect((await call(h.app, s.worker_b1, 'POST', '/api/residents', { unitId: f.gridB1, name: '李四', idNumber: LI, phone: '13900139000' })).statusCode).toBe(201);
});
afterAll(async () => h?.close());

describe('masks and reveals', () => {
  it('answers masked numbers, birth date and gender derived from the ID number', async () => {
    const r = (await call(h.app, s.worker_a1, 'GET', `/api/residents/${zhangId}`)).json();
    expect(r.idNumber).toBe(`${ZHANG.slice(0, 6)}********${ZHANG.slice(-4)}`);
    expect(r.phone).toBe('138****8000');
    expect(r.birthDate).toBe('1980-05-12');
    expect(r.gender).toBe('male');
    expect(r.sources.idNumber).toBe('manual:secretary_a');
  });

  it('sensitive tags only for roles allowed to see them, and such reads are audited', async () => {
    expect((await call(h.app, s.worker_a1, 'GET', `/api/residents/${zhangId}`)).json().sensitiveTags).toBeUndefined();
    const before = await h.database.db.selectFrom('audit_log').select('id').where('action', '=', 'resident.sensitive_read').execute();
    expect((await call(h.app, s.leader_a1, 'GET', `/api/residents/${zhangId}`)).json().sensitiveTags).toEqual(['petitioner']);
    const after = await h.database.db.selectFrom('audit_log').select('id').where('action', '=', 'resident.sensitive_read').execute();
    expect(after.length).toBe(before.length + 1);
    expect((await call(h.app, s.worker_a1, 'PATCH', `/api/residents/${zhangId}`, { sensitiveTags: [] })).statusCode).toBe(400);
  });

  it('a reveal needs the permission and a purpose, is audited, and expires', async () => {
    expect((await call(h.app, s.worker_a1, 'POST', `/api/residents/${zhangId}/reveal`, { field: 'id_number', purpose: '核实身份办理低保' })).statusCode).toBe(403);
    expect((await call(h.app, s.secretary_a, 'POST', `/api/residents/${zhangId}/reveal`, { field: 'id_number' })).statusCode).toBe(400);
    const reveal = await call(h.app, s.secretary_a, 'POST', `/api/residents/${zhangId}/reveal`, { field: 'id_number', purpose: '核实身份办理低保' });
    expect(reveal.statusCode).toBe(200);
    expect(reveal.json().value).toBe(ZHANG);
    const audit = await h.database.db.selectFrom('audit_log').select(['after']).where('action', '=', 'resident.reveal').execute();
    expect(JSON.stringify(audit.at(-1)!.after)).toContain('核实身份办理低保');
    expect(JSON.stringify(audit)).not.toContain(ZHANG);
    expect((await call(h.app, s.secretary_a, 'GET', `/api/residents/${zhangId}`)).json().idNumber).toBe(ZHANG);
    expect((await call(h.app, s.street_admin, 'GET', `/api/residents/${zhangId}`)).json().idNumber).not.toBe(ZHANG);
    h.clock.advance(11 * 60_000);
    expect((await call(h.app, s.secretary_a, 'GET', `/api/residents/${zhangId}`)).json().idNumber).not.toBe(ZHANG);
  });

  it('outside the scope a resident does not exist', async () => {
    expect((await call(h.app, s.worker_b1, 'GET', `/api/residents/${zhangId}`)).statusCode).toBe(404);
    expect((await call(h.app, s.secretary_b, 'POST', `/api/residents/${zhangId}/reveal`, { field: 'phone', purpose: '回访核实诉求' })).statusCode).toBe(404);
  });
});

describe('search', () => {
  const names = async (session: Session, q: string) => (await call(h.app, session, 'GET', `/api/residents?q=${encodeURIComponent(q)}`)).json().items.map((r: { name: string }) => r.name);
  it('by name, pinyin initials, exact ID number and phone, within scope only', async () => {
    expect(await names(s.street_admin, '张')).toEqual(['张三']);
    expect(await names(s.street_admin, 'zs')).toEqual(['张三']);
    expect(await names(s.street_admin, ZHANG)).toEqual(['张三']);
    expect(await names(s.street_admin, ZHANG.toLowerCase())).toEqual(['张三']);
    expect(await names(s.street_admin, '13800138000')).toEqual(['张三']);
    expect(await names(s.street_admin, '+86 138-0013-8000')).toEqual(['张三']);
    expect(await names(s.street_admin, '多宝路')).toEqual(['张三']);
    expect(await names(s.worker_b1, 'zs')).toEqual([]);
    expect(await names(s.worker_b1, LI)).toEqual(['李四']);
  });
  it('by sensitive tag only with the permission', async () => {
    expect((await call(h.app, s.worker_a1, 'GET', '/api/residents?sensitiveTag=petitioner')).statusCode).toBe(403);
    expect((await call(h.app, s.secretary_a, 'GET', '/api/residents?sensitiveTag=petitioner')).json().items).toHaveLength(1);
  });
});

describe('bad input', () => {
  it('a wrong check digit, an impossible birth date, a bad phone, a duplicate → 4xx with the reason', async () => {
    const bad = LI.slice(0, 17) + (LI[17] === '0' ? '1' : '0');
    const r1 = await call(h.app, s.secretary_a, 'POST', '/api/residents', { unitId: f.gridA1, name: '王五', idNumber: bad });
    expect(r1.statusCode).toBe(400);
    expect(r1.json().messages['zh-CN']).toContain('校验');
    const future = withCheck('44010330000101001');
    expect((await call(h.app, s.secretary_a, 'POST', '/api/residents', { unitId: f.gridA1, name: '王五', idNumber: future })).json().code).toBe('invalid_id_number');
    expect((await call(h.app, s.secretary_a, 'POST', '/api/residents', { unitId: f.gridA1, name: '王五', phone: '12345' })).json().code).toBe('invalid_phone');
    expect((await call(h.app, s.secretary_a, 'POST', '/api/residents', { unitId: f.gridA1, name: '王五', idNumber: ZHANG, gender: 'female' })).json().code).toBe('inconsistent_gender');
    const dup = await call(h.app, s.secretary_a, 'POST', '/api/residents', { unitId: f.gridA2, name: '张三', idNumber: ZHANG });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().details.existingId).toBe(zhangId);
    // the same person registered elsewhere in the district: refused, without saying where
    const hidden = await call(h.app, s.secretary_b, 'POST', '/api/residents', { unitId: f.gridB1, name: '张三', idNumber: ZHANG });
    expect(hidden.statusCode).toBe(409);
    expect(hidden.json().details).toBeUndefined();
  });
});

describe('no plaintext at rest', () => {
  it('no table holds an ID or phone number in the clear', async () => {
    const needles = [ZHANG, LI, '13800138000', '13900139000'];
    for (const table of await tableNames(h.database.db)) {
      const dump = (await sql<{ t: string }>`select coalesce(string_agg(x::text, '|'), '') as t from ${sql.table(table)} x`.execute(h.database.db)).rows[0].t;
      for (const n of needles) expect(dump.includes(n), `${table} holds ${n}`).toBe(false);
    }
  });
});
