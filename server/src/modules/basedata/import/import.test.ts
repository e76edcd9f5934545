// Bulk import, end to end on the database (PGlite, or PostgreSQL with TEST_DATABASE_URL): readers and
// encodings, re-import without duplicates, merges that keep each field's source, bad rows row by row in
// every mode, scope, rollback, and no plaintext ID or phone number anywhere after an import.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import path from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { createTestDatabase, type TestDatabase } from '../../../../test/db.ts';
import { buildTinyLocality, type TinyLocality } from '../../../../test/fixtures.ts';
import { createKeyring, createPiiCipher } from '../../../platform/crypto/index.ts';
import { systemContext, type RequestContext } from '../../../platform/context.ts';
import { ImportService } from './import.service.ts';
import { openSheet, CsvSplitter, detectEncoding } from './readers.ts';
import { suggestMapping } from './mapping.ts';
import { codeUnits, HEADERS, people, query, row, tmpDir, UNIT_CODES, writeCsv, writeMixedCsv, writeXlsx, wrongCheck, type Person } from './import.testkit.ts';

let db: TestDatabase;
let f: TinyLocality;
let service: ImportService;
const pii = createPiiCipher(createKeyring());
const sys = systemContext('test');
const dir = tmpDir();
const dataDir = tmpDir('tx-import-data-');
const now = () => new Date('2026-11-20T02:00:00Z');
/** every plaintext number written into any file of these tests */
const plaintexts = new Set<string>();
const logged: string[] = [];

const actorOn = (unitPath: string, role: 'community_secretary' | 'grid_worker' = 'community_secretary'): RequestContext => ({
  actor: { userId: f.users.secretary_a.id, username: 'secretary_a', displayName: 'sec', grants: [{ grantId: 1, role, districtId: f.district, unitId: 0, unitPath }], mustChangePassword: false },
  clientIp: null,
});

async function pathOf(id: number) {
  return (await query<{ path: string }>(db.db, 'select path from org_unit where id = $1', [id]))[0].path;
}

function remember(list: Person[]) {
  for (const p of list) {
    plaintexts.add(p.id);
    plaintexts.add(p.phone);
  }
}

async function importFile(ctx: RequestContext, file: string, options: { mode?: 'dry_run' | 'all_or_nothing' | 'skip_bad_rows'; source?: string; unitId?: number; encoding?: 'auto' | 'utf8' | 'gb18030'; kind?: 'resident' | 'house' } = {}) {
  const job = await service.createJob(ctx, { filePath: file, kind: options.kind ?? 'resident', unitId: options.unitId ?? f.district, mode: options.mode ?? 'skip_bad_rows', source: options.source ?? '民政局', encoding: options.encoding });
  return service.execute(job.id);
}

async function residentCount() {
  return Number((await query<{ n: number }>(db.db, 'select count(*)::int8 as n from resident'))[0].n);
}

async function errorsOf(jobId: number) {
  return (await service.errors(sys, jobId, 1000)).items as { rowNo: number; reasons: { code: string; 'zh-CN': string; en: string; field: string | null }[]; cells: Record<string, string> }[];
}

beforeAll(async () => {
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
  }
  db = await createTestDatabase();
  f = await buildTinyLocality(db, now);
  await codeUnits(db.db, f);
  service = new ImportService(db.db, pii, now, dataDir, { batchRows: 7 });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await db?.drop();
});

