// The working-hours calendar of a locality: demand deadlines are counted in working minutes, so a
// "2 working days" deadline set on Friday afternoon falls on Tuesday, and a 国庆 week does not eat into it.
//
// Time zone: every locality runs on Asia/Shanghai (UTC+8). China has had no daylight saving time since
// 1991, so local time is the UTC instant shifted by a constant +8h. Instead of going through Intl (slow,
// and dependent on the ICU data of the host), an instant is shifted by +8h and then read as if it were
// UTC: the local day is floor(shifted / 24h), i.e. what getUTCFullYear/Month/Date would read off the
// shifted Date, and the time of day is the remainder. All the arithmetic below is on integer
// milliseconds, which keeps it exact and free of the host's own time zone.
//
// Everything here is pure: no I/O, no clock, no dependencies.

export interface WorkPeriod {
  /** 'HH:MM' local time, inclusive */
  start: string;
  /** 'HH:MM' local time, exclusive ('24:00' allowed); start < end */
  end: string;
}

export interface CalendarSettings {
  /** ISO weekdays that are working days by default: 1 = Monday … 7 = Sunday */
  weekdays: number[];
  /** working periods of a working day, ascending, non-overlapping */
  periods: WorkPeriod[];
  /** 'YYYY-MM-DD' → 'holiday' (a normally-working day off, e.g. 国庆) or 'workday' (调休: a weekend day worked) */
  overrides: Record<string, 'holiday' | 'workday'>;
}

export type CalendarProblem = { 'zh-CN': string; en: string };

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
// A calendar that stays closed this long is misconfigured; searching further would only hide that.
const MAX_GAP_DAYS = 3 * 366;
// Bounded so that a settings document stays small and compiling it on every call stays cheap.
export const MAX_OVERRIDES = 1000;
// ECMAScript's limit on a Date's time value.
const MAX_TIME_MS = 8.64e15;

function freezeCalendar(s: CalendarSettings): CalendarSettings {
  Object.freeze(s.weekdays);
  for (const p of s.periods) Object.freeze(p);
  Object.freeze(s.periods);
  Object.freeze(s.overrides);
  return Object.freeze(s);
}

// Frozen because it is shared by every locality that has not configured its own calendar.
export const DEFAULT_CALENDAR: CalendarSettings = freezeCalendar({
  weekdays: [1, 2, 3, 4, 5],
  periods: [
    { start: '09:00', end: '12:00' },
    { start: '13:30', end: '18:00' },
  ],
  overrides: {},
});

// ---------------------------------------------------------------------------------------------------
// Parsing

const HHMM = /^(\d{2}):(\d{2})$/;
const YMD = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Minutes after local midnight, or null when not a valid 'HH:MM' between 00:00 and 24:00. */
function parseHHMM(value: string): number | null {
  const m = HHMM.exec(value);
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) return null;
  return h * 60 + min;
}

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). Date.UTC is
 * avoided because it maps years 0–99 onto 1900–1999.
 */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** Local day number of a real calendar date 'YYYY-MM-DD', or null. */
function parseDate(value: string): number | null {
  const m = YMD.exec(value);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1) return null;
  const dim = mo === 2 && isLeapYear(y) ? 29 : MONTH_DAYS[mo - 1];
  if (d > dim) return null;
  return daysFromCivil(y, mo, d);
}

