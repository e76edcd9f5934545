// Writes the population ledgers as the files offices exchange: CSV in UTF-8 with a BOM (Excel opens it
// correctly), optionally the same CSV in GB18030 (the superset of GBK most office software exports), and
// real .xlsx through exceljs's streaming WorkbookWriter (rows are flushed as they come; a sheet holds at
// most 1,048,576 rows, so a ledger continues on 居民信息(2), (3) …). Headers are the Chinese column names
// of the ledgers (台账). Histories go to JSON Lines, one record per line.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import type { Batch, HouseRecord, HouseholdRecord, PartyMemberRecord, RecordType, RecordTypes, ResidentRecord } from './records.ts';
import { CATEGORY_LABELS, HOUSEHOLD_KIND_LABELS, type GeneratorSummary } from './locality.ts';

export type FileFormat = 'csv' | 'gbk' | 'xlsx';
export const FILE_FORMATS: FileFormat[] = ['csv', 'gbk', 'xlsx'];
/** Excel's limit is 1,048,576 rows per sheet, the header included. */
export const XLSX_MAX_ROWS = 1_048_576;

export interface Lookup {
  unitLabel(seq: number): string;
  unitCode(seq: number): string;
  orgName(seq: number | null): string;
}

interface Column<T> {
  header: string;
  value: (row: T, lookup: Lookup) => string;
  /** written as a number in .xlsx (areas, counts) so sums work in Excel */
  numeric?: boolean;
}

const houseColumns: Column<HouseRecord>[] = [
  { header: '房屋编号', value: (r) => r.houseNo },
  { header: '房屋地址', value: (r) => r.address },
  { header: '所属网格', value: (r, l) => l.unitLabel(r.gridSeq) },
  { header: '网格编码', value: (r, l) => l.unitCode(r.gridSeq) },
  { header: '所属单元', value: (r, l) => l.unitLabel(r.unitSeq) },
  { header: '房屋用途', value: (r) => r.use },
  { header: '专有部分面积(㎡)', value: (r) => r.area, numeric: true },
  { header: '产权人姓名', value: (r) => r.ownerName },
  { header: '产权人公民身份号码', value: (r) => r.ownerIdNumber },
  { header: '产权人联系电话', value: (r) => r.ownerPhone },
  { header: '产权人是否本辖区居民', value: (r) => (r.ownerResidentNo ? '是' : '否') },
  { header: '产权人人员编号', value: (r) => r.ownerResidentNo ?? '' },
];

const householdColumns: Column<HouseholdRecord>[] = [
  { header: '户编号', value: (r) => r.householdNo },
  { header: '户类别', value: (r) => HOUSEHOLD_KIND_LABELS[r.kind] },
  { header: '单位名称', value: (r) => r.orgName ?? '' },
  { header: '户主姓名', value: (r) => r.headName },
  { header: '户主公民身份号码', value: (r) => r.headIdNumber },
  { header: '户主人员编号', value: (r) => r.headResidentNo },
  { header: '户人数', value: (r) => String(r.size), numeric: true },
  { header: '联系电话', value: (r) => r.phone ?? '' },
  { header: '现住址', value: (r) => r.address },
  { header: '房屋编号', value: (r) => r.houseNo ?? '' },
  { header: '所属网格', value: (r, l) => l.unitLabel(r.gridSeq) },
  { header: '网格编码', value: (r, l) => l.unitCode(r.gridSeq) },
  { header: '所属单元', value: (r, l) => l.unitLabel(r.unitSeq) },
];