describe('readers', () => {
  it('splits CSV with quotes, commas and line breaks in cells, across chunks', () => {
    const rows: string[][] = [];
    const s = new CsvSplitter();
    const text = 'a,"b,1","c ""q""\r\nd"\r\ne,f,g\r\n';
    for (const ch of text) s.push(ch, false, (c) => rows.push(c));
    s.push('', true, (c) => rows.push(c));
    expect(rows).toEqual([['a', 'b,1', 'c "q"\r\nd'], ['e', 'f', 'g']]);
  });
  it('detects UTF-8 (BOM or valid) and GB18030', () => {
    expect(detectEncoding(Buffer.from([0xef, 0xbb, 0xbf, 0x41]))).toBe('utf8');
    expect(detectEncoding(Buffer.from('姓名,性别', 'utf8'))).toBe('utf8');
    expect(detectEncoding(iconv.encode('姓名,性别', 'gb18030'))).toBe('gb18030');
  });
  it('reads the same rows from UTF-8, GB18030 and .xlsx (shared strings), with the generator headers auto-mapped', async () => {
    const list = people(5, 900);
    remember(list);
    const files = [writeCsv(dir, 'r.csv', HEADERS, list.map(row)), writeCsv(dir, 'r.gbk.csv', HEADERS, list.map(row), 'gb18030'), await writeXlsx(dir, 'r.xlsx', HEADERS, list.map(row))];
    for (const file of files) {
      const sheet = await openSheet(file);
      const rows = [];
      for await (const r of sheet.rows) rows.push(r.cells);
      expect(sheet.headers).toEqual(HEADERS);
      expect(rows).toEqual(list.map(row));
      expect(suggestMapping('resident', sheet.headers)).toMatchObject({ 姓名: 'name', 公民身份号码: 'idNumber', 联系电话: 'phone', 户编号: 'householdCode', 网格编码: 'unitCode', 现住址: 'address', 人口类型: 'registration' });
    }
  });
});

describe('import and merge', () => {
  const first = people(20);
  it('imports a file, and importing it again creates no duplicates', async () => {
    remember(first);
    const file = writeCsv(dir, 'first.csv', HEADERS, first.map(row));
    const a = await importFile(sys, file, { source: '民政局' });
    expect(a.status).toBe('done');
    expect(a).toMatchObject({ inserted: 20, updated: 0, bad: 0, checkpoint_row: 20 });
    expect(a.households_created).toBe(7);
    expect(await residentCount()).toBe(20);
    const b = await importFile(sys, file, { source: '民政局' });
    expect(b).toMatchObject({ status: 'done', inserted: 0, unchanged: 20, bad: 0 });
    expect(await residentCount()).toBe(20);
    const hh = await query<{ n: number }>(db.db, 'select count(*)::int8 as n from household');
    expect(Number(hh[0].n)).toBe(7);
    // households link by 户编号
    const linked = await query<{ n: number }>(db.db, 'select count(*)::int8 as n from resident where household_id is not null');
    expect(Number(linked[0].n)).toBe(20);
    // the same from the .xlsx and the GB18030 copy: still no duplicates
    expect(await importFile(sys, writeCsv(dir, 'first.gbk.csv', HEADERS, first.map(row), 'gb18030'))).toMatchObject({ status: 'done', inserted: 0, bad: 0 });
    expect(await importFile(sys, await writeXlsx(dir, 'first.xlsx', HEADERS, first.map(row)))).toMatchObject({ status: 'done', inserted: 0, bad: 0 });
    expect(await residentCount()).toBe(20);
  });

  it("merges a second department's overlapping file, keeping each field's source", async () => {
    // the police file: the first 5 people with new addresses and no phone column, plus 3 new people
    const headers = ['姓名', '身份证号', '居住地址', '网格编码'];
    const overlap = first.slice(0, 5).map((p) => [p.name, p.id, `公安登记地址${p.no}`, p.gridCode]);
    const fresh = people(3, 500);
    remember(fresh);
    const file = writeCsv(dir, 'police.csv', headers, [...overlap, ...fresh.map((p) => [p.name, p.id, p.address, p.gridCode])]);
    const job = await importFile(sys, file, { source: '公安分局' });
    expect(job).toMatchObject({ status: 'done', inserted: 3, updated: 5, bad: 0 });
    expect(await residentCount()).toBe(23);
    const [r] = await query<{ address: string; phone_last4: string; sources: Record<string, string>; name: string }>(db.db, 'select address, phone_last4, sources, name from resident where id_hash = $1', [pii.lookupHash('id_number', first[0].id)]);
    expect(r.address).toBe(`公安登记地址${first[0].no}`);
    expect(r.phone_last4).toBe(first[0].phone.slice(-4));
    expect(r.sources.address).toMatch(/公安分局$/);
    expect(r.sources.phone).toMatch(/民政局$/);
    expect(r.sources.household_id).toMatch(/民政局$/);
    // an untouched person keeps the first department everywhere
    const [other] = await query<{ sources: Record<string, string> }>(db.db, 'select sources from resident where id_hash = $1', [pii.lookupHash('id_number', first[10].id)]);
    expect(Object.values(other.sources).every((s) => s.endsWith('民政局'))).toBe(true);
  });
});

