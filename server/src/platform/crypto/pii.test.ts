import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { createKeyring, rotate } from './keyring.ts';
import { ciphertextVersion, createPiiCipher, normaliseIdNumber, normalisePhone } from './pii.ts';
import { PiiError } from './errors.ts';

const keyring = createKeyring();
const cipher = createPiiCipher(keyring);
const FIELD = 'resident.id_number';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof PiiError) return err.code;
    throw err;
  }
  throw new Error('expected a PiiError');
}

/** Flips one bit of the byte at `index` of a base64url segment. */
function flipByte(segment: string, index: number): string {
  const bytes = Buffer.from(segment, 'base64url');
  bytes[index] ^= 0x01;
  return bytes.toString('base64url');
}

describe('PiiCipher.encrypt / decrypt', () => {
  it('round-trips, in the compact v<version>.<iv>.<ciphertext> form', () => {
    const token = cipher.encrypt('11010519491231002X', FIELD);
    expect(token).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(ciphertextVersion(token)).toBe(1);
    expect(cipher.decrypt(token, FIELD)).toBe('11010519491231002X');
  });

  it('round-trips any text, including empty and non-ASCII', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 64 }), (text) => {
        expect(cipher.decrypt(cipher.encrypt(text, 'x.y'), 'x.y')).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it('uses a fresh IV each time: the same value never gives the same ciphertext', () => {
    const tokens = new Set(Array.from({ length: 50 }, () => cipher.encrypt('13800138000', 'resident.phone')));
    expect(tokens.size).toBe(50);
  });

  it('refuses a ciphertext moved to another field (associated data)', () => {
    const token = cipher.encrypt('13800138000', 'resident.phone');
    expect(codeOf(() => cipher.decrypt(token, 'resident.id_number'))).toBe('pii_tampered');
  });

  it('refuses any tampered IV, ciphertext or tag byte', () => {
    const token = cipher.encrypt('11010519491231002X', FIELD);
    const [version, iv, body] = token.split('.');
    for (let i = 0; i < 12; i++) expect(codeOf(() => cipher.decrypt(`${version}.${flipByte(iv, i)}.${body}`, FIELD))).toBe('pii_tampered');
    const bodyLength = Buffer.from(body, 'base64url').length;
    for (let i = 0; i < bodyLength; i++) expect(codeOf(() => cipher.decrypt(`${version}.${iv}.${flipByte(body, i)}`, FIELD))).toBe('pii_tampered');
    // a truncated tag
    const short = Buffer.from(body, 'base64url').subarray(0, bodyLength - 1).toString('base64url');
    expect(codeOf(() => cipher.decrypt(`${version}.${iv}.${short}`, FIELD))).toBe('pii_tampered');
  });

  it('refuses a ciphertext under another keyring with the same version number', () => {
    const other = createPiiCipher(createKeyring());
    expect(codeOf(() => other.decrypt(cipher.encrypt('x', FIELD), FIELD))).toBe('pii_tampered');
  });

  it('tells malformed tokens and unknown versions apart', () => {
    const token = cipher.encrypt('x', FIELD);
    const [, iv, body] = token.split('.');
    expect(codeOf(() => cipher.decrypt('plain text', FIELD))).toBe('pii_malformed');
    expect(codeOf(() => cipher.decrypt(`v1.${iv}`, FIELD))).toBe('pii_malformed');
    expect(codeOf(() => cipher.decrypt(`v1.${iv}AAAA.${body}`, FIELD))).toBe('pii_malformed');
    expect(codeOf(() => cipher.decrypt(`v1.${iv}.${body}=`, FIELD))).toBe('pii_malformed');
    expect(codeOf(() => cipher.decrypt(`v9.${iv}.${body}`, FIELD))).toBe('pii_unknown_key_version');
    expect(codeOf(() => cipher.encrypt('x', 'bad field'))).toBe('pii_bad_field');
    expect(codeOf(() => cipher.encrypt('x', ''))).toBe('pii_bad_field');
  });

  it('after rotation: writes under the new version and still reads the old one', () => {
    const rotated = createPiiCipher(rotate(keyring));
    const old = cipher.encrypt('110101199003071234', FIELD);
    const fresh = rotated.encrypt('110101199003071234', FIELD);
    expect(ciphertextVersion(fresh)).toBe(2);
    expect(rotated.decrypt(old, FIELD)).toBe('110101199003071234');
    expect(rotated.decrypt(fresh, FIELD)).toBe('110101199003071234');
    expect(codeOf(() => cipher.decrypt(fresh, FIELD))).toBe('pii_unknown_key_version');
  });

  it('bilingual messages on errors', () => {
    try {
      cipher.decrypt('nope', FIELD);
    } catch (err) {
      expect(err).toBeInstanceOf(PiiError);
      expect((err as PiiError).messages['zh-CN']).toBe('密文格式不正确');
      expect((err as PiiError).messages.en).toBe('Malformed ciphertext');
    }
  });
});

