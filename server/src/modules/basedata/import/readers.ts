// Streaming readers for the ledgers offices exchange: .xlsx (exceljs's streaming WorkbookReader: rows as they
// are unzipped, never the whole book) and .csv in UTF-8 (with or without BOM) or GB18030/GBK (iconv-lite).
//
// Encoding: a BOM decides; else the first 64 KiB are tried as strict UTF-8 and, when that fails, the file is
// GB18030 (a superset of GBK and GB2312). A caller may force 'utf8' or 'gb18030'; a GBK file forced to UTF-8
// is never read silently: undecodable bytes become U+FFFD, and a header or row holding one is reported.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';

export type FileFormat = 'csv' | 'xlsx';
export type Encoding = 'utf8' | 'gb18030';
export type EncodingChoice = Encoding | 'auto';

/** U+FFFD: what a byte sequence that is not UTF-8 becomes when read as UTF-8. */
export const REPLACEMENT = '\uFFFD';

export interface SheetRow {
  /** 1-based data row (the header is row 0), counted across sheets */
  rowNo: number;
  /** where a person finds it in the file: 'line 12' / '居民信息!A12' */
  location: string;
  cells: string[];
}

export interface OpenedSheet {
  format: FileFormat;
  encoding: Encoding | null;
  headers: string[];
  rows: AsyncGenerator<SheetRow>;
  close(): Promise<void>;
}

const SAMPLE = 64 * 1024;

async function head(file: string, bytes = SAMPLE): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The format by content: a zip (xlsx) or text without NUL bytes (csv); null for anything else. */
export function sniffFormat(sample: Buffer): FileFormat | null {
  if (sample.length >= 4 && sample[0] === 0x50 && sample[1] === 0x4b && sample[2] === 0x03 && sample[3] === 0x04) return 'xlsx';
  if (sample.length >= 2 && ((sample[0] === 0xff && sample[1] === 0xfe) || (sample[0] === 0xfe && sample[1] === 0xff))) return null; // UTF-16
  if (sample.length === 0 || sample.includes(0)) return null;
  return 'csv';
}

export async function detectFormat(file: string): Promise<FileFormat | null> {
  return sniffFormat(await head(file, 4096));
}

export function hasUtf8Bom(sample: Buffer) {
  return sample.length >= 3 && sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf;
}

/** BOM first, then whether the sample is valid UTF-8 (an incomplete last character is allowed). */
export function detectEncoding(sample: Buffer): Encoding {
  if (hasUtf8Bom(sample)) return 'utf8';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
    return 'utf8';
  } catch {
    return 'gb18030';
  }
}

/** Splits CSV text into records; quoted fields may hold commas, doubled quotes and line breaks. */
export class CsvSplitter {
  private pending = '';
  push(text: string, last: boolean, emit: (cells: string[]) => void) {
    const buf = this.pending + text;
    let start = 0;
    for (;;) {
      let nl = buf.indexOf('\n', start);
      if (nl < 0) break;
      let line = buf.slice(start, nl);
      if (line.includes('"')) {
        // a quoted line break: extend until the quotes balance
        while (countQuotes(line) % 2 === 1) {
          const next = buf.indexOf('\n', nl + 1);
          if (next < 0) {
            nl = -1;
            break;
          }
          line = buf.slice(start, next);
          nl = next;
        }
        if (nl < 0) break;
      }
      start = nl + 1;
      emit(parseLine(line.endsWith('\r') ? line.slice(0, -1) : line));
    }
    this.pending = buf.slice(start);
    if (last && this.pending.length) {
      const line = this.pending.endsWith('\r') ? this.pending.slice(0, -1) : this.pending;
      this.pending = '';
      if (line.length) emit(parseLine(line));
    }
  }
}

function countQuotes(s: string) {
  let n = 0;
  for (let i = s.indexOf('"'); i >= 0; i = s.indexOf('"', i + 1)) n++;
  return n;
}

export function parseLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) {
          value += line.slice(i);
          i = line.length;
          break;
        }
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      // anything between the closing quote and the comma is kept, as spreadsheet programs do
      const comma = line.indexOf(',', i);
      if (comma < 0) {
        cells.push(value + line.slice(i));
        return cells;
      }
      cells.push(value + line.slice(i, comma));
      i = comma + 1;
    } else {
      const comma = line.indexOf(',', i);
      if (comma < 0) {
        cells.push(line.slice(i));
        return cells;
      }
      cells.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}

async function* csvRecords(file: string, encoding: Encoding, signal: { closed: boolean }): AsyncGenerator<string[]> {
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });
  const gbk = encoding === 'gb18030' ? iconv.getDecoder('gb18030') : null;
  const splitter = new CsvSplitter();
  let queue: string[][] = [];
  const emit = (cells: string[]) => queue.push(cells);
  let first = true;
  try {
    for await (const raw of stream) {
      if (signal.closed) return;
      let chunk = raw as Buffer;
      if (first && gbk && hasUtf8Bom(chunk)) chunk = chunk.subarray(3);
      first = false;
      const text = gbk ? gbk.write(chunk) : utf8.decode(chunk, { stream: true });
      splitter.push(text, false, emit);
      const out = queue;
      queue = [];
      for (const cells of out) yield cells;
    }
    splitter.push(gbk ? (gbk.end() ?? '') : utf8.decode(), true, emit);
    for (const cells of queue) yield cells;
  } finally {
    stream.destroy();
  }
}