describe('bad rows, row by row, in every mode', () => {
  const good = people(4, 600);
  const bad = people(5, 650);
  let file: string;
  beforeAll(() => {
    remember([...good, ...bad]);
    const rows = [row(good[0]), row({ ...bad[0], id: wrongCheck(bad[0].id) }), row(good[1]), row({ ...bad[1], birth: '1990-02-30' }), row({ ...bad[2], gridCode: 'NO-SUCH-UNIT' }), row(good[2]), row({ ...bad[3], name: '' }), row({ ...bad[4], id: '' }), row(good[3])];
    file = writeCsv(dir, 'bad.csv', HEADERS, rows);
  });
  const expectReasons = async (jobId: number) => {
    const errors = await errorsOf(jobId);
    expect(errors.map((e) => [e.rowNo, e.reasons.map((r) => r.code)])).toEqual([
      [2, ['id_wrong_check_digit']],
      [4, ['invalid_birth_date']],
      [5, ['unknown_unit']],
      [7, ['required']],
      [8, ['required']],
    ]);
    for (const e of errors) for (const r of e.reasons) expect(r['zh-CN'] && r.en).toBeTruthy();
    expect(errors[0].reasons[0]['zh-CN']).toContain('校验码');
    expect(errors[2].reasons[0].en).toContain('NO-SUCH-UNIT');
    expect(errors[3].reasons[0].field).toBe('name');
    expect(errors[4].reasons[0].field).toBe('idNumber');
    // the cells are kept for the report, masked
    expect(errors[0].cells['公民身份号码']).toMatch(/^\d{6}\*{8}[\dX]{4}$/);
  };

  it('dry run: validates everything, writes no row', async () => {
    const before = await residentCount();
    const job = await importFile(sys, file, { mode: 'dry_run' });
    // a dry run's counts say what an import would do
    expect(job).toMatchObject({ status: 'done', bad: 5, inserted: 4 });
    await expectReasons(job.id);
    expect(await residentCount()).toBe(before);
  });
  it('all-or-nothing: one bad row keeps every row out', async () => {
    const before = await residentCount();
    const job = await importFile(sys, file, { mode: 'all_or_nothing' });
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('bad_rows');
    await expectReasons(job.id);
    expect(await residentCount()).toBe(before);
    expect(await query(db.db, 'select * from import_job_range where job_id = $1', [job.id])).toEqual([]);
  });
  it('skip-bad-rows: the good rows land, the bad ones are reported', async () => {
    const before = await residentCount();
    const job = await importFile(sys, file, { mode: 'skip_bad_rows' });
    expect(job).toMatchObject({ status: 'done', inserted: 4, bad: 5 });
    await expectReasons(job.id);
    expect(await residentCount()).toBe(before + 4);
  });
  it('the error report is an .xlsx of the bad rows with an error column, masked', async () => {
    const job = await importFile(sys, file, { mode: 'dry_run' });
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await service.errorReport(sys, job.id, out);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.concat(chunks) as unknown as ArrayBuffer);
    const ws = wb.worksheets[0];
    const header = (ws.getRow(1).values as string[]).slice(1);
    expect(header[0]).toBe('行号 Row');
    expect(header[header.length - 1]).toBe('错误原因 Errors');
    expect(ws.rowCount).toBe(6);
    expect(String(ws.getRow(2).getCell(header.length).value)).toContain('校验码');
    const text = JSON.stringify(ws.getSheetValues());
    for (const p of plaintexts) expect(text).not.toContain(p);
  });
  it('GBK read as UTF-8: a garbled row is reported, a garbled header refuses the job', async () => {
    const list = people(3, 700);
    remember(list);
    const mixed = writeMixedCsv(dir, 'mixed.csv', HEADERS, list.map(row), [1]);
    const job = await importFile(sys, mixed, { encoding: 'utf8', mode: 'skip_bad_rows' });
    expect(job).toMatchObject({ status: 'done', inserted: 2, bad: 1 });
    const [e] = await errorsOf(job.id);
    expect(e.rowNo).toBe(2);
    expect(e.reasons[0].code).toBe('invalid_utf8');
    expect(e.reasons[0]['zh-CN']).toContain('GBK');
    const gbk = writeCsv(dir, 'all.gbk.csv', HEADERS, people(2, 720).map(row), 'gb18030');
    remember(people(2, 720));
    await expect(service.createJob(sys, { filePath: gbk, kind: 'resident', unitId: f.district, mode: 'skip_bad_rows', source: 'x', encoding: 'utf8' })).rejects.toMatchObject({ statusCode: 400, code: 'invalid_utf8' });
    // read with detection, the same file imports
    expect(await importFile(sys, gbk)).toMatchObject({ status: 'done', inserted: 2, bad: 0 });
  });
});

