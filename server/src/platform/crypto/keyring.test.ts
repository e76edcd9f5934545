import { describe, it, expect, afterAll } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  KEYRING_ENV,
  createKeyring,
  dropVersion,
  fingerprint,
  keyringFile,
  keyringToEnv,
  keysDir,
  loadKeyring,
  parseKeyring,
  rotate,
  saveKeyring,
  serialiseKeyring,
  type Keyring,
} from './keyring.ts';
import { KeyringError } from './errors.ts';
import { createPiiCipher } from './pii.ts';

const dirs: string[] = [];
const tempDataDir = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tongxin-keyring-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const mode = (file: string) => statSync(file).mode & 0o777;
const NO_ENV = {};

function keyringError(fn: () => unknown): KeyringError {
  try {
    fn();
  } catch (err) {
    if (err instanceof KeyringError) return err;
    throw err;
  }
  throw new Error('expected a KeyringError');
}

function expectSameKeys(a: Keyring, b: Keyring) {
  expect(a.current).toBe(b.current);
  expect(a.versions.map(fingerprint)).toEqual(b.versions.map(fingerprint));
}

describe('keyring', () => {
  it('createKeyring: one version of two distinct 32-byte keys', () => {
    const k = createKeyring();
    expect(k.current).toBe(1);
    expect(k.versions).toHaveLength(1);
    expect(k.versions[0].encryptionKey).toHaveLength(32);
    expect(k.versions[0].lookupKey).toHaveLength(32);
    expect(k.versions[0].encryptionKey.equals(k.versions[0].lookupKey)).toBe(false);
  });

  it('rotate adds a new current version and keeps the old ones', () => {
    const k1 = createKeyring();
    const k3 = rotate(rotate(k1));
    expect(k3.current).toBe(3);
    expect(k3.versions.map((v) => v.version)).toEqual([1, 2, 3]);
    expect(fingerprint(k3.versions[0])).toBe(fingerprint(k1.versions[0]));
    expect(new Set(k3.versions.map(fingerprint)).size).toBe(3);
    expect(k1.current).toBe(1); // not mutated
  });

  it('dropVersion removes an old version but never the current one', () => {
    const k = rotate(createKeyring());
    expect(dropVersion(k, 1).versions.map((v) => v.version)).toEqual([2]);
    expect(keyringError(() => dropVersion(k, 2)).code).toBe('keyring_version');
    expect(keyringError(() => dropVersion(k, 7)).code).toBe('keyring_version');
  });

  it('fails clearly when neither the environment nor the file holds a keyring', () => {
    const dataDir = tempDataDir();
    const err = keyringError(() => loadKeyring({ dataDir, env: NO_ENV }));
    expect(err.code).toBe('keyring_missing');
    expect(err.messages.en).toContain(KEYRING_ENV);
    expect(err.messages.en).toContain(keyringFile(dataDir));
    expect(err.messages['zh-CN']).toContain('密钥环');
    expect(existsSync(keysDir(dataDir))).toBe(false);
    expect(keyringError(() => loadKeyring({ dataDir, env: { [KEYRING_ENV]: '  ' } })).code).toBe('keyring_missing');
  });

  it('createIfMissing writes the file with mode 0600 in a 0700 directory, and later loads read it back', () => {
    const dataDir = tempDataDir();
    const created = loadKeyring({ dataDir, env: NO_ENV, createIfMissing: true });
    expect(created.source).toBe('created');
    expect(created.file).toBe(keyringFile(dataDir));
    if (process.platform !== 'win32') {
      expect(mode(keyringFile(dataDir))).toBe(0o600);
      expect(mode(keysDir(dataDir))).toBe(0o700);
    }
    const again = loadKeyring({ dataDir, env: NO_ENV, createIfMissing: true });
    expect(again.source).toBe('file');
    expectSameKeys(again.keyring, created.keyring);
    expect(readdirSync(keysDir(dataDir))).toEqual(['pii-keyring.json']);
  });

  it('the environment wins over the file, and createIfMissing never writes a file when it is set', () => {
    const dataDir = tempDataDir();
    const fileKeyring = loadKeyring({ dataDir, env: NO_ENV, createIfMissing: true }).keyring;
    const envKeyring = rotate(createKeyring());
    const fromEnv = loadKeyring({ dataDir, env: { [KEYRING_ENV]: keyringToEnv(envKeyring) } });
    expect(fromEnv.source).toBe('env');
    expect(fromEnv.file).toBeNull();
    expectSameKeys(fromEnv.keyring, envKeyring);
    expect(fingerprint(fromEnv.keyring.versions[0])).not.toBe(fingerprint(fileKeyring.versions[0]));

    const empty = tempDataDir();
    const onlyEnv = loadKeyring({ dataDir: empty, env: { [KEYRING_ENV]: keyringToEnv(envKeyring) }, createIfMissing: true });
    expect(onlyEnv.source).toBe('env');
    expect(existsSync(keysDir(empty))).toBe(false);
  });

  it('a keyring from the environment and from the file decrypt the same data', () => {
    const dataDir = tempDataDir();
    const k = loadKeyring({ dataDir, env: NO_ENV, createIfMissing: true }).keyring;
    const token = createPiiCipher(k).encrypt('13800138000', 'resident.phone');
    const viaEnv = loadKeyring({ dataDir: tempDataDir(), env: { [KEYRING_ENV]: keyringToEnv(k) } }).keyring;
    expect(createPiiCipher(viaEnv).decrypt(token, 'resident.phone')).toBe('13800138000');
  });

  it('rejects a malformed environment value without echoing it', () => {
    const dataDir = tempDataDir();
    const good = JSON.parse(serialiseKeyring(createKeyring())) as { versions: Record<string, unknown>[] };
    const secret = good.versions[0].encryptionKey as string;
    const asEnv = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64');
    const cases: [string, string][] = [
      ['not base64 at all!', 'keyring_env_invalid'],
      [Buffer.from('not json').toString('base64'), 'keyring_invalid'],
      [asEnv({ ...good, format: 'other' }), 'keyring_invalid'],
      [asEnv({ ...good, current: 2 }), 'keyring_invalid'],
      [asEnv({ ...good, versions: [] }), 'keyring_invalid'],
      [asEnv({ ...good, versions: [{ ...good.versions[0], encryptionKey: Buffer.alloc(16).toString('base64') }] }), 'keyring_invalid'],
      [asEnv({ ...good, versions: [{ ...good.versions[0], lookupKey: secret }] }), 'keyring_invalid'],
      [asEnv({ ...good, versions: [good.versions[0], good.versions[0]] }), 'keyring_invalid'],
      [asEnv({ ...good, versions: [{ ...good.versions[0], version: 0 }] }), 'keyring_invalid'],
    ];
    for (const [value, code] of cases) {
      const err = keyringError(() => loadKeyring({ dataDir, env: { [KEYRING_ENV]: value } }));
      expect(err.code).toBe(code);
      expect(err.message).not.toContain(secret);
      expect(err.messages['zh-CN']).not.toContain(secret);
    }
  });

  it.skipIf(process.platform === 'win32')('refuses a key file that others can read', () => {
    const dataDir = tempDataDir();
    loadKeyring({ dataDir, env: NO_ENV, createIfMissing: true });
    chmodSync(keyringFile(dataDir), 0o644);
    const err = keyringError(() => loadKeyring({ dataDir, env: NO_ENV }));
    expect(err.code).toBe('keyring_file_permissions');
    expect(err.messages.en).toContain('chmod 600');
    chmodSync(keyringFile(dataDir), 0o600);
    expect(loadKeyring({ dataDir, env: NO_ENV }).source).toBe('file');
  });

  it('saveKeyring replaces the file atomically, keeps 0600 and leaves no temporary file', () => {
    const dataDir = tempDataDir();
    const k1 = loadKeyring({ dataDir, env: NO_ENV, createIfMissing: true }).keyring;
    const k2 = rotate(k1);
    saveKeyring(dataDir, k2);
    expectSameKeys(loadKeyring({ dataDir, env: NO_ENV }).keyring, k2);
    if (process.platform !== 'win32') expect(mode(keyringFile(dataDir))).toBe(0o600);
    expect(readdirSync(keysDir(dataDir))).toEqual(['pii-keyring.json']);
  });

  it('saveKeyring refuses to lose or change a version the file holds', () => {
    const dataDir = tempDataDir();
    const k1 = loadKeyring({ dataDir, env: NO_ENV, createIfMissing: true }).keyring;
    const k2 = rotate(k1);
    saveKeyring(dataDir, k2);
    // a process still holding k1 must not undo the rotation
    expect(keyringError(() => saveKeyring(dataDir, k1)).code).toBe('keyring_version');
    // nor may a second, concurrent rotation of k1 replace v2 with other keys
    expect(keyringError(() => saveKeyring(dataDir, rotate(k1))).code).toBe('keyring_version');
    // dropping a version is possible when asked for
    saveKeyring(dataDir, dropVersion(k2, 1), { allowDroppingVersions: true });
    expect(loadKeyring({ dataDir, env: NO_ENV }).keyring.versions.map((v) => v.version)).toEqual([2]);
    expect(readdirSync(keysDir(dataDir))).toEqual(['pii-keyring.json']);
  });

  it('creating never replaces an existing file (exclusive)', () => {
    const dataDir = tempDataDir();
    const first = loadKeyring({ dataDir, env: NO_ENV, createIfMissing: true }).keyring;
    expect(() => saveKeyring(dataDir, createKeyring(), { exclusive: true })).toThrow(/EEXIST/);
    expectSameKeys(loadKeyring({ dataDir, env: NO_ENV }).keyring, first);
    expect(readdirSync(keysDir(dataDir))).toEqual(['pii-keyring.json']);
  });

  it('tightens a keys directory created with a lax mode', () => {
    if (process.platform === 'win32') return;
    const dataDir = tempDataDir();
    mkdirSync(keysDir(dataDir), { mode: 0o755 });
    chmodSync(keysDir(dataDir), 0o755);
    saveKeyring(dataDir, createKeyring());
    expect(mode(keysDir(dataDir))).toBe(0o700);
  });

  it('parseKeyring reads what serialiseKeyring writes, in any version order', () => {
    const k = rotate(rotate(createKeyring()));
    const json = JSON.parse(serialiseKeyring(k)) as { versions: unknown[] };
    json.versions.reverse();
    const parsed = parseKeyring(JSON.stringify(json), 'test');
    expectSameKeys(parsed, k);
    expect(parsed.versions.map((v) => v.version)).toEqual([1, 2, 3]);
  });

  it('a key file that is not a keyring fails with the file named', () => {
    const dataDir = tempDataDir();
    mkdirSync(keysDir(dataDir), { mode: 0o700 });
    writeFileSync(keyringFile(dataDir), '{"format":"nope"}', { mode: 0o600 });
    const err = keyringError(() => loadKeyring({ dataDir, env: NO_ENV, createIfMissing: true }));
    expect(err.code).toBe('keyring_invalid');
    expect(err.messages.en).toContain(keyringFile(dataDir));
  });
});
