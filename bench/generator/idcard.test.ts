import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IdAllocator, buildIdNumber, idCheckDigit, idIsMale, isValidIdNumber } from './idcard.ts';
import { MOBILE_PATTERN, MOBILE_PREFIXES, mobileNumber } from './people.ts';
import { Rng } from './rng.ts';

describe('identity numbers (GB 11643, ISO 7064 MOD 11-2)', () => {
  it('computes the published check characters', () => {
    // The example in GB 11643-1999 itself, and the one most often quoted from it.
    expect(idCheckDigit('11010519491231002')).toBe('X');
    expect(idCheckDigit('44052418800101001')).toBe('4');
    expect(isValidIdNumber('11010519491231002X')).toBe(true);
    expect(isValidIdNumber('440524188001010014')).toBe(true);
  });

  it('rejects a wrong check character, a bad date and a bad shape', () => {
    expect(isValidIdNumber('110105194912310021')).toBe(false);
    expect(isValidIdNumber('110105194902300021')).toBe(false);
    expect(isValidIdNumber('11010519491231002x')).toBe(false);
    expect(isValidIdNumber('1101051949123100')).toBe(false);
  });

  it('every built number is valid, and changing any one digit breaks it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('440103', '440605', '340302', '130111'),
        fc.date({ min: new Date('1905-01-01'), max: new Date('2026-06-30'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: 0, max: 16 }),
        fc.integer({ min: 1, max: 9 }),
        (region, date, order, pos, delta) => {
          const id = buildIdNumber(region, date.toISOString().slice(0, 10), order);
          expect(isValidIdNumber(id)).toBe(true);
          const digit = (Number(id[pos]) + delta) % 10;
          const changed = id.slice(0, pos) + digit + id.slice(pos + 1);
          // MOD 11-2 detects every single-digit substitution (the date may also become invalid).
          expect(isValidIdNumber(changed)).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('the allocator never hands out the same number twice and keeps sex in the order code', () => {
    const ids = new IdAllocator(['440103', '440104']);
    const seen = new Set<string>();
    for (let i = 0; i < 1200; i++) {
      const male = i % 3 !== 0;
      const id = ids.allocate('440103', '1980-05-17', male);
      expect(isValidIdNumber(id)).toBe(true);
      expect(idIsMale(id)).toBe(male);
      expect(seen.has(id)).toBe(false);
      seen.add(id);
    }
    // 800 men on one day: 500 fit under 440103, the rest move to the next region.
    expect([...seen].filter((id) => id.startsWith('440104')).length).toBe(300);
  });
});

describe('mobile numbers', () => {
  it('are 11 digits with a 13x/15x/18x/19x prefix in use', () => {
    const rng = new Rng(1);
    const prefixes = new Set<string>();
    for (let i = 0; i < 5_000; i++) {
      const n = mobileNumber(rng);
      expect(n).toMatch(MOBILE_PATTERN);
      expect(n).toHaveLength(11);
      expect(MOBILE_PREFIXES).toContain(n.slice(0, 3));
      expect(n.startsWith('1349')).toBe(false);
      prefixes.add(n.slice(0, 3));
    }
    expect(prefixes.size).toBe(MOBILE_PREFIXES.length);
    for (const bad of ['14012345678', '15412345678', '17012345678', '1381234567', '23812345678']) expect(bad).not.toMatch(MOBILE_PATTERN);
  });
});
