// Display masks. The database keeps, next to each ciphertext, only the mask parts (the first 6 / first 3
// characters and the last 4), so lists and de-identified exports never need the key.
import { normaliseIdNumber, normalisePhone, type PiiKind } from './normalise.ts';

export interface MaskParts {
  head: string;
  tail: string;
}

const MIN_HIDDEN = 4;

/** How many leading and trailing characters each kind shows. */
export const MASK_SHAPE: Record<PiiKind, { head: number; tail: number; stars: number }> = {
  id_number: { head: 6, tail: 4, stars: 8 },
  phone: { head: 3, tail: 4, stars: 4 },
};

/**
 * The parts to store for a normalised value. A value too short for its shape (a malformed or short number)
 * shows less, so that at least 4 characters, or all of a value of 4 or fewer, stay hidden.
 */
export function maskParts(kind: PiiKind, normalised: string): MaskParts {
  const chars = Array.from(normalised);
  const shape = MASK_SHAPE[kind];
  let head = shape.head;
  let tail = shape.tail;
  const mayShow = Math.max(0, chars.length - MIN_HIDDEN);
  while (head + tail > mayShow) {
    if (head >= tail) head--;
    else tail--;
  }
  return { head: chars.slice(0, head).join(''), tail: tail > 0 ? chars.slice(chars.length - tail).join('') : '' };
}

/** The display form from stored parts: '110101' + '********' + '1234'. */
export function maskFromParts(kind: PiiKind, parts: MaskParts): string {
  return parts.head + '*'.repeat(MASK_SHAPE[kind].stars) + parts.tail;
}

/** '110101********1234' */
export function maskIdNumber(value: string): string {
  return maskFromParts('id_number', maskParts('id_number', normaliseIdNumber(value)));
}

/** '138****8000' */
export function maskPhone(value: string): string {
  return maskFromParts('phone', maskParts('phone', normalisePhone(value)));
}

// 复姓: two-character surnames, so '欧阳娜娜' keeps '欧阳' and not just '欧'.
const COMPOUND_SURNAMES = new Set(
  (
    '欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 端木 独孤 南宫 西门 百里 呼延 ' +
    '万俟 澹台 公冶 太史 申屠 濮阳 闻人 赫连 拓跋 司空 第五 单于 左丘 东郭 羊舌 微生 梁丘 公羊 乐正 漆雕 壤驷 ' +
    '公良 谷梁 宰父 夹谷 巫马 段干 司寇 子车 颛孙 亓官 鲜于 闾丘 仲孙 叔孙 东门 公西 南门 呼衍 钟吾 '
  )
    .trim()
    .split(/\s+/),
);

const NAME_SEPARATORS = /^[·•・.\s-]$/u;

/**
 * De-identified name: the surname stays, every other character becomes '*': '张三' → '张*', '欧阳娜娜' → '欧阳**'.
 * Separators in transliterated minority names stay ('阿依古丽·买买提' → '阿***·***'); a one-character
 * name is fully masked.
 */
export function maskName(name: string): string {
  const chars = Array.from(name.normalize('NFC').trim());
  if (chars.length <= 1) return chars.length ? '*' : '';
  const keep = chars.length >= 3 && COMPOUND_SURNAMES.has(chars[0] + chars[1]) ? 2 : 1;
  return chars.map((c, i) => (i < keep || NAME_SEPARATORS.test(c) ? c : '*')).join('');
}
