import { describe, it, expect } from 'vitest';
import { maskFromParts, maskIdNumber, maskName, maskParts, maskPhone } from './mask.ts';

describe('masks', () => {
  it('ID: first 6 + 8 stars + last 4', () => {
    expect(maskIdNumber('110101199003071234')).toBe('110101********1234');
    expect(maskIdNumber('11010519491231002x')).toBe('110105********002X');
  });

  it('phone: first 3 + 4 stars + last 4', () => {
    expect(maskPhone('13800138000')).toBe('138****8000');
    expect(maskPhone('+86 138-0013-8000')).toBe('138****8000');
    expect(maskPhone('020-88886666')).toBe('020****6666');
  });

  it('the stored parts rebuild the same display, without the key', () => {
    const parts = maskParts('id_number', '110101199003071234');
    expect(parts).toEqual({ head: '110101', tail: '1234' });
    expect(maskFromParts('id_number', parts)).toBe('110101********1234');
    expect(maskFromParts('phone', maskParts('phone', '13800138000'))).toBe('138****8000');
  });

  it('short or malformed values keep at least 4 characters hidden', () => {
    expect(maskParts('phone', '1234567')).toEqual({ head: '1', tail: '67' });
    expect(maskParts('phone', '12345')).toEqual({ head: '', tail: '5' });
    expect(maskParts('phone', '1234')).toEqual({ head: '', tail: '' });
    expect(maskParts('id_number', '')).toEqual({ head: '', tail: '' });
    expect(maskParts('id_number', '110105491231002')).toEqual({ head: '110105', tail: '1002' });
  });

  it.each([
    ['张三', '张*'],
    ['张三丰', '张**'],
    ['欧阳娜娜', '欧阳**'],
    ['欧阳修', '欧阳*'],
    ['司马光', '司马*'],
    ['欧阳', '欧*'],
    ['王', '*'],
    ['', ''],
    [' 李四 ', '李*'],
    ['阿依古丽·买买提', '阿***·***'],
    ['John Smith', 'J*** *****'],
    ['𠮷野家', '𠮷**'],
  ])('name %j → %j', (name, masked) => expect(maskName(name)).toBe(masked));
});
