// Per-row checks of an import: each row either becomes a draft (normalised, not yet sealed) or a list of
// reasons in zh-CN and en. Pure functions: no database, no keys.
import { nameInitials } from '../residents.service.ts';
import { validateIdNumber } from '../../../platform/crypto/id-number.ts';
import { validatePhone } from '../../../platform/crypto/phone.ts';
import { isCalendarDate } from '../../../platform/clock.ts';
import type { Messages } from '../../../platform/errors.ts';
import { REPLACEMENT } from './readers.ts';
import { FIELDS, type ImportKind } from './mapping.ts';

export interface Reason {
  field: string | null;
  code: string;
  'zh-CN': string;
  en: string;
}

const reason = (field: string | null, code: string, m: Messages): Reason => ({ field, code, 'zh-CN': m['zh-CN'], en: m.en });

export interface UnitRef {
  id: number;
  path: string;
}

/** The units rows may go to: the job's unit and its subtree, by code and by (unambiguous) name. */
export interface UnitIndex {
  jobUnit: UnitRef;
  byCode: Map<string, UnitRef>;
  byName: Map<string, UnitRef | 'ambiguous'>;
}

export interface ResidentDraft {
  rowNo: number;
  unitId: number;
  householdCode: string | null;
  name: string;
  initials: string;
  gender: 'male' | 'female';
  birthDate: string;
  idNumber: string;
  phone: string | null;
  registration: string | null;
  relationToHead: string | null;
  address: string | null;
  /** the fields this row gives (its `sources` keys) */
  given: string[];
}

export interface HouseDraft {
  rowNo: number;
  unitId: number;
  address: string;
  usage: string | null;
  area: string | null;
  given: string[];
}

const REGISTRATION: Record<string, string> = {
  户籍人口: 'registered', 户籍: 'registered', 常住人口: 'registered', 本地户籍: 'registered', registered: 'registered',
  流动人口: 'floating', 流动: 'floating', 暂住人口: 'floating', floating: 'floating',
  非户籍人口: 'non_registered', 非户籍: 'non_registered', 寄住人口: 'non_registered', 人户分离: 'non_registered', non_registered: 'non_registered',
  境外人员: 'overseas', 境外人口: 'overseas', 境外: 'overseas', overseas: 'overseas',
  其他: 'other', other: 'other',
};
const GENDER: Record<string, 'male' | 'female'> = { 男: 'male', 女: 'female', male: 'male', female: 'female', m: 'male', f: 'female', 男性: 'male', 女性: 'female' };
const USAGE: Record<string, string> = { 住宅: 'residential', 商铺: 'commercial', 商业: 'commercial', 办公: 'office', 商住: 'mixed', 其他: 'other', residential: 'residential', commercial: 'commercial', office: 'office', mixed: 'mixed', other: 'other' };

/** '2001-02-03', '2001/2/3', '2001.02.03', '20010203', '2001年2月3日' → 'YYYY-MM-DD'; null when not a date at all. */
export function parseDate(text: string): string | null {
  const t = text.trim();
  let m = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/.exec(t) ?? /^(\d{4})(\d{2})(\d{2})$/.exec(t);
  if (!m) {
    // a date cell of .xlsx read as an ISO timestamp
    m = /^(\d{4})-(\d{2})-(\d{2})T/.exec(t);
    if (!m) return null;
  }
  return `${m[1]}-${m[2].padStart(2, '0')}-${m[3].padStart(2, '0')}`;
}

function unitOf(cells: string[], cols: Record<string, number>, units: UnitIndex, reasons: Reason[]): UnitRef | null {
  const code = cols.unitCode !== undefined ? (cells[cols.unitCode] ?? '').trim() : '';
  const name = cols.unitName !== undefined ? (cells[cols.unitName] ?? '').trim() : '';
  if (!code && !name) return units.jobUnit;
  if (code) {
    const u = units.byCode.get(code);
    if (u) return u;
    reasons.push(reason('unitCode', 'unknown_unit', { 'zh-CN': `单元编码 "${code}" 不存在或不在您的管辖范围内`, en: `Unit code "${code}" does not exist or is outside your scope` }));
    return null;
  }
  const u = units.byName.get(name);
  if (u === 'ambiguous') {
    reasons.push(reason('unitName', 'ambiguous_unit', { 'zh-CN': `单元名称 "${name}" 有重名，请改用网格编码`, en: `More than one unit is called "${name}"; use the unit code` }));
    return null;
  }
  if (u) return u;
  reasons.push(reason('unitName', 'unknown_unit', { 'zh-CN': `单元 "${name}" 不存在或不在您的管辖范围内`, en: `Unit "${name}" does not exist or is outside your scope` }));
  return null;
}

function mojibake(cells: string[]): Reason | null {
  for (const c of cells) {
    if (c.includes(REPLACEMENT)) {
      return reason(null, 'invalid_utf8', {
        'zh-CN': '该行含有无法按 UTF-8 识别的字符（乱码）：文件可能是 GBK/GB18030 编码，请选择“自动识别”或 GB18030 后重新导入',
        en: 'The row holds bytes that are not valid UTF-8 (mojibake): the file is probably GBK/GB18030; import it again with encoding "auto" or GB18030',
      });
    }
  }
  return null;
}

const cell = (cells: string[], cols: Record<string, number>, field: string) => (cols[field] === undefined ? '' : (cells[cols[field]] ?? '').trim());

