import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { loadPreset } from '../../server/src/modules/grid/preset.ts';
import { build, stream, type BuildResult } from './build.ts';
import { SCALES } from './scales.ts';
import { LEDGERS, LEDGER_TYPES, renderLedger, type LedgerType, type Lookup } from './file-writer.ts';
import type { RecordTypes } from './records.ts';

/** RFC 4180: quoted fields may hold commas, quotes (doubled) and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  if (field || row.length) rows.push([...row, field]);
  return rows;
}

const SEED = 21;
const preset = loadPreset('liwan');

/** What the files should hold: the same stream, rendered again. */
function expected(): Record<LedgerType, { headers: string[]; numeric: boolean[]; values: string[][] }> {
  const units = new Map<number, { label: string; code: string }>();
  const orgs = new Map<number, string>();
  const lookup: Lookup = { unitLabel: (s) => units.get(s)!.label, unitCode: (s) => units.get(s)!.code, orgName: (s) => (s === null ? '' : orgs.get(s)!) };
  const rows: { [K in LedgerType]: RecordTypes[K][] } = { house: [], household: [], resident: [], party_member: [] };
  for (const b of stream(preset, SCALES.village, SEED, { withHistory: true })) {
    if (b.type === 'unit') for (const u of b.rows) units.set(u.seq, u);
    else if (b.type === 'party_org') for (const o of b.rows) orgs.set(o.seq, o.name);
    else if (b.type === 'house') rows.house.push(...b.rows);
    else if (b.type === 'household') rows.household.push(...b.rows);
    else if (b.type === 'resident') rows.resident.push(...b.rows);
    else if (b.type === 'party_member') rows.party_member.push(...b.rows);
  }
  return {
    house: renderLedger(LEDGERS.house, rows.house, lookup),
    household: renderLedger(LEDGERS.household, rows.household, lookup),
    resident: renderLedger(LEDGERS.resident, rows.resident, lookup),
    party_member: renderLedger(LEDGERS.party_member, rows.party_member, lookup),
  };
}

describe('ledger files', () => {
  let dir: string;
  let result: BuildResult;
  let want: ReturnType<typeof expected>;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tx-gen-files-'));
    result = await build({ preset, scale: SCALES.village, seed: SEED, withHistory: true, filesDir: dir, formats: ['csv', 'gbk', 'xlsx'], maxRowsPerSheet: 500 });
    want = expected();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('UTF-8 CSV with a BOM re-reads as the same records, Chinese headers first', () => {
    for (const type of LEDGER_TYPES) {
      const bytes = readFileSync(path.join(dir, `${LEDGERS[type].file}.csv`));
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const [headers, ...rows] = parseCsv(bytes.subarray(3).toString('utf8'));
      expect(headers).toEqual(want[type].headers);
      expect(rows).toEqual(want[type].values);
    }
    expect(want.resident.headers).toEqual(expect.arrayContaining(['姓名', '性别', '出生日期', '公民身份号码', '联系电话', '户籍地址', '现住址', '所属网格', '户编号', '与户主关系']));
    expect(want.resident.values.length).toBe(SCALES.village.residents);
  });

  it('the GB18030 CSV decodes to the same text', () => {
    for (const type of LEDGER_TYPES) {
      const utf8 = readFileSync(path.join(dir, `${LEDGERS[type].file}.csv`)).subarray(3).toString('utf8');
      const gb = readFileSync(path.join(dir, `${LEDGERS[type].file}.gb18030.csv`));
      expect(gb.length).toBeLessThan(Buffer.byteLength(utf8));
      expect(iconv.decode(gb, 'gb18030')).toBe(utf8);
    }
  });

  it('the .xlsx re-reads as the same records, split over sheets at the row limit', async () => {
    for (const type of LEDGER_TYPES) {
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.readFile(path.join(dir, `${LEDGERS[type].file}.xlsx`));
      const rows: string[][] = [];
      const { numeric } = want[type];
      wb.worksheets.forEach((ws, i) => {
        expect(ws.name).toBe(i === 0 ? LEDGERS[type].sheet : `${LEDGERS[type].sheet}(${i + 1})`);
        expect(ws.rowCount).toBeLessThanOrEqual(500);
        ws.eachRow((row, n) => {
          const values = want[type].headers.map((_, c) => {
            const v = row.getCell(c + 1).value;
            return v === null || v === undefined ? '' : String(v);
          });
          if (n === 1) expect(values).toEqual(want[type].headers);
          else {
            // Numeric columns are real numbers in the sheet, so Excel can sum them.
            numeric.forEach((isNumber, c) => isNumber && expect(typeof row.getCell(c + 1).value).toBe('number'));
            rows.push(values.map((v, c) => (numeric[c] ? String(Number(v)) : v)));
          }
        });
      });
      expect(wb.worksheets.length).toBe(Math.max(1, Math.ceil(want[type].values.length / 499)));
      expect(rows).toEqual(want[type].values.map((r) => r.map((v, c) => (numeric[c] ? String(Number(v)) : v))));
    }
  });

  it('writes histories as JSON Lines and a manifest with the counts and gaps', () => {
    const demands = readFileSync(path.join(dir, 'demands.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(demands.length).toBe(result.summary.counts.demand);
    expect(demands[0].timeline[0].step).toBe('reported');
    const votes = readFileSync(path.join(dir, 'council_votes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(votes.length).toBe(result.summary.counts.council_vote);
    for (const v of votes) expect(v.for + v.against + v.abstain).toBe(v.attended);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.counts).toEqual(result.summary.counts);
    expect(manifest.files.find((f: { file: string }) => f.file === 'residents.xlsx').sheets).toBe(Math.ceil(SCALES.village.residents / 499));
  });
});
