// Working days and hours for history timestamps: Monday–Friday, minus the public holidays of the State
// Council's schedule, plus the weekend days it makes working days (调休). Hours 08:30–12:00 and
// 14:00–17:30 China time. Years outside the table fall back to plain weekdays.
import { fromDay, toDay } from './people.ts';

const HOLIDAYS: Record<number, { off: string[]; work: string[] }> = {
  2024: {
    off: ['01-01', '02-10..02-17', '04-04..04-06', '05-01..05-05', '06-10', '09-15..09-17', '10-01..10-07'],
    work: ['02-04', '02-18', '04-07', '04-28', '05-11', '09-14', '09-29', '10-12'],
  },
  2025: {
    off: ['01-01', '01-28..02-04', '04-04..04-06', '05-01..05-05', '05-31..06-02', '10-01..10-08'],
    work: ['01-26', '02-08', '04-27', '09-28', '10-11'],
  },
  2026: {
    off: ['01-01..01-03', '02-15..02-23', '04-04..04-06', '05-01..05-05', '06-19..06-21', '09-25..09-27', '10-01..10-07'],
    work: ['01-04', '02-14', '02-28', '05-09', '09-20', '10-10'],
  },
};

const offDays = new Set<number>();
const extraWorkDays = new Set<number>();
for (const [year, { off, work }] of Object.entries(HOLIDAYS)) {
  for (const spec of off) {
    const [from, to = from] = spec.split('..');
    for (let d = toDay(`${year}-${from}`); d <= toDay(`${year}-${to}`); d++) offDays.add(d);
  }
  for (const spec of work) extraWorkDays.add(toDay(`${year}-${spec}`));
}

export function isWorkingDay(day: number): boolean {
  if (offDays.has(day)) return false;
  if (extraWorkDays.has(day)) return true;
  const weekday = new Date(day * 86_400_000).getUTCDay();
  return weekday !== 0 && weekday !== 6;
}

/** Working periods of a day, in minutes after midnight (China time). */
const PERIODS: [number, number][] = [
  [8 * 60 + 30, 12 * 60],
  [14 * 60, 17 * 60 + 30],
];
export const WORKING_MINUTES_PER_DAY = PERIODS.reduce((s, [a, b]) => s + b - a, 0);

/** A moment as (day number, minute of the day in China time). */
export interface Moment {
  day: number;
  minute: number;
}

export function nextWorkingDay(day: number): number {
  let d = day + 1;
  while (!isWorkingDay(d)) d++;
  return d;
}

/** The n-th working minute of a working day (0 ≤ n < WORKING_MINUTES_PER_DAY) as minute of day. */
function minuteOfWorkingOffset(n: number): number {
  let rest = n;
  for (const [a, b] of PERIODS) {
    if (rest < b - a) return a + rest;
    rest -= b - a;
  }
  return PERIODS[PERIODS.length - 1][1];
}

function workingOffsetOf(minute: number): number {
  let acc = 0;
  for (const [a, b] of PERIODS) {
    if (minute < a) return acc;
    if (minute < b) return acc + minute - a;
    acc += b - a;
  }
  return acc;
}

/** Adds working minutes: the clock only runs inside working periods of working days. */
export function addWorkingMinutes(m: Moment, minutes: number): Moment {
  let day = m.day;
  if (!isWorkingDay(day)) {
    day = nextWorkingDay(day);
    m = { day, minute: PERIODS[0][0] };
  }
  let offset = workingOffsetOf(m.minute) + minutes;
  while (offset >= WORKING_MINUTES_PER_DAY) {
    offset -= WORKING_MINUTES_PER_DAY;
    day = nextWorkingDay(day);
  }
  return { day, minute: minuteOfWorkingOffset(offset) };
}

/** A random working moment in the working days of [fromDay, toDay]. */
export function workingMomentBetween(next: () => number, fromDayNo: number, toDayNo: number): Moment {
  for (let attempt = 0; attempt < 100; attempt++) {
    const day = fromDayNo + Math.floor(next() * (toDayNo - fromDayNo + 1));
    if (isWorkingDay(day)) return { day, minute: minuteOfWorkingOffset(Math.floor(next() * WORKING_MINUTES_PER_DAY)) };
  }
  let day = fromDayNo;
  while (!isWorkingDay(day)) day++;
  return { day, minute: PERIODS[0][0] };
}

/** ISO 8601 with the +08:00 offset, e.g. 2026-03-02T09:14:00+08:00. */
export function momentIso(m: Moment): string {
  const hh = String(Math.floor(m.minute / 60)).padStart(2, '0');
  const mm = String(m.minute % 60).padStart(2, '0');
  return `${fromDay(m.day)}T${hh}:${mm}:00+08:00`;
}

export const momentBefore = (a: Moment, b: Moment) => a.day < b.day || (a.day === b.day && a.minute < b.minute);
export { toDay, fromDay };