describe('scope', () => {
  it("an importer can only import into units within their grants; others' people are not touched", async () => {
    const secA = actorOn(await pathOf(f.communityA));
    await expect(service.createJob(secA, { filePath: path.join(dir, 'first.csv'), kind: 'resident', unitId: f.communityB, mode: 'skip_bad_rows', source: 'x' })).rejects.toMatchObject({ statusCode: 404 });
    // a row in community B's grid, imported into community A: unknown unit; a person registered in B: refused
    const inB = people(1, 800, { name: '乙一网格', code: UNIT_CODES.gridB1 });
    remember(inB);
    expect(await importFile(sys, writeCsv(dir, 'b.csv', HEADERS, inB.map(row)))).toMatchObject({ inserted: 1 });
    // row 3: a new person in A, but in a household registered in B
    const newcomer = people(1, 810)[0];
    remember([newcomer]);
    const file = writeCsv(dir, 'a-tries.csv', HEADERS, [
      row(inB[0]),
      row({ ...inB[0], gridCode: UNIT_CODES.gridA1, household: 'H-A-NEW', address: '改到甲社区' }),
      row({ ...newcomer, household: inB[0].household }),
    ]);
    const job = await importFile(secA, file, { unitId: f.communityA });
    const errors = await errorsOf(job.id);
    expect(errors.map((e) => e.reasons[0].code)).toEqual(['unknown_unit', 'resident_outside_scope', 'household_outside_scope']);
    const [r] = await query<{ address: string; unit_id: number }>(db.db, 'select address, unit_id from resident where id_hash = $1', [pii.lookupHash('id_number', inB[0].id)]);
    expect(r).toMatchObject({ address: inB[0].address, unit_id: f.gridB1 });
  });
});

describe('rollback', () => {
  it('removes exactly the rows the job created; rows it only updated stay', async () => {
    const before = await query<{ id: number }>(db.db, 'select id from resident order by id');
    const old = people(2);
    const fresh = people(4, 300);
    remember(fresh);
    const job = await importFile(sys, writeCsv(dir, 'rb.csv', HEADERS, [...old.map((p) => row({ ...p, address: '回滚前更新' })), ...fresh.map(row)]));
    expect(job).toMatchObject({ inserted: 4, updated: 2 });
    const removed = await service.rollback(sys, job.id);
    expect(removed.removed).toMatchObject({ residents: 4, households: 2 });
    expect(removed.status).toBe('rolled_back');
    expect(await query<{ id: number }>(db.db, 'select id from resident order by id')).toEqual(before);
    await expect(service.rollback(sys, job.id)).rejects.toMatchObject({ statusCode: 409 });
  });
});

