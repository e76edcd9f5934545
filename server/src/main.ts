// The command line: init | serve | start | migrate | seed | user create.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from './config.ts';
import { openDatabase, type DbHandle } from './db/connection.ts';
import { buildApp, migrateDatabase } from './app.ts';
import { initDeployment, isInitialised, seedDemo, type DemoResult } from './cli/deployment.ts';
import { UsersService } from './modules/users/users.service.ts';
import { systemContext } from './platform/context.ts';
import { isRoleCode, ROLES } from '../../shared/permissions.ts';
import { listPresetIds } from './modules/grid/preset.ts';
import { RESIDENT_PII_TABLE } from './modules/basedata/residents.service.ts';
import { createPiiCipher, loadKeyring, runKeysCommand, type PiiTableSpec } from './platform/crypto/index.ts';
import { IMPORT_USAGE, runImportCommand } from './modules/basedata/import/import.cli.ts';

// The tables `keys rotate` and `keys status` walk.
const PII_TABLES: readonly PiiTableSpec[] = [RESIDENT_PII_TABLE];

const USAGE = `Usage: tongxin <command> [options]

Commands:
  start                     migrate, seed the demo locality if the database is empty, serve
  serve                     migrate and serve
  init --preset NAME        start a deployment from a preset (${listPresetIds().join(', ')})
       [--root-name NAME] [--admin USERNAME]
  migrate                   apply pending migrations
  seed                      seed the deterministic demo locality into an empty database
  user create --username U --name NAME --role ROLE --unit UNIT_ID
                            create an account; prints its one-time password
  keys init|status|rotate [--resume]|export-env
                            the personal-data keyring (docs/personal-data.md)
  ${IMPORT_USAGE.replaceAll('\n', '\n  ')}
                            bulk import of residents/houses (docs/import.md)

Environment: PORT, HOST, TONGXIN_DATA_DIR (default ./data), DATABASE_URL (PostgreSQL instead of PGlite),
TONGXIN_PII_KEYRING (the keyring, instead of <data dir>/keys/pii-keyring.json).`;

async function open(config: Config): Promise<DbHandle> {
  if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true });
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const applied = await migrateDatabase(database);
  if (applied.length) console.log(`Applied migrations: ${applied.join(', ')}`);
  return database;
}

async function hasStoredPii(database: DbHandle) {
  const row = await database.db.selectFrom('resident').select('id').where((eb) => eb.or([eb('id_cipher', 'is not', null), eb('phone_cipher', 'is not', null)])).limit(1).executeTakeFirst();
  return !!row;
}

const loginsFile = (config: Config) => path.join(config.dataDir, 'demo-logins.json');

