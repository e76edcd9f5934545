// Test helpers of the import tests: ID numbers with a right check digit, ledgers written as CSV (UTF-8,
// GB18030, or mixed) and .xlsx, the tiny locality with unit codes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { CompiledQuery } from 'kysely';
import type { Db } from '../../../db/connection.ts';
import { idCheckCharacter } from '../../../platform/crypto/id-number.ts';
import type { TinyLocality } from '../../../../test/fixtures.ts';

export const withCheck = (first17: string) => first17 + idCheckCharacter(first17);
/** A valid ID number born on `birth` ('19800512') with sequence `seq` (odd: male). */
export const idFor = (birth: string, seq: number) => withCheck(`440103${birth}${String(seq).padStart(3, '0')}`);
/** The same with the check digit changed. */
export const wrongCheck = (id: string) => id.slice(0, 17) + (id[17] === '1' ? '2' : '1');

export const HEADERS = ['人员编号', '姓名', '性别', '出生日期', '公民身份号码', '联系电话', '人口类型', '户编号', '与户主关系', '现住址', '所属网格', '网格编码'];

export function tmpDir(label = 'tx-import-') {
  return mkdtempSync(path.join(os.tmpdir(), label));
}

const csvField = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
export const csvText = (headers: string[], rows: string[][]) => [headers, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';

export function writeCsv(dir: string, name: string, headers: string[], rows: string[][], encoding: 'utf8-bom' | 'utf8' | 'gb18030' = 'utf8-bom'): string {
  const file = path.join(dir, name);
  const text = csvText(headers, rows);
  const body = encoding === 'gb18030' ? iconv.encode(text, 'gb18030') : Buffer.from(text, 'utf8');
  writeFileSync(file, encoding === 'utf8-bom' ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]) : body);
  return file;
}

/** A UTF-8 file in which the listed data rows are GB18030 bytes (a hand-merged file). */
export function writeMixedCsv(dir: string, name: string, headers: string[], rows: string[][], gbkRows: number[]): string {
  const file = path.join(dir, name);
  const parts: Uint8Array[] = [Buffer.from(csvText(headers, []), 'utf8')];
  rows.forEach((r, i) => {
    const line = r.map(csvField).join(',') + '\r\n';
    parts.push(gbkRows.includes(i) ? iconv.encode(line, 'gb18030') : Buffer.from(line, 'utf8'));
  });
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

/** An .xlsx as Excel writes it (shared strings), through exceljs's ordinary writer. */
export async function writeXlsx(dir: string, name: string, headers: string[], rows: string[][]): Promise<string> {
  const file = path.join(dir, name);
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('居民信息');
  ws.addRow(headers);
  for (const r of rows) ws.addRow(r);
  await wb.xlsx.writeFile(file);
  return file;
}

export const UNIT_CODES = { gridA1: 'T-A1', gridA2: 'T-A2', gridB1: 'T-B1', communityA: 'T-CA', communityB: 'T-CB' } as const;

/** Gives the tiny locality's units the codes departments' files use. */
export async function codeUnits(db: Db, f: TinyLocality) {
  for (const [key, code] of Object.entries(UNIT_CODES)) {
    await db.executeQuery(CompiledQuery.raw('update org_unit set code = $1 where id = $2', [code, f[key as keyof typeof UNIT_CODES]]));
  }
}

export interface Person {
  no: string;
  name: string;
  gender: string;
  birth: string;
  id: string;
  phone: string;
  type: string;
  household: string;
  relation: string;
  address: string;
  gridName: string;
  gridCode: string;
}

export const row = (p: Person) => [p.no, p.name, p.gender, p.birth, p.id, p.phone, p.type, p.household, p.relation, p.address, p.gridName, p.gridCode];

/** `n` valid people in grid A1, households of three. */
export function people(n: number, start = 0, grid: { name: string; code: string } = { name: '甲一网格', code: UNIT_CODES.gridA1 }): Person[] {
  const surnames = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周'];
  const given = ['伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋'];
  const out: Person[] = [];
  for (let k = start; k < start + n; k++) {
    const year = 1950 + (k % 60);
    const birth = `${year}0${1 + (k % 9)}1${k % 10}`;
    const seq = 100 + (k % 800);
    const id = idFor(birth, seq);
    out.push({
      no: `P${String(k).padStart(6, '0')}`,
      name: surnames[k % 10] + given[Math.floor(k / 10) % 10] + (k >= 100 ? given[Math.floor(k / 100) % 10] : ''),
      gender: seq % 2 ? '男' : '女',
      birth: `${birth.slice(0, 4)}-${birth.slice(4, 6)}-${birth.slice(6, 8)}`,
      id,
      phone: `139${String(10000000 + k).padStart(8, '0')}`,
      type: k % 4 === 0 ? '流动人口' : '户籍人口',
      household: `H${String(Math.floor(k / 3)).padStart(6, '0')}`,
      relation: k % 3 === 0 ? '户主' : '子',
      address: `测试路${k}号`,
      gridName: grid.name,
      gridCode: grid.code,
    });
  }
  return out;
}

export const query = async <R = Record<string, unknown>>(db: Db, text: string, params: unknown[] = []) => (await db.executeQuery<R>(CompiledQuery.raw(text, params))).rows;