/** A cell of exceljs as the text a person sees. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === 'object') {
    const v = value as { richText?: { text: string }[]; text?: unknown; result?: unknown; error?: string };
    if (Array.isArray(v.richText)) return v.richText.map((r) => r.text).join('');
    if (v.result !== undefined) return cellText(v.result);
    if (v.text !== undefined) return cellText(v.text);
    if (v.error) return v.error;
  }
  return String(value);
}

/**
 * Re-cuts a byte stream at UTF-8 character boundaries. exceljs 4.4's streaming reader turns each zip chunk
 * into a string on its own (utils/parse-sax.js), so a Chinese character split between two chunks became
 * two U+FFFD; fed whole characters, it reads every cell right.
 */
export async function* utf8Aligned(source: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of source) {
    const buf: Buffer = carry.length ? Buffer.concat([carry, Buffer.from(chunk)]) : Buffer.from(chunk);
    let end = buf.length;
    let i = end - 1;
    while (i >= 0 && end - i < 4 && (buf[i] & 0xc0) === 0x80) i--;
    if (i >= 0) {
      const lead = buf[i];
      const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
      if (end - i < need) end = i;
    }
    carry = buf.subarray(end);
    if (end) yield buf.subarray(0, end);
  }
  if (carry.length) yield carry;
}

type ReaderInternals = {
  _parseWorksheet: (iterator: AsyncIterable<Buffer>, sheetNo: string) => Generator<unknown>;
  _parseSharedStrings: (entry: NodeJS.ReadableStream) => AsyncGenerator<unknown>;
};

async function* xlsxRecords(file: string, signal: { closed: boolean }): AsyncGenerator<{ sheet: string; rowNumber: number; cells: string[]; sheetIndex: number }> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(file, { sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'ignore', worksheets: 'emit', entries: 'emit' });
  // see utf8Aligned: the sheets' and the shared strings' XML go through it before exceljs decodes them
  const internals = reader as unknown as ReaderInternals;
  const parseWorksheet = internals._parseWorksheet;
  const parseSharedStrings = internals._parseSharedStrings;
  if (typeof parseWorksheet === 'function' && typeof parseSharedStrings === 'function') {
    internals._parseWorksheet = function (iterator, sheetNo) {
      return parseWorksheet.call(this, utf8Aligned(iterator), sheetNo);
    };
    internals._parseSharedStrings = function (entry) {
      return parseSharedStrings.call(this, Readable.from(utf8Aligned(entry as unknown as AsyncIterable<Buffer>)));
    };
  }
  let sheetIndex = 0;
  for await (const sheet of reader) {
    const name = (sheet as unknown as { name?: string }).name ?? `Sheet${sheetIndex + 1}`;
    for await (const row of sheet) {
      if (signal.closed) return;
      const values = row.values as unknown[];
      const cells: string[] = [];
      for (let i = 1; i < values.length; i++) cells.push(cellText(values[i]));
      yield { sheet: name, rowNumber: row.number, cells, sheetIndex };
    }
    sheetIndex++;
  }
}

const isBlank = (cells: string[]) => cells.every((c) => c.trim() === '');

/**
 * Opens a file for reading: headers, then data rows from `skip` on (rows before it are read and dropped,
 * as a resumed job needs). Blank lines are skipped but keep their numbers.
 */
export async function openSheet(file: string, options: { encoding?: EncodingChoice; skip?: number } = {}): Promise<OpenedSheet> {
  const format = await detectFormat(file);
  if (!format) throw new Error('unsupported file');
  const signal = { closed: false };
  const skip = options.skip ?? 0;
  if (format === 'csv') {
    const encoding: Encoding = !options.encoding || options.encoding === 'auto' ? detectEncoding(await head(file)) : options.encoding;
    const records = csvRecords(file, encoding, signal);
    const first = await records.next();
    const headers = first.done ? [] : first.value.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, '') : h));
    async function* rows(): AsyncGenerator<SheetRow> {
      let rowNo = 0;
      for await (const cells of records) {
        rowNo++;
        if (rowNo <= skip || isBlank(cells)) continue;
        yield { rowNo, location: `line ${rowNo + 1}`, cells };
      }
    }
    return { format, encoding, headers, rows: rows(), close: async () => void (signal.closed = true, await records.return(undefined)) };
  }
  const records = xlsxRecords(file, signal);
  let headers: string[] = [];
  let headerSheet = -1;
  const first = await records.next();
  if (!first.done) {
    headers = first.value.cells;
    headerSheet = first.value.sheetIndex;
  }
  async function* rows(): AsyncGenerator<SheetRow> {
    let rowNo = 0;
    let sheetSeen = headerSheet;
    for await (const r of records) {
      // a ledger continued on further sheets repeats its header there
      if (r.sheetIndex !== sheetSeen) {
        sheetSeen = r.sheetIndex;
        if (r.cells.join('\u0001') === headers.join('\u0001')) continue;
      }
      if (isBlank(r.cells)) continue;
      rowNo++;
      if (rowNo <= skip) continue;
      yield { rowNo, location: `${r.sheet}!A${r.rowNumber}`, cells: r.cells };
    }
  }
  return { format, encoding: null, headers, rows: rows(), close: async () => void (signal.closed = true, await records.return(undefined)) };
}
