// Citizen identity numbers (公民身份号码, GB 11643-1999): 6-digit region code, birth date YYYYMMDD,
// 3-digit order code (odd for men, even for women), and a check character computed with ISO 7064 MOD 11-2.
// The generator hands out numbers through IdAllocator so no two generated people share one.

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = '10X98765432';

/** The 18th character for the first 17 digits. */
export function idCheckDigit(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new Error(`expected 17 digits, got "${first17}"`);
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * WEIGHTS[i];
  return CHECK_CHARS[sum % 11];
}

/** Format, a real birth date, and the check character. */
export function isValidIdNumber(id: string): boolean {
  const m = /^(\d{6})(\d{4})(\d{2})(\d{2})(\d{3})([\dX])$/.exec(id);
  if (!m) return false;
  const [y, mo, d] = [Number(m[2]), Number(m[3]), Number(m[4])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return false;
  return idCheckDigit(id.slice(0, 17)) === id[17];
}

export function buildIdNumber(region: string, birthDate: string, order: number): string {
  if (!/^\d{6}$/.test(region)) throw new Error(`region code must be 6 digits: "${region}"`);
  const first17 = `${region}${birthDate.replaceAll('-', '')}${String(order).padStart(3, '0')}`;
  return first17 + idCheckDigit(first17);
}

/** Gender as the order code says: odd = male. */
export const idIsMale = (id: string) => Number(id[16]) % 2 === 1;

const DAY_MS = 86_400_000;
const EPOCH = Date.UTC(1900, 0, 1);
const DAYS = Math.ceil((Date.UTC(2100, 0, 1) - EPOCH) / DAY_MS);
/** Order codes per sex and (region, birth date): 000–999 split into 500 even and 500 odd. */
const PER_SEX = 500;

/**
 * Unique identity numbers without remembering them: a counter per (region, birth date, sex) — 2 bytes
 * each, a few MB for a few dozen region codes — mapped through a bijection of 0..499 so order codes look
 * scattered rather than 001, 003, 005… When a (region, date, sex) runs out, the next region in the list takes over.
 */
export class IdAllocator {
  private readonly regions: string[];
  private readonly index = new Map<string, number>();
  private readonly counters: Uint16Array;
  constructor(regions: readonly string[]) {
    this.regions = [...new Set(regions)];
    this.regions.forEach((r, i) => this.index.set(r, i));
    this.counters = new Uint16Array(this.regions.length * DAYS * 2);
  }

  allocate(region: string, birthDate: string, male: boolean): string {
    const start = this.index.get(region);
    if (start === undefined) throw new Error(`region ${region} was not given to the IdAllocator`);
    const [y, m, d] = birthDate.split('-').map(Number);
    const day = Math.round((Date.UTC(y, m - 1, d) - EPOCH) / DAY_MS);
    if (day < 0 || day >= DAYS) throw new Error(`birth date out of range: ${birthDate}`);
    for (let k = 0; k < this.regions.length; k++) {
      const r = (start + k) % this.regions.length;
      const slot = (r * DAYS + day) * 2 + (male ? 1 : 0);
      const used = this.counters[slot];
      if (used >= PER_SEX) continue;
      this.counters[slot] = used + 1;
      // 263 is prime and does not divide 500, so c ↦ (263c + offset) mod 500 is a bijection.
      const offset = (day * 31 + r * 17) % PER_SEX;
      const order = 2 * ((used * 263 + offset) % PER_SEX) + (male ? 1 : 0);
      return buildIdNumber(this.regions[r], birthDate, order);
    }
    throw new Error(`no identity numbers left for ${birthDate}`);
  }
}