describe('lookup hashes', () => {
  it('are keyed HMAC-SHA-256 hex over the normalised value', () => {
    const h = cipher.lookupHash('id_number', '11010519491231002X');
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(cipher.lookupHash('id_number', ' 11010519491231002x ')).toBe(h);
    expect(cipher.lookupHash('id_number', '１１０１０５１９４９１２３１００２ｘ')).toBe(h);
    expect(cipher.lookupHash('phone', '+86 138-0013-8000')).toBe(cipher.lookupHash('phone', '13800138000'));
    expect(cipher.lookupHash('phone', '0086 13800138000')).toBe(cipher.lookupHash('phone', '13800138000'));
  });

  it('differ between kinds, keyrings and values', () => {
    const digits = '13800138000';
    expect(cipher.lookupHash('phone', digits)).not.toBe(cipher.lookupHash('id_number', digits));
    expect(createPiiCipher(createKeyring()).lookupHash('phone', digits)).not.toBe(cipher.lookupHash('phone', digits));
    expect(cipher.lookupHash('phone', '13800138001')).not.toBe(cipher.lookupHash('phone', digits));
  });

  it('lookupHashes lists the hash under every version, current first, so a rotation window still finds old rows', () => {
    const rotated = createPiiCipher(rotate(rotate(keyring)));
    const hashes = rotated.lookupHashes('phone', '138 0013 8000');
    expect(hashes).toHaveLength(3);
    expect(hashes[0]).toBe(rotated.lookupHash('phone', '13800138000'));
    expect(hashes).toContain(cipher.lookupHash('phone', '13800138000'));
    expect(new Set(hashes).size).toBe(3);
    expect(cipher.lookupHashes('phone', '13800138000')).toEqual([cipher.lookupHash('phone', '13800138000')]);
  });
});

describe('seal', () => {
  it('stores the normalised value encrypted, its current hash and the mask parts only', () => {
    const sealed = cipher.seal('id_number', FIELD, ' 11010519491231002x');
    expect(cipher.decrypt(sealed.ciphertext, FIELD)).toBe('11010519491231002X');
    expect(sealed.lookupHash).toBe(cipher.lookupHash('id_number', '11010519491231002X'));
    expect([sealed.head, sealed.tail]).toEqual(['110105', '002X']);
    const phone = cipher.seal('phone', 'resident.phone', '+86 138 0013 8000');
    expect([phone.head, phone.tail]).toEqual(['138', '8000']);
    expect(cipher.decrypt(phone.ciphertext, 'resident.phone')).toBe('13800138000');
  });
});

describe('normalisers', () => {
  it.each([
    ['11010519491231002x', '11010519491231002X'],
    ['  110105 1949 1231 002X\t', '11010519491231002X'],
    ['１１０１０５１９４９１２３１００２Ｘ', '11010519491231002X'],
    ['110105-19491231-002x', '11010519491231002X'],
    ['110105\u300019491231002X', '11010519491231002X'],
  ])('ID %j → %s', (input, expected) => expect(normaliseIdNumber(input)).toBe(expected));

  it.each([
    ['138 0013 8000', '13800138000'],
    ['138-0013-8000', '13800138000'],
    ['+86 138 0013 8000', '13800138000'],
    ['+86-13800138000', '13800138000'],
    ['0086 13800138000', '13800138000'],
    ['8613800138000', '13800138000'],
    ['＋８６　１３８００１３８０００', '13800138000'],
    ['(020) 8888-6666', '02088886666'],
    ['020-88886666', '02088886666'],
    ['+86 20 8888 6666', '02088886666'],
    ['+86 10 8888 6666', '01088886666'],
    ['+86 755 8888 6666', '075588886666'],
    ['13800138000', '13800138000'],
  ])('phone %j → %s', (input, expected) => expect(normalisePhone(input)).toBe(expected));

  it('are idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (s) => {
        expect(normaliseIdNumber(normaliseIdNumber(s))).toBe(normaliseIdNumber(s));
        expect(normalisePhone(normalisePhone(s))).toBe(normalisePhone(s));
      }),
      { numRuns: 500 },
    );
  });
});