function required(kind: ImportKind, field: string): Reason {
  const label = FIELDS[kind][field].label;
  return reason(field, 'required', { 'zh-CN': `必填项“${label['zh-CN']}”为空`, en: `The required cell "${label.en}" is empty` });
}

export function checkResident(rowNo: number, cells: string[], cols: Record<string, number>, units: UnitIndex, today: string): ResidentDraft | Reason[] {
  const bad = mojibake(cells);
  if (bad) return [bad];
  const reasons: Reason[] = [];
  const given: string[] = ['name', 'gender', 'birth_date', 'idNumber'];
  const name = cell(cells, cols, 'name');
  if (!name) reasons.push(required('resident', 'name'));
  else if (name.length > 100) reasons.push(reason('name', 'too_long', { 'zh-CN': '姓名过长', en: 'The name is too long' }));
  const idText = cell(cells, cols, 'idNumber');
  let idNumber = '';
  let gender: 'male' | 'female' = 'male';
  let birthDate = '';
  if (!idText) reasons.push(required('resident', 'idNumber'));
  else {
    const check = validateIdNumber(idText, { today });
    if (!check.ok) reasons.push(reason('idNumber', `id_${check.reason}`, check.messages));
    else {
      idNumber = check.value;
      gender = check.gender;
      birthDate = check.birthDate;
    }
  }
  const birthText = cell(cells, cols, 'birthDate');
  if (birthText) {
    const d = parseDate(birthText);
    if (!d || !isCalendarDate(d) || d > today || d < '1880-01-01') {
      reasons.push(reason('birthDate', 'invalid_birth_date', { 'zh-CN': `出生日期“${birthText}”不存在或晚于今天`, en: `The birth date "${birthText}" does not exist or is in the future` }));
    } else if (birthDate && d !== birthDate) {
      reasons.push(reason('birthDate', 'inconsistent_birth_date', { 'zh-CN': '出生日期与公民身份号码不符', en: 'The birth date does not match the ID number' }));
    }
  }
  const genderText = cell(cells, cols, 'gender');
  if (genderText) {
    const g = GENDER[genderText.toLowerCase()];
    if (!g) reasons.push(reason('gender', 'invalid_gender', { 'zh-CN': `性别“${genderText}”无法识别（应为 男/女）`, en: `Gender "${genderText}" is not 男/女 (male/female)` }));
    else if (idNumber && g !== gender) reasons.push(reason('gender', 'inconsistent_gender', { 'zh-CN': '性别与公民身份号码不符', en: 'The gender does not match the ID number' }));
  }
  let phone: string | null = null;
  const phoneText = cell(cells, cols, 'phone');
  if (phoneText) {
    const p = validatePhone(phoneText);
    if (!p.ok) reasons.push(reason('phone', `phone_${p.reason}`, p.messages));
    else {
      phone = p.value;
      given.push('phone');
    }
  }
  let registration: string | null = null;
  const regText = cell(cells, cols, 'registration');
  if (regText) {
    registration = REGISTRATION[regText] ?? REGISTRATION[regText.toLowerCase()] ?? null;
    if (!registration) reasons.push(reason('registration', 'invalid_registration', { 'zh-CN': `户籍类型“${regText}”无法识别`, en: `Registration type "${regText}" is not recognised` }));
    else given.push('registration');
  }
  const householdCode = cell(cells, cols, 'householdCode') || null;
  if (householdCode) given.push('household_id');
  const relationToHead = cell(cells, cols, 'relationToHead') || null;
  if (relationToHead) given.push('relation_to_head');
  const address = cell(cells, cols, 'address') || null;
  if (address) given.push('address');
  const unit = unitOf(cells, cols, units, reasons);
  if (cols.unitCode !== undefined || cols.unitName !== undefined) given.push('unit_id');
  if (reasons.length || !unit) return reasons;
  return { rowNo, unitId: unit.id, householdCode, name, initials: nameInitials(name), gender, birthDate, idNumber, phone, registration, relationToHead, address, given };
}

export function checkHouse(rowNo: number, cells: string[], cols: Record<string, number>, units: UnitIndex): HouseDraft | Reason[] {
  const bad = mojibake(cells);
  if (bad) return [bad];
  const reasons: Reason[] = [];
  const given = ['address'];
  const address = cell(cells, cols, 'address');
  if (!address) reasons.push(required('house', 'address'));
  let usage: string | null = null;
  const usageText = cell(cells, cols, 'usage');
  if (usageText) {
    usage = USAGE[usageText] ?? USAGE[usageText.toLowerCase()] ?? null;
    if (!usage) reasons.push(reason('usage', 'invalid_usage', { 'zh-CN': `房屋用途“${usageText}”无法识别`, en: `Usage "${usageText}" is not recognised` }));
    else given.push('usage');
  }
  let area: string | null = null;
  const areaText = cell(cells, cols, 'area');
  if (areaText) {
    const n = Number(areaText);
    if (!/^\d+(\.\d{1,2})?$/.test(areaText) || !(n > 0) || n >= 1e8) reasons.push(reason('area', 'invalid_area', { 'zh-CN': `面积“${areaText}”应为大于 0 的数（最多两位小数）`, en: `Area "${areaText}" must be a number above 0 with at most two decimals` }));
    else {
      area = areaText;
      given.push('exclusive_area');
    }
  }
  const unit = unitOf(cells, cols, units, reasons);
  if (cols.unitCode !== undefined || cols.unitName !== undefined) given.push('unit_id');
  if (reasons.length || !unit) return reasons;
  return { rowNo, unitId: unit.id, address, usage, area, given };
}
