import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_CALENDAR,
  addWorkingMinutes,
  isWorkingDay,
  nextWorkingInstant,
  validateCalendar,
  workingMinutesBetween,
  type CalendarSettings,
} from './calendar.ts';

const MINUTE = 60_000;

/** An Asia/Shanghai wall-clock time 'YYYY-MM-DD HH:MM[:SS]' as an instant. */
function sh(local: string): Date {
  const [date, time] = local.split(' ');
  const withSeconds = time.length === 5 ? `${time}:00` : time;
  return new Date(`${date}T${withSeconds}+08:00`);
}

/** The Asia/Shanghai wall-clock time of an instant, so that failures read in local time. */
function local(d: Date): string {
  return new Date(d.getTime() + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

// 国庆 2026: Thursday 1 October to Wednesday 7 October off, Saturday 10 October worked (调休).
const NATIONAL_DAY: CalendarSettings = {
  ...DEFAULT_CALENDAR,
  overrides: {
    '2026-10-01': 'holiday',
    '2026-10-02': 'holiday',
    '2026-10-05': 'holiday',
    '2026-10-06': 'holiday',
    '2026-10-07': 'holiday',
    '2026-10-10': 'workday',
  },
};

// Exercises what the default does not: a single period, a period ending at 24:00, weekend-only days.
const WEEKEND_SHIFT: CalendarSettings = {
  weekdays: [6, 7],
  periods: [{ start: '20:00', end: '24:00' }],
  overrides: { '2026-06-03': 'workday', '2026-06-06': 'holiday' },
};

// 2026-03-02 is a Monday.
describe('addWorkingMinutes on the default calendar', () => {
  const cases: Array<[name: string, start: string, minutes: number, expected: string]> = [
    ['within one period', '2026-03-02 09:00', 60, '2026-03-02 10:00:00'],
    ['using a period up exactly ends at its end, not after lunch', '2026-03-02 09:00', 180, '2026-03-02 12:00:00'],
    ['across the lunch break', '2026-03-02 11:00', 120, '2026-03-02 14:30:00'],
    ['using a whole day ends at 18:00 that day', '2026-03-02 09:00', 450, '2026-03-02 18:00:00'],
    ['across the evening into the next morning', '2026-03-02 17:00', 120, '2026-03-03 10:00:00'],
    ['one minute past a whole day', '2026-03-02 09:00', 451, '2026-03-03 09:01:00'],
    ['Friday afternoon to Monday', '2026-03-06 17:00', 120, '2026-03-09 10:00:00'],
    ['from Saturday night', '2026-03-07 22:00', 30, '2026-03-09 09:30:00'],
    ['from 12:30, in the lunch break', '2026-03-02 12:30', 30, '2026-03-02 14:00:00'],
    ['from 12:00, the end of the morning period', '2026-03-02 12:00', 1, '2026-03-02 13:31:00'],
    ['from before opening', '2026-03-02 06:00', 10, '2026-03-02 09:10:00'],
    ['seconds of the start are kept', '2026-03-02 09:00:30', 1, '2026-03-02 09:01:30'],
    ['two working weeks', '2026-03-02 09:00', 10 * 450, '2026-03-13 18:00:00'],
    ['zero inside working time is the start itself', '2026-03-02 10:15', 0, '2026-03-02 10:15:00'],
    ['zero in the lunch break is the afternoon start', '2026-03-02 12:30', 0, '2026-03-02 13:30:00'],
    ['zero at 18:00 is the next morning', '2026-03-02 18:00', 0, '2026-03-03 09:00:00'],
    ['zero at 17:59:59 is still working time', '2026-03-02 17:59:59', 0, '2026-03-02 17:59:59'],
  ];

  it.each(cases)('%s', (_name, start, minutes, expected) => {
    const end = addWorkingMinutes(sh(start), minutes, DEFAULT_CALENDAR);
    expect(local(end)).toBe(expected);
    expect(workingMinutesBetween(sh(start), end, DEFAULT_CALENDAR)).toBe(minutes);
  });
});

describe('holidays and 调休 workdays', () => {
  it.each([
    ['2026-09-30', true],
    ['2026-10-01', false],
    ['2026-10-07', false],
    ['2026-10-08', true],
    ['2026-10-10', true], // a Saturday, worked
    ['2026-10-11', false],
  ])('isWorkingDay(%s) is %s', (date, expected) => {
    expect(isWorkingDay(date, NATIONAL_DAY)).toBe(expected);
  });

  it('without overrides, weekends are off and weekdays on', () => {
    expect(isWorkingDay('2026-10-10', DEFAULT_CALENDAR)).toBe(false);
    expect(isWorkingDay('2026-10-01', DEFAULT_CALENDAR)).toBe(true);
  });

  const cases: Array<[name: string, start: string, minutes: number, expected: string]> = [
    ['the eve of 国庆 runs into 8 October', '2026-09-30 17:00', 120, '2026-10-08 10:00:00'],
    ['a start inside the holiday waits for it to end', '2026-10-03 10:00', 30, '2026-10-08 09:30:00'],
    ['Friday 9 October runs into the 调休 Saturday', '2026-10-09 17:00', 120, '2026-10-10 10:00:00'],
    ['the 调休 Saturday runs into Monday, skipping Sunday', '2026-10-10 17:00', 120, '2026-10-12 10:00:00'],
  ];

  it.each(cases)('%s', (_name, start, minutes, expected) => {
    const end = addWorkingMinutes(sh(start), minutes, NATIONAL_DAY);
    expect(local(end)).toBe(expected);
    expect(workingMinutesBetween(sh(start), end, NATIONAL_DAY)).toBe(minutes);
  });

  it('the holiday week holds only the working days around it', () => {
    // 30 Sep, 8 Oct, 9 Oct and the 调休 10 Oct: four days of 450 minutes.
    expect(workingMinutesBetween(sh('2026-09-30 00:00'), sh('2026-10-11 00:00'), NATIONAL_DAY)).toBe(4 * 450);
  });
});

describe('nextWorkingInstant and workingMinutesBetween', () => {
  it.each([
    ['2026-03-02 09:00', '2026-03-02 09:00:00'],
    ['2026-03-02 11:59:59', '2026-03-02 11:59:59'],
    ['2026-03-02 12:00', '2026-03-02 13:30:00'],
    ['2026-03-06 18:00', '2026-03-09 09:00:00'],
    ['2026-03-07 22:00', '2026-03-09 09:00:00'],
  ])('nextWorkingInstant(%s) is %s', (at, expected) => {
    expect(local(nextWorkingInstant(sh(at), DEFAULT_CALENDAR))).toBe(expected);
  });

  it.each([
    ['2026-03-02 10:00', '2026-03-02 09:00', 0], // reversed
    ['2026-03-02 10:00', '2026-03-02 10:00', 0],
    ['2026-03-02 12:00', '2026-03-02 13:30', 0], // the lunch break
    ['2026-03-02 09:00', '2026-03-02 09:00:59', 0], // partial minutes are floored
    ['2026-03-02 09:00:30', '2026-03-02 09:02', 1],
    ['2026-03-02 00:00', '2026-03-09 00:00', 5 * 450],
    ['2026-03-06 17:00', '2026-03-09 10:00', 120],
  ])('workingMinutesBetween(%s, %s) is %s', (from, to, expected) => {
    expect(workingMinutesBetween(sh(from), sh(to), DEFAULT_CALENDAR)).toBe(expected);
  });

  it('a period ending at 24:00 runs up to midnight, and overrides apply to it', () => {
    // 2026-06-03 is a 调休 Wednesday; Saturday 06-06 is off, so the next evening is Sunday's.
    expect(local(addWorkingMinutes(sh('2026-06-03 21:00'), 240, WEEKEND_SHIFT))).toBe('2026-06-07 21:00:00');
    expect(local(addWorkingMinutes(sh('2026-06-03 20:00'), 240, WEEKEND_SHIFT))).toBe('2026-06-04 00:00:00');
  });
});

const CALENDARS: Array<[string, CalendarSettings]> = [
  ['default', DEFAULT_CALENDAR],
  ['national day', NATIONAL_DAY],
  ['weekend shift', WEEKEND_SHIFT],
];

// Starts range over 2025–2027 at one-second resolution so that they land in every kind of gap.
const START_MIN = sh('2025-12-01 00:00').getTime();
const START_MAX = sh('2027-01-31 00:00').getTime();
const startArb = fc.integer({ min: START_MIN / 1000, max: START_MAX / 1000 }).map((s) => new Date(s * 1000));

describe('properties', () => {
  it.each(CALENDARS)('%s: workingMinutesBetween undoes addWorkingMinutes', (_name, cal) => {
    fc.assert(
      fc.property(startArb, fc.integer({ min: 0, max: 20_000 }), (start, m) => {
        const counted = nextWorkingInstant(start, cal);
        const end = addWorkingMinutes(start, m, cal);
        expect(workingMinutesBetween(counted, end, cal)).toBe(m);
        // Non-working time before the first period does not count either.
        expect(workingMinutesBetween(start, end, cal)).toBe(m);
        expect(end.getTime()).toBeGreaterThanOrEqual(counted.getTime());
      }),
      { numRuns: 300, seed: 20_261_001 },
    );
  });

  it.each(CALENDARS)('%s: workingMinutesBetween agrees with a minute-by-minute count', (_name, cal) => {
    // An independent oracle: a minute is working time iff nextWorkingInstant leaves it where it is.
    fc.assert(
      fc.property(
        fc.integer({ min: START_MIN / MINUTE, max: START_MAX / MINUTE }),
        fc.integer({ min: 0, max: 3 * 1440 }),
        (startMinute, span) => {
          let expected = 0;
          for (let t = startMinute; t < startMinute + span; t++) {
            const at = new Date(t * MINUTE);
            if (nextWorkingInstant(at, cal).getTime() === at.getTime()) expected++;
          }
          const from = new Date(startMinute * MINUTE);
          const to = new Date((startMinute + span) * MINUTE);
          expect(workingMinutesBetween(from, to, cal)).toBe(expected);
        },
      ),
      { numRuns: 40, seed: 20_261_010 },
    );
  });

  it('week-skipping agrees with walking day by day across a far-off override range', () => {
    // Overrides two years out make the skip stop and restart around them.
    const far: CalendarSettings = {
      ...DEFAULT_CALENDAR,
      overrides: { '2028-05-01': 'holiday', '2028-05-03': 'holiday', '2028-05-07': 'workday' },
    };
    fc.assert(
      fc.property(startArb, fc.integer({ min: 0, max: 60 * 24 * 365 * 2 }), (start, m) => {
        const end = addWorkingMinutes(start, m, far);
        expect(workingMinutesBetween(start, end, far)).toBe(m);
      }),
      { numRuns: 200, seed: 20_280_501 },
    );
  });
});

describe('large counts', () => {
  it('a year of working minutes is 1168 working days of 450 minutes', () => {
    // 525 600 = 1168 × 450: 233 whole weeks and three more days, so Wednesday of week 234 at 18:00.
    const m = 60 * 24 * 365;
    const end = addWorkingMinutes(sh('2026-03-02 09:00'), m, DEFAULT_CALENDAR);
    expect(local(end)).toBe('2030-08-21 18:00:00');
    expect(workingMinutesBetween(sh('2026-03-02 09:00'), end, DEFAULT_CALENDAR)).toBe(m);
  });

  it('a year with holidays in it still inverts', () => {
    const m = 60 * 24 * 365;
    const end = addWorkingMinutes(sh('2026-09-01 09:00'), m, NATIONAL_DAY);
    expect(workingMinutesBetween(sh('2026-09-01 09:00'), end, NATIONAL_DAY)).toBe(m);
  });

  it('a count far beyond the range of Date is refused rather than looped over', () => {
    expect(() => addWorkingMinutes(sh('2026-03-02 09:00'), 1e15, DEFAULT_CALENDAR)).toThrow(RangeError);
  });

  it('refuses negative and non-finite counts', () => {
    expect(() => addWorkingMinutes(sh('2026-03-02 09:00'), -1, DEFAULT_CALENDAR)).toThrow(RangeError);
    expect(() => addWorkingMinutes(sh('2026-03-02 09:00'), Number.NaN, DEFAULT_CALENDAR)).toThrow(RangeError);
  });
});

describe('calendars without working days', () => {
  // Such settings do not pass validateCalendar, but stored settings may predate it.
  const closed: CalendarSettings = { weekdays: [], periods: DEFAULT_CALENDAR.periods, overrides: {} };
  const oneDay: CalendarSettings = { ...closed, overrides: { '2026-03-03': 'workday' } };

  it('throws instead of searching forever', () => {
    expect(() => nextWorkingInstant(sh('2026-03-02 09:00'), closed)).toThrow(/No working day/);
    expect(() => addWorkingMinutes(sh('2026-03-02 09:00'), 10, closed)).toThrow(/No working day/);
  });

  it('uses the working days there are, and throws once they run out', () => {
    expect(local(addWorkingMinutes(sh('2026-03-01 12:00'), 10, oneDay))).toBe('2026-03-03 09:10:00');
    expect(() => addWorkingMinutes(sh('2026-03-01 12:00'), 451, oneDay)).toThrow(/No working day/);
    expect(workingMinutesBetween(sh('2020-01-01 00:00'), sh('2030-01-01 00:00'), oneDay)).toBe(450);
  });
});

describe('validateCalendar', () => {
  const valid: Array<[string, unknown]> = [
    ['the default', DEFAULT_CALENDAR],
    ['国庆 overrides', NATIONAL_DAY],
    ['a leap day, adjacent periods and 24:00', {
      weekdays: [7, 1],
      periods: [{ start: '00:00', end: '12:00' }, { start: '12:00', end: '24:00' }],
      overrides: { '2028-02-29': 'holiday' },
    }],
  ];

  it.each(valid)('accepts %s', (_name, input) => {
    const result = validateCalendar(input);
    if (!('settings' in result)) throw new Error(result.problem.en);
    expect(result.settings).not.toBe(input);
    expect([...result.settings.weekdays]).toEqual([...result.settings.weekdays].sort((a, b) => a - b));
  });

  it('keeps only the known fields', () => {
    const result = validateCalendar({ ...DEFAULT_CALENDAR, extra: 1 });
    expect(result).toEqual({ settings: { ...DEFAULT_CALENDAR } });
  });

  const withPeriods = (periods: unknown): unknown => ({ ...DEFAULT_CALENDAR, periods });
  const withOverrides = (overrides: unknown): unknown => ({ ...DEFAULT_CALENDAR, overrides });
  const tooMany: Record<string, string> = {};
  for (let i = 0; i < 1001; i++) {
    tooMany[new Date(Date.UTC(2026, 0, 1) + i * 86_400_000).toISOString().slice(0, 10)] = 'holiday';
  }

  const invalid: Array<[string, unknown, RegExp]> = [
    ['null', null, /object/],
    ['a string', 'Mon-Fri', /object/],
    ['an array', [1, 2, 3], /object/],
    ['missing weekdays', { periods: DEFAULT_CALENDAR.periods, overrides: {} }, /weekdays/],
    ['weekday 8', { ...DEFAULT_CALENDAR, weekdays: [1, 8] }, /weekdays/],
    ['weekday 0', { ...DEFAULT_CALENDAR, weekdays: [0] }, /weekdays/],
    ['a fractional weekday', { ...DEFAULT_CALENDAR, weekdays: [1.5] }, /weekdays/],
    ['a weekday as a string', { ...DEFAULT_CALENDAR, weekdays: ['1'] }, /weekdays/],
    ['a repeated weekday', { ...DEFAULT_CALENDAR, weekdays: [1, 2, 1] }, /Duplicate/],
    ['no weekdays', { ...DEFAULT_CALENDAR, weekdays: [] }, /At least one weekday/],
    ['no periods', withPeriods([]), /At least one working period/],
    ['periods not an array', withPeriods({ start: '09:00', end: '12:00' }), /periods/],
    ['a period that is not an object', withPeriods(['09:00-12:00']), /period 1/],
    ['H:MM', withPeriods([{ start: '9:00', end: '12:00' }]), /Invalid time "9:00"/],
    ['minute 60', withPeriods([{ start: '09:00', end: '12:60' }]), /Invalid time "12:60"/],
    ['past 24:00', withPeriods([{ start: '09:00', end: '24:01' }]), /Invalid time "24:01"/],
    ['hour 25', withPeriods([{ start: '25:00', end: '26:00' }]), /Invalid time "25:00"/],
    ['start equal to end', withPeriods([{ start: '09:00', end: '09:00' }]), /start before it ends/],
    ['start after end', withPeriods([{ start: '18:00', end: '09:00' }]), /start before it ends/],
    ['overlapping periods', withPeriods([{ start: '09:00', end: '12:00' }, { start: '11:00', end: '14:00' }]), /overlap/],
    ['descending periods', withPeriods([{ start: '13:30', end: '18:00' }, { start: '09:00', end: '12:00' }]), /ascending/],
    ['2026-02-30', withOverrides({ '2026-02-30': 'holiday' }), /2026-02-30/],
    ['2027-02-29, not a leap year', withOverrides({ '2027-02-29': 'holiday' }), /2027-02-29/],
    ['month 13', withOverrides({ '2026-13-01': 'holiday' }), /2026-13-01/],
    ['a two-digit year', withOverrides({ '26-10-01': 'holiday' }), /26-10-01/],
    ['an unknown override kind', withOverrides({ '2026-10-01': 'off' }), /'holiday' or 'workday'/],
    ['overrides as an array', withOverrides([]), /overrides must be an object/],
    ['1001 overrides', withOverrides(tooMany), /At most 1000/],
  ];

  it.each(invalid)('rejects %s, in both languages', (_name, input, en) => {
    const result = validateCalendar(input);
    if (!('problem' in result)) throw new Error('expected a problem');
    expect(result.problem.en).toMatch(en);
    // Residents' case workers read the Chinese text; it must never be a blank fallback.
    expect(result.problem['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
  });
});
