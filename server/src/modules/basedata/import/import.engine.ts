// Runs one import job: reads the file as a stream, checks every row, seals personal numbers (worker pool),
// and writes batches — `insert … select from unnest(…) on conflict do nothing returning`, then
// `update … from unnest(…)` for the people already registered — each batch committed together with the
// job's checkpoint, the ids it inserted and its rejected rows. A process killed mid-import leaves the job at
// its last committed batch: `resume` goes on from there, `rollback` removes exactly the rows the job created.
// Nothing plaintext is written anywhere but the ciphertext columns: error rows and reports are masked, logs
// carry counts only. See docs/import.md.
import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import { createReadStream } from 'node:fs';
import type { Database } from '../../../db/types.ts';
import type { PiiCipher } from '../../../platform/crypto/pii.ts';
import { businessDate } from '../../../platform/clock.ts';
import { recordAudit } from '../../../platform/audit.ts';
import type { RequestContext } from '../../../platform/context.ts';
import { openSheet, REPLACEMENT, type EncodingChoice, type SheetRow } from './readers.ts';
import { maskCells, resolveMapping, type ImportKind, type Mapping } from './mapping.ts';
import { checkHouse, checkResident, type HouseDraft, type Reason, type ResidentDraft, type UnitIndex, type UnitRef } from './rows.ts';
import { inlineSealer, type Sealer, type SealResult } from './sealer.ts';

type Db = Kysely<Database>;
type Q = Db | Transaction<Database>;

export type ImportMode = 'dry_run' | 'all_or_nothing' | 'skip_bad_rows';
export const IMPORT_MODES: ImportMode[] = ['dry_run', 'all_or_nothing', 'skip_bad_rows'];
export type JobStatus = 'pending' | 'running' | 'interrupted' | 'done' | 'failed' | 'rolled_back';

export interface JobRow {
  id: number;
  district_id: number;
  unit_id: number;
  unit_path: string;
  user_id: number | null;
  actor_name: string;
  kind: ImportKind;
  upload_id: string | null;
  file_name: string;
  file_path: string;
  source: string;
  mode: ImportMode;
  mapping: Mapping;
  encoding: string;
  status: JobStatus;
  checkpoint_row: number;
  total_rows: number | null;
  inserted: number;
  updated: number;
  unchanged: number;
  bad: number;
  households_created: number;
  error: { code: string; 'zh-CN': string; en: string } | null;
  created_at: Date;
  started_at: Date | null;
  heartbeat_at: Date | null;
  finished_at: Date | null;
}

export interface Progress {
  jobId: number;
  status: JobStatus;
  rowsDone: number;
  totalRows: number | null;
  inserted: number;
  updated: number;
  unchanged: number;
  bad: number;
}

export interface EngineDeps {
  db: Db;
  pii: PiiCipher;
  now: () => Date;
  sealer?: Sealer;
  /** rows per batch (default 10,000) */
  batchRows?: number;
  onProgress?: (p: Progress) => void;
  /** stops after this many committed batches (tests of resume); the job stays 'running' as if killed */
  stopAfterBatches?: number;
  /** filled with milliseconds spent per phase (benchmarks): check, seal, wait (for the database), and per statement */
  stats?: Record<string, number>;
}

const q = <R = Record<string, unknown>>(db: Q, text: string, params: unknown[] = []) => db.executeQuery<R>(CompiledQuery.raw(text, params));

export async function loadJob(db: Q, id: number): Promise<JobRow | undefined> {
  const r = await q<JobRow>(db, 'select * from import_job where id = $1', [id]);
  return r.rows[0];
}

export function jobContext(job: Pick<JobRow, 'user_id' | 'actor_name'>): RequestContext {
  return { actor: { userId: job.user_id ?? 0, username: job.actor_name, displayName: job.actor_name, grants: [], mustChangePassword: false }, clientIp: null };
}

/** Units of the job's subtree, by code and by name. */
export async function unitIndex(db: Q, districtId: number, unitId: number, unitPath: string): Promise<UnitIndex> {
  const r = await q(db, `select id, code, name, path from org_unit where district_id = $1 and path like $2 and archived_at is null`, [districtId, `${unitPath.replace(/[\\%_]/g, (c) => `\\${c}`)}%`]);
  const byCode = new Map<string, UnitRef>();
  const byName = new Map<string, UnitRef | 'ambiguous'>();
  let jobUnit: UnitRef = { id: unitId, path: unitPath };
  for (const row of r.rows as { id: number; code: string | null; name: string; path: string }[]) {
    const ref = { id: Number(row.id), path: row.path };
    if (ref.id === unitId) jobUnit = ref;
    if (row.code) byCode.set(row.code, ref);
    byName.set(row.name, byName.has(row.name) ? 'ambiguous' : ref);
  }
  return { jobUnit, byCode, byName };
}

