// Imports as the API and the CLI see them: uploads (checked by content, size-limited, streamed to the data
// dir), previews (masked), templates, jobs (start, status, progress, resume, rollback), error reports.
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { CompiledQuery } from 'kysely';
import ExcelJS from 'exceljs';
import type { Db } from '../../../db/connection.ts';
import type { PiiCipher } from '../../../platform/crypto/pii.ts';
import type { RequestContext } from '../../../platform/context.ts';
import { recordAudit } from '../../../platform/audit.ts';
import { authorizeAt, hasPermissionAt, scopePaths } from '../../../platform/access.ts';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../../../platform/errors.ts';
import { openSheet, detectFormat, REPLACEMENT, type EncodingChoice } from './readers.ts';
import { FIELDS, IMPORT_KINDS, maskCells, resolveMapping, suggestMapping, type ImportKind, type Mapping } from './mapping.ts';
import { loadJob, rollbackJob, runJob, IMPORT_MODES, type EngineDeps, type ImportMode, type JobRow, type Progress } from './import.engine.ts';
import type { Sealer } from './sealer.ts';

const UPLOAD = { 'zh-CN': '上传文件', en: 'Upload' };
const JOB = { 'zh-CN': '导入任务', en: 'Import job' };
const UNIT = { 'zh-CN': '单元', en: 'Unit' };
export const DEFAULT_MAX_UPLOAD_BYTES = 512 * 2 ** 20;
/** silence after which a 'running' job is taken as left by a process that died */
const STALE_MS = 2 * 60_000;

const run = <R = Record<string, unknown>>(db: Db, text: string, params: unknown[] = []) => db.executeQuery<R>(CompiledQuery.raw(text, params));

class PayloadTooLarge extends AppError {
  constructor(limit: number) {
    super(413, 'file_too_large', { 'zh-CN': `文件超过 ${Math.round(limit / 2 ** 20)} MB 上限`, en: `The file is larger than the ${Math.round(limit / 2 ** 20)} MB limit` });
  }
}

export interface UploadRow {
  id: string;
  user_id: number | null;
  file_name: string;
  format: 'csv' | 'xlsx';
  size_bytes: number;
  path: string;
}

export interface StartInput {
  uploadId?: string;
  /** a file on this machine (CLI) instead of an upload */
  filePath?: string;
  fileName?: string;
  kind: ImportKind;
  unitId: number;
  mode: ImportMode;
  source: string;
  mapping?: Mapping;
  templateId?: number;
  encoding?: EncodingChoice;
}

export class ImportService {
  /** live progress of jobs running in this process, for the status route and the SSE stream */
  readonly events = new EventEmitter();
  private readonly live = new Map<number, Progress>();
  private readonly running = new Map<number, Promise<JobRow>>();

  constructor(
    private readonly db: Db,
    private readonly pii: PiiCipher,
    private readonly now: () => Date,
    private readonly dataDir: string,
    private readonly options: { maxUploadBytes?: number; sealer?: () => Promise<Sealer>; batchRows?: number } = {},
  ) {
    this.events.setMaxListeners(0);
  }

  private uploadsDir() {
    return path.join(this.dataDir, 'imports');
  }

