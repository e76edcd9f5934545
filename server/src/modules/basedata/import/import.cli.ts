// `npm run cli -- import --file F [--kind resident|house] [--template ID|NAME | --map '姓名=name,…'] [--mode dry-run|all-or-nothing|skip-bad-rows]
//   [--source 民政局] [--unit CODE|ID] [--encoding auto|utf8|gb18030]`, `import --resume JOB`, `import --rollback JOB`.
// Runs as the system (the operator at the console); progress as a bar on a TTY, plain lines otherwise.
import { parseArgs } from 'node:util';
import { CompiledQuery } from 'kysely';
import type { DbHandle } from '../../../db/connection.ts';
import type { Config } from '../../../config.ts';
import { systemContext } from '../../../platform/context.ts';
import { createPiiCipher, loadKeyring } from '../../../platform/crypto/index.ts';
import { ImportService } from './import.service.ts';
import { type ImportMode, type JobRow, type Progress } from './import.engine.ts';
import { IMPORT_KINDS, type ImportKind, type Mapping } from './mapping.ts';
import { workerSealer } from './sealer.ts';
import type { EncodingChoice } from './readers.ts';

export const IMPORT_USAGE = `import --file F [--kind resident|house] [--template ID|NAME | --map 'HEADER=field,…'] [--mode dry-run|all-or-nothing|skip-bad-rows]
       [--source LABEL] [--unit CODE|ID] [--encoding auto|utf8|gb18030] [--workers N]
import --resume JOB | --rollback JOB`;

const MODES: Record<string, ImportMode> = { 'dry-run': 'dry_run', 'all-or-nothing': 'all_or_nothing', 'skip-bad-rows': 'skip_bad_rows' };

function progressPrinter() {
  const tty = process.stdout.isTTY;
  let last = 0;
  const started = Date.now();
  return (p: Progress) => {
    const now = Date.now();
    if (now - last < (tty ? 200 : 2000) && p.status === 'running') return;
    last = now;
    const rate = p.rowsDone / Math.max(0.001, (now - started) / 1000);
    const pct = p.totalRows ? Math.min(1, p.rowsDone / p.totalRows) : null;
    const counts = `+${p.inserted} ~${p.updated} =${p.unchanged} ✗${p.bad}`;
    if (tty) {
      const width = 30;
      const bar = pct === null ? '' : `[${'#'.repeat(Math.round(pct * width)).padEnd(width, '.')}] ${(pct * 100).toFixed(1)}% `;
      process.stdout.write(`\r${bar}${p.rowsDone}${p.totalRows ? `/${p.totalRows}` : ''} rows ${counts} ${Math.round(rate)} rows/s   `);
    } else {
      console.log(`progress ${p.rowsDone}${p.totalRows ? `/${p.totalRows}` : ''} rows ${counts} ${Math.round(rate)} rows/s`);
    }
  };
}

function summary(job: JobRow) {
  const e = job.error ? `  ${job.error['zh-CN']} / ${job.error.en}` : '';
  return `job ${job.id} ${job.status}: ${job.checkpoint_row} rows, ${job.inserted} inserted, ${job.updated} updated, ${job.unchanged} unchanged, ${job.bad} bad, ${job.households_created} households created${e}`;
}

