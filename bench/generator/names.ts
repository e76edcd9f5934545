// Chinese personal names, place names, road and organisation names for synthetic localities.
// Surnames are weighted by their share of the population (national ranking after the 2020 census;
// the Guangdong table after provincial public-security statistics), rounded to two decimals.
// Given names are one or two characters drawn from pools that differ by sex and, a little, by era.
import type { Random } from '../../server/src/platform/random.ts';
import { Weighted } from './rng.ts';

type Table = readonly (readonly [string, number])[];

const NATIONAL: Table = [
  ['王', 7.12], ['李', 7.0], ['张', 6.74], ['刘', 5.38], ['陈', 4.53], ['杨', 3.08], ['黄', 2.23], ['赵', 2.0],
  ['吴', 1.88], ['周', 1.87], ['徐', 1.48], ['孙', 1.42], ['马', 1.3], ['朱', 1.21], ['胡', 1.15], ['郭', 1.13],
  ['何', 1.03], ['林', 0.99], ['罗', 0.98], ['高', 0.97], ['郑', 0.86], ['梁', 0.83], ['谢', 0.78], ['宋', 0.66],
  ['唐', 0.65], ['许', 0.61], ['韩', 0.59], ['邓', 0.58], ['冯', 0.58], ['曹', 0.55], ['彭', 0.53], ['曾', 0.51],
  ['肖', 0.5], ['田', 0.49], ['董', 0.47], ['潘', 0.45], ['袁', 0.45], ['蔡', 0.43], ['蒋', 0.42], ['余', 0.41],
  ['于', 0.41], ['杜', 0.4], ['叶', 0.39], ['程', 0.38], ['魏', 0.37], ['苏', 0.37], ['吕', 0.36], ['丁', 0.35],
  ['任', 0.35], ['卢', 0.34], ['姚', 0.33], ['沈', 0.33], ['钟', 0.32], ['姜', 0.31], ['崔', 0.3], ['谭', 0.3],
  ['陆', 0.29], ['范', 0.28], ['汪', 0.28], ['廖', 0.28], ['石', 0.28], ['金', 0.27], ['韦', 0.26], ['贾', 0.26],
  ['夏', 0.25], ['付', 0.25], ['方', 0.24], ['邹', 0.23], ['熊', 0.23], ['白', 0.23], ['孟', 0.23], ['秦', 0.22],
  ['邱', 0.22], ['侯', 0.22], ['江', 0.22], ['尹', 0.21], ['薛', 0.2], ['闫', 0.2], ['段', 0.19], ['雷', 0.19],
  ['龙', 0.18], ['黎', 0.18], ['史', 0.18], ['陶', 0.17], ['贺', 0.17], ['毛', 0.16], ['郝', 0.16], ['顾', 0.15],
  ['龚', 0.15], ['邵', 0.15], ['万', 0.15], ['覃', 0.14], ['武', 0.14], ['钱', 0.14], ['戴', 0.14], ['严', 0.14],
  ['莫', 0.13], ['孔', 0.13], ['向', 0.13], ['常', 0.12], ['欧阳', 0.05], ['上官', 0.01], ['诸葛', 0.01],
];

const GUANGDONG: Table = [
  ['陈', 7.6], ['李', 5.9], ['黄', 5.6], ['张', 3.8], ['梁', 3.4], ['林', 3.3], ['刘', 3.2], ['吴', 2.7],
  ['罗', 2.3], ['杨', 2.2], ['何', 2.0], ['郑', 1.9], ['周', 1.6], ['谢', 1.6], ['钟', 1.4], ['郭', 1.4],
  ['邓', 1.3], ['叶', 1.3], ['曾', 1.3], ['蔡', 1.1], ['冯', 1.1], ['王', 1.1], ['许', 1.0], ['赖', 0.9],
  ['苏', 0.9], ['卢', 0.9], ['潘', 0.8], ['朱', 0.8], ['廖', 0.7], ['彭', 0.7], ['温', 0.6], ['胡', 0.6],
  ['余', 0.6], ['邱', 0.6], ['谭', 0.6], ['江', 0.5], ['庄', 0.5], ['麦', 0.5], ['方', 0.5], ['欧', 0.4],
  ['关', 0.4], ['莫', 0.4], ['袁', 0.4], ['伍', 0.4], ['区', 0.3], ['萧', 0.3], ['陆', 0.3], ['骆', 0.2],
  ['冼', 0.2], ['韦', 0.2], ['严', 0.2], ['简', 0.2], ['欧阳', 0.2], ['司徒', 0.1], ['植', 0.1], ['招', 0.1],
];

export type SurnameTable = 'national' | 'guangdong';
const SURNAMES: Record<SurnameTable, Weighted<string>> = { national: new Weighted(NATIONAL), guangdong: new Weighted(GUANGDONG) };

const MALE = '伟强磊军勇杰涛明超华平刚辉鹏斌宇浩凯俊峰健波毅鑫志国建文德海东荣成林龙晨博睿轩梓宏锦家嘉豪永振金兴锋洪亮坤彬伦炜';
const FEMALE = '芳敏静丽艳娟霞燕玲婷雪慧颖琳倩欣怡洁莉萍红梅兰秀英丹佳晓雅诗思彤琪萱妍淑桂凤珍玉月薇璐蓉翠娜茜';
const NEUTRAL = '子宇嘉俊晓文家海春秋清志佳思一若';
const OLD_MALE = ['建国', '国强', '建华', '志强', '国华', '卫东', '建军', '振华', '德明', '永福', '锦荣', '炳坤', '汉文', '耀祖', '润生'];
const OLD_FEMALE = ['秀英', '桂英', '玉兰', '淑珍', '秀兰', '凤英', '少芬', '玉梅', '桂芳', '惠珍', '丽华', '月娥', '瑞芳', '彩霞'];

