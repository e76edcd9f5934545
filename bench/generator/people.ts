// Plain facts about synthetic people: mobile numbers, dates, ages.
import type { Random } from '../../server/src/platform/random.ts';
import { Weighted } from './rng.ts';

/**
 * Mobile prefixes in use by the three operators in the 13x/15x/18x/19x ranges (154 was never issued;
 * 190/192/194 are left out as they belong to newer or special allocations).
 */
export const MOBILE_PREFIXES = [
  '130', '131', '132', '133', '134', '135', '136', '137', '138', '139',
  '150', '151', '152', '153', '155', '156', '157', '158', '159',
  '180', '181', '182', '183', '184', '185', '186', '187', '188', '189',
  '191', '193', '195', '196', '197', '198', '199',
] as const;
export const MOBILE_PATTERN = /^1(3\d|5[0-35-9]|8\d|9[135-9])\d{8}$/;

export function mobileNumber(rng: Random): string {
  const prefix = rng.pick(MOBILE_PREFIXES);
  // 1340–1348 are China Mobile's; 1349 was a satellite range.
  const first = prefix === '134' ? rng.int(0, 8) : rng.int(0, 9);
  return `${prefix}${first}${String(rng.int(0, 9_999_999)).padStart(7, '0')}`;
}

// ---- dates as day numbers (days since 1970-01-01, UTC) ----
const DAY_MS = 86_400_000;
export const toDay = (date: string) => {
  const [y, m, d] = date.split('-').map(Number);
  return Math.round(Date.UTC(y, m - 1, d) / DAY_MS);
};
export const fromDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);
export const addDays = (date: string, days: number) => fromDay(toDay(date) + days);
export const yearOf = (date: string) => Number(date.slice(0, 4));

/** A date at which someone is `age` whole years old on `asOf`: between (asOf − age − 1 years, asOf − age years]. */
export function birthDateForAge(rng: Random, age: number, asOf: string): string {
  const [y, m, d] = asOf.split('-').map(Number);
  const latest = Math.round(Date.UTC(y - age, m - 1, d) / DAY_MS);
  const earliest = Math.round(Date.UTC(y - age - 1, m - 1, d) / DAY_MS) + 1;
  return fromDay(rng.int(earliest, latest));
}

export function ageOn(birthDate: string, asOf: string): number {
  const [by, bm, bd] = birthDate.split('-').map(Number);
  const [y, m, d] = asOf.split('-').map(Number);
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

/**
 * Age of a household head, by kind: a registered urban population skews old (Liwan is an old city
 * district), migrants are of working age. Five-year bands with weights; uniform inside a band.
 */
const HEAD_AGE_REGISTERED = new Weighted<number>([[20, 1], [25, 4], [30, 7], [35, 9], [40, 10], [45, 11], [50, 11], [55, 10], [60, 9], [65, 8], [70, 7], [75, 5], [80, 3], [85, 2], [90, 0.6]]);
const HEAD_AGE_MIGRANT = new Weighted<number>([[18, 2], [20, 8], [25, 14], [30, 14], [35, 12], [40, 10], [45, 8], [50, 6], [55, 3], [60, 1.5], [65, 0.5]]);

export function headAge(rng: Random, migrant: boolean): number {
  const band = (migrant ? HEAD_AGE_MIGRANT : HEAD_AGE_REGISTERED).pick(rng);
  return band + rng.int(0, band === 18 ? 1 : 4);
}