/** ISO weekday (1 = Monday) of a local day number; day 0, 1970-01-01, was a Thursday. */
function isoWeekday(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

// ---------------------------------------------------------------------------------------------------
// Validation

function problem(zh: string, en: string): { problem: CalendarProblem } {
  return { problem: { 'zh-CN': zh, en } };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks settings that come from outside (a request body, a stored JSON document) and returns a clean
 * copy holding only the known fields, weekdays sorted.
 */
export function validateCalendar(
  s: unknown,
): { settings: CalendarSettings } | { problem: CalendarProblem } {
  if (!isPlainObject(s)) return problem('工作日历设置必须是一个对象', 'Calendar settings must be an object');

  const { weekdays, periods, overrides } = s;

  if (!Array.isArray(weekdays)) {
    return problem('工作日（weekdays）必须是数组', 'weekdays must be an array');
  }
  const seen = new Set<number>();
  for (const w of weekdays) {
    if (typeof w !== 'number' || !Number.isInteger(w) || w < 1 || w > 7) {
      return problem(
        `工作日必须是 1（星期一）到 7（星期日）之间的整数，收到：${String(w)}`,
        `weekdays must be integers from 1 (Monday) to 7 (Sunday), got: ${String(w)}`,
      );
    }
    if (seen.has(w)) return problem(`工作日重复：${w}`, `Duplicate weekday: ${w}`);
    seen.add(w);
  }
  // With no default working weekday every deadline would fail to compute; reject it here, where the
  // person editing the settings can still fix it.
  if (seen.size === 0) return problem('至少需要一个工作日', 'At least one weekday must be a working day');

  if (!Array.isArray(periods)) return problem('工作时段（periods）必须是数组', 'periods must be an array');
  if (periods.length === 0) return problem('至少需要一个工作时段', 'At least one working period is required');
  const cleanPeriods: WorkPeriod[] = [];
  let prev: { start: number; end: number; label: string } | null = null;
  for (const [i, p] of periods.entries()) {
    if (!isPlainObject(p) || typeof p.start !== 'string' || typeof p.end !== 'string') {
      return problem(
        `第 ${i + 1} 个工作时段必须是包含 start 和 end 字符串的对象`,
        `Working period ${i + 1} must be an object with string start and end`,
      );
    }
    const start = parseHHMM(p.start);
    const end = parseHHMM(p.end);
    if (start === null || end === null) {
      const bad = start === null ? p.start : p.end;
      return problem(
        `时间格式无效：“${bad}”，应为 HH:MM（00:00–24:00）`,
        `Invalid time "${bad}": expected HH:MM between 00:00 and 24:00`,
      );
    }
    const label = `${p.start}–${p.end}`;
    if (start >= end) {
      return problem(`工作时段 ${label} 的开始时间必须早于结束时间`, `Working period ${label} must start before it ends`);
    }
    if (prev) {
      if (start < prev.start) {
        return problem(
          `工作时段必须按时间先后排列：${label} 排在 ${prev.label} 之后`,
          `Working periods must be in ascending order: ${label} comes after ${prev.label}`,
        );
      }
      if (start < prev.end) {
        return problem(`工作时段 ${prev.label} 与 ${label} 重叠`, `Working periods ${prev.label} and ${label} overlap`);
      }
    }
    prev = { start, end, label };
    cleanPeriods.push({ start: p.start, end: p.end });
  }

  if (!isPlainObject(overrides)) {
    return problem('节假日调整（overrides）必须是对象', 'overrides must be an object');
  }
  const keys = Object.keys(overrides);
  if (keys.length > MAX_OVERRIDES) {
    return problem(
      `节假日调整最多 ${MAX_OVERRIDES} 条，收到 ${keys.length} 条`,
      `At most ${MAX_OVERRIDES} overrides are allowed, got ${keys.length}`,
    );
  }
  const cleanOverrides: Record<string, 'holiday' | 'workday'> = {};
  for (const key of keys) {
    if (parseDate(key) === null) {
      return problem(
        `节假日调整的日期无效：“${key}”，应为真实存在的 YYYY-MM-DD 日期`,
        `Invalid override date "${key}": expected a real YYYY-MM-DD date`,
      );
    }
    const v = overrides[key];
    if (v !== 'holiday' && v !== 'workday') {
      return problem(
        `${key} 的调整类型必须是 holiday（放假）或 workday（调休上班），收到：${String(v)}`,
        `Override for ${key} must be 'holiday' or 'workday', got: ${String(v)}`,
      );
    }
    cleanOverrides[key] = v;
  }

  return {
    settings: {
      weekdays: [...seen].sort((a, b) => a - b),
      periods: cleanPeriods,
      overrides: cleanOverrides,
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The compiled calendar: settings turned into numbers once per call

interface Compiled {
  /** [start, end) in ms after local midnight, ascending */
  periods: ReadonlyArray<readonly [number, number]>;
  /** working ms of one working day */
  dayMs: number;
  /** index 1..7 → working by default */
  weekday: readonly boolean[];
  /** working ms of a week without overrides; whole weeks outside the override range are skipped with it */
  weekMs: number;
  /** local day number → working? */
  overrides: ReadonlyMap<number, boolean>;
  firstOverride: number;
  lastOverride: number;
}

function compile(s: CalendarSettings): Compiled {
  const periods: Array<readonly [number, number]> = [];
  let dayMs = 0;
  for (const p of s.periods) {
    const a = parseHHMM(p.start);
    const b = parseHHMM(p.end);
    // Settings normally pass through validateCalendar; this is for those that did not.
    if (a === null || b === null || a >= b) {
      throw new RangeError(`Invalid working period ${p.start}–${p.end}`);
    }
    periods.push([a * MINUTE_MS, b * MINUTE_MS]);
    dayMs += (b - a) * MINUTE_MS;
  }
  const weekday = new Array<boolean>(8).fill(false);
  for (const w of s.weekdays) if (Number.isInteger(w) && w >= 1 && w <= 7) weekday[w] = true;
  let weekMs = 0;
  for (let w = 1; w <= 7; w++) if (weekday[w]) weekMs += dayMs;

  const overrides = new Map<number, boolean>();
  let firstOverride = Infinity;
  let lastOverride = -Infinity;
  for (const [key, kind] of Object.entries(s.overrides)) {
    const day = parseDate(key);
    if (day === null) throw new RangeError(`Invalid override date "${key}"`);
    overrides.set(day, kind === 'workday');
    if (day < firstOverride) firstOverride = day;
    if (day > lastOverride) lastOverride = day;
  }
  return { periods, dayMs, weekday, weekMs, overrides, firstOverride, lastOverride };
}

/** Working day that actually has working time (a calendar without periods has none). */
function isWorkDay(c: Compiled, day: number): boolean {
  if (c.dayMs === 0) return false;
  return c.overrides.get(day) ?? c.weekday[isoWeekday(day)];
}

/**
 * How many whole weeks starting at `day` may be skipped at once: only where the calendar is purely
 * weekly, i.e. the skipped span lies entirely before the first override or after the last.
 */
function skippableWeeks(c: Compiled, day: number, wanted: number): number {
  if (day > c.lastOverride) return wanted;
  return Math.max(0, Math.min(wanted, Math.floor((c.firstOverride - day) / 7)));
}

interface LocalTime {
  day: number;
  /** ms after local midnight */
  offset: number;
}

function toLocal(d: Date): LocalTime {
  const t = d.getTime();
  if (!Number.isFinite(t)) throw new RangeError('Invalid Date');
  const shifted = t + SHANGHAI_OFFSET_MS;
  const day = Math.floor(shifted / DAY_MS);
  return { day, offset: shifted - day * DAY_MS };
}

function toInstant(day: number, offset: number): Date {
  const t = day * DAY_MS + offset - SHANGHAI_OFFSET_MS;
  if (!(Math.abs(t) <= MAX_TIME_MS)) throw new RangeError('Working-time result is outside the range of Date');
  return new Date(t);
}

function formatDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

function noWorkingDays(fromDay: number): Error {
  return new Error(`No working day within ${MAX_GAP_DAYS} days after ${formatDay(fromDay)}: check the working calendar`);
}

function nextWorkingLocal(c: Compiled, at: LocalTime): LocalTime {
  if (isWorkDay(c, at.day)) {
    for (const [a, b] of c.periods) {
      if (at.offset < b) return { day: at.day, offset: Math.max(a, at.offset) };
    }
  }
  for (let d = at.day + 1; d <= at.day + MAX_GAP_DAYS; d++) {
    if (isWorkDay(c, d)) return { day: d, offset: c.periods[0][0] };
  }
  throw noWorkingDays(at.day);
}

/** Working ms of local `day` within [lo, hi) ms after midnight. */
function workingMsOfDay(c: Compiled, day: number, lo: number, hi: number): number {
  if (!isWorkDay(c, day)) return 0;
  let ms = 0;
  for (const [a, b] of c.periods) {
    const from = Math.max(a, lo);
    const to = Math.min(b, hi);
    if (to > from) ms += to - from;
  }
  return ms;
}

// ---------------------------------------------------------------------------------------------------
// Public operations

/** Whether a local date 'YYYY-MM-DD' is a working day: the override if there is one, else the weekday. */
export function isWorkingDay(date: string, s: CalendarSettings): boolean {
  const day = parseDate(date);
  if (day === null) throw new RangeError(`Invalid date "${date}": expected YYYY-MM-DD`);
  const kind = Object.hasOwn(s.overrides, date) ? s.overrides[date] : undefined;
  if (kind !== undefined) return kind === 'workday';
  return s.weekdays.includes(isoWeekday(day));
}

/** `at` itself when it is inside working time, else the start of the next working period. */
export function nextWorkingInstant(at: Date, s: CalendarSettings): Date {
  const next = nextWorkingLocal(compile(s), toLocal(at));
  return toInstant(next.day, next.offset);
}

/**
 * The instant at which `minutes` working minutes have elapsed after `start`. Counting begins at
 * nextWorkingInstant(start). A deadline that uses up a period exactly ends at that period's end (12:00),
 * not at the start of the next one: the case is due before lunch, not after it.
 */
export function addWorkingMinutes(start: Date, minutes: number, s: CalendarSettings): Date {
  if (!Number.isFinite(minutes) || minutes < 0) {
    throw new RangeError(`minutes must be a finite number >= 0, got ${minutes}`);
  }
  const c = compile(s);
  let remaining = Math.round(minutes * MINUTE_MS);
  const first = nextWorkingLocal(c, toLocal(start));
  if (remaining === 0) return toInstant(first.day, first.offset);

  const finishWithin = (day: number, fromOffset: number): Date | null => {
    for (const [a, b] of c.periods) {
      if (fromOffset >= b) continue;
      const from = Math.max(a, fromOffset);
      const available = b - from;
      if (remaining <= available) return toInstant(day, from + remaining);
      remaining -= available;
    }
    return null;
  };

  const done = finishWithin(first.day, first.offset);
  if (done) return done;

  let lastWorkDay = first.day;
  let day = first.day + 1;
  for (;;) {
    if (day - lastWorkDay > MAX_GAP_DAYS) throw noWorkingDays(lastWorkDay);

    // Whole weeks are skipped in one step where the calendar is purely weekly, so that a huge count
    // costs O(days covered by overrides), not O(days). At least one working day is always left to
    // walk through, which is where the exact instant is found.
    if (c.weekMs > 0 && remaining > c.weekMs) {
      const weeks = skippableWeeks(c, day, Math.ceil(remaining / c.weekMs) - 1);
      if (weeks > 0) {
        remaining -= weeks * c.weekMs;
        day += weeks * 7;
        for (let back = 1; back <= 7; back++) {
          if (c.weekday[isoWeekday(day - back)]) {
            lastWorkDay = day - back;
            break;
          }
        }
        continue;
      }
    }

    if (isWorkDay(c, day)) {
      lastWorkDay = day;
      if (remaining <= c.dayMs) {
        const end = finishWithin(day, 0);
        if (end) return end;
      }
      remaining -= c.dayMs;
    }
    day++;
  }
}

/** Working minutes in [from, to), 0 when to <= from; counted in ms and then floored to whole minutes. */
export function workingMinutesBetween(from: Date, to: Date, s: CalendarSettings): number {
  const a = toLocal(from);
  const b = toLocal(to);
  if (to.getTime() <= from.getTime()) return 0;
  const c = compile(s);
  if (a.day === b.day) return Math.floor(workingMsOfDay(c, a.day, a.offset, b.offset) / MINUTE_MS);

  let ms = workingMsOfDay(c, a.day, a.offset, DAY_MS);
  let day = a.day + 1;
  while (day < b.day) {
    const weeks = skippableWeeks(c, day, Math.floor((b.day - day) / 7));
    if (weeks > 0) {
      ms += weeks * c.weekMs;
      day += weeks * 7;
      continue;
    }
    if (isWorkDay(c, day)) ms += c.dayMs;
    day++;
  }
  ms += workingMsOfDay(c, b.day, 0, b.offset);
  return Math.floor(ms / MINUTE_MS);
}
