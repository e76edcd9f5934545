// import: bulk import of the generator's ledgers (residents.csv, houses.csv) through the real CLI
// (`tongxin import`, a child process: its own rows/s and peak RSS), against the engine's own limit in the
// same run: a raw COPY of the same rows — already validated and sealed, no checks, no merge — into the same
// table with the same indexes, from empty (docs/bench.md, docs/import.md).
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { build } from '../generator/build.ts';
import { SCALES as GENERATOR_SCALES } from '../generator/scales.ts';
import { loadPreset } from '../../server/src/modules/grid/preset.ts';
import { createKeyring, createPiiCipher } from '../../server/src/platform/crypto/index.ts';
import { businessDate } from '../../server/src/platform/clock.ts';
import { openSheet } from '../../server/src/modules/basedata/import/readers.ts';
import { resolveMapping, suggestMapping, type ImportKind } from '../../server/src/modules/basedata/import/mapping.ts';
import { checkHouse, checkResident } from '../../server/src/modules/basedata/import/rows.ts';
import { unitIndex } from '../../server/src/modules/basedata/import/import.engine.ts';
import { workerSealer } from '../../server/src/modules/basedata/import/sealer.ts';
import { createScratch, ENGINES, higherBetter, lowerBetter, MiB, REPO_ROOT, sampleRss, spawnTracked, withConnections, type Figure, type Scratch, type Suite, type SuiteContext } from '../harness.ts';

const SEED = 20261121;
const SCALES = ['tiny', 'village', 'street', 'liwan'] as const;
type ImportScale = Exclude<(typeof SCALES)[number], 'tiny'>;

/** The generator's ledgers for a scale, generated once into the OS temp dir and kept for later runs. */
async function ledgerFiles(scale: ImportScale, log: (m: string) => void) {
  const dir = path.join(os.tmpdir(), `tongxin-bench-import-files-${scale}-${SEED}`);
  const ready = path.join(dir, 'ready');
  if (!existsSync(ready)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    log(`generating the ${scale} ledgers into ${dir} (kept for later runs)…`);
    await build({ preset: loadPreset('liwan'), scale: GENERATOR_SCALES[scale], seed: SEED, filesDir: dir, formats: ['csv', 'xlsx'] });
    writeFileSync(ready, new Date().toISOString());
  }
  return { dir, residents: path.join(dir, 'residents.csv'), houses: path.join(dir, 'houses.csv') };
}

const RESIDENT_COLUMNS = ['district_id', 'unit_id', 'name', 'name_initials', 'gender', 'birth_date', 'id_cipher', 'id_hash', 'id_head', 'id_last4',
  'phone_cipher', 'phone_hash', 'phone_head', 'phone_last4', 'registration', 'relation_to_head', 'address', 'sources'];
const HOUSE_COLUMNS = ['district_id', 'unit_id', 'address', 'usage', 'exclusive_area', 'sources'];

