// kill -9 in the middle of an import: a child process runs the job, is killed after a few committed batches;
// the database then holds exactly the rows up to the job's checkpoint, resume completes the file without
// duplicates, and rollback removes exactly the rows the job created.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createTestDatabase } from '../../../../test/db.ts';
import { buildTinyLocality, type TinyLocality } from '../../../../test/fixtures.ts';
import { openPGlite, openPostgres, type DbHandle } from '../../../db/connection.ts';
import { migrateDatabase } from '../../../app.ts';
import { createKeyring, createPiiCipher, keyringToEnv, KEYRING_ENV } from '../../../platform/crypto/index.ts';
import { systemContext } from '../../../platform/context.ts';
import { ImportService } from './import.service.ts';
import { loadJob } from './import.engine.ts';
import { codeUnits, HEADERS, people, query, row, tmpDir, writeCsv } from './import.testkit.ts';

const ROWS = 1500;
const BATCH = 15;
const keyring = createKeyring();
const pii = createPiiCipher(keyring);
const sys = systemContext('test');
const dir = tmpDir();
const pgliteDir = tmpDir('tx-import-kill-');
const url = process.env.TEST_DATABASE_URL ? 'pending' : null;
let dbUrl: string | null = null;
let drop: (() => Promise<void>) | null = null;
let f: TinyLocality;

/** PGlite lets one process own a directory: the test opens it only while no child runs. */
async function open(): Promise<DbHandle> {
  if (url) return openPostgres(dbUrl!, 4);
  return openPGlite(pgliteDir);
}

async function withDb<T>(fn: (h: DbHandle, service: ImportService) => Promise<T>): Promise<T> {
  const h = await open();
  try {
    return await fn(h, new ImportService(h.db, pii, () => new Date(), dir, { batchRows: BATCH }));
  } finally {
    await h.close();
  }
}

/** Runs the job in a child process and kills it (SIGKILL) after `afterBatches` committed batches. */
function runAndKill(jobId: number, afterBatches: number): Promise<{ killed: boolean; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'import.kill-child.ts')], {
      env: { ...process.env, IMPORT_JOB: String(jobId), IMPORT_BATCH: String(BATCH), [KEYRING_ENV]: keyringToEnv(keyring), ...(dbUrl ? { IMPORT_DB_URL: dbUrl } : { IMPORT_DATA_DIR: pgliteDir }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let killed = false;
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (!killed && lines.filter((l) => l.startsWith('committed')).length >= afterBatches) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' || killed) resolve({ killed: true, lines });
      else if (code === 0) resolve({ killed: false, lines });
      else reject(new Error(`child exited ${code}: ${err.slice(0, 2000)}`));
    });
  });
}

async function createJob(service: ImportService, file: string) {
  return (await service.createJob(sys, { filePath: file, kind: 'resident', unitId: f.district, mode: 'skip_bad_rows', source: '民政局' })).id;
}

beforeAll(async () => {
  if (url) {
    const t = await createTestDatabase();
    dbUrl = t.url;
    drop = t.drop;
    f = await buildTinyLocality(t);
    await codeUnits(t.db, f);
  } else {
    await withDb(async (h) => {
      await migrateDatabase(h);
      f = await buildTinyLocality(h);
      await codeUnits(h.db, f);
    });
  }
}, 120_000);
afterAll(async () => {
  await drop?.();
});

describe('kill -9 mid-import', () => {
  it('leaves exactly the rows up to the checkpoint; resume completes the file without duplicates', async () => {
    const file = writeCsv(dir, 'big.csv', HEADERS, people(ROWS).map(row));
    const jobId = await withDb((_h, s) => createJob(s, file));
    const run = await runAndKill(jobId, 4);
    expect(run.killed).toBe(true);
    const checkpoint = await withDb(async (h) => {
      const job = (await loadJob(h.db, jobId))!;
      expect(job.status).toBe('running');
      // PostgreSQL keeps every commit it acknowledged; PGlite may lose its last few on kill -9 (it does not
      // flush each commit to disk) — but what it keeps is consistent: rows and checkpoint from the same commit
      if (dbUrl) expect(job.checkpoint_row).toBeGreaterThanOrEqual(4 * BATCH);
      expect(job.checkpoint_row).toBeLessThan(ROWS);
      expect(job.checkpoint_row % BATCH).toBe(0);
      // every row of the file up to the checkpoint is in, none after it
      const n = await query<{ n: number }>(h.db, 'select count(*)::int8 as n from resident');
      expect(Number(n[0].n)).toBe(job.checkpoint_row);
      expect(job.inserted).toBe(job.checkpoint_row);
      // and each of them lies in a range the job recorded
      const outside = await query<{ n: number }>(h.db, `select count(*)::int8 as n from resident r where not exists (
        select 1 from import_job_range g where g.job_id = $1 and g.table_name = 'resident' and r.id between g.first_id and g.last_id)`, [jobId]);
      expect(Number(outside[0].n)).toBe(0);
      return job.checkpoint_row;
    });
    const done = await withDb((_h, s) => s.execute(jobId));
    expect(done).toMatchObject({ status: 'done', checkpoint_row: ROWS, inserted: ROWS, bad: 0 });
    expect(checkpoint).toBeLessThan(ROWS);
    await withDb(async (h) => {
      const n = await query<{ n: number; d: number }>(h.db, 'select count(*)::int8 as n, count(distinct id_hash)::int8 as d from resident');
      expect(Number(n[0].n)).toBe(ROWS);
      expect(Number(n[0].d)).toBe(ROWS);
    });
  }, 180_000);

  it('rollback after a kill removes exactly the rows the killed job created', async () => {
    const more = people(600, 1500);
    const file = writeCsv(dir, 'more.csv', HEADERS, [...people(30).map((p) => row({ ...p, address: '被中断的更新' })), ...more.map(row)]);
    const before = await withDb(async (h) => (await query<{ id: number }>(h.db, 'select id from resident order by id')).map((r) => Number(r.id)));
    const jobId = await withDb((_h, s) => createJob(s, file));
    expect((await runAndKill(jobId, 5)).killed).toBe(true);
    await withDb(async (h, s) => {
      const job = (await loadJob(h.db, jobId))!;
      const n = Number((await query<{ n: number }>(h.db, 'select count(*)::int8 as n from resident'))[0].n);
      expect(n).toBe(before.length + job.inserted);
      if (dbUrl) expect(job.inserted).toBeGreaterThan(0);
      const r = await s.rollback(sys, jobId);
      expect(r.removed.residents).toBe(job.inserted);
      const after = (await query<{ id: number }>(h.db, 'select id from resident order by id')).map((x) => Number(x.id));
      expect(after).toEqual(before);
    });
  }, 180_000);
});
