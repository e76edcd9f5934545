// Mainland phone numbers: mobiles (11 digits, 13x–19x, optionally written +86 / 0086) and landlines with their
// area code (010 and 02x: 3-digit code + 8 digits; other codes: 4 digits + 7 or 8 digits).
import type { Messages } from '../errors.ts';
import { normalisePhone } from './normalise.ts';

export type PhoneKind = 'mobile' | 'landline';
export type PhoneProblem = 'empty' | 'bad_characters' | 'wrong_length' | 'bad_prefix' | 'missing_area_code' | 'kind_not_allowed';

export type PhoneCheck = { ok: true; kind: PhoneKind; value: string } | { ok: false; reason: PhoneProblem; messages: Messages };

export const PHONE_MESSAGES: Record<PhoneProblem, Messages> = {
  empty: { 'zh-CN': '请填写电话号码', en: 'Enter a phone number' },
  bad_characters: { 'zh-CN': '电话号码只能包含数字（可带 +86、空格或横线）', en: 'A phone number has digits only (with an optional +86, spaces or dashes)' },
  wrong_length: { 'zh-CN': '电话号码位数不对：手机号 11 位，固话为区号加 7–8 位号码', en: 'Wrong number of digits: a mobile has 11; a landline is an area code plus 7–8 digits' },
  bad_prefix: { 'zh-CN': '不是有效的大陆手机号或带区号的固定电话', en: 'Not a mainland mobile number or a landline with its area code' },
  missing_area_code: { 'zh-CN': '固定电话请加上区号（如 020）', en: 'Add the area code to a landline number (e.g. 020)' },
  kind_not_allowed: { 'zh-CN': '此处需要手机号码', en: 'A mobile number is needed here' },
};

const LANDLINE_ONLY: Messages = { 'zh-CN': '此处需要带区号的固定电话', en: 'A landline number with its area code is needed here' };

const MOBILE = /^1[3-9]\d{9}$/;
// 010 Beijing and 020–029 have 3-digit codes and 8-digit numbers; the rest 4-digit codes and 7–8 digits.
const LANDLINE = /^(?:0(?:10|2\d)\d{8}|0[3-9]\d{2}\d{7,8})$/;

function fail(reason: PhoneProblem): PhoneCheck {
  return { ok: false, reason, messages: PHONE_MESSAGES[reason] };
}

/** Checks a phone number as typed (normalised first); `kinds` limits what is accepted (both by default). */
export function validatePhone(input: string, options: { kinds?: readonly PhoneKind[] } = {}): PhoneCheck {
  const kinds = options.kinds ?? ['mobile', 'landline'];
  const value = normalisePhone(input);
  if (value === '') return fail('empty');
  if (!/^\d+$/.test(value)) return fail('bad_characters');
  let kind: PhoneKind;
  if (value.startsWith('1')) {
    if (value.length !== 11) return fail('wrong_length');
    if (!MOBILE.test(value)) return fail('bad_prefix');
    kind = 'mobile';
  } else if (value.startsWith('0')) {
    if (!LANDLINE.test(value)) return fail(value.length < 10 || value.length > 12 ? 'wrong_length' : 'bad_prefix');
    kind = 'landline';
  } else {
    return fail(value.length === 7 || value.length === 8 ? 'missing_area_code' : 'bad_prefix');
  }
  if (!kinds.includes(kind)) {
    return { ok: false, reason: 'kind_not_allowed', messages: kinds.includes('mobile') ? PHONE_MESSAGES.kind_not_allowed : LANDLINE_ONLY };
  }
  return { ok: true, kind, value };
}