const residentColumns: Column<ResidentRecord>[] = [
  { header: '人员编号', value: (r) => r.residentNo },
  { header: '姓名', value: (r) => r.name },
  { header: '性别', value: (r) => r.gender },
  { header: '民族', value: (r) => r.ethnicity },
  { header: '出生日期', value: (r) => r.birthDate },
  { header: '公民身份号码', value: (r) => r.idNumber },
  { header: '联系电话', value: (r) => r.phone ?? '' },
  { header: '政治面貌', value: (r) => r.politicalStatus },
  { header: '人口类型', value: (r) => r.residenceType },
  { header: '户编号', value: (r) => r.householdNo },
  { header: '与户主关系', value: (r) => r.relation },
  { header: '户籍地址', value: (r) => r.registeredAddress },
  { header: '现住址', value: (r) => r.currentAddress },
  { header: '房屋编号', value: (r) => r.houseNo ?? '' },
  { header: '所属网格', value: (r, l) => l.unitLabel(r.gridSeq) },
  { header: '网格编码', value: (r, l) => l.unitCode(r.gridSeq) },
  { header: '所属单元', value: (r, l) => l.unitLabel(r.unitSeq) },
];

const partyMemberColumns: Column<PartyMemberRecord>[] = [
  { header: '人员编号', value: (r) => r.residentNo },
  { header: '姓名', value: (r) => r.name },
  { header: '性别', value: (r) => r.gender },
  { header: '出生日期', value: (r) => r.birthDate },
  { header: '公民身份号码', value: (r) => r.idNumber },
  { header: '联系电话', value: (r) => r.phone ?? '' },
  { header: '党员类别', value: (r) => CATEGORY_LABELS[r.category] },
  { header: '党籍状态', value: (r) => (r.status === 'full' ? '正式党员' : '预备党员') },
  { header: '入党日期', value: (r) => r.joinedOn },
  { header: '转正日期', value: (r) => r.confirmedOn ?? '' },
  { header: '所属党组织', value: (r, l) => l.orgName(r.partyOrgSeq) },
  { header: '所属网格', value: (r, l) => l.unitLabel(r.gridSeq) },
  { header: '网格编码', value: (r, l) => l.unitCode(r.gridSeq) },
];

export type LedgerType = 'house' | 'household' | 'resident' | 'party_member';
interface Ledger<T> {
  file: string;
  sheet: string;
  columns: Column<T>[];
}
export const LEDGERS: { [K in LedgerType]: Ledger<RecordTypes[K]> } = {
  house: { file: 'houses', sheet: '房屋信息', columns: houseColumns },
  household: { file: 'households', sheet: '户信息', columns: householdColumns },
  resident: { file: 'residents', sheet: '居民信息', columns: residentColumns },
  party_member: { file: 'party_members', sheet: '党员信息', columns: partyMemberColumns },
};

export const LEDGER_TYPES: LedgerType[] = ['house', 'household', 'resident', 'party_member'];

/** A ledger's rows as the strings written to files, and its headers. */
export function renderLedger<T>(ledger: Ledger<T>, rows: T[], lookup: Lookup) {
  return {
    headers: ledger.columns.map((c) => c.header),
    numeric: ledger.columns.map((c) => !!c.numeric),
    values: rows.map((r) => ledger.columns.map((c) => c.value(r, lookup))),
  };
}