function pickChar(rng: Random, pool: string): string {
  return pool[Math.floor(rng.next() * pool.length)];
}

/** A given name of 1 or 2 characters; people born before 1965 often carry an era name. */
export function givenName(rng: Random, male: boolean, birthYear: number): string {
  if (birthYear < 1965 && rng.chance(0.35)) return rng.pick(male ? OLD_MALE : OLD_FEMALE);
  const pool = male ? MALE : FEMALE;
  if (rng.chance(0.18)) return pickChar(rng, pool);
  const first = rng.chance(0.25) ? pickChar(rng, NEUTRAL) : pickChar(rng, pool);
  let second = pickChar(rng, pool);
  if (second === first) second = pickChar(rng, pool);
  return first + second;
}

export function surname(rng: Random, table: SurnameTable): string {
  return SURNAMES[table].pick(rng);
}

export function personName(rng: Random, table: SurnameTable, male: boolean, birthYear: number): string {
  return surname(rng, table) + givenName(rng, male, birthYear);
}

// Two-syllable place names, in the style of Lingnan and northern toponyms alike.
const PLACE_FIRST = '桂大里丹狮西九罗金沙石逢华多龙昌彩岭茶白鹤海中南东冲桥花芳平凤新兴永福安和瑞康泰宝景云青';
const PLACE_SECOND = '城沥水山樵江源林宝津华虹南洞滘岗涌田坑塘头围岸溪湾地园庄堡营屯河湖坪洲圩埔湖';

/** Any two-character place name (repeats allowed). */
export function randomPlace(rng: Random): string {
  return pickChar(rng, PLACE_FIRST) + pickChar(rng, PLACE_SECOND);
}

/** A two-character place name not already in `taken` (which it extends). */
export function placeName(rng: Random, taken: Set<string>): string {
  for (let attempt = 0; attempt < 200; attempt++) {
    const name = pickChar(rng, PLACE_FIRST) + pickChar(rng, PLACE_SECOND);
    if (name[0] !== name[1] && !taken.has(name)) {
      taken.add(name);
      return name;
    }
  }
  // The pools give ~2,000 names; past that, a third character keeps names distinct.
  for (;;) {
    const name = pickChar(rng, PLACE_FIRST) + pickChar(rng, PLACE_SECOND) + pickChar(rng, PLACE_FIRST);
    if (!taken.has(name)) {
      taken.add(name);
      return name;
    }
  }
}

const ROAD_SUFFIX = new Weighted<string>([['路', 5], ['街', 3], ['大道', 1], ['巷', 2], ['里', 1], ['东路', 1], ['西路', 1], ['北路', 1], ['南路', 1]]);

/** `n` distinct road names (e.g. 宝华路, 龙津西路, 昌华大道). */
export function roadNames(rng: Random, n: number): string[] {
  const taken = new Set<string>();
  const out: string[] = [];
  const bases = new Set<string>();
  while (out.length < n) {
    const base = placeName(rng, bases);
    const name = base + ROAD_SUFFIX.pick(rng);
    if (!taken.has(name)) {
      taken.add(name);
      out.push(name);
    }
  }
  return out;
}

const TRADES = ['五金', '餐饮', '贸易', '电子', '服装', '茶叶', '药房', '便利店', '物流', '装饰', '文具', '粮油', '水产', '美发', '维修', '印刷', '家具', '眼镜'];
const COMPANY_SUFFIX = new Weighted<string>([['有限公司', 5], ['商行', 2], ['店', 3], ['经营部', 1]]);
const SOCIAL_ORGS = ['社工服务中心', '长者服务站', '志愿者协会', '文化促进会', '慈善会', '邻里互助会', '青少年活动中心', '残疾人康复站'];

export function businessName(rng: Random, cityPrefix: string, place: string): string {
  const trade = rng.pick(TRADES);
  const suffix = COMPANY_SUFFIX.pick(rng);
  return suffix === '有限公司' ? `${cityPrefix}${place}${trade}${suffix}` : `${place}${trade}${suffix}`;
}

export function socialOrgName(rng: Random, place: string): string {
  return `${place}${rng.pick(SOCIAL_ORGS)}`;
}

/** 民族: 汉族 for most, a few of the larger minorities. */
export const ETHNICITIES = new Weighted<string>([
  ['汉族', 96.5], ['壮族', 0.9], ['回族', 0.5], ['满族', 0.4], ['苗族', 0.4], ['土家族', 0.4], ['瑶族', 0.3], ['蒙古族', 0.2], ['彝族', 0.2], ['侗族', 0.2],
]);

/** Chinese numerals for small counts in names: 第一网格 reads better than 第1网格 in some presets. */
export function chineseNumber(n: number): string {
  const digits = '零一二三四五六七八九';
  if (n < 10) return digits[n];
  if (n < 20) return `十${n % 10 ? digits[n % 10] : ''}`;
  if (n < 100) return `${digits[Math.floor(n / 10)]}十${n % 10 ? digits[n % 10] : ''}`;
  return String(n);
}
