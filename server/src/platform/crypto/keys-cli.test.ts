import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { runKeysCommand, type KeysCommandDeps } from './keys-cli.ts';
import { KEYRING_ENV, keyringFile, keysDir, loadKeyring, serialiseKeyring } from './keyring.ts';
import { ciphertextVersion, createPiiCipher } from './pii.ts';
import type { PiiTableSpec } from './rotate.ts';
import type { Database } from '../../db/types.ts';

let database: TestDatabase;
const dirs: string[] = [];
beforeAll(async () => {
  database = await createTestDatabase();
  await sql`create table cli_scratch (id bigint primary key, phone_enc text, phone_hash text)`.execute(database.db);
});
afterAll(async () => {
  await database?.drop();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const TABLES: PiiTableSpec[] = [{ table: 'cli_scratch', idColumns: ['id'], fields: [{ cipherColumn: 'phone_enc', hashColumn: 'phone_hash', field: 'scratch.phone', kind: 'phone' }] }];

function setup(env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tongxin-keys-cli-'));
  dirs.push(dataDir);
  const lines: string[] = [];
  let opened = 0;
  const deps: KeysCommandDeps<Database> = {
    dataDir,
    env,
    tables: TABLES,
    log: (line) => lines.push(line),
    // the shared test database stays open between commands
    openDatabase: async () => {
      opened++;
      return { db: database.db, close: async () => {} };
    },
  };
  return { dataDir, lines, deps, opened: () => opened };
}

describe('keys command', () => {
  it('init, status, rotate, status: re-encrypts the registered tables and never prints key material', async () => {
    const { dataDir, lines, deps } = setup();
    expect(await runKeysCommand(['init'], deps)).toBe(0);
    expect(lines[0]).toContain('Created a new keyring');
    const k1 = loadKeyring({ dataDir, env: {} }).keyring;
    const v1 = createPiiCipher(k1);
    for (let i = 1; i <= 12; i++) {
      const s = v1.seal('phone', 'scratch.phone', `1380000${String(i).padStart(4, '0')}`);
      await sql`insert into cli_scratch values (${i}, ${s.ciphertext}, ${s.lookupHash})`.execute(database.db);
    }
    lines.length = 0;
    expect(await runKeysCommand(['init'], deps)).toBe(0);
    expect(lines[0]).toBe('A keyring already exists; nothing changed.');

    lines.length = 0;
    expect(await runKeysCommand(['status'], deps)).toBe(0);
    expect(lines.join('\n')).toContain('cli_scratch.phone_enc  v1: 12');
    expect(lines.join('\n')).toContain('Every stored value is at v1.');

    lines.length = 0;
    expect(await runKeysCommand(['rotate', '--batch-size', '5'], deps)).toBe(0);
    expect(lines.join('\n')).toContain('cli_scratch: 12 rows, 12 values re-encrypted to v2');
    const k2 = loadKeyring({ dataDir, env: {} }).keyring;
    expect(k2.current).toBe(2);
    const { rows } = await sql<{ phone_enc: string; phone_hash: string }>`select phone_enc, phone_hash from cli_scratch order by id`.execute(database.db);
    expect(rows.every((r) => ciphertextVersion(r.phone_enc) === 2)).toBe(true);
    expect(rows[0].phone_hash).toBe(createPiiCipher(k2).lookupHash('phone', '13800000001'));

    const printed = lines.join('\n');
    const secrets = JSON.parse(serialiseKeyring(k2)) as { versions: { encryptionKey: string; lookupKey: string }[] };
    for (const v of secrets.versions) {
      expect(printed).not.toContain(v.encryptionKey);
      expect(printed).not.toContain(v.lookupKey);
    }
    await sql`delete from cli_scratch`.execute(database.db);
  });

  it('with the keyring in the environment, rotate hands over the new keyring and changes no data', async () => {
    const source = setup();
    await runKeysCommand(['init'], source.deps);
    source.lines.length = 0;
    expect(await runKeysCommand(['export-env'], source.deps)).toBe(0);
    const envValue = source.lines[0];

    const { dataDir, lines, deps, opened } = setup({ [KEYRING_ENV]: envValue });
    expect(await runKeysCommand(['rotate'], deps)).toBe(0);
    expect(opened()).toBe(0);
    const pending = path.join(keysDir(dataDir), 'pii-keyring.pending.b64');
    expect(lines.join('\n')).toContain(pending);
    if (process.platform !== 'win32') expect(statSync(pending).mode & 0o777).toBe(0o600);
    expect(existsSync(keyringFile(dataDir))).toBe(false);
    const next = loadKeyring({ dataDir, env: { [KEYRING_ENV]: readFileSync(pending, 'utf8') } });
    expect(next.keyring.current).toBe(2);
    expect(next.keyring.versions.map((v) => v.version)).toEqual([1, 2]);
  });

  it('rotate --resume adds no version; unknown commands print the usage', async () => {
    const { dataDir, lines, deps } = setup();
    await runKeysCommand(['init'], deps);
    expect(await runKeysCommand(['rotate', '--resume'], deps)).toBe(0);
    expect(loadKeyring({ dataDir, env: {} }).keyring.current).toBe(1);
    lines.length = 0;
    expect(await runKeysCommand(['frobnicate'], deps)).toBe(2);
    expect(lines[0]).toContain('Usage: tongxin keys');
    expect(await runKeysCommand([], deps)).toBe(0);
    await expect(runKeysCommand(['rotate', '--batch-size', '0'], deps)).rejects.toThrow(/batch-size/);
  });

  it('status and rotate fail clearly without a keyring', async () => {
    const { deps } = setup();
    await expect(runKeysCommand(['status'], deps)).rejects.toThrow(/No personal-data keyring/);
    await expect(runKeysCommand(['rotate'], deps)).rejects.toThrow(/No personal-data keyring/);
  });
});