const copyField = (v: string | number | null) => (v === null ? '\\N' : String(v).replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')));

/**
 * The rows of a ledger as COPY text, checked and sealed the way the import does (not timed): what a raw
 * COPY of "the same rows" loads. Houses at an address already seen are left out (the import merges them).
 */
async function copyText(scratch: Scratch, kind: ImportKind, file: string, out: string): Promise<number> {
  return withConnections(scratch, async ({ product }) => {
    const root = (await sql<{ id: number; path: string }>`select id, path from org_unit where id = district_id order by id limit 1`.execute(product.db)).rows[0];
    const units = await unitIndex(product.db, Number(root.id), Number(root.id), root.path);
    const sheet = await openSheet(file);
    const mapping = resolveMapping(kind, sheet.headers, suggestMapping(kind, sheet.headers));
    if ('code' in mapping) throw new Error(`the ${kind} ledger does not map: ${mapping.messages.en}`);
    const today = businessDate(new Date());
    const keyring = createKeyring();
    const sealer = await workerSealer(createPiiCipher(keyring), keyring);
    const stream = createWriteStream(out);
    const seen = new Set<string>();
    let rows = 0;
    let batch: ReturnType<typeof checkResident>[] = [];
    const flush = async () => {
      const drafts = batch.filter((d): d is Exclude<typeof d, unknown[]> => !Array.isArray(d));
      batch = [];
      const sealed = await sealer.seal({ ids: drafts.map((d) => d.idNumber), phones: drafts.map((d) => d.phone) });
      let text = '';
      drafts.forEach((d, i) => {
        const sources = JSON.stringify(Object.fromEntries(d.given.map((g) => [g, 'copy'])));
        text += [root.id, d.unitId, d.name, d.initials, d.gender, d.birthDate, sealed.id.cipher[i], sealed.id.hash[i], sealed.id.head[i], sealed.id.tail[i],
          sealed.phone.cipher[i], sealed.phone.hash[i], sealed.phone.head[i], sealed.phone.tail[i], d.registration ?? 'registered', d.relationToHead, d.address, sources].map(copyField).join('\t') + '\n';
      });
      rows += drafts.length;
      if (!stream.write(text)) await once(stream, 'drain');
    };
    try {
      for await (const r of sheet.rows) {
        if (kind === 'resident') {
          batch.push(checkResident(r.rowNo, r.cells, mapping.columns, units, today));
          if (batch.length >= 5000) await flush();
        } else {
          const d = checkHouse(r.rowNo, r.cells, mapping.columns, units);
          if (Array.isArray(d) || seen.has(d.address)) continue;
          seen.add(d.address);
          const sources = JSON.stringify(Object.fromEntries(d.given.map((g) => [g, 'copy'])));
          if (!stream.write([root.id, d.unitId, d.address, d.usage ?? 'residential', d.area, sources].map(copyField).join('\t') + '\n')) await once(stream, 'drain');
          rows++;
        }
      }
      if (batch.length) await flush();
    } finally {
      await sealer.close();
      stream.end();
      await once(stream, 'finish');
    }
    return rows;
  });
}

/** COPY of the prepared text into the table: the engine's own bulk-load limit. Answers seconds. */
async function copyInto(scratch: Scratch, table: 'resident' | 'house', columns: string[], file: string): Promise<number> {
  const statement = (source: string) => `copy ${table} (${columns.join(', ')}) from ${source}`;
  if (scratch.engine === 'postgres') {
    const client = new pg.Client({ connectionString: scratch.url! });
    await client.connect();
    try {
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        const query = new pg.Query(statement('stdin'));
        // COPY FROM STDIN without pg-copy-streams: pg hands the query the connection when the server asks for data
        Object.assign(query, {
          handleCopyInResponse(connection: { sendCopyFromChunk(b: Buffer): void; endCopyFrom(): void; stream: import('node:stream').Writable }) {
            void (async () => {
              for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
                connection.sendCopyFromChunk(chunk as Buffer);
                if (connection.stream.writableNeedDrain) await once(connection.stream, 'drain');
              }
              connection.endCopyFrom();
            })().catch(reject);
          },
        });
        query.on('end', () => resolve());
        query.on('error', reject);
        void client.query(query);
      });
      return (performance.now() - started) / 1000;
    } finally {
      await client.end();
    }
  }
  const db = await PGlite.create(path.join(scratch.dataDir, 'pgdata'));
  try {
    // PGlite's COPY reads a Blob; the text goes in slices of whole lines so no slice is held twice
    const text = readFileSync(file);
    const started = performance.now();
    const SLICE = 64 * 2 ** 20;
    for (let start = 0; start < text.length; ) {
      let end = Math.min(text.length, start + SLICE);
      if (end < text.length) end = text.indexOf(10, end) + 1;
      await db.query(statement(`'/dev/blob'`), [], { blob: new Blob([text.subarray(start, end)]) });
      start = end;
    }
    return (performance.now() - started) / 1000;
  } finally {
    await db.close();
  }
}