describe('houses', () => {
  it('imports houses and merges them by address', async () => {
    const headers = ['房屋编号', '房屋地址', '网格编码', '房屋用途', '专有部分面积(㎡)'];
    const rows = [['F1', '测试路1号101', UNIT_CODES.gridA1, '住宅', '88.50'], ['F2', '测试路1号102', UNIT_CODES.gridA1, '商铺', '40'], ['F3', '测试路1号103', UNIT_CODES.gridA2, '仓库', '10']];
    const job = await importFile(sys, writeCsv(dir, 'houses.csv', headers, rows), { kind: 'house' });
    expect(job).toMatchObject({ status: 'done', inserted: 2, bad: 1 });
    expect((await errorsOf(job.id))[0].reasons[0].code).toBe('invalid_usage');
    // the housing bureau's file has no usage column: usage keeps its value and its source
    const again = await importFile(sys, writeCsv(dir, 'houses2.csv', ['房屋地址', '网格编码', '专有部分面积(㎡)'], [['测试路1号101', UNIT_CODES.gridA1, '90']]), { kind: 'house', source: '住建局' });
    expect(again).toMatchObject({ inserted: 0, updated: 1 });
    const [h] = await query<{ exclusive_area: string; sources: Record<string, string> }>(db.db, `select exclusive_area, sources from house where address = '测试路1号101'`);
    expect(h.exclusive_area).toBe('90.00');
    expect(h.sources.exclusive_area).toMatch(/住建局$/);
    expect(h.sources.usage).toMatch(/民政局$/);
  });
});

describe('personal data', () => {
  it('one audit row per job, with counts and no row data', async () => {
    const rows = await query<{ action: string; after: Record<string, unknown> }>(db.db, `select action, after from audit_log where target_type = 'import_job' order by id`);
    const jobs = await query<{ n: number }>(db.db, `select count(*)::int8 as n from import_job where status <> 'pending'`);
    expect(rows.filter((r) => r.action !== 'import.rollback').length).toBe(Number(jobs[0].n));
    expect(rows[0].after).toMatchObject({ inserted: 20, fileName: 'first.csv', source: '民政局' });
  });
  it('after the imports no table, log or stored file holds a plaintext ID or phone number from the files', async () => {
    expect(plaintexts.size).toBeGreaterThan(50);
    const columns = await query<{ table_name: string; column_name: string }>(db.db, `select table_name, column_name from information_schema.columns
      where table_schema = 'public' and data_type in ('text', 'jsonb', 'json', 'ARRAY', 'character varying') order by table_name, column_name`);
    expect(columns.length).toBeGreaterThan(20);
    const found: string[] = [];
    for (const c of columns) {
      const rows = await query<{ v: string }>(db.db, `select "${c.column_name}"::text as v from "${c.table_name}" where "${c.column_name}" is not null`);
      for (const r of rows) for (const p of plaintexts) if (r.v.includes(p)) found.push(`${c.table_name}.${c.column_name}`);
    }
    expect(found).toEqual([]);
    const logText = logged.join('\n');
    for (const p of plaintexts) expect(logText).not.toContain(p);
    // the data dir holds no upload of these (CLI-style) jobs and nothing else with a number
    const files = readdirSync(dataDir, { recursive: true }).map(String).filter((p) => statSync(path.join(dataDir, p)).isFile());
    for (const file of files) {
      const text = readFileSync(path.join(dataDir, file), 'utf8');
      for (const p of plaintexts) expect(text).not.toContain(p);
    }
  });
});