/** Data rows of a CSV file (lines after the header, counted as a stream), for the progress bar; null for .xlsx. */
async function estimateRows(file: string): Promise<number | null> {
  let lines = 0;
  let last = 10;
  let first = true;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer;
    if (first && buf[0] === 0x50 && buf[1] === 0x4b) return null;
    first = false;
    for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) lines++;
    if (buf.length) last = buf[buf.length - 1];
  }
  if (last !== 10) lines++;
  return Math.max(0, lines - 1);
}

interface BadRow {
  rowNo: number;
  reasons: Reason[];
  cells: Record<string, string>;
}

class JobFailure extends Error {
  constructor(
    readonly code: string,
    readonly zh: string,
    readonly en: string,
  ) {
    super(en);
  }
}

/** Compresses ids into [first, last] runs. */
export function toRanges(ids: number[]): [number, number][] {
  const sorted = [...ids].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const id of sorted) {
    const last = out[out.length - 1];
    if (last && id === last[1] + 1) last[1] = id;
    else out.push([id, id]);
  }
  return out;
}

/** An array a statement answered (a JS array from both drivers; a '{1,2}' literal just in case). */
function createdIds(value: unknown): number[];
function createdIds<T>(value: unknown, as: (v: unknown) => T): T[];
function createdIds(value: unknown, as: (v: unknown) => unknown = Number): unknown[] {
  if (Array.isArray(value)) return value.map(as);
  if (typeof value === 'string') return value.replace(/[{}]/g, '').split(',').filter(Boolean).map(as);
  return [];
}

