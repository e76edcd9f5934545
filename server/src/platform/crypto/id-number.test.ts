import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { PROVINCE_CODES, birthDateOfIdNumber, genderOfIdNumber, idCheckCharacter, validateIdNumber, type IdNumberProblem } from './id-number.ts';
import { validatePhone, type PhoneProblem } from './phone.ts';

const TODAY = '2025-06-01';
const check = (id: string) => validateIdNumber(id, { today: TODAY });
const reason = (id: string): IdNumberProblem | 'ok' => {
  const r = check(id);
  return r.ok ? 'ok' : r.reason;
};
/** An ID number with a correct check character, so only the part under test can be wrong. */
const withCheck = (first17: string) => first17 + idCheckCharacter(first17);

describe('validateIdNumber (GB 11643-1999)', () => {
  it('accepts the examples published in GB 11643-1999', () => {
    const a = check('11010519491231002X');
    expect(a).toEqual({ ok: true, value: '11010519491231002X', regionCode: '110105', provinceCode: '11', birthDate: '1949-12-31', gender: 'female' });
    const b = check('440524188001010014');
    expect(b).toEqual({ ok: true, value: '440524188001010014', regionCode: '440524', provinceCode: '44', birthDate: '1880-01-01', gender: 'male' });
  });

  it('computes the ISO 7064 MOD 11-2 check character', () => {
    expect(idCheckCharacter('11010519491231002')).toBe('X');
    expect(idCheckCharacter('44052418800101001')).toBe('4');
    expect(() => idCheckCharacter('1234')).toThrow();
  });

  it('normalises before checking (lower-case x, full-width digits, spaces)', () => {
    expect(reason('11010519491231002x')).toBe('ok');
    expect(reason(' １１０１０５ １９４９１２３１ ００２Ｘ ')).toBe('ok');
  });

  it.each<[string, IdNumberProblem]>([
    ['11010519491231003X', 'wrong_check_digit'],
    ['110105194912310021', 'wrong_check_digit'],
    ['11010519491231002', 'wrong_length'],
    ['11010519491231002X1', 'wrong_length'],
    ['110105491231002', 'wrong_length'],
    ['', 'wrong_length'],
    ['11010519491231002A', 'bad_characters'],
    ['1101051949123100X2', 'bad_characters'],
    ['X1010519491231002X', 'bad_characters'],
    [withCheck('99010519491231002'), 'bad_region'],
    [withCheck('00010519491231002'), 'bad_region'],
    [withCheck('16010519491231002'), 'bad_region'],
    [withCheck('11010519490230002'), 'impossible_birth_date'],
    [withCheck('11010519491301002'), 'impossible_birth_date'],
    [withCheck('11010519490000002'), 'impossible_birth_date'],
    [withCheck('11010518791231002'), 'impossible_birth_date'],
    [withCheck('11010520250602002'), 'impossible_birth_date'],
    [withCheck('11010520230229002'), 'impossible_birth_date'],
  ])('%s → %s', (id, expected) => expect(reason(id)).toBe(expected));

  it('accepts leap days, today, and HK/Macao/Taiwan residence permits', () => {
    expect(reason(withCheck('11010520240229002'))).toBe('ok');
    expect(reason(withCheck('11010520250601002'))).toBe('ok');
    for (const prefix of ['810000', '820000', '830000']) expect(reason(withCheck(`${prefix}19900101001`))).toBe('ok');
  });

  it('takes today as a business date or a Date in Asia/Shanghai', () => {
    const id = withCheck('11010520250601002');
    // 2025-05-31T17:00Z is already 1 June in Beijing
    expect(validateIdNumber(id, { today: new Date('2025-05-31T17:00:00Z') }).ok).toBe(true);
    expect(validateIdNumber(id, { today: new Date('2025-05-31T15:00:00Z') }).ok).toBe(false);
    expect(() => validateIdNumber(id, { today: '1 June' })).toThrow();
  });

  it('gives every reason in zh-CN and en, without echoing the number', () => {
    const r = check('11010519491231003X');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.messages['zh-CN']).toContain('校验码');
    expect(r.messages.en).toContain('check digit');
    expect(JSON.stringify(r.messages)).not.toContain('110105');
  });

  it('derives gender and birth date', () => {
    expect(genderOfIdNumber('11010519491231002X')).toBe('female');
    expect(genderOfIdNumber('440524188001010014')).toBe('male');
    expect(birthDateOfIdNumber('11010519491231002X')).toBe('1949-12-31');
  });
});

