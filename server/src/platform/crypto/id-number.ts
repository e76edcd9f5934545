// Resident identity numbers (公民身份号码, GB 11643-1999): 6-digit region code, 8-digit birth date, 3-digit
// sequence (odd = male), ISO 7064 MOD 11-2 check character (0-9 or X). The same layout is used by the residence
// permits of Hong Kong, Macao and Taiwan residents (region 81/82/83).
import type { Messages } from '../errors.ts';
import { businessDate } from '../clock.ts';
import { normaliseIdNumber } from './normalise.ts';

export type IdNumberProblem = 'wrong_length' | 'bad_characters' | 'bad_region' | 'impossible_birth_date' | 'wrong_check_digit';

export type Gender = 'male' | 'female';

export type IdNumberCheck =
  | { ok: true; value: string; regionCode: string; provinceCode: string; birthDate: string; gender: Gender }
  | { ok: false; reason: IdNumberProblem; messages: Messages };

/**
 * Province-level prefixes of GB/T 2260: 11–15 north, 21–23 north-east, 31–37 east, 41–46 south-central,
 * 50–54 south-west, 61–65 north-west, 71 Taiwan; 81/82/83 Hong Kong, Macao, Taiwan residence permits.
 */
export const PROVINCE_CODES: ReadonlySet<string> = new Set([
  '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65',
  '71', '81', '82', '83',
]);

/** The earliest birth date taken as plausible (the oldest people holding resident cards were born in the 1880s). */
export const EARLIEST_BIRTH_DATE = '1880-01-01';

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = '10X98765432';

export const ID_NUMBER_MESSAGES: Record<IdNumberProblem, Messages> = {
  wrong_length: { 'zh-CN': '身份证号码应为 18 位', en: 'An ID number has 18 characters' },
  bad_characters: { 'zh-CN': '身份证号码前 17 位应为数字，最后一位为数字或 X', en: 'An ID number is 17 digits followed by a digit or X' },
  bad_region: { 'zh-CN': '身份证号码的地区码不存在', en: 'The region code of the ID number does not exist' },
  impossible_birth_date: { 'zh-CN': '身份证号码中的出生日期不存在或晚于今天', en: 'The birth date in the ID number does not exist or is in the future' },
  wrong_check_digit: { 'zh-CN': '身份证号码校验码不正确，请核对是否有错填的数字', en: 'The check digit of the ID number is wrong; look for a mistyped digit' },
};

/** ISO 7064 MOD 11-2 check character of the first 17 digits. */
export function idCheckCharacter(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new Error('idCheckCharacter needs exactly 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * WEIGHTS[i];
  return CHECK_CHARS[sum % 11];
}

/** 'YYYY-MM-DD' from positions 7–14 of a (normalised, 18-character) ID number. */
export function birthDateOfIdNumber(id: string): string {
  return `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
}

/** The 17th character: odd for men, even for women. */
export function genderOfIdNumber(id: string): Gender {
  return (id.charCodeAt(16) - 48) % 2 === 1 ? 'male' : 'female';
}

function fail(reason: IdNumberProblem): IdNumberCheck {
  return { ok: false, reason, messages: ID_NUMBER_MESSAGES[reason] };
}

/**
 * Checks an ID number as typed (it is normalised first) against `today`, the business date in the locality
 * ('YYYY-MM-DD', or a Date turned into one in Asia/Shanghai). Reasons are checked in the order of the type.
 */
export function validateIdNumber(input: string, options: { today: string | Date }): IdNumberCheck {
  const today = typeof options.today === 'string' ? options.today : businessDate(options.today);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) throw new Error(`today must be 'YYYY-MM-DD', got "${today}"`);
  const value = normaliseIdNumber(input);
  if (Array.from(value).length !== 18) return fail('wrong_length');
  if (!/^\d{17}[\dX]$/.test(value)) return fail('bad_characters');
  if (!PROVINCE_CODES.has(value.slice(0, 2))) return fail('bad_region');
  const birthDate = birthDateOfIdNumber(value);
  if (!isPlausibleBirthDate(birthDate, today)) return fail('impossible_birth_date');
  if (idCheckCharacter(value.slice(0, 17)) !== value[17]) return fail('wrong_check_digit');
  return { ok: true, value, regionCode: value.slice(0, 6), provinceCode: value.slice(0, 2), birthDate, gender: genderOfIdNumber(value) };
}

function isPlausibleBirthDate(date: string, today: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date)!;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const real = new Date(Date.UTC(y, mo - 1, d));
  const exists = real.getUTCFullYear() === y && real.getUTCMonth() === mo - 1 && real.getUTCDate() === d;
  return exists && date >= EARLIEST_BIRTH_DATE && date <= today;
}