  /** Streams a request body to the data dir, under the size limit; keeps it only if its content is a CSV or an .xlsx. */
  async upload(ctx: RequestContext, body: Readable, fileName: string) {
    if (!scopePaths(ctx.actor, 'resident.import').length) throw new NotFoundError(UPLOAD);
    const name = path.basename(fileName.trim()).slice(0, 200);
    if (!name) throw new ValidationError({ 'zh-CN': '请提供文件名（?filename=）', en: 'Give the file name (?filename=)' }, undefined, 'filename_required');
    const limit = this.options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
    mkdirSync(this.uploadsDir(), { recursive: true, mode: 0o700 });
    const id = randomUUID();
    const tmp = path.join(this.uploadsDir(), `${id}.part`);
    const hash = createHash('sha256');
    let size = 0;
    const out = createWriteStream(tmp, { mode: 0o600 });
    try {
      for await (const chunk of body) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size > limit) throw new PayloadTooLarge(limit);
        hash.update(buf);
        if (!out.write(buf)) await new Promise((r) => out.once('drain', r));
      }
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      if (size === 0) throw new ValidationError({ 'zh-CN': '文件为空', en: 'The file is empty' }, undefined, 'empty_file');
      const format = await detectFormat(tmp);
      if (!format) throw new AppError(415, 'unsupported_file', { 'zh-CN': '文件类型不支持：请上传 .xlsx 或 .csv（按内容识别，不看扩展名）', en: 'Unsupported file: upload an .xlsx or a .csv (checked by content, not by name)' });
      const final = path.join(this.uploadsDir(), `${id}.${format}`);
      await rename(tmp, final);
      const sha256 = hash.digest('hex');
      await this.db.transaction().execute(async (trx) => {
        await run(trx, 'insert into import_upload (id, user_id, file_name, format, size_bytes, sha256, path) values ($1, $2, $3, $4, $5, $6, $7)',
          [id, ctx.actor.userId || null, name, format, size, sha256, final]);
        await recordAudit(trx, ctx, { action: 'import.upload', targetType: 'import_upload', targetId: id, after: { fileName: name, format, sizeBytes: size, sha256 } });
      });
      return { id, fileName: name, format, sizeBytes: size };
    } catch (e) {
      out.destroy();
      rmSync(tmp, { force: true });
      throw e;
    }
  }

  private async uploadFor(ctx: RequestContext, id: string): Promise<UploadRow> {
    const r = (await run<UploadRow>(this.db, 'select * from import_upload where id = $1 and removed_at is null', [id])).rows[0];
    // an upload is its uploader's until a job uses it
    if (!r || (ctx.actor.userId !== 0 && r.user_id !== ctx.actor.userId)) throw new NotFoundError(UPLOAD);
    return r;
  }

  /** Headers, the first rows (personal numbers masked) and the suggested mapping. */
  async preview(ctx: RequestContext, uploadId: string, kind: ImportKind, encoding: EncodingChoice = 'auto', rows = 10) {
    const upload = await this.uploadFor(ctx, uploadId);
    const sheet = await openSheet(upload.path, { encoding });
    try {
      const suggested = suggestMapping(kind, sheet.headers);
      const resolved = resolveMapping(kind, sheet.headers, suggested);
      const pii = 'code' in resolved ? new Map<number, 'id_number' | 'phone'>() : resolved.piiColumns;
      const sample: string[][] = [];
      for await (const row of sheet.rows) {
        sample.push(maskCells(row.cells, pii));
        if (sample.length >= rows) break;
      }
      const garbled = sheet.headers.some((h) => h.includes(REPLACEMENT));
      return {
        uploadId,
        fileName: upload.file_name,
        format: upload.format,
        encoding: sheet.encoding,
        headers: sheet.headers,
        rows: sample,
        suggestedMapping: suggested,
        fields: Object.entries(FIELDS[kind]).map(([field, def]) => ({ field, label: def.label, required: !!def.required })),
        warnings: garbled ? [{ code: 'invalid_utf8', 'zh-CN': '表头含乱码：文件可能不是 UTF-8 编码', en: 'The header row is garbled: the file is probably not UTF-8' }] : [],
      };
    } finally {
      await sheet.close();
    }
  }

  private async unitFor(ctx: RequestContext, unitId: number) {
    const u = (await run(this.db, 'select id, district_id, path, archived_at from org_unit where id = $1', [unitId])).rows[0] as { id: number; district_id: number; path: string; archived_at: Date | null } | undefined;
    if (!u) throw new NotFoundError(UNIT);
    authorizeAt(ctx.actor, 'resident.import', u.path, UNIT, 'resident.read');
    return u;
  }

  async unitByCode(ctx: RequestContext, code: string) {
    const rows = (await run(this.db, 'select id, path from org_unit where code = $1 and archived_at is null', [code])).rows as { id: number; path: string }[];
    const visible = rows.filter((r) => hasPermissionAt(ctx.actor, 'resident.import', r.path));
    if (visible.length !== 1) throw new NotFoundError(UNIT);
    return Number(visible[0].id);
  }

  async saveTemplate(ctx: RequestContext, input: { unitId: number; kind: ImportKind; name: string; mapping: Mapping }) {
    const unit = await this.unitFor(ctx, input.unitId);
    for (const field of Object.values(input.mapping)) {
      if (field && !Object.hasOwn(FIELDS[input.kind], field)) throw new ValidationError({ 'zh-CN': `未知字段 "${field}"`, en: `Unknown field "${field}"` }, undefined, 'unknown_field');
    }
    return this.db.transaction().execute(async (trx) => {
      const r = await run(trx, `insert into import_template (district_id, kind, name, mapping, created_by) values ($1, $2, $3, $4::jsonb, $5)
        on conflict (district_id, kind, name) do update set mapping = excluded.mapping, updated_at = now() returning id, kind, name, mapping`,
      [unit.district_id, input.kind, input.name, JSON.stringify(input.mapping), ctx.actor.userId || null]);
      await recordAudit(trx, ctx, { action: 'import_template.save', targetType: 'import_template', targetId: Number(r.rows[0].id), unit: { district_id: unit.district_id, id: unit.id, path: unit.path }, after: r.rows[0] });
      return r.rows[0];
    });
  }

  async listTemplates(ctx: RequestContext, kind?: ImportKind) {
    const paths = scopePaths(ctx.actor, 'resident.import');
    const districts = paths.length ? (await run(this.db, 'select distinct district_id from org_unit where path = any($1::text[])', [paths])).rows.map((r) => Number(r.district_id)) : [];
    if (!districts.length && ctx.actor.userId !== 0) return { items: [] };
    const r = await run(this.db, `select id, district_id, kind, name, mapping, updated_at from import_template where ($1::int8[] is null or district_id = any($1::int8[])) and ($2::text is null or kind = $2) order by name`,
      [ctx.actor.userId === 0 ? null : districts, kind ?? null]);
    return { items: r.rows };
  }

  private async template(districtId: number, id: number, kind: ImportKind): Promise<Mapping> {
    const r = (await run(this.db, 'select mapping, kind from import_template where district_id = $1 and id = $2', [districtId, id])).rows[0] as { mapping: Mapping; kind: string } | undefined;
    if (!r || r.kind !== kind) throw new ValidationError({ 'zh-CN': '映射模板不存在', en: 'The mapping template does not exist' }, undefined, 'unknown_template');
    return r.mapping;
  }

  /** Creates a job after checking scope, file and mapping (bad input: 4xx, nothing written); runs it unless `detach` is false. */
  async createJob(ctx: RequestContext, input: StartInput): Promise<JobRow> {
    if (!IMPORT_KINDS.includes(input.kind) || !IMPORT_MODES.includes(input.mode)) throw new ValidationError({ 'zh-CN': '导入类型或模式无效', en: 'Invalid kind or mode' });
    const unit = await this.unitFor(ctx, input.unitId);
    if (unit.archived_at) throw new ConflictError({ 'zh-CN': '单元已归档', en: 'The unit is archived' }, 'archived');
    let filePath: string;
    let fileName: string;
    let uploadId: string | null = null;
    if (input.uploadId) {
      const up = await this.uploadFor(ctx, input.uploadId);
      filePath = up.path;
      fileName = up.file_name;
      uploadId = up.id;
    } else if (input.filePath) {
      filePath = path.resolve(input.filePath);
      fileName = input.fileName ?? path.basename(filePath);
      if (!(await detectFormat(filePath).catch(() => null))) {
        throw new ValidationError({ 'zh-CN': '文件不存在或类型不支持（.xlsx / .csv）', en: 'The file does not exist or is not an .xlsx / .csv' }, undefined, 'unsupported_file');
      }
    } else throw new ValidationError({ 'zh-CN': '请先上传文件', en: 'Upload a file first' }, undefined, 'upload_required');
    const sheet = await openSheet(filePath, { encoding: input.encoding ?? 'auto' });
    const headers = sheet.headers;
    await sheet.close();
    if (headers.some((h) => h.includes(REPLACEMENT))) {
      throw new ValidationError({ 'zh-CN': '表头含有乱码：文件不是 UTF-8 编码（可能是 GBK/GB18030），请选择“自动识别”或 GB18030', en: 'The header row is not valid UTF-8 (the file is probably GBK/GB18030); use encoding "auto" or GB18030' }, undefined, 'invalid_utf8');
    }
    const mapping = input.mapping ?? (input.templateId ? await this.template(unit.district_id, input.templateId, input.kind) : suggestMapping(input.kind, headers));
    const resolved = resolveMapping(input.kind, headers, mapping);
    if ('code' in resolved) throw new ValidationError(resolved.messages, undefined, resolved.code);
    const source = input.source.trim();
    if (!source || source.length > 100) throw new ValidationError({ 'zh-CN': '请填写数据来源（部门），不超过 100 字', en: 'Give the source (department), up to 100 characters' }, undefined, 'invalid_source');
    const r = await run(this.db, `insert into import_job (district_id, unit_id, unit_path, user_id, actor_name, kind, upload_id, file_name, file_path, source, mode, mapping, encoding)
      values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13) returning id`,
    [unit.district_id, unit.id, unit.path, ctx.actor.userId || null, ctx.actor.username, input.kind, uploadId, fileName, filePath, source, input.mode, JSON.stringify(mapping), input.encoding ?? 'auto']);
    return (await loadJob(this.db, Number(r.rows[0].id)))!;
  }

  private async engineDeps(): Promise<EngineDeps> {
    return {
      db: this.db,
      pii: this.pii,
      now: this.now,
      batchRows: this.options.batchRows,
      sealer: this.options.sealer ? await this.options.sealer() : undefined,
      onProgress: (p) => {
        this.live.set(p.jobId, p);
        this.events.emit(`job:${p.jobId}`, p);
      },
    };
  }

  /** Runs (or resumes) a job in this process; answers when it ends. */
  async execute(jobId: number, extra: Partial<EngineDeps> = {}): Promise<JobRow> {
    const existing = this.running.get(jobId);
    if (existing) return existing;
    const p = (async () => {
      const deps = { ...(await this.engineDeps()), ...extra };
      try {
        const job = await runJob(deps, jobId);
        if (job.status === 'done' && job.mode !== 'dry_run') await this.removeUpload(job);
        return job;
      } finally {
        await deps.sealer?.close();
        this.running.delete(jobId);
        this.events.emit(`job:${jobId}`, 'end');
      }
    })();
    this.running.set(jobId, p);
    return p;
  }

  /** Starts in the background (HTTP): the caller polls the status or listens to the events. */
  start(jobId: number) {
    this.execute(jobId).catch(() => undefined);
  }

  /** Starts the job and waits up to `ms` for it: the finished job, or null while it still runs. */
  async startAndWait(jobId: number, ms: number): Promise<JobRow | null> {
    const run = this.execute(jobId).catch(() => null);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
    try {
      return await Promise.race([run, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async removeUpload(job: JobRow) {
    if (!job.upload_id) return;
    const up = (await run(this.db, 'select path from import_upload where id = $1', [job.upload_id])).rows[0] as { path: string } | undefined;
    if (up) await rm(up.path, { force: true });
    await run(this.db, 'update import_upload set removed_at = now() where id = $1', [job.upload_id]);
  }

  async jobFor(ctx: RequestContext, id: number): Promise<JobRow> {
    const job = await loadJob(this.db, id);
    if (!job || !hasPermissionAt(ctx.actor, 'resident.import', job.unit_path)) throw new NotFoundError(JOB);
    return job;
  }

  /** A job another process runs beats its heart every batch; one silent this long was left by a dead process. */
  private isStale(job: JobRow) {
    return job.status === 'running' && !this.running.has(job.id) && (!job.heartbeat_at || this.now().getTime() - new Date(job.heartbeat_at).getTime() > STALE_MS);
  }

  view(job: JobRow) {
    const live = this.running.has(job.id) ? this.live.get(job.id) : undefined;
    const rowsDone = live?.rowsDone ?? job.checkpoint_row;
    return {
      id: job.id,
      kind: job.kind,
      unitId: job.unit_id,
      fileName: job.file_name,
      source: job.source,
      mode: job.mode,
      status: live && job.status === 'running' ? live.status : this.isStale(job) ? 'interrupted' : job.status,
      mapping: job.mapping,
      progress: { rowsDone, totalRows: job.total_rows, percent: job.total_rows ? Math.min(100, Math.round((rowsDone / Math.max(1, job.total_rows)) * 1000) / 10) : null },
      counts: { inserted: live?.inserted ?? job.inserted, updated: live?.updated ?? job.updated, unchanged: live?.unchanged ?? job.unchanged, bad: live?.bad ?? job.bad, householdsCreated: job.households_created },
      error: job.error,
      createdAt: job.created_at,
      startedAt: job.started_at,
      finishedAt: job.finished_at,
      actor: job.actor_name,
    };
  }

  async errors(ctx: RequestContext, id: number, limit = 100) {
    const job = await this.jobFor(ctx, id);
    const r = await run(this.db, 'select row_no, reasons, cells from import_job_error where district_id = $1 and job_id = $2 order by row_no limit $3', [job.district_id, id, limit]);
    return { items: r.rows.map((e) => ({ rowNo: e.row_no, reasons: e.reasons, cells: e.cells })) };
  }

  /** The rejected rows as an .xlsx: the original columns (personal numbers masked), the row number, the reasons. */
  async errorReport(ctx: RequestContext, id: number, out: NodeJS.WritableStream) {
    const job = await this.jobFor(ctx, id);
    const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out as unknown as import('node:stream').Stream, useStyles: false, useSharedStrings: false });
    const sheet = wb.addWorksheet('错误行');
    let headers: string[] | null = null;
    let after = 0;
    for (;;) {
      const r = await run(this.db, 'select row_no, reasons, cells from import_job_error where district_id = $1 and job_id = $2 and row_no > $3 order by row_no limit 5000', [job.district_id, id, after]);
      if (!r.rows.length) break;
      for (const e of r.rows as { row_no: number; reasons: { 'zh-CN': string; en: string }[]; cells: Record<string, string> }[]) {
        if (!headers) {
          headers = Object.keys(e.cells);
          sheet.addRow(['行号 Row', ...headers, '错误原因 Errors']).commit();
        }
        sheet.addRow([e.row_no, ...headers.map((h) => e.cells[h] ?? ''), e.reasons.map((x) => `${x['zh-CN']} / ${x.en}`).join('；')]).commit();
        after = e.row_no;
      }
    }
    if (!headers) sheet.addRow(['行号 Row', '错误原因 Errors']).commit();
    sheet.commit();
    await wb.commit();
  }

  async resume(ctx: RequestContext, id: number) {
    const job = await this.jobFor(ctx, id);
    if (this.running.has(id) || (job.status === 'running' && !this.isStale(job))) throw new ConflictError({ 'zh-CN': '任务正在运行', en: 'The job is running' }, 'job_running');
    if (!['interrupted', 'running', 'failed', 'pending'].includes(job.status) || (job.status === 'failed' && job.error?.code !== 'import_failed')) {
      throw new ConflictError({ 'zh-CN': '该任务不能继续', en: 'This job cannot be resumed' }, 'not_resumable');
    }
    await run(this.db, `update import_job set status = 'interrupted' where id = $1`, [id]);
    return this.view((await loadJob(this.db, id))!);
  }

  async rollback(ctx: RequestContext, id: number) {
    const job = await this.jobFor(ctx, id);
    if (this.running.has(id)) throw new ConflictError({ 'zh-CN': '任务正在运行，不能回滚', en: 'The job is running; it cannot be rolled back' }, 'job_running');
    if (job.status === 'rolled_back') throw new ConflictError({ 'zh-CN': '该任务已回滚', en: 'The job was already rolled back' }, 'already_rolled_back');
    if (job.mode === 'dry_run') throw new ConflictError({ 'zh-CN': '试运行没有写入数据，无需回滚', en: 'A dry run wrote nothing; there is nothing to roll back' }, 'dry_run');
    const removed = await rollbackJob(this.db, id, ctx);
    await this.removeUpload(job);
    return { ...this.view((await loadJob(this.db, id))!), removed };
  }

  async list(ctx: RequestContext, limit = 50) {
    const paths = scopePaths(ctx.actor, 'resident.import');
    if (!paths.length) return { items: [] };
    const r = await run(this.db, `select * from import_job where ${paths.map((_, i) => `unit_path like $${i + 2}`).join(' or ')} order by id desc limit $1`,
      [limit, ...paths.map((p) => `${p.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)]);
    return { items: (r.rows as unknown as JobRow[]).map((j) => this.view(j)) };
  }

  isRunning(id: number) {
    return this.running.has(id);
  }
}