const likePrefix = (p: string) => `${p.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

// ----------------------------------------------------------------------------------------- resident SQL

/** Fields a row may give and the columns they set; `sources` of the proposed row says which it gives. */
const RESIDENT_OPTIONAL: { key: string; cols: string[] }[] = [
  { key: 'unit_id', cols: ['unit_id'] },
  { key: 'household_id', cols: ['household_id'] },
  { key: 'phone', cols: ['phone_cipher', 'phone_hash', 'phone_head', 'phone_last4'] },
  { key: 'registration', cols: ['registration'] },
  { key: 'relation_to_head', cols: ['relation_to_head'] },
  { key: 'address', cols: ['address'] },
];
const pick = (key: string, col: string) => `case when excluded.sources ? '${key}' then excluded.${col} else r.${col} end`;
const RESIDENT_UNNEST = `unnest($2::int8[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::date[], $8::text[], $9::text[], $10::text[], $11::text[],
      $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[])
      as t(unit_id, household_id, name, name_initials, gender, birth_date, id_cipher, id_hash, id_head, id_last4,
        phone_cipher, phone_hash, phone_head, phone_last4, registration, relation_to_head, address, sources)`;

/** People not yet in the district go in; the rows already there (by ID hash) are left out and merged by RESIDENT_UPDATE. */
const RESIDENT_INSERT = `with i as (
    insert into resident (district_id, unit_id, household_id, name, name_initials, gender, birth_date, id_cipher, id_hash, id_head, id_last4,
      phone_cipher, phone_hash, phone_head, phone_last4, registration, relation_to_head, address, sources)
    select $1, t.unit_id, t.household_id, t.name, t.name_initials, t.gender, t.birth_date, t.id_cipher, t.id_hash, t.id_head, t.id_last4,
      t.phone_cipher, t.phone_hash, t.phone_head, t.phone_last4, coalesce(t.registration, 'registered'), t.relation_to_head, t.address, t.sources::jsonb
    from ${RESIDENT_UNNEST}
    on conflict (district_id, id_hash) where id_hash is not null do nothing
    returning id, id_hash
  ) select coalesce(array_agg(id), '{}') as created, coalesce(array_agg(id_hash), '{}') as hashes from i`;

/** People already in the district: the fields the row gives, only where something changes. */
const RESIDENT_UPDATE = (() => {
  const given = (key: string, col: string) => `case when t.sj ? '${key}' then t.${col} else r.${col} end`;
  const sets = [
    'name = t.name', 'name_initials = t.name_initials', 'gender = t.gender', 'birth_date = t.birth_date',
    ...RESIDENT_OPTIONAL.flatMap((f) => f.cols.map((c) => `${c} = ${given(f.key, c)}`)),
  ];
  const compared = ['name', 'gender', 'birth_date', 'unit_id', 'household_id', 'phone_hash', 'registration', 'relation_to_head', 'address'];
  const value = (c: string) => {
    const f = RESIDENT_OPTIONAL.find((o) => o.cols.includes(c));
    return f ? given(f.key, c) : `t.${c}`;
  };
  return `update resident r set ${sets.join(', ')}, sources = r.sources || t.sj, updated_at = now()
    from (select t.*, t.sources::jsonb as sj from ${RESIDENT_UNNEST}) t
    where r.district_id = $1 and r.id_hash = t.id_hash
      and (${compared.map((c) => `r.${c}`).join(', ')}) is distinct from (${compared.map(value).join(', ')})`;
})();

const HOUSE_UPSERT = `with t as (
    select * from unnest($2::int8[], $3::text[], $4::text[], $5::numeric[], $6::text[]) as t(unit_id, address, usage, area, sources)
  ), u as (
    insert into house as r (district_id, unit_id, address, usage, exclusive_area, sources)
    select $1, t.unit_id, t.address, coalesce(t.usage, 'residential'), t.area, t.sources::jsonb from t
    on conflict (district_id, address) where archived_at is null do update set
      unit_id = ${pick('unit_id', 'unit_id')},
      usage = ${pick('usage', 'usage')},
      exclusive_area = ${pick('exclusive_area', 'exclusive_area')},
      sources = r.sources || excluded.sources,
      updated_at = now()
    where (r.unit_id, r.usage, r.exclusive_area) is distinct from (${pick('unit_id', 'unit_id')}, ${pick('usage', 'usage')}, ${pick('exclusive_area', 'exclusive_area')})
    returning r.id, (xmax = 0) as inserted
  ) select count(*) filter (where not inserted)::int8 as updated, coalesce(array_agg(id) filter (where inserted), '{}') as created from u`;

// ----------------------------------------------------------------------------------------------- runner

interface Counts {
  inserted: number;
  updated: number;
  unchanged: number;
  bad: number;
  households: number;
}

interface Batch<D> {
  rows: SheetRow[];
  drafts: D[];
  bad: BadRow[];
  lastRowNo: number;
}

/** Outside the importer's reach: an existing record of a unit outside the job's subtree. */
const OUTSIDE_RESIDENT: Reason = {
  field: 'idNumber',
  code: 'resident_outside_scope',
  'zh-CN': '此人已登记在您管辖范围以外的单元，不能由本次导入修改',
  en: 'This person is registered in a unit outside your scope; this import cannot change the record',
};
const OUTSIDE_HOUSEHOLD: Reason = {
  field: 'householdCode',
  code: 'household_outside_scope',
  'zh-CN': '户编号对应的户在您管辖范围以外',
  en: 'The household code belongs to a household outside your scope',
};
const OUTSIDE_HOUSE: Reason = {
  field: 'address',
  code: 'house_outside_scope',
  'zh-CN': '该地址的房屋登记在您管辖范围以外的单元',
  en: 'A house at this address is registered in a unit outside your scope',
};

export async function runJob(deps: EngineDeps, jobId: number): Promise<JobRow> {
  const { db } = deps;
  const initial = await loadJob(db, jobId);
  if (!initial) throw new Error(`import job ${jobId} not found`);
  if (initial.status === 'done' || initial.status === 'rolled_back') return initial;
  const job = initial;
  const startRow = job.mode === 'all_or_nothing' ? 0 : job.checkpoint_row;
  const sealer = deps.sealer ?? inlineSealer(deps.pii);
  if (deps.stats) deps.stats.sealWorkers = sealer.workers;
  const batchRows = deps.batchRows ?? 10_000;
  const today = businessDate(deps.now());
  const counts: Counts = startRow
    ? { inserted: job.inserted, updated: job.updated, unchanged: job.unchanged, bad: job.bad, households: job.households_created }
    : { inserted: 0, updated: 0, unchanged: 0, bad: 0, households: 0 };
  const total = job.total_rows ?? (await estimateRows(job.file_path).catch(() => null));
  await q(db, `update import_job set status = 'running', started_at = coalesce(started_at, now()), heartbeat_at = now(), total_rows = $2, error = null,
    checkpoint_row = $3, inserted = $4, updated = $5, unchanged = $6, bad = $7, households_created = $8 where id = $1`,
    [jobId, total, startRow, counts.inserted, counts.updated, counts.unchanged, counts.bad, counts.households]);
  if (startRow === 0) await q(db, 'delete from import_job_error where job_id = $1', [jobId]);
  const progress = (status: JobStatus, rowsDone: number) =>
    deps.onProgress?.({ jobId, status, rowsDone, totalRows: total, inserted: counts.inserted, updated: counts.updated, unchanged: counts.unchanged, bad: counts.bad });

  let sheet;
  try {
    sheet = await openSheet(job.file_path, { encoding: job.encoding as EncodingChoice, skip: startRow });
  } catch {
    return fail(db, job, new JobFailure('unreadable_file', '无法读取文件', 'The file cannot be read'));
  }
  try {
    if (sheet.headers.some((h) => h.includes(REPLACEMENT))) {
      throw new JobFailure('invalid_utf8', '表头含有乱码：文件不是 UTF-8 编码（可能是 GBK/GB18030），请选择“自动识别”或 GB18030', 'The header row is not valid UTF-8 (the file is probably GBK/GB18030); use encoding "auto" or GB18030');
    }
    const resolved = resolveMapping(job.kind, sheet.headers, job.mapping);
    if ('code' in resolved) throw new JobFailure(resolved.code, resolved.messages['zh-CN'], resolved.messages.en);
    const units = await unitIndex(db, job.district_id, job.unit_id, job.unit_path);
    const headers = sheet.headers;
    const sourceLabel = `import:${jobId}:${job.source}`;
    const maskRow = (cells: string[]) => {
      const masked = maskCells(cells, resolved.piiColumns);
      return Object.fromEntries(headers.map((h, i) => [h || `#${i + 1}`, masked[i] ?? '']));
    };

    const check = (row: SheetRow) =>
      job.kind === 'resident' ? checkResident(row.rowNo, row.cells, resolved.columns, units, today) : checkHouse(row.rowNo, row.cells, resolved.columns, units);

    let failedAtomically = false;
    const pendingBad: BadRow[] = [];
    let batches = 0;

    /** Everything a batch writes, in one transaction: rows, ranges, rejected rows, checkpoint. */
    const stats = deps.stats;
    const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      if (!stats) return fn();
      const t0 = performance.now();
      try {
        return await fn();
      } finally {
        stats[name] = (stats[name] ?? 0) + performance.now() - t0;
      }
    };
    const writeBatch = async (trx: Q, batch: Batch<ResidentDraft | HouseDraft>, sealed: SealResult | null, hashes: string[] | null) => {
      // Foreign-key checks are cached plans made while a table was small, with no statistics; PostgreSQL may
      // then check each row by a sequential scan of the growing table (quadratic; see basedata-writers.ts).
      await q(trx, 'set local enable_seqscan = off');
      const drafts = batch.drafts;
      const bad = [...batch.bad];
      const ranges: { table: string; ids: number[] }[] = [];
      if (job.kind === 'resident') {
        const rd = drafts as ResidentDraft[];
        const idHashes = sealed ? sealed.id.hash : hashes!;
        // the same person twice in a batch: the later row wins (a statement may touch a row once)
        const lastOf = new Map<string, number>();
        rd.forEach((_d, i) => lastOf.set(idHashes[i]!, i));
        let merged = rd.map((_d, i) => i).filter((i) => lastOf.get(idHashes[i]!) === i);
        counts.updated += rd.length - merged.length;
        const reject = (i: number, reason: Reason) => bad.push({ rowNo: rd[i].rowNo, reasons: [reason], cells: maskRow(batch.rows.find((r) => r.rowNo === rd[i].rowNo)!.cells) });
        /** people already registered (hash → inside the importer's scope) among these rows */
        const registered = async (idx: number[]) => {
          const found = new Map<string, boolean>();
          if (!idx.length) return found;
          const r = await timed('sql.scope', () => q(trx, `select r.id_hash, u.path like $3 as inside from resident r join org_unit u on u.district_id = r.district_id and u.id = r.unit_id
            where r.district_id = $1 and r.id_hash = any($2::text[])`, [job.district_id, idx.map((i) => idHashes[i]), likePrefix(job.unit_path)]));
          for (const row of r.rows) found.set(String(row.id_hash), Boolean(row.inside));
          return found;
        };
        /** households named by these rows: known ones (with scope); with `create`, the missing ones are made in the row's unit */
        const households = new Map<string, { id: number; inside: boolean }>();
        const resolveHouseholds = async (idx: number[], create: boolean) => {
          const first = new Map<string, ResidentDraft>();
          for (const i of idx) {
            const d = rd[i];
            if (d.householdCode && (!first.has(d.householdCode) || d.relationToHead === '户主')) first.set(d.householdCode, d);
          }
          if (!first.size) return;
          let missing = [...first.keys()];
          if (create) {
            const list = [...first.values()];
            const r = await timed('sql.households', () => q(trx, `insert into household (district_id, unit_id, kind, code, name, sources)
              select $1, t.unit_id, t.kind, t.code, t.name, $6::jsonb from unnest($2::int8[], $3::text[], $4::text[], $5::text[]) as t(unit_id, kind, code, name)
              on conflict (district_id, code) where code is not null do nothing returning id, code`,
              [job.district_id, list.map((d) => d.unitId), list.map((d) => (d.registration === 'floating' || d.registration === 'non_registered' ? 'non_registered_family' : 'registered_family')),
                list.map((d) => d.householdCode), list.map((d) => (d.relationToHead === '户主' ? `${d.name}户` : `户 ${d.householdCode}`)), JSON.stringify({ '*': sourceLabel })]));
            counts.households += r.rows.length;
            ranges.push({ table: 'household', ids: r.rows.map((x) => Number(x.id)) });
            for (const x of r.rows) households.set(String(x.code), { id: Number(x.id), inside: true });
            missing = missing.filter((c) => !households.has(c));
          }
          if (missing.length) {
            const r = await q(trx, `select h.id, h.code, u.path like $3 as inside from household h join org_unit u on u.district_id = h.district_id and u.id = h.unit_id
              where h.district_id = $1 and h.code = any($2::text[])`, [job.district_id, missing, likePrefix(job.unit_path)]);
            for (const row of r.rows) households.set(String(row.code), { id: Number(row.id), inside: Boolean(row.inside) });
          }
        };
        const householdInScope = (i: number) => {
          const code = rd[i].householdCode;
          if (code && households.get(code)?.inside === false) {
            reject(i, OUTSIDE_HOUSEHOLD);
            return false;
          }
          return true;
        };
        if (job.mode === 'dry_run' || failedAtomically) {
          const found = await registered(merged);
          await resolveHouseholds(merged, false);
          merged = merged.filter((i) => {
            if (found.get(idHashes[i]!) === false) {
              reject(i, OUTSIDE_RESIDENT);
              return false;
            }
            return householdInScope(i);
          });
          const known = merged.filter((i) => found.has(idHashes[i]!)).length;
          if (job.mode === 'dry_run') {
            counts.updated += known;
            counts.inserted += merged.length - known;
          }
        } else if (merged.length) {
          const s = sealed!;
          await resolveHouseholds(merged, true);
          merged = merged.filter(householdInScope);
          const sourcesOf = (d: ResidentDraft) => {
            let json = '{';
            for (let k = 0; k < d.given.length; k++) json += `${k ? ',' : ''}"${d.given[k]}":${JSON.stringify(sourceLabel)}`;
            return json + '}';
          };
          const columns = (idx: number[]) => {
            const ds = idx.map((i) => rd[i]);
            const pick = <T>(arr: T[]) => idx.map((i) => arr[i]);
            return [
              ds.map((d) => d.unitId),
              ds.map((d) => (d.householdCode ? (households.get(d.householdCode)?.id ?? null) : null)),
              ds.map((d) => d.name), ds.map((d) => d.initials), ds.map((d) => d.gender), ds.map((d) => d.birthDate),
              pick(s.id.cipher), pick(s.id.hash), pick(s.id.head), pick(s.id.tail), pick(s.phone.cipher), pick(s.phone.hash), pick(s.phone.head), pick(s.phone.tail),
              ds.map((d) => d.registration), ds.map((d) => d.relationToHead), ds.map((d) => d.address), ds.map(sourcesOf),
            ];
          };
          // New people go in; a person already registered (or registered meanwhile by someone else) is left to
          // the conflict clause, then checked for scope and merged by the update below.
          const r = await timed('sql.insert', () => q(trx, RESIDENT_INSERT, [job.district_id, ...columns(merged)]));
          const created = createdIds(r.rows[0].created);
          ranges.push({ table: 'resident', ids: created });
          counts.inserted += created.length;
          const insertedHashes = new Set(createdIds(r.rows[0].hashes, String));
          const conflicting = merged.filter((i) => !insertedHashes.has(idHashes[i]!));
          if (conflicting.length) {
            const found = await registered(conflicting);
            const known = conflicting.filter((i) => {
              if (found.get(idHashes[i]!) === false) {
                reject(i, OUTSIDE_RESIDENT);
                return false;
              }
              return true;
            });
            if (known.length) {
              const u = await timed('sql.update', () => q(trx, RESIDENT_UPDATE, [job.district_id, ...columns(known)]));
              const upd = Number(u.numAffectedRows ?? 0);
              counts.updated += upd;
              counts.unchanged += known.length - upd;
            }
          }
        }
      } else {
        let hd = drafts as HouseDraft[];
        if (hd.length) {
          const r = await q(trx, `select h.address from house h join org_unit u on u.district_id = h.district_id and u.id = h.unit_id
            where h.district_id = $1 and h.address = any($2::text[]) and h.archived_at is null and u.path not like $3`, [job.district_id, hd.map((d) => d.address), likePrefix(job.unit_path)]);
          const outside = new Set(r.rows.map((x) => String(x.address)));
          const lastOf = new Map<string, number>();
          hd.forEach((d, i) => lastOf.set(d.address, i));
          const before = hd.length;
          hd = hd.filter((d, i) => {
            if (outside.has(d.address)) {
              bad.push({ rowNo: d.rowNo, reasons: [OUTSIDE_HOUSE], cells: maskRow(batch.rows.find((x) => x.rowNo === d.rowNo)!.cells) });
              return false;
            }
            return lastOf.get(d.address) === i;
          });
          counts.updated += before - hd.length - (bad.length - batch.bad.length);
        }
        if (job.mode !== 'dry_run' && !failedAtomically && hd.length) {
          const sources = hd.map((d) => JSON.stringify(Object.fromEntries(d.given.map((g) => [g, sourceLabel]))));
          const r = await q(trx, HOUSE_UPSERT, [job.district_id, hd.map((d) => d.unitId), hd.map((d) => d.address), hd.map((d) => d.usage), hd.map((d) => d.area), sources]);
          const created = createdIds(r.rows[0].created);
          ranges.push({ table: 'house', ids: created });
          const upd = Number(r.rows[0].updated);
          counts.inserted += created.length;
          counts.updated += upd;
          counts.unchanged += hd.length - created.length - upd;
        }
      }
      counts.bad += bad.length;
      if (job.mode === 'all_or_nothing') {
        if (bad.length) failedAtomically = true;
        if (pendingBad.length < 100_000) pendingBad.push(...bad);
      } else {
        await saveBad(trx, job, bad);
      }
      const tail0 = performance.now();
      for (const range of ranges) {
        for (const [first, last] of toRanges(range.ids)) {
          await q(trx, 'insert into import_job_range (district_id, job_id, table_name, first_id, last_id) values ($1, $2, $3, $4, $5)', [job.district_id, jobId, range.table, first, last]);
        }
      }
      if (job.mode !== 'all_or_nothing') {
        await q(trx, `update import_job set checkpoint_row = $2, inserted = $3, updated = $4, unchanged = $5, bad = $6, households_created = $7, heartbeat_at = now() where id = $1`,
          [jobId, batch.lastRowNo, counts.inserted, counts.updated, counts.unchanged, counts.bad, counts.households]);
      }
      if (stats) stats['sql.tail'] = (stats['sql.tail'] ?? 0) + performance.now() - tail0;
    };

    const prepare = async (batch: Batch<ResidentDraft | HouseDraft>) => {
      if (job.kind !== 'resident') return { sealed: null, hashes: null };
      const rd = batch.drafts as ResidentDraft[];
      if (job.mode === 'dry_run' || failedAtomically) return { sealed: null, hashes: rd.map((d) => deps.pii.lookupHash('id_number', d.idNumber)) };
      return { sealed: await timed('seal', () => sealer.seal({ ids: rd.map((d) => d.idNumber), phones: rd.map((d) => d.phone) })), hashes: null };
    };

    const loop = async (trxFor: (fn: (trx: Q) => Promise<void>) => Promise<void>) => {
      let batch: Batch<ResidentDraft | HouseDraft> = { rows: [], drafts: [], bad: [], lastRowNo: startRow };
      let writing: Promise<void> = Promise.resolve();
      const flush = async (b: Batch<ResidentDraft | HouseDraft>) => {
        const prepared = await prepare(b);
        await timed('wait', () => writing);
        // progress is told once the batch's transaction has committed (a watcher may rely on what it says)
        writing = timed('write', () => trxFor((trx) => writeBatch(trx, b, prepared.sealed, prepared.hashes))).then(() => progress('running', b.lastRowNo));
        // surface a failed write at once rather than at the next batch
        writing.catch(() => undefined);
        batches++;
        if (deps.stopAfterBatches !== undefined && batches >= deps.stopAfterBatches) {
          await writing;
          throw new StopForTest();
        }
      };
      for await (const row of sheet!.rows) {
        const c0 = stats ? performance.now() : 0;
        const r = check(row);
        if (stats) stats.check = (stats.check ?? 0) + performance.now() - c0;
        if (Array.isArray(r)) batch.bad.push({ rowNo: row.rowNo, reasons: r, cells: maskRow(row.cells) });
        else {
          batch.drafts.push(r);
          batch.rows.push(row);
        }
        batch.lastRowNo = row.rowNo;
        if (batch.drafts.length + batch.bad.length >= batchRows) {
          await flush(batch);
          batch = { rows: [], drafts: [], bad: [], lastRowNo: batch.lastRowNo };
        }
      }
      if (batch.drafts.length || batch.bad.length || batch.lastRowNo === startRow) await flush(batch);
      await writing;
    };

    if (job.mode === 'all_or_nothing') {
      try {
        await db.transaction().execute(async (trx) => {
          await loop(async (fn) => fn(trx));
          if (failedAtomically) throw new AtomicRollback();
          await finish(trx, job, 'done', counts);
        });
      } catch (e) {
        if (!(e instanceof AtomicRollback)) throw e;
        // nothing of the rows was kept: the report lists every bad row, the counts say what would have landed
        await db.transaction().execute(async (trx) => {
          await saveBad(trx, job, pendingBad);
          await finish(trx, job, 'failed', { inserted: 0, updated: 0, unchanged: 0, bad: counts.bad, households: 0 }, {
            code: 'bad_rows', 'zh-CN': `有 ${counts.bad} 行数据有误，整批未导入`, en: `${counts.bad} rows are invalid; nothing was imported`,
          });
        });
      }
    } else {
      await loop((fn) => db.transaction().execute(async (trx) => fn(trx)));
      await db.transaction().execute((trx) => finish(trx, job, 'done', counts));
    }
    const done = (await loadJob(db, jobId))!;
    progress(done.status, done.checkpoint_row);
    return done;
  } catch (e) {
    if (e instanceof StopForTest) return (await loadJob(db, jobId))!;
    if (e instanceof JobFailure) return fail(db, job, e);
    await fail(db, job, new JobFailure('import_failed', '导入中断，可从检查点继续或回滚', 'The import stopped; resume it from its checkpoint or roll it back'));
    throw e;
  } finally {
    await sheet.close().catch(() => undefined);
    if (!deps.sealer) await sealer.close();
  }
}

