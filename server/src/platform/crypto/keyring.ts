// The versioned keyring for personal data (PIPL): each version holds an AES-256-GCM key for the stored
// ciphertexts and a separate HMAC-SHA-256 key for the lookup hashes. New data is written under the current
// version; older versions stay so existing rows keep decrypting until they are re-encrypted (rotate.ts).
//
// Where it lives: TONGXIN_PII_KEYRING (base64 of the JSON below) if set, else <dataDir>/keys/pii-keyring.json.
// The environment wins so that deployments with several servers can hand every one the same secret.
import { closeSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, chmodSync } from 'node:fs';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import { KeyringError } from './errors.ts';

export const KEYRING_ENV = 'TONGXIN_PII_KEYRING';
export const KEYRING_FORMAT = 'tongxin-pii-keyring/1';
const KEY_BYTES = 32;

export interface KeyVersion {
  readonly version: number;
  /** ISO timestamp; informational */
  readonly createdAt: string;
  /** AES-256-GCM key for ciphertexts */
  readonly encryptionKey: Buffer;
  /** HMAC-SHA-256 key for lookup hashes; never the same bytes as the encryption key */
  readonly lookupKey: Buffer;
}

export interface Keyring {
  /** the version new ciphertexts and lookup hashes are made with */
  readonly current: number;
  /** every version still held, ascending */
  readonly versions: readonly KeyVersion[];
}

export type KeyringSource = 'env' | 'file' | 'created';

export interface LoadedKeyring {
  keyring: Keyring;
  source: KeyringSource;
  /** the key file, when the keyring came from (or was written to) one */
  file: string | null;
}

interface KeyringJson {
  format: string;
  current: number;
  versions: { version: number; createdAt: string; encryptionKey: string; lookupKey: string }[];
}

export const keysDir = (dataDir: string) => path.join(dataDir, 'keys');
export const keyringFile = (dataDir: string) => path.join(keysDir(dataDir), 'pii-keyring.json');

function newVersion(version: number, now: Date): KeyVersion {
  return { version, createdAt: now.toISOString(), encryptionKey: randomBytes(KEY_BYTES), lookupKey: randomBytes(KEY_BYTES) };
}

/** A fresh keyring holding version 1 only. */
export function createKeyring(now: Date = new Date()): Keyring {
  return { current: 1, versions: [newVersion(1, now)] };
}

/** A new keyring whose current version is new; every older version is kept for decryption and lookups. */
export function rotate(keyring: Keyring, now: Date = new Date()): Keyring {
  const next = Math.max(...keyring.versions.map((v) => v.version)) + 1;
  return { current: next, versions: [...keyring.versions, newVersion(next, now)] };
}

/**
 * Removes a version that no stored value uses any more (check with countStalePii first). Backups taken while
 * the version was in use can no longer be read with the resulting keyring: keep the old keyring with them.
 */
export function dropVersion(keyring: Keyring, version: number): Keyring {
  if (version === keyring.current) {
    throw new KeyringError('keyring_version', { 'zh-CN': `不能删除当前密钥版本 v${version}`, en: `Cannot drop the current key version v${version}` });
  }
  if (!keyring.versions.some((v) => v.version === version)) {
    throw new KeyringError('keyring_version', { 'zh-CN': `密钥环中没有版本 v${version}`, en: `The keyring holds no version v${version}` });
  }
  return { current: keyring.current, versions: keyring.versions.filter((v) => v.version !== version) };
}

export function keyVersion(keyring: Keyring, version: number): KeyVersion | undefined {
  return keyring.versions.find((v) => v.version === version);
}

/**
 * A short public fingerprint of one version (both keys), for comparing keyrings between servers and backups
 * without showing key material.
 */
export function fingerprint(key: KeyVersion): string {
  return createHash('sha256').update('tongxin-pii-fingerprint\0').update(key.encryptionKey).update(key.lookupKey).digest('hex').slice(0, 16);
}

export function serialiseKeyring(keyring: Keyring): string {
  const json: KeyringJson = {
    format: KEYRING_FORMAT,
    current: keyring.current,
    versions: keyring.versions.map((v) => ({
      version: v.version,
      createdAt: v.createdAt,
      encryptionKey: v.encryptionKey.toString('base64'),
      lookupKey: v.lookupKey.toString('base64'),
    })),
  };
  return JSON.stringify(json, null, 2) + '\n';
}

