// Encryption and keyed lookup hashes for personal data (ID and phone numbers), built from a keyring.
//
// Ciphertext: 'v<version>.<base64url 96-bit IV>.<base64url ciphertext‖16-byte GCM tag>', AES-256-GCM under the
// version's encryption key, with the field name ('resident.id_number') as associated data, so a ciphertext
// copied into another field (a phone into an ID column) fails to decrypt instead of showing the wrong thing.
//
// Lookup hash: hex HMAC-SHA-256(lookup key, kind ‖ 0x00 ‖ normalised value). Keyed, because ID and phone
// numbers are far too few to hide behind a plain hash (every mobile number is 10^10 guesses). The kind keeps an
// ID number and a phone number that happen to share digits apart.
//
// Rotation: a lookup hash made under version N only matches hashes made under N. Until rotate.ts has rewritten
// every row, stored hashes are a mix of versions, so a search asks for `hash_column IN (lookupHashes(...))`:
// the value's hash under every version the keyring holds. Once no row uses an old version (countStalePii)
// that version can be dropped and the list shrinks back to one.
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { PiiError } from './errors.ts';
import type { Keyring } from './keyring.ts';
import { maskParts } from './mask.ts';
import { NORMALISERS, type PiiKind } from './normalise.ts';

export { normaliseIdNumber, normalisePhone, NORMALISERS, isPiiKind, type PiiKind } from './normalise.ts';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const TOKEN = /^v([1-9]\d{0,8})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;
const FIELD = /^[A-Za-z0-9_.:-]{1,200}$/;

/** What a table stores for one protected value: no column of it reveals more than the mask. */
export interface SealedPii {
  /** the normalised value encrypted: 'v1.…' */
  ciphertext: string;
  /** lookup hash under the current version */
  lookupHash: string;
  /** display parts: first 6 (ID) / first 3 (phone) characters */
  head: string;
  /** display parts: last 4 characters */
  tail: string;
}

interface VersionKeys {
  encryption: KeyObject;
  lookup: KeyObject;
}

function checkField(field: string) {
  if (!FIELD.test(field)) {
    throw new PiiError('pii_bad_field', {
      'zh-CN': `字段名 "${field}" 无效（只能用字母、数字和 _ . : -）`,
      en: `Invalid field name "${field}" (letters, digits and _ . : - only)`,
    });
  }
}

const malformed = () => new PiiError('pii_malformed', { 'zh-CN': '密文格式不正确', en: 'Malformed ciphertext' });

/** base64url that decodes to exactly these bytes and back (no second spelling of the same token). */
function decodeCanonical(text: string): Buffer {
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) throw malformed();
  return bytes;
}

/** The key version a stored ciphertext was made with, or null when it is not a ciphertext of ours. */
export function ciphertextVersion(token: string): number | null {
  const m = TOKEN.exec(token);
  return m ? Number(m[1]) : null;
}

export class PiiCipher {
  private readonly keys = new Map<number, VersionKeys>();
  /** newest first, so lookupHashes()[0] is the current version's hash */
  private readonly lookupOrder: number[];
  readonly currentVersion: number;

  constructor(keyring: Keyring) {
    for (const v of keyring.versions) {
      this.keys.set(v.version, { encryption: createSecretKey(v.encryptionKey), lookup: createSecretKey(v.lookupKey) });
    }
    if (!this.keys.has(keyring.current)) throw new Error(`keyring current version v${keyring.current} is not among its versions`);
    this.currentVersion = keyring.current;
    this.lookupOrder = [keyring.current, ...[...this.keys.keys()].filter((v) => v !== keyring.current).sort((a, b) => b - a)];
  }

  get versions(): number[] {
    return [...this.keys.keys()].sort((a, b) => a - b);
  }

  hasVersion(version: number): boolean {
    return this.keys.has(version);
  }

  /** Encrypts under the current version; `field` (e.g. 'resident.id_number') must be given again to decrypt. */
  encrypt(plaintext: string, field: string): string {
    checkField(field);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentVersion)!.encryption, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(field, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `v${this.currentVersion}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** Decrypts a token of any version the keyring holds. Throws PiiError when it is malformed, unknown or altered. */
  decrypt(token: string, field: string): string {
    checkField(field);
    const m = TOKEN.exec(token);
    if (!m) throw malformed();
    const version = Number(m[1]);
    const iv = decodeCanonical(m[2]);
    const body = decodeCanonical(m[3]);
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw malformed();
    const keys = this.keys.get(version);
    if (!keys) {
      throw new PiiError('pii_unknown_key_version', {
        'zh-CN': `密文使用的密钥版本 v${version} 不在密钥环中`,
        en: `The ciphertext was made with key version v${version}, which the keyring does not hold`,
      });
    }
    const decipher = createDecipheriv('aes-256-gcm', keys.encryption, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(field, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new PiiError('pii_tampered', {
        'zh-CN': '密文校验失败：已被篡改、属于其他字段，或密钥不符',
        en: 'Ciphertext failed authentication: altered, from another field, or made with a different key',
      });
    }
  }

  private hashUnder(version: number, kind: PiiKind, normalised: string): string {
    return createHmac('sha256', this.keys.get(version)!.lookup).update(`${kind}\0${normalised}`, 'utf8').digest('hex');
  }

  /** The value's lookup hash under the current version: what a write stores. */
  lookupHash(kind: PiiKind, value: string): string {
    return this.hashUnder(this.currentVersion, kind, NORMALISERS[kind](value));
  }

  /**
   * The value's lookup hash under every version held, current first: what a search matches against
   * (`WHERE id_number_hash IN (...)`), so rows not yet rewritten by a rotation are still found.
   */
  lookupHashes(kind: PiiKind, value: string): string[] {
    const normalised = NORMALISERS[kind](value);
    return this.lookupOrder.map((version) => this.hashUnder(version, kind, normalised));
  }

  /** Normalises, encrypts, hashes and cuts the mask parts: the columns a table stores for one value. */
  seal(kind: PiiKind, field: string, value: string): SealedPii {
    const normalised = NORMALISERS[kind](value);
    const parts = maskParts(kind, normalised);
    return {
      ciphertext: this.encrypt(normalised, field),
      lookupHash: this.hashUnder(this.currentVersion, kind, normalised),
      head: parts.head,
      tail: parts.tail,
    };
  }
}

export function createPiiCipher(keyring: Keyring): PiiCipher {
  return new PiiCipher(keyring);
}
