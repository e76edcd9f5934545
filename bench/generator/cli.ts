// Builds a synthetic locality into a database and/or files.
//
//   npx tsx bench/generator/cli.ts --preset liwan --scale liwan --seed 42 \
//     [--engine pglite|postgres] [--data-dir DIR | --database-url URL --keys-dir DIR] [--no-residents] \
//     [--files DIR] [--formats csv,xlsx,gbk] [--with-history] [--no-db] [--as-of YYYY-MM-DD] [--gap-rate 0.005]
//
// The database must be empty (no preset applied yet): the build applies the preset, writes the tree in one
// transaction and refuses an initialised database. PGlite data goes to DIR/pgdata like the app's own
// TONGXIN_DATA_DIR, so `TONGXIN_DATA_DIR=DIR npm run cli -- serve` serves the generated locality.
//
// Houses, households, residents, house owners and party members go into their tables too (basedata-writers.ts)
// unless --no-residents, with ID and phone numbers sealed under the personal-data keyring the app will use:
// TONGXIN_PII_KEYRING if set, else DIR/keys/pii-keyring.json (created if missing) — DIR being the PGlite data
// dir, or for PostgreSQL the --keys-dir to serve with (TONGXIN_DATA_DIR=DIR DATABASE_URL=URL … serve).
import { parseArgs } from 'node:util';
import path from 'node:path';
import { sql } from 'kysely';
import { openPGlite, openPostgres, type DbHandle } from '../../server/src/db/connection.ts';
import { migrateDatabase } from '../../server/src/app.ts';
import { isInitialised } from '../../server/src/cli/deployment.ts';
import { loadPreset } from '../../server/src/modules/grid/preset.ts';
import { isCalendarDate } from '../../server/src/platform/clock.ts';
import { build, type BuildResult, type Progress } from './build.ts';
import { FILE_FORMATS, type FileFormat } from './file-writer.ts';
import { SCALES } from './scales.ts';
import { DEFAULT_AS_OF, DEFAULT_GAP_RATE } from './locality.ts';
import { BASEDATA_TABLES, registerBasedataWriters, type BasedataStats } from './basedata-writers.ts';
import { KEYRING_ENV, createPiiCipher, loadKeyring } from '../../server/src/platform/crypto/index.ts';

const USAGE = `usage: npx tsx bench/generator/cli.ts --preset ID --scale ${Object.keys(SCALES).join('|')} [--seed N]
  [--engine pglite|postgres] [--data-dir DIR | --database-url URL --keys-dir DIR] [--no-db] [--no-residents]
  [--files DIR] [--formats csv,xlsx,gbk] [--with-history] [--as-of YYYY-MM-DD] [--gap-rate R]`;