export async function runImportCommand(argv: string[], deps: { config: Config; open: () => Promise<DbHandle> }): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      file: { type: 'string' }, kind: { type: 'string' }, template: { type: 'string' }, map: { type: 'string' }, mode: { type: 'string' },
      source: { type: 'string' }, unit: { type: 'string' }, encoding: { type: 'string' }, resume: { type: 'string' }, rollback: { type: 'string' },
      workers: { type: 'string' }, 'batch-rows': { type: 'string' }, stats: { type: 'boolean', default: false },
    },
  });
  if (!values.file && !values.resume && !values.rollback) {
    console.error(`usage: ${IMPORT_USAGE}`);
    return 2;
  }
  const database = await deps.open();
  // as `serve`: a keyring may be created only while nothing is sealed yet
  const sealed = await database.db.executeQuery(CompiledQuery.raw('select 1 from resident where id_cipher is not null or phone_cipher is not null limit 1', []));
  const keys = loadKeyring({ dataDir: deps.config.dataDir, createIfMissing: sealed.rows.length === 0 });
  const pii = createPiiCipher(keys.keyring);
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  const service = new ImportService(database.db, pii, () => new Date(), deps.config.dataDir, {
    sealer: workers === 0 ? undefined : () => workerSealer(pii, keys.keyring, workers),
    batchRows: values['batch-rows'] ? Number(values['batch-rows']) : undefined,
  });
  const ctx = systemContext('cli');
  const print = progressPrinter();
  try {
    if (values.rollback) {
      const r = await service.rollback(ctx, Number(values.rollback));
      console.log(`job ${r.id} rolled back: removed ${r.removed.residents} residents, ${r.removed.households} households, ${r.removed.houses} houses`);
      return 0;
    }
    let jobId: number;
    if (values.resume) {
      jobId = Number(values.resume);
      const job = await service.jobFor(ctx, jobId);
      if (!['interrupted', 'running', 'failed', 'pending'].includes(job.status)) throw new Error(`job ${jobId} is ${job.status}; nothing to resume`);
      console.log(`resuming job ${jobId} from row ${job.checkpoint_row}`);
    } else {
      const kind = (values.kind ?? 'resident') as ImportKind;
      if (!IMPORT_KINDS.includes(kind)) throw new Error(`--kind must be one of ${IMPORT_KINDS.join(', ')}`);
      const mode = MODES[values.mode ?? 'skip-bad-rows'];
      if (!mode) throw new Error(`--mode must be one of ${Object.keys(MODES).join(', ')}`);
      const unitId = values.unit ? (/^\d+$/.test(values.unit) && !(await hasCode(database, values.unit)) ? Number(values.unit) : await service.unitByCode(ctx, values.unit)) : await rootUnit(database);
      let mapping: Mapping | undefined;
      if (values.map) {
        mapping = Object.fromEntries(values.map.split(',').map((pair) => {
          const at = pair.lastIndexOf('=');
          if (at <= 0) throw new Error(`--map wants HEADER=field pairs separated by commas, got "${pair}"`);
          return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
        }));
      }
      let templateId: number | undefined;
      if (values.template) templateId = /^\d+$/.test(values.template) ? Number(values.template) : await templateByName(database, kind, values.template);
      const job = await service.createJob(ctx, { filePath: values.file, kind, unitId, mode, source: values.source ?? 'cli', mapping, templateId, encoding: (values.encoding ?? 'auto') as EncodingChoice });
      jobId = job.id;
      console.log(`import job ${jobId}: ${job.file_name} → unit ${unitId}, ${job.kind}, ${job.mode}, source ${job.source}`);
    }
    service.events.on(`job:${jobId}`, (p: Progress | 'end') => p !== 'end' && print(p));
    const stats: Record<string, number> = {};
    const t0 = performance.now();
    const done = await service.execute(jobId, values.stats ? { stats } : {});
    const seconds = (performance.now() - t0) / 1000;
    if (process.stdout.isTTY) process.stdout.write('\n');
    console.log(summary(done));
    console.log(`elapsed ${seconds.toFixed(2)} s, ${Math.round(done.checkpoint_row / seconds)} rows/s${values.stats ? `; ms: ${Object.entries(stats).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')}` : ''}`);
    if (done.bad) console.log(`rejected rows: GET /api/imports/${done.id}/error-report (masked .xlsx)`);
    return done.status === 'done' ? 0 : 1;
  } finally {
    await database.close();
  }
}

async function hasCode(database: DbHandle, code: string) {
  const r = await database.db.executeQuery<{ n: number }>(CompiledQuery.raw('select count(*)::int8 as n from org_unit where code = $1', [code]));
  return Number(r.rows[0].n) > 0;
}

async function rootUnit(database: DbHandle): Promise<number> {
  const r = await database.db.executeQuery<{ id: number }>(CompiledQuery.raw('select id from org_unit where id = district_id and archived_at is null order by id', []));
  if (r.rows.length !== 1) throw new Error('give --unit CODE: the database holds more than one district (or none)');
  return Number(r.rows[0].id);
}

async function templateByName(database: DbHandle, kind: ImportKind, name: string): Promise<number> {
  const r = await database.db.executeQuery<{ id: number }>(CompiledQuery.raw('select id from import_template where kind = $1 and name = $2', [kind, name]));
  if (r.rows.length !== 1) throw new Error(`no single template "${name}" for ${kind}`);
  return Number(r.rows[0].id);
}
