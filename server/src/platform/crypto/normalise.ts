// One spelling per value before it is hashed, encrypted or masked, so '11010519491231002x', '１１０１０５…' and
// '110105 19491231 002X' find the same resident. Normalisers never validate: lookups of a malformed value must
// still hash consistently (and simply find nothing); validation is id-number.ts and phone.ts.

/** NFKC folds full-width digits, letters, '＋' and the ideographic space to ASCII. */
const fold = (value: string) => value.normalize('NFKC');

/**
 * Applies one normalising pass until nothing changes, so that normalising twice never differs from normalising
 * once (removing a separator can leave a combining mark that NFKC then composes on the next pass). Real input
 * settles in one or two passes; the bound only guards against a pathological string.
 */
function settle(value: string, pass: (value: string) => string): string {
  let current = value;
  for (let i = 0; i < 8; i++) {
    const next = pass(current);
    if (next === current) return next;
    current = next;
  }
  return current;
}

/** Resident ID number: trim, full-width → ASCII, drop spaces and separators people type, upper-case X. */
export function normaliseIdNumber(value: string): string {
  return settle(value, (v) => fold(v).replace(/[\s\-‐‑–—_.]/g, '').replace(/x/g, 'X'));
}

/**
 * Phone number: full-width → ASCII, drop spaces, dashes, dots and brackets, drop the +86 / 0086 country prefix.
 * A landline written internationally ('+86 20 8888 6666') gets back its trunk 0 ('02088886666'), so both ways
 * of writing it agree.
 */
export function normalisePhone(value: string): string {
  return settle(value, normalisePhoneOnce);
}

function normalisePhoneOnce(value: string): string {
  let digits = fold(value).replace(/[\s\-‐‑–—.()（）]/g, '');
  let international = false;
  if (digits.startsWith('+86')) {
    digits = digits.slice(3);
    international = true;
  } else if (digits.startsWith('0086')) {
    digits = digits.slice(4);
    international = true;
  } else if (digits.startsWith('86') && digits.length === 13 && /^861[3-9]\d{9}$/.test(digits)) {
    // '8613800138000': a mobile with the country code but no '+'
    digits = digits.slice(2);
  }
  if (international && /^[2-9]\d{8,10}$/.test(digits)) digits = '0' + digits;
  if (international && /^10\d{8}$/.test(digits)) digits = '0' + digits; // Beijing: +86 10 xxxx xxxx
  return digits;
}

export type PiiKind = 'id_number' | 'phone';

export const NORMALISERS: Record<PiiKind, (value: string) => string> = {
  id_number: normaliseIdNumber,
  phone: normalisePhone,
};

export function isPiiKind(value: string): value is PiiKind {
  return Object.hasOwn(NORMALISERS, value);
}