function fail(message: string): never {
  console.error(`error: ${message}\n${USAGE}`);
  process.exit(2);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main() {
  const { values } = parseArgs({
    options: {
      preset: { type: 'string' },
      scale: { type: 'string' },
      seed: { type: 'string', default: '42' },
      engine: { type: 'string' },
      'data-dir': { type: 'string' },
      'database-url': { type: 'string' },
      files: { type: 'string' },
      formats: { type: 'string', default: 'csv' },
      'with-history': { type: 'boolean', default: false },
      'no-db': { type: 'boolean', default: false },
      'no-residents': { type: 'boolean', default: false },
      'keys-dir': { type: 'string' },
      'as-of': { type: 'string', default: DEFAULT_AS_OF },
      'gap-rate': { type: 'string', default: String(DEFAULT_GAP_RATE) },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.preset) fail('--preset is required');
  const scale = SCALES[values.scale ?? ''];
  if (!scale) fail(`--scale must be one of ${Object.keys(SCALES).join(', ')}`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) fail('--seed must be an integer between 0 and 4294967295');
  const gapRate = Number(values['gap-rate']);
  if (!(gapRate >= 0 && gapRate <= 1)) fail('--gap-rate must be between 0 and 1');
  if (!isCalendarDate(values['as-of'])) fail('--as-of must be a date YYYY-MM-DD');
  const formats = values.formats.split(',').map((f) => f.trim()).filter(Boolean);
  const unknown = formats.filter((f) => !FILE_FORMATS.includes(f as FileFormat));
  if (unknown.length) fail(`unknown format(s): ${unknown.join(', ')} (known: ${FILE_FORMATS.join(', ')})`);
  const preset = (() => {
    try {
      return loadPreset(values.preset);
    } catch (err) {
      return fail((err as Error).message);
    }
  })();

  const noDb = values['no-db'];
  const databaseUrl = values['database-url'] ?? (values.engine !== 'pglite' ? process.env.DATABASE_URL : undefined);
  const engine = values.engine ?? (databaseUrl ? 'postgres' : 'pglite');
  if (engine !== 'pglite' && engine !== 'postgres') fail('--engine must be pglite or postgres');
  if (engine === 'postgres' && !databaseUrl && !noDb) fail('--engine postgres needs --database-url (or DATABASE_URL)');
  if (noDb && !values.files) fail('--no-db without --files would write nothing');
  const withResidents = !noDb && !values['no-residents'];
  const hasEnvKeyring = (process.env[KEYRING_ENV] ?? '').trim() !== '';
  if (withResidents && engine === 'postgres' && !values['keys-dir'] && !hasEnvKeyring) {
    fail(`PostgreSQL needs --keys-dir DIR (the keyring goes to DIR/keys/; serve with TONGXIN_DATA_DIR=DIR) or ${KEYRING_ENV}, or --no-residents`);
  }
  if (values['keys-dir'] && engine !== 'postgres') fail('--keys-dir is for PostgreSQL; PGlite keeps the keyring in its --data-dir');
  const dataDir = path.resolve(values['data-dir'] ?? process.env.TONGXIN_DATA_DIR ?? 'data');

  console.log(`generator: preset ${preset.id}, scale ${scale.name} (${scale.description}), seed ${seed}, as of ${values['as-of']}`);
  let handle: DbHandle | undefined;
  const t0 = performance.now();
  if (!noDb) {
    handle = engine === 'postgres' ? openPostgres(databaseUrl!, 2) : await openPGlite(dataDir);
    console.log(engine === 'postgres' ? `database: PostgreSQL ${redact(databaseUrl!)}` : `database: PGlite in ${dataDir}/pgdata`);
    await migrateDatabase(handle);
    if (await isInitialised(handle)) {
      await handle.close();
      fail('the database already holds a deployment; build into an empty database (a new --data-dir or a new PostgreSQL database)');
    }
  }
  let basedata: { stats: BasedataStats } | null = null;
  if (withResidents) {
    const keys = loadKeyring({ dataDir: values['keys-dir'] ? path.resolve(values['keys-dir']) : dataDir, createIfMissing: true });
    console.log(`keyring: ${keys.source === 'env' ? KEYRING_ENV : `${keys.file}${keys.source === 'created' ? ' (created: back it up apart from the database)' : ''}`}`);
    basedata = registerBasedataWriters(createPiiCipher(keys.keyring));
  }
  const openMs = performance.now() - t0;
  if (values.files) console.log(`files: ${path.resolve(values.files)} (${formats.join(', ')})`);

  let result: BuildResult;
  let analyzeMs = 0;
  try {
    result = await build({
      preset,
      scale,
      seed,
      asOf: values['as-of'],
      gapRate,
      withHistory: values['with-history'],
      db: handle,
      filesDir: values.files ? path.resolve(values.files) : undefined,
      formats: formats as FileFormat[],
      onProgress: printProgress,
    });
    if (basedata && handle) {
      // The build's ANALYZE covers the structure tables; PGlite has no autovacuum to do the rest.
      const t = performance.now();
      await sql`analyze ${sql.join(BASEDATA_TABLES.map((table) => sql.table(table)))}`.execute(handle.db);
      analyzeMs = performance.now() - t;
    }
  } finally {
    await handle?.close();
  }

  const total = result.totalMs + openMs;
  console.log('\nrecords generated:');
  for (const [type, n] of Object.entries(result.summary.counts)) if (n) console.log(`  ${type.padEnd(14)} ${fmt(n).padStart(12)}`);
  console.log(`  gaps planted   ${fmt(result.summary.gaps.length).padStart(12)}  (${['party_org', 'leader', 'role'].map((g) => `${g} ${result.summary.gaps.filter((x) => x.gap === g).length}`).join(', ')})`);
  if (handle) {
    console.log('database rows written:');
    for (const [table, n] of Object.entries(result.dbRows)) console.log(`  ${table.padEnd(14)} ${fmt(n).padStart(12)}`);
    console.log(`  root unit id   ${String(result.rootId).padStart(12)}`);
  }
  if (basedata) {
    const b = basedata.stats;
    console.log('base data:');
    console.log(`  house ${fmt(b.houses)} (${fmt(b.addressesQualified)} addresses qualified with the house no), household ${fmt(b.households)}, party_member ${fmt(b.partyMembers)}`);
    console.log(`  resident ${fmt(b.residents + b.ownersElsewhere)} (${fmt(b.ownersElsewhere)} of them owners living elsewhere), house_owner ${fmt(b.houseOwners)}`);
    console.log(`  sealing ${(b.sealMs / 1000).toFixed(1)} s, waiting for the database ${(b.waitMs / 1000).toFixed(1)} s, analyze ${(analyzeMs / 1000).toFixed(1)} s`);
  }
  if (result.files.length) {
    console.log('files:');
    for (const f of result.files) console.log(`  ${f.file.padEnd(28)} ${fmt(f.rows).padStart(12)} rows${f.sheets ? ` in ${f.sheets} sheet(s)` : ''}`);
  }
  console.log('phases:');
  const line = (name: string, rows: number, ms: number) =>
    console.log(`  ${name.padEnd(20)} ${fmt(rows).padStart(12)} rows ${(ms / 1000).toFixed(2).padStart(9)} s ${rows && ms ? fmt((rows / ms) * 1000).padStart(10) : ''.padStart(10)} rows/s`);
  if (handle) line('open + migrate', 0, openMs);
  let allRows = 0;
  for (const p of result.phases) {
    line(p.name, p.rows, p.ms);
    if (p.name !== 'generate structure') allRows += p.rows;
  }
  line('total', allRows, total);
  console.log(`memory at the end: heap ${fmt(process.memoryUsage().heapUsed / 2 ** 20)} MiB, rss ${fmt(process.memoryUsage.rss() / 2 ** 20)} MiB (peak: see /usr/bin/time -v)`);
}

function printProgress(p: Progress) {
  const done = p.counts.resident;
  const pct = p.residentsTarget ? ` (${((done / p.residentsTarget) * 100).toFixed(0)}%)` : '';
  const rows = Object.values(p.counts).reduce((a, b) => a + b, 0);
  console.log(`  [${(p.elapsedMs / 1000).toFixed(0).padStart(4)} s] ${p.phase.padEnd(10)} residents ${fmt(done)}${pct}, ${fmt(rows)} records, ${fmt((rows / p.elapsedMs) * 1000)} records/s, rss ${fmt(p.rssMiB)} MiB`);
}

function redact(url: string) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(url)';
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