/** Valid ID numbers: a real province, any county digits, a birth date up to TODAY, any sequence. */
const validId = fc
  .record({
    province: fc.constantFrom(...PROVINCE_CODES),
    county: fc.integer({ min: 0, max: 9999 }),
    born: fc.date({ min: new Date('1880-01-01T00:00:00Z'), max: new Date(`${TODAY}T00:00:00Z`), noInvalidDate: true }),
    sequence: fc.integer({ min: 0, max: 999 }),
  })
  .map(({ province, county, born, sequence }) =>
    withCheck(province + String(county).padStart(4, '0') + born.toISOString().slice(0, 10).replaceAll('-', '') + String(sequence).padStart(3, '0')),
  );

describe('validateIdNumber properties', () => {
  it('generated valid numbers validate, with their birth date and gender', () => {
    fc.assert(
      fc.property(validId, (id) => {
        const r = check(id);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.birthDate).toBe(`${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`);
        expect(r.gender).toBe(Number(id[16]) % 2 === 1 ? 'male' : 'female');
      }),
      { numRuns: 2000 },
    );
  });

  it('changing any single character to another allowed one makes the number invalid', () => {
    const CHECK_SET = '0123456789X';
    fc.assert(
      fc.property(validId, fc.integer({ min: 0, max: 17 }), fc.integer({ min: 1, max: 10 }), (id, position, shift) => {
        const replacement =
          position < 17 ? String((Number(id[position]) + (shift % 10 || 1)) % 10) : CHECK_SET[(CHECK_SET.indexOf(id[17]) + shift) % 11];
        expect(replacement).not.toBe(id[position]);
        const mutated = id.slice(0, position) + replacement + id.slice(position + 1);
        expect(check(mutated).ok).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });

  it('swapping two different adjacent digits makes the number invalid', () => {
    fc.assert(
      fc.property(validId, fc.integer({ min: 0, max: 15 }), (id, i) => {
        fc.pre(id[i] !== id[i + 1]);
        const swapped = id.slice(0, i) + id[i + 1] + id[i] + id.slice(i + 2);
        expect(check(swapped).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('validatePhone', () => {
  it.each<[string, 'mobile' | 'landline', string]>([
    ['13800138000', 'mobile', '13800138000'],
    ['+86 138 0013 8000', 'mobile', '13800138000'],
    ['0086-199-1234-5678', 'mobile', '19912345678'],
    ['166 0000 0000', 'mobile', '16600000000'],
    ['010-88886666', 'landline', '01088886666'],
    ['(020) 8888 6666', 'landline', '02088886666'],
    ['0755-88886666', 'landline', '075588886666'],
    ['0311-8888666', 'landline', '03118888666'],
    ['+86 20 8888 6666', 'landline', '02088886666'],
  ])('%s is a %s', (input, kind, value) => expect(validatePhone(input)).toEqual({ ok: true, kind, value }));

  it.each<[string, PhoneProblem]>([
    ['', 'empty'],
    ['  ', 'empty'],
    ['138-0013-800a', 'bad_characters'],
    ['1380013800', 'wrong_length'],
    ['138001380001', 'wrong_length'],
    ['12800138000', 'bad_prefix'],
    ['11800138000', 'bad_prefix'],
    ['88886666', 'missing_area_code'],
    ['8888666', 'missing_area_code'],
    ['020888866', 'wrong_length'],
    ['0208888666666', 'wrong_length'],
    ['02088886666', 'ok' as PhoneProblem],
  ])('%j → %s', (input, expected) => {
    const r = validatePhone(input);
    expect(r.ok ? 'ok' : r.reason).toBe(expected);
  });

  it('can require a mobile', () => {
    const r = validatePhone('020-88886666', { kinds: ['mobile'] });
    expect(r.ok ? 'ok' : r.reason).toBe('kind_not_allowed');
    expect(r.ok ? '' : r.messages.en).toContain('mobile');
    expect(validatePhone('13800138000', { kinds: ['mobile'] }).ok).toBe(true);
  });
});