class AtomicRollback extends Error {}
class StopForTest extends Error {}

async function saveBad(trx: Q, job: JobRow, bad: BadRow[]) {
  if (!bad.length) return;
  await q(trx, `insert into import_job_error (district_id, job_id, row_no, reasons, cells)
    select $1, $2, t.row_no, t.reasons::jsonb, t.cells::jsonb from unnest($3::int[], $4::text[], $5::text[]) as t(row_no, reasons, cells)
    on conflict (district_id, job_id, row_no) do update set reasons = excluded.reasons, cells = excluded.cells`,
  [job.district_id, job.id, bad.map((b) => b.rowNo), bad.map((b) => JSON.stringify(b.reasons)), bad.map((b) => JSON.stringify(b.cells))]);
}

async function finish(trx: Transaction<Database>, job: JobRow, status: JobStatus, counts: Counts, error?: JobRow['error']) {
  const r = await q(trx, `update import_job set status = $2, finished_at = now(), heartbeat_at = now(), inserted = $3, updated = $4, unchanged = $5, bad = $6, households_created = $7, error = $8::jsonb
    where id = $1 returning started_at, finished_at, checkpoint_row`, [job.id, status, counts.inserted, counts.updated, counts.unchanged, counts.bad, counts.households, error ? JSON.stringify(error) : null]);
  const unit = await q(trx, 'select district_id, id, path from org_unit where id = $1', [job.unit_id]);
  const u = unit.rows[0] as { district_id: number; id: number; path: string } | undefined;
  // One audit row per job: who, what file, from which department, when, and the counts — never a row's data.
  await recordAudit(trx, jobContext(job), {
    action: job.mode === 'dry_run' ? 'import.dry_run' : 'import.run',
    targetType: 'import_job',
    targetId: job.id,
    unit: u ? { district_id: Number(u.district_id), id: Number(u.id), path: u.path } : null,
    after: {
      kind: job.kind, fileName: job.file_name, source: job.source, mode: job.mode, status,
      startedAt: r.rows[0]?.started_at, finishedAt: r.rows[0]?.finished_at, rows: r.rows[0]?.checkpoint_row,
      inserted: counts.inserted, updated: counts.updated, unchanged: counts.unchanged, bad: counts.bad, householdsCreated: counts.households, error: error?.code,
    },
  });
}