export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One text file written with backpressure. */
class TextSink {
  private readonly stream: WriteStream;
  constructor(
    readonly file: string,
    private readonly encode: (text: string) => Buffer,
    prefix?: Buffer,
  ) {
    this.stream = createWriteStream(file);
    if (prefix) this.stream.write(prefix);
  }
  async write(text: string) {
    if (!this.stream.write(this.encode(text))) await once(this.stream, 'drain');
  }
  async close() {
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

const XLSX_BUFFER_BYTES = 8 * 2 ** 20;

/**
 * The PassThrough between an exceljs WorksheetWriter's StreamBuf and the zip (exceljs internals: the
 * writer's `stream` getter, StreamBuf's `pipes`, and readable-stream's `_writableState`), with the bytes it
 * holds; null if a later exceljs is shaped differently — the writer then still works, without the bound.
 */
function sheetPipe(sheet: object): { emitter: EventEmitter; buffered: () => number } | null {
  const stream: unknown = Reflect.get(sheet, 'stream');
  const pipes: unknown = typeof stream === 'object' && stream !== null ? Reflect.get(stream, 'pipes') : undefined;
  const pipe: unknown = Array.isArray(pipes) ? pipes[0] : undefined;
  if (!(pipe instanceof EventEmitter)) return null;
  const state: unknown = Reflect.get(pipe, '_writableState');
  if (typeof state !== 'object' || state === null || typeof Reflect.get(state, 'length') !== 'number') return null;
  return { emitter: pipe, buffered: () => Number(Reflect.get(state, 'length')) };
}

class XlsxSink {
  private readonly workbook: ExcelJS.stream.xlsx.WorkbookWriter;
  private sheet: ExcelJS.Worksheet | null = null;
  private rowsInSheet = 0;
  sheets = 0;
  constructor(
    readonly file: string,
    private readonly sheetName: string,
    private readonly headers: string[],
    private readonly numeric: boolean[],
    private readonly maxRows: number,
  ) {
    this.workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useStyles: false, useSharedStrings: false });
  }
  private newSheet() {
    this.sheet?.commit();
    this.sheets++;
    this.sheet = this.workbook.addWorksheet(this.sheets === 1 ? this.sheetName : `${this.sheetName}(${this.sheets})`);
    this.sheet.addRow(this.headers).commit();
    this.rowsInSheet = 1;
  }
  async write(rows: string[][]) {
    for (const row of rows) {
      if (!this.sheet || this.rowsInSheet >= this.maxRows) this.newSheet();
      this.sheet!.addRow(row.map((v, i) => (this.numeric[i] && v !== '' ? Number(v) : v))).commit();
      this.rowsInSheet++;
    }
    // Backpressure: exceljs pipes each sheet's XML into the zip through a PassThrough without honouring
    // write()'s return value, so a producer faster than deflate grows that buffer without bound (1.3 GB at
    // Liwan scale). Wait for it to drain once it holds more than a few MB.
    const pipe = this.sheet ? sheetPipe(this.sheet) : null;
    if (pipe && pipe.buffered() > XLSX_BUFFER_BYTES) await once(pipe.emitter, 'drain');
    else await new Promise((resolve) => setImmediate(resolve));
  }
  async close() {
    if (!this.sheet) this.newSheet();
    this.sheet!.commit();
    await this.workbook.commit();
  }
}

export interface FileWriterOptions {
  formats: FileFormat[];
  /** rows per .xlsx sheet including the header (tests use a small number to see the split) */
  maxRowsPerSheet?: number;
}

export interface WrittenFile {
  file: string;
  type: RecordType;
  format: FileFormat | 'jsonl';
  rows: number;
  sheets?: number;
}

export class FileWriter {
  private readonly units = new Map<number, { label: string; code: string }>();
  private readonly orgs = new Map<number, string>();
  private readonly text = new Map<string, TextSink>();
  private readonly xlsx = new Map<LedgerType, XlsxSink>();
  private readonly rows = new Map<string, number>();
  private readonly lookup: Lookup = {
    unitLabel: (seq) => this.units.get(seq)?.label ?? '',
    unitCode: (seq) => this.units.get(seq)?.code ?? '',
    orgName: (seq) => (seq === null ? '' : (this.orgs.get(seq) ?? '')),
  };