/** `tongxin import` in a child process; answers its own elapsed time, rows and peak RSS. */
async function importChild(ctx: SuiteContext, scratch: Scratch, kind: ImportKind, file: string) {
  const child = spawnTracked(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'server/src/main.ts'), 'import', '--kind', kind, '--file', file, '--source', 'bench', '--stats'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...scratch.serverEnv(), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const sampler = sampleRss(child.pid!, 100);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const memory = sampler.stop();
  const done = /job \d+ (\w+): (\d+) rows, (\d+) inserted/.exec(out);
  const elapsed = /elapsed ([\d.]+) s, \d+ rows\/s; ms: (.*)/.exec(out);
  if (code !== 0 || !done || !elapsed || done[1] !== 'done') throw new Error(`import of ${kind} failed (${code}): ${out.slice(-2000)} ${err.slice(-2000)}`);
  ctx.log(`import ${kind}: ${done[2]} rows (${done[3]} inserted) in ${elapsed[1]} s; ${elapsed[2]}; peak RSS ${Math.round(MiB(memory.hwmKiB))} MiB`);
  return { rows: Number(done[2]), inserted: Number(done[3]), seconds: Number(elapsed[1]), peakKiB: memory.hwmKiB };
}

export const importSuite: Suite = {
  name: 'import',
  description: 'tongxin import of the generator ledgers (residents, houses) vs raw COPY of the same rows into the same tables; peak RSS of the import process',
  engines: ENGINES,
  scales: SCALES,
  defaultScale: 'street',
  async run(ctx) {
    // `tiny` is the other suites' name for the generator's village
    const scale = (ctx.options.smoke || ctx.options.scale === 'tiny' ? 'village' : ctx.options.scale) as ImportScale;
    if (!(SCALES as readonly string[]).includes(scale)) throw new Error(`scale must be one of ${SCALES.join(', ')}`);
    const files = await ledgerFiles(scale, ctx.log);
    const scratch = await createScratch(ctx.options.engine, ctx.cleanup, 'import');
    const t0 = performance.now();
    await withConnections(scratch, async ({ product }) => {
      // the same tree the ledgers name (same preset, scale and seed), without the population
      await build({ preset: loadPreset('liwan'), scale: GENERATOR_SCALES[scale], seed: SEED, db: product });
      await sql`analyze`.execute(product.db);
    });
    ctx.log(`scale ${scale}: tree ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const figures: Figure[] = [];
    const work = path.join(scratch.dataDir, 'copy');
    mkdirSync(work, { recursive: true });
    for (const [kind, table, columns, file] of [
      ['resident', 'resident', RESIDENT_COLUMNS, files.residents],
      ['house', 'house', HOUSE_COLUMNS, files.houses],
    ] as const) {
      const text = path.join(work, `${table}.copy`);
      const rows = await copyText(scratch, kind, file, text);
      const copySeconds = await copyInto(scratch, table, [...columns], text);
      rmSync(text, { force: true });
      ctx.log(`COPY ${table}: ${rows} rows in ${copySeconds.toFixed(2)} s`);
      await withConnections(scratch, async ({ product }) => {
        await sql.raw(`truncate ${table} cascade`).execute(product.db);
        await sql`analyze`.execute(product.db);
      });
      const imported = await importChild(ctx, scratch, kind, file);
      figures.push(higherBetter(`import ${kind === 'resident' ? 'residents' : 'houses'} (${path.basename(file)}, validate + seal + merge + checkpoint) vs raw COPY of the same rows`, 'rows/s', imported.rows / imported.seconds, rows / copySeconds));
      if (kind === 'resident') figures.push(lowerBetter('import process peak RSS (VmHWM) vs 1 GiB budget', 'MiB', MiB(imported.peakKiB), 1024));
    }
    return figures;
  },
};