function saveLogins(config: Config, demo: DemoResult) {
  mkdirSync(config.dataDir, { recursive: true });
  const file = loginsFile(config);
  const logins = [{ username: demo.init.admin.username, password: demo.init.admin.oneTimePassword, role: 'district_admin (one-time password)', unit: demo.init.root.name }, ...demo.logins];
  writeFileSync(file, JSON.stringify(logins, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
}

function printLogins(config: Config) {
  const file = loginsFile(config);
  if (!existsSync(file)) return;
  const logins = JSON.parse(readFileSync(file, 'utf8')) as { username: string; password: string; role: string; unit: string }[];
  console.log('\nDemo logins (演示账号), kept in ' + file + ':');
  for (const l of logins) console.log(`  ${l.username.padEnd(11)} ${l.password.padEnd(17)} ${l.role} @ ${l.unit}`);
}

async function serve(config: Config, database: DbHandle) {
  const pii = createPiiCipher(loadKeyring({ dataDir: config.dataDir }).keyring);
  const app = await buildApp({ config, database, pii, background: true });
  const shutdown = async (signal: string) => {
    console.log(`\n${signal}: closing…`);
    await app.close();
    // PGlite writes its files on close; closing cleanly keeps the data directory consistent.
    await database.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  console.log(`\nTongxin 同心 is running: http://${config.host}:${port}/  (API docs: /docs, engine: ${database.engine})`);
  return app;
}

async function main(argv: string[]) {
  const [command, sub] = argv;
  const config = loadConfig();
  switch (command) {
    case 'start': {
      const database = await open(config);
      const keys = loadKeyring({ dataDir: config.dataDir, createIfMissing: !(await hasStoredPii(database)) });
      if (!(await isInitialised(database))) {
        console.log('Empty database: seeding the demo locality (liwan preset, 逢源街道)…');
        const t = Date.now();
        const demo = await seedDemo(database, config, { pii: createPiiCipher(keys.keyring) });
        saveLogins(config, demo);
        console.log(`Seeded in ${((Date.now() - t) / 1000).toFixed(1)} s.`);
      }
      await serve(config, database);
      printLogins(config);
      return;
    }
    case 'serve': {
      const database = await open(config);
      // A missing keyring may be created only while nothing is encrypted yet; after that, losing it loses data.
      loadKeyring({ dataDir: config.dataDir, createIfMissing: !(await hasStoredPii(database)) });
      if (!(await isInitialised(database))) console.warn('The database is not initialised yet: run `init --preset NAME` first.');
      await serve(config, database);
      return;
    }
    case 'migrate': {
      const database = await open(config);
      await database.close();
      console.log('Migrations are up to date.');
      return;
    }
    case 'init': {
      const { values } = parseArgs({ args: argv.slice(1), options: { preset: { type: 'string' }, 'root-name': { type: 'string' }, admin: { type: 'string' } } });
      if (!values.preset) throw new Error(`init needs --preset (one of ${listPresetIds().join(', ')})`);
      const database = await open(config);
      const keys = loadKeyring({ dataDir: config.dataDir, createIfMissing: true });
      const result = await initDeployment(database, { preset: values.preset, rootName: values['root-name'], adminUsername: values.admin });
      await database.close();
      console.log(`Initialised with preset ${result.presetId}; root unit ${result.root.name} (#${result.root.id}).`);
      console.log(`First admin: ${result.admin.username}  one-time password: ${result.admin.oneTimePassword}  (must be changed at first login)`);
      if (keys.source === 'created') console.log(`Created the personal-data keyring ${keys.file}; back it up apart from the database (docs/personal-data.md).`);
      return;
    }
    case 'seed': {
      const database = await open(config);
      const keys = loadKeyring({ dataDir: config.dataDir, createIfMissing: true });
      const demo = await seedDemo(database, config, { pii: createPiiCipher(keys.keyring) });
      saveLogins(config, demo);
      await database.close();
      console.log(`Seeded the demo street ${demo.street.name} (#${demo.street.id}).`);
      printLogins(config);
      return;
    }
    case 'import': {
      process.exitCode = await runImportCommand(argv.slice(1), { config, open: () => open(config) });
      return;
    }
    case 'keys': {
      process.exitCode = await runKeysCommand(argv.slice(1), { dataDir: config.dataDir, openDatabase: () => open(config), tables: PII_TABLES });
      return;
    }
    case 'user': {
      if (sub !== 'create') break;
      const { values } = parseArgs({ args: argv.slice(2), options: { username: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, unit: { type: 'string' } } });
      if (!values.username || !values.role || !values.unit) throw new Error('user create needs --username, --role and --unit');
      if (!isRoleCode(values.role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
      const database = await open(config);
      const users = new UsersService(database.db);
      const created = await users.create(systemContext('cli'), { username: values.username, displayName: values.name ?? values.username, role: values.role, unitId: Number(values.unit) });
      await database.close();
      console.log(`Created ${created.user.username} (#${created.user.id}); one-time password: ${created.oneTimePassword}`);
      return;
    }
  }
  console.log(USAGE);
  if (command && command !== 'help' && command !== '--help') process.exitCode = 2;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as { messages?: { 'zh-CN': string; en: string }; message?: string };
  console.error(e.messages ? `${e.messages['zh-CN']} / ${e.messages.en}` : (e.message ?? String(err)));
  process.exit(1);
});
