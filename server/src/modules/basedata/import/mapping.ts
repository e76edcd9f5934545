// Column mapping: which header of a ledger fills which field. Headers are matched after normalising (spaces,
// full-width brackets, case), against the names departments and the locality generator use.
import type { Messages } from '../../../platform/errors.ts';

export const IMPORT_KINDS = ['resident', 'house'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

interface FieldDef {
  label: Messages;
  required?: boolean;
  /** headers recognised, most specific first */
  headers: string[];
  /** holds personal numbers: masked in previews, error rows and reports */
  pii?: 'id_number' | 'phone';
}

export const FIELDS: Record<ImportKind, Record<string, FieldDef>> = {
  resident: {
    name: { label: { 'zh-CN': '姓名', en: 'Name' }, required: true, headers: ['姓名', '居民姓名', '人员姓名', 'name'] },
    idNumber: { label: { 'zh-CN': '公民身份号码', en: 'ID number' }, required: true, pii: 'id_number', headers: ['公民身份号码', '身份证号', '身份证号码', '身份证', '证件号码', 'idnumber', 'id_number'] },
    gender: { label: { 'zh-CN': '性别', en: 'Gender' }, headers: ['性别', 'gender'] },
    birthDate: { label: { 'zh-CN': '出生日期', en: 'Birth date' }, headers: ['出生日期', '出生年月日', 'birthdate', 'birth_date'] },
    phone: { label: { 'zh-CN': '联系电话', en: 'Phone' }, pii: 'phone', headers: ['联系电话', '手机号', '手机号码', '电话', '电话号码', 'phone'] },
    householdCode: { label: { 'zh-CN': '户编号', en: 'Household code' }, headers: ['户编号', '户号', 'householdcode', 'household_code'] },
    relationToHead: { label: { 'zh-CN': '与户主关系', en: 'Relation to head' }, headers: ['与户主关系', 'relation', 'relationtohead'] },
    registration: { label: { 'zh-CN': '户籍类型', en: 'Registration' }, headers: ['户籍类型', '人口类型', '人员类型', 'registration'] },
    address: { label: { 'zh-CN': '现住址', en: 'Address' }, headers: ['现住址', '地址', '居住地址', '现居住地址', 'address'] },
    unitCode: { label: { 'zh-CN': '网格编码', en: 'Unit code' }, headers: ['网格编码', '单元编码', 'unitcode', 'unit_code'] },
    unitName: { label: { 'zh-CN': '所属网格', en: 'Unit name' }, headers: ['所属网格', '网格', '网格名称', 'unit'] },
  },
  house: {
    address: { label: { 'zh-CN': '房屋地址', en: 'Address' }, required: true, headers: ['房屋地址', '地址', 'address'] },
    usage: { label: { 'zh-CN': '房屋用途', en: 'Usage' }, headers: ['房屋用途', '用途', 'usage'] },
    area: { label: { 'zh-CN': '专有部分面积', en: 'Exclusive area' }, headers: ['专有部分面积(㎡)', '专有部分面积', '面积', '建筑面积', 'area'] },
    unitCode: { label: { 'zh-CN': '网格编码', en: 'Unit code' }, headers: ['网格编码', '单元编码', 'unitcode', 'unit_code'] },
    unitName: { label: { 'zh-CN': '所属网格', en: 'Unit name' }, headers: ['所属网格', '网格', '网格名称', 'unit'] },
  },
};

export type Mapping = Record<string, string>;

export function normaliseHeader(h: string): string {
  return h
    .replace(/^\uFEFF/, '')
    .normalize('NFKC')
    .replace(/[\s_*＊]/g, '')
    .replace(/（/g, '(')
    .replace(/）/g, ')')
    .toLowerCase();
}

export function isField(kind: ImportKind, field: string): boolean {
  return Object.hasOwn(FIELDS[kind], field);
}

/** header → field for every header recognised; each field is taken by its first matching header. */
export function suggestMapping(kind: ImportKind, headers: string[]): Mapping {
  const mapping: Mapping = {};
  const taken = new Set<string>();
  const normalised = headers.map(normaliseHeader);
  for (const [field, def] of Object.entries(FIELDS[kind])) {
    for (const candidate of def.headers.map(normaliseHeader)) {
      const i = normalised.findIndex((h, idx) => h === candidate && !mapping[headers[idx]]);
      if (i >= 0 && !taken.has(field)) {
        mapping[headers[i]] = field;
        taken.add(field);
        break;
      }
    }
  }
  return mapping;
}

export interface ResolvedMapping {
  /** field → column index */
  columns: Record<string, number>;
  /** column index → pii kind, for masking */
  piiColumns: Map<number, 'id_number' | 'phone'>;
}

export type MappingProblem = { code: string; messages: Messages };

/** Checks a mapping against the file's headers: known fields, each once, headers present, required fields mapped. */
export function resolveMapping(kind: ImportKind, headers: string[], mapping: Mapping): ResolvedMapping | MappingProblem {
  const columns: Record<string, number> = {};
  const piiColumns = new Map<number, 'id_number' | 'phone'>();
  const byHeader = new Map(headers.map((h, i) => [h, i] as const));
  const byNormalised = new Map(headers.map((h, i) => [normaliseHeader(h), i] as const));
  for (const [header, field] of Object.entries(mapping)) {
    if (!field) continue;
    if (!isField(kind, field)) return { code: 'unknown_field', messages: { 'zh-CN': `未知字段 "${field}"`, en: `Unknown field "${field}"` } };
    const index = byHeader.get(header) ?? byNormalised.get(normaliseHeader(header));
    if (index === undefined) return { code: 'missing_column', messages: { 'zh-CN': `文件中没有列 "${header}"`, en: `The file has no column "${header}"` } };
    if (columns[field] !== undefined) return { code: 'field_twice', messages: { 'zh-CN': `字段 "${FIELDS[kind][field].label['zh-CN']}" 对应了多列`, en: `Field "${FIELDS[kind][field].label.en}" is mapped from more than one column` } };
    columns[field] = index;
    const pii = FIELDS[kind][field].pii;
    if (pii) piiColumns.set(index, pii);
  }
  for (const [field, def] of Object.entries(FIELDS[kind])) {
    if (def.required && columns[field] === undefined) {
      return { code: 'required_field_unmapped', messages: { 'zh-CN': `必填字段 "${def.label['zh-CN']}" 没有对应的列`, en: `The required field "${def.label.en}" is not mapped to a column` } };
    }
  }
  return { columns, piiColumns };
}

const ID_LIKE = /\d{6}(?:\d{8}|\d{6})\d{3}[\dXx]/g;
const MOBILE_LIKE = /(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)/g;

/** Masks a personal number for display, whatever state it is in (valid or not). */
export function maskValue(kind: 'id_number' | 'phone', value: string): string {
  const v = value.trim();
  if (!v) return v;
  const chars = Array.from(v);
  // the display shapes of docs/personal-data.md for numbers of the usual length ('110101********1234', '138****8000'),
  // and proportionally less for anything shorter (a mistyped number must not show more than a right one)
  const full = kind === 'id_number' ? chars.length >= 15 : chars.length >= 11;
  const head = full ? (kind === 'id_number' ? 6 : 3) : Math.floor(chars.length / 4);
  const tail = full ? 4 : Math.floor(chars.length / 4);
  return chars.slice(0, head).join('') + '*'.repeat(Math.max(1, chars.length - head - tail)) + chars.slice(chars.length - tail).join('');
}

/** Masks cells of personal-number columns, and anything in other cells that looks like an ID or mobile number. */
export function maskCells(cells: string[], piiColumns: Map<number, 'id_number' | 'phone'>): string[] {
  return cells.map((c, i) => {
    const kind = piiColumns.get(i);
    if (kind) return maskValue(kind, c);
    return c.replace(ID_LIKE, (m) => maskValue('id_number', m)).replace(MOBILE_LIKE, (m) => maskValue('phone', m));
  });
}