async function fail(db: Db, job: JobRow, e: JobFailure): Promise<JobRow> {
  const error = { code: e.code, 'zh-CN': e.zh, en: e.en };
  await db.transaction().execute(async (trx) => {
    const cur = (await loadJob(trx, job.id))!;
    await finish(trx, job, job.mode === 'skip_bad_rows' && e.code === 'import_failed' ? 'interrupted' : 'failed',
      { inserted: cur.inserted, updated: cur.updated, unchanged: cur.unchanged, bad: cur.bad, households: cur.households_created }, error);
  });
  return (await loadJob(db, job.id))!;
}

/** Removes exactly the rows the job created (its recorded id runs); rows it only updated keep their new values. */
export async function rollbackJob(db: Db, jobId: number, ctx: RequestContext): Promise<{ residents: number; households: number; houses: number }> {
  return db.transaction().execute(async (trx) => {
    const job = await q<JobRow>(trx, 'select * from import_job where id = $1 for update', [jobId]);
    const j = job.rows[0];
    if (!j) throw new Error(`import job ${jobId} not found`);
    const removed = { residents: 0, households: 0, houses: 0 };
    const ranges = (await q(trx, 'select table_name, first_id, last_id from import_job_range where job_id = $1 order by table_name', [jobId])).rows as { table_name: string; first_id: number; last_id: number }[];
    const del = async (table: string) => {
      let n = 0;
      for (const r of ranges.filter((x) => x.table_name === table)) {
        const res = await q(trx, `delete from ${table} where district_id = $1 and id between $2 and $3`, [j.district_id, r.first_id, r.last_id]);
        n += Number(res.numAffectedRows ?? 0);
      }
      return n;
    };
    // people first (they point at households), then households, then houses
    removed.residents = await del('resident');
    removed.households = await del('household');
    removed.houses = await del('house');
    await q(trx, `update import_job set status = 'rolled_back', finished_at = now() where id = $1`, [jobId]);
    const unit = (await q(trx, 'select district_id, id, path from org_unit where id = $1', [j.unit_id])).rows[0] as { district_id: number; id: number; path: string };
    await recordAudit(trx, ctx, { action: 'import.rollback', targetType: 'import_job', targetId: jobId, unit: { district_id: Number(unit.district_id), id: Number(unit.id), path: unit.path }, after: { ...removed, fileName: j.file_name } });
    return removed;
  });
}

/** Jobs left 'running' by a process that is gone (no heartbeat for `staleMs`) become 'interrupted'. */
export async function markStaleJobs(db: Db, staleMs = 60_000) {
  await q(db, `update import_job set status = 'interrupted' where status = 'running' and (heartbeat_at is null or heartbeat_at < now() - ($1::int8 * interval '1 millisecond'))`, [staleMs]);
}

export const sqlText = { RESIDENT_INSERT, RESIDENT_UPDATE, HOUSE_UPSERT };
