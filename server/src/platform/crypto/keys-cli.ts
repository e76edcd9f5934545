// `tongxin keys <init|status|rotate|export-env>`: the operator's handle on the personal-data keyring.
// Never prints key material, except `export-env`, which exists to print it.
import { parseArgs } from 'node:util';
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { fingerprint, keyringToEnv, keysDir, loadKeyring, rotate, saveKeyring, type LoadedKeyring } from './keyring.ts';
import { createPiiCipher } from './pii.ts';
import { countStalePii, piiVersionCounts, rotatePii, type PiiTableSpec } from './rotate.ts';

export interface KeysCommandDeps<DB> {
  dataDir: string;
  env?: Readonly<Record<string, string | undefined>>;
  /** opens (and migrates) the database; only called by commands that need it */
  openDatabase: () => Promise<{ db: Kysely<DB>; close(): Promise<void> }>;
  /** every table holding protected values (from the module manifests) */
  tables: readonly PiiTableSpec[];
  log?: (line: string) => void;
  now?: () => Date;
}

export const KEYS_USAGE = `Usage: tongxin keys <command>

  init                 create the keyring (<data dir>/keys/pii-keyring.json, mode 0600) if there is none
  status               where the keyring comes from, its versions, and which versions stored values use
  rotate               add a new key version, save the keyring, re-encrypt every stored value under it
  rotate --resume      finish an interrupted rotation (re-encrypt what is not yet at the current version)
         [--batch-size N]  rows per transaction (default 500)
  export-env           print the keyring as the value for TONGXIN_PII_KEYRING (this prints the secret!)`;

function describe(loaded: LoadedKeyring, log: (line: string) => void) {
  const where = loaded.source === 'env' ? 'environment TONGXIN_PII_KEYRING' : `file ${loaded.file}`;
  log(`Keyring: ${where}; current version v${loaded.keyring.current}`);
  for (const v of loaded.keyring.versions) {
    log(`  v${v.version}  created ${v.createdAt || '?'}  fingerprint ${fingerprint(v)}${v.version === loaded.keyring.current ? '  (current)' : ''}`);
  }
}

/** Runs one `keys` subcommand; returns the process exit code. */
export async function runKeysCommand<DB>(args: readonly string[], deps: KeysCommandDeps<DB>): Promise<number> {
  const log = deps.log ?? ((line: string) => console.log(line));
  const now = deps.now ?? (() => new Date());
  const [command, ...rest] = args;
  const { values } = parseArgs({ args: [...rest], options: { resume: { type: 'boolean' }, 'batch-size': { type: 'string' } }, allowPositionals: false });
  switch (command) {
    case 'init': {
      const loaded = loadKeyring({ dataDir: deps.dataDir, env: deps.env, createIfMissing: true, now: now() });
      log(loaded.source === 'created' ? `Created a new keyring in ${loaded.file}. Back it up now (see docs/personal-data.md).` : 'A keyring already exists; nothing changed.');
      describe(loaded, log);
      return 0;
    }
    case 'status': {
      const loaded = loadKeyring({ dataDir: deps.dataDir, env: deps.env });
      describe(loaded, log);
      if (deps.tables.length === 0) return 0;
      const database = await deps.openDatabase();
      try {
        const cipher = createPiiCipher(loaded.keyring);
        for (const c of await piiVersionCounts(database.db, deps.tables)) {
          const counts = Object.entries(c.versions).map(([v, n]) => (v === 'other' ? `not a ciphertext: ${n}` : `v${v}: ${n}`));
          log(`  ${c.table}.${c.column}  ${counts.join(', ') || 'empty'}`);
        }
        const stale = (await countStalePii(database.db, cipher, deps.tables)).filter((s) => s.rows > 0);
        log(stale.length ? `Rows not yet at v${cipher.currentVersion}: ${stale.map((s) => `${s.table} ${s.rows}`).join(', ')} — run \`keys rotate --resume\`` : `Every stored value is at v${cipher.currentVersion}.`);
      } finally {
        await database.close();
      }
      return 0;
    }
    case 'rotate': {
      const batchSize = values['batch-size'] === undefined ? undefined : Number(values['batch-size']);
      if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)) {
        throw new Error('--batch-size must be an integer between 1 and 10000');
      }
      const loaded = loadKeyring({ dataDir: deps.dataDir, env: deps.env });
      const oldCipher = createPiiCipher(loaded.keyring);
      let newCipher = oldCipher;
      if (!values.resume) {
        const next = rotate(loaded.keyring, now());
        if (loaded.source === 'env') {
          // The new version must be kept before anything is encrypted under it, and we cannot write the
          // environment: hand the operator the new value and stop.
          const pending = path.join(keysDir(deps.dataDir), 'pii-keyring.pending.b64');
          writeSecret(pending, keyringToEnv(next) + '\n');
          log(`The keyring comes from TONGXIN_PII_KEYRING, which this command cannot change.`);
          log(`The rotated keyring (new version v${next.current}) is in ${pending} (mode 0600).`);
          log(`1. Put its content into TONGXIN_PII_KEYRING for every server and this command, and delete the file.`);
          log(`2. Restart the servers, then run \`keys rotate --resume\` to re-encrypt the stored values.`);
          return 0;
        }
        saveKeyring(deps.dataDir, next);
        newCipher = createPiiCipher(next);
        log(`Saved keyring with new current version v${next.current} to ${loaded.file}. Back it up now.`);
      }
      if (deps.tables.length === 0) {
        log('No table stores protected values yet; nothing to re-encrypt.');
        return 0;
      }
      const database = await deps.openDatabase();
      try {
        const report = await rotatePii(
          database.db,
          oldCipher,
          newCipher,
          deps.tables,
          (p) => log(`  ${p.table}: ${p.rowsDone}/${p.rowsTotal} rows`),
          { batchSize },
        );
        for (const t of report.tables) log(`${t.table}: ${t.rows} rows, ${t.values} values re-encrypted to v${report.toVersion}`);
        const stale = (await countStalePii(database.db, newCipher, deps.tables)).filter((s) => s.rows > 0);
        if (stale.length) {
          log(`Rows written meanwhile under an older version: ${stale.map((s) => `${s.table} ${s.rows}`).join(', ')}; run \`keys rotate --resume\` again once every server has the new keyring.`);
          return 1;
        }
        log(`Every stored value is at v${report.toVersion}.`);
      } finally {
        await database.close();
      }
      return 0;
    }
    case 'export-env': {
      const loaded = loadKeyring({ dataDir: deps.dataDir, env: deps.env });
      log(keyringToEnv(loaded.keyring));
      return 0;
    }
  }
  log(KEYS_USAGE);
  return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
}

function writeSecret(file: string, content: string) {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const fd = openSync(file, 'w', 0o600);
  chmodSync(file, 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