  constructor(
    readonly dir: string,
    private readonly options: FileWriterOptions,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  private sink(key: string, file: string, encode: (t: string) => Buffer, prefix?: Buffer, header?: string) {
    let s = this.text.get(key);
    if (!s) {
      s = new TextSink(path.join(this.dir, file), encode, prefix);
      this.text.set(key, s);
      if (header) void s.write(header);
    }
    return s;
  }

  async write(batch: Batch): Promise<void> {
    if (batch.type === 'unit') {
      for (const u of batch.rows) this.units.set(u.seq, { label: u.label, code: u.code });
      return;
    }
    if (batch.type === 'party_org') {
      for (const o of batch.rows) this.orgs.set(o.seq, o.name);
      return;
    }
    if (batch.type === 'demand' || batch.type === 'council_vote') {
      const file = batch.type === 'demand' ? 'demands.jsonl' : 'council_votes.jsonl';
      const sink = this.sink(file, file, (t) => Buffer.from(t, 'utf8'));
      const lines = batch.rows.map((r) => {
        const seq = 'gridSeq' in r ? r.gridSeq : r.unitSeq;
        return JSON.stringify({ ...r, unitCode: this.lookup.unitCode(seq), unitLabel: this.lookup.unitLabel(seq) });
      });
      await sink.write(lines.join('\n') + '\n');
      this.rows.set(file, (this.rows.get(file) ?? 0) + batch.rows.length);
      return;
    }
    let rendered: ReturnType<typeof renderLedger> & { type: LedgerType };
    switch (batch.type) {
      case 'house':
        rendered = { type: batch.type, ...renderLedger(LEDGERS.house, batch.rows, this.lookup) };
        break;
      case 'household':
        rendered = { type: batch.type, ...renderLedger(LEDGERS.household, batch.rows, this.lookup) };
        break;
      case 'resident':
        rendered = { type: batch.type, ...renderLedger(LEDGERS.resident, batch.rows, this.lookup) };
        break;
      case 'party_member':
        rendered = { type: batch.type, ...renderLedger(LEDGERS.party_member, batch.rows, this.lookup) };
        break;
      default:
        return;
    }
    const ledger = LEDGERS[rendered.type];
    const { headers, numeric, values } = rendered;
    const csv = values.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
    const headerLine = headers.join(',') + '\r\n';
    for (const format of this.options.formats) {
      if (format === 'csv') {
        const name = `${ledger.file}.csv`;
        await this.sink(name, name, (t) => Buffer.from(t, 'utf8'), Buffer.from([0xef, 0xbb, 0xbf]), headerLine).write(csv);
      } else if (format === 'gbk') {
        const name = `${ledger.file}.gb18030.csv`;
        await this.sink(name, name, (t) => iconv.encode(t, 'gb18030'), undefined, headerLine).write(csv);
      } else {
        let sink = this.xlsx.get(rendered.type);
        if (!sink) {
          sink = new XlsxSink(path.join(this.dir, `${ledger.file}.xlsx`), ledger.sheet, headers, numeric, this.options.maxRowsPerSheet ?? XLSX_MAX_ROWS);
          this.xlsx.set(rendered.type, sink);
        }
        await sink.write(values);
      }
    }
    this.rows.set(batch.type, (this.rows.get(batch.type) ?? 0) + batch.rows.length);
  }

  /** Closes every file and writes manifest.json (summary, gaps, files). */
  async finish(summary: GeneratorSummary): Promise<WrittenFile[]> {
    const files: WrittenFile[] = [];
    for (const [key, sink] of this.text) {
      await sink.close();
      const jsonl = key.endsWith('.jsonl');
      const type: RecordType = jsonl ? (key.startsWith('demand') ? 'demand' : 'council_vote') : LEDGER_TYPES.find((t) => key.startsWith(`${LEDGERS[t].file}.`))!;
      files.push({ file: path.basename(sink.file), type, format: jsonl ? 'jsonl' : key.includes('gb18030') ? 'gbk' : 'csv', rows: this.rows.get(jsonl ? key : type) ?? 0 });
    }
    for (const [type, sink] of this.xlsx) {
      await sink.close();
      files.push({ file: path.basename(sink.file), type, format: 'xlsx', rows: this.rows.get(type) ?? 0, sheets: sink.sheets });
    }
    const manifest = { ...summary, files };
    await new Promise<void>((resolve, reject) => {
      const s = createWriteStream(path.join(this.dir, 'manifest.json'));
      s.on('error', reject);
      s.end(JSON.stringify(manifest, null, 2), () => resolve());
    });
    return files;
  }
}