/** The value to put in TONGXIN_PII_KEYRING for this keyring. */
export function keyringToEnv(keyring: Keyring): string {
  return Buffer.from(serialiseKeyring(keyring), 'utf8').toString('base64');
}

const STANDARD_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function invalid(where: string, problemZh: string, problemEn: string): KeyringError {
  return new KeyringError('keyring_invalid', { 'zh-CN': `密钥环无效（${where}）：${problemZh}`, en: `Invalid keyring (${where}): ${problemEn}` });
}

function decodeKey(value: unknown, where: string, label: string): Buffer {
  if (typeof value !== 'string' || !STANDARD_BASE64.test(value)) throw invalid(where, `${label} 不是 base64 文本`, `${label} is not base64 text`);
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== KEY_BYTES) throw invalid(where, `${label} 必须是 ${KEY_BYTES} 字节`, `${label} must be ${KEY_BYTES} bytes`);
  return bytes;
}

/** Parses and checks the JSON form; messages name the problem, never key material. */
export function parseKeyring(text: string, where: string): Keyring {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw invalid(where, '不是 JSON', 'not JSON');
  }
  if (typeof raw !== 'object' || raw === null) throw invalid(where, '不是 JSON 对象', 'not a JSON object');
  const json = raw as Partial<Record<keyof KeyringJson, unknown>>;
  if (json.format !== KEYRING_FORMAT) throw invalid(where, `format 必须是 "${KEYRING_FORMAT}"`, `format must be "${KEYRING_FORMAT}"`);
  if (!Array.isArray(json.versions) || json.versions.length === 0) throw invalid(where, 'versions 为空', 'versions is empty');
  const versions: KeyVersion[] = [];
  for (const [index, entry] of (json.versions as unknown[]).entries()) {
    const label = `versions[${index}]`;
    if (typeof entry !== 'object' || entry === null) throw invalid(where, `${label} 不是对象`, `${label} is not an object`);
    const e = entry as Record<string, unknown>;
    if (typeof e.version !== 'number' || !Number.isSafeInteger(e.version) || e.version < 1) {
      throw invalid(where, `${label}.version 必须是正整数`, `${label}.version must be a positive integer`);
    }
    if (versions.some((v) => v.version === e.version)) throw invalid(where, `版本 v${e.version} 重复`, `version v${e.version} appears twice`);
    const createdAt = typeof e.createdAt === 'string' ? e.createdAt : '';
    const encryptionKey = decodeKey(e.encryptionKey, where, `${label}.encryptionKey`);
    const lookupKey = decodeKey(e.lookupKey, where, `${label}.lookupKey`);
    if (timingSafeEqual(encryptionKey, lookupKey)) {
      throw invalid(where, `${label} 的加密密钥与查询密钥相同`, `${label} uses the same bytes for its encryption and lookup keys`);
    }
    versions.push({ version: e.version, createdAt, encryptionKey, lookupKey });
  }
  versions.sort((a, b) => a.version - b.version);
  const current = json.current;
  if (typeof current !== 'number' || !versions.some((v) => v.version === current)) {
    throw invalid(where, 'current 必须是已有的版本号', 'current must name one of the versions');
  }
  return { current, versions };
}

function parseEnv(value: string): Keyring {
  const trimmed = value.trim();
  if (!STANDARD_BASE64.test(trimmed)) {
    throw new KeyringError('keyring_env_invalid', {
      'zh-CN': `${KEYRING_ENV} 必须是密钥环 JSON 的 base64 编码`,
      en: `${KEYRING_ENV} must be the base64 encoding of the keyring JSON`,
    });
  }
  return parseKeyring(Buffer.from(trimmed, 'base64').toString('utf8'), KEYRING_ENV);
}

function readKeyFile(file: string): Keyring {
  const stat = lstatSync(file);
  if (!stat.isFile()) throw invalid(file, '不是普通文件', 'not a regular file');
  // Like ssh with its private keys: a key file others can read is refused rather than used.
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new KeyringError('keyring_file_permissions', {
      'zh-CN': `密钥文件 ${file} 的权限过宽（${(stat.mode & 0o777).toString(8)}），请执行 chmod 600 "${file}"`,
      en: `The key file ${file} is readable by others (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600 "${file}"`,
    });
  }
  return parseKeyring(readFileSync(file, 'utf8'), file);
}

function sameKey(a: KeyVersion, b: KeyVersion): boolean {
  return timingSafeEqual(a.encryptionKey, b.encryptionKey) && timingSafeEqual(a.lookupKey, b.lookupKey);
}

function fsyncDir(dir: string) {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface SaveOptions {
  /** fail if the file already exists (creating a keyring must never replace one) */
  exclusive?: boolean;
  /** allow the saved keyring to lack versions the file holds (after dropVersion) */
  allowDroppingVersions?: boolean;
}

/**
 * Writes the key file atomically: a temporary file (0600) in the same 0700 directory, fsync, then rename (or
 * link, when exclusive) over the target, then fsync of the directory. Refuses to lose or change a version the
 * file already holds, so a stale keyring in one process cannot overwrite a newer rotation.
 */
export function saveKeyring(dataDir: string, keyring: Keyring, options: SaveOptions = {}): string {
  const dir = keysDir(dataDir);
  const file = keyringFile(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.platform !== 'win32' && (statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
  if (!options.exclusive) {
    let existing: Keyring | null = null;
    try {
      existing = readKeyFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const old of existing?.versions ?? []) {
      const kept = keyVersion(keyring, old.version);
      if (kept && !sameKey(kept, old)) {
        throw new KeyringError('keyring_version', {
          'zh-CN': `拒绝覆盖：${file} 中的版本 v${old.version} 与要保存的不同`,
          en: `Refusing to overwrite: version v${old.version} in ${file} differs from the one being saved`,
        });
      }
      if (!kept && !options.allowDroppingVersions) {
        throw new KeyringError('keyring_version', {
          'zh-CN': `拒绝覆盖：要保存的密钥环缺少 ${file} 中的版本 v${old.version}`,
          en: `Refusing to overwrite: the keyring being saved lacks version v${old.version} held in ${file}`,
        });
      }
    }
  }
  const temp = path.join(dir, `.pii-keyring.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, serialiseKeyring(keyring));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    chmodSync(temp, 0o600);
    if (options.exclusive) {
      linkSync(temp, file); // EEXIST when another process created the keyring first
      unlinkSync(temp);
    } else {
      renameSync(temp, file);
    }
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
    throw err;
  }
  fsyncDir(dir);
  return file;
}

export interface LoadOptions {
  dataDir: string;
  /** where TONGXIN_PII_KEYRING is read from; process.env by default */
  env?: Readonly<Record<string, string | undefined>>;
  /** create and save a new keyring when neither the environment nor the file has one (`init`) */
  createIfMissing?: boolean;
  now?: Date;
}

/**
 * The keyring from TONGXIN_PII_KEYRING, else from the key file. When neither exists it fails, unless
 * createIfMissing: a server must never quietly start a new keyring next to data encrypted under a lost one.
 */
export function loadKeyring(options: LoadOptions): LoadedKeyring {
  const env = options.env ?? process.env;
  const fromEnv = env[KEYRING_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { keyring: parseEnv(fromEnv), source: 'env', file: null };
  const file = keyringFile(options.dataDir);
  try {
    return { keyring: readKeyFile(file), source: 'file', file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!options.createIfMissing) {
    throw new KeyringError('keyring_missing', {
      'zh-CN': `找不到个人信息密钥环：未设置 ${KEYRING_ENV}，也没有 ${file}。请从备份恢复密钥文件或设置该环境变量；尚未存储个人信息的部署可运行 keys init 创建`,
      en: `No personal-data keyring: ${KEYRING_ENV} is not set and ${file} does not exist. Restore the key file from its backup or set the variable; a deployment that has stored no personal data yet can create one with keys init`,
    });
  }
  const keyring = createKeyring(options.now);
  try {
    saveKeyring(options.dataDir, keyring, { exclusive: true });
  } catch (err) {
    // Another process created it between our read and our write: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { keyring: readKeyFile(file), source: 'file', file };
    throw err;
  }
  return { keyring, source: 'created', file };
}
