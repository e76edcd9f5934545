// Where each preset's synthetic locality lies: names of the top units, 6-digit administrative division
// codes for identity numbers and addresses, a bounding box for boundaries, and which surname table fits.
// The people are fake; the codes and place names are public administrative divisions.
import type { BBox } from '../../server/src/platform/geo.ts';
import type { Preset } from '../../server/src/modules/grid/preset.ts';
import type { SurnameTable } from './names.ts';

export interface Region {
  code: string;
  /** province + city + county, for addresses */
  name: string;
}

export interface LocalityProfile {
  /** names and codes for units above the district, top first (bengbu: 蚌埠市) */
  above: { name: string; code: string }[];
  district: { name: string; code: string };
  /** address prefix of the locality, e.g. 广东省广州市荔湾区 */
  addressPrefix: string;
  /** short city prefix for company names, e.g. 广州市 */
  cityPrefix: string;
  box: BBox;
  surnames: SurnameTable;
  /** identity-number regions of registered residents: the district's own first (most people), then neighbours */
  localRegions: Region[];
  /** where non-registered (migrant) residents are registered */
  migrantRegions: Region[];
}

const GUANGDONG_MIGRANTS: Region[] = [
  { code: '430102', name: '湖南省长沙市芙蓉区' },
  { code: '431102', name: '湖南省永州市零陵区' },
  { code: '450102', name: '广西壮族自治区南宁市兴宁区' },
  { code: '420102', name: '湖北省武汉市江岸区' },
  { code: '510104', name: '四川省成都市锦江区' },
  { code: '360102', name: '江西省南昌市东湖区' },
  { code: '410102', name: '河南省郑州市中原区' },
  { code: '441302', name: '广东省惠州市惠城区' },
  { code: '440511', name: '广东省汕头市金平区' },
  { code: '445202', name: '广东省揭阳市榕城区' },
  { code: '440802', name: '广东省湛江市赤坎区' },
  { code: '441402', name: '广东省梅州市梅江区' },
];
const NORTH_MIGRANTS: Region[] = [
  { code: '340102', name: '安徽省合肥市瑶海区' },
  { code: '320102', name: '江苏省南京市玄武区' },
  { code: '370102', name: '山东省济南市历下区' },
  { code: '410102', name: '河南省郑州市中原区' },
  { code: '130102', name: '河北省石家庄市长安区' },
  { code: '230102', name: '黑龙江省哈尔滨市道里区' },
  { code: '220102', name: '吉林省长春市南关区' },
];

export const PROFILES: Record<string, LocalityProfile> = {
  liwan: {
    above: [],
    district: { name: '荔湾区', code: '440103' },
    addressPrefix: '广东省广州市荔湾区',
    cityPrefix: '广州市',
    box: { minLng: 113.2, minLat: 23.05, maxLng: 113.28, maxLat: 23.14 },
    surnames: 'guangdong',
    localRegions: [
      { code: '440103', name: '广东省广州市荔湾区' },
      { code: '440104', name: '广东省广州市越秀区' },
      { code: '440105', name: '广东省广州市海珠区' },
      { code: '440106', name: '广东省广州市天河区' },
      { code: '440111', name: '广东省广州市白云区' },
    ],
    migrantRegions: GUANGDONG_MIGRANTS,
  },
  nanhai: {
    above: [],
    district: { name: '南海区', code: '440605' },
    addressPrefix: '广东省佛山市南海区',
    cityPrefix: '佛山市',
    box: { minLng: 112.85, minLat: 22.8, maxLng: 113.25, maxLat: 23.3 },
    surnames: 'guangdong',
    localRegions: [
      { code: '440605', name: '广东省佛山市南海区' },
      { code: '440604', name: '广东省佛山市禅城区' },
      { code: '440606', name: '广东省佛山市顺德区' },
      { code: '440607', name: '广东省佛山市三水区' },
    ],
    migrantRegions: GUANGDONG_MIGRANTS,
  },
  xiangzhou: {
    above: [],
    district: { name: '香洲区', code: '440402' },
    addressPrefix: '广东省珠海市香洲区',
    cityPrefix: '珠海市',
    box: { minLng: 113.45, minLat: 22.2, maxLng: 113.6, maxLat: 22.35 },
    surnames: 'guangdong',
    localRegions: [
      { code: '440402', name: '广东省珠海市香洲区' },
      { code: '440403', name: '广东省珠海市斗门区' },
      { code: '440404', name: '广东省珠海市金湾区' },
    ],
    migrantRegions: GUANGDONG_MIGRANTS,
  },
  luancheng: {
    above: [],
    district: { name: '栾城区', code: '130111' },
    addressPrefix: '河北省石家庄市栾城区',
    cityPrefix: '石家庄市',
    box: { minLng: 114.58, minLat: 37.8, maxLng: 114.75, maxLat: 37.95 },
    surnames: 'national',
    localRegions: [
      { code: '130111', name: '河北省石家庄市栾城区' },
      { code: '130102', name: '河北省石家庄市长安区' },
      { code: '130104', name: '河北省石家庄市桥西区' },
      { code: '130105', name: '河北省石家庄市新华区' },
    ],
    migrantRegions: NORTH_MIGRANTS,
  },
  bengbu: {
    above: [{ name: '蚌埠市', code: '340300' }],
    district: { name: '龙子湖区', code: '340302' },
    addressPrefix: '安徽省蚌埠市龙子湖区',
    cityPrefix: '蚌埠市',
    box: { minLng: 117.35, minLat: 32.85, maxLng: 117.55, maxLat: 33.0 },
    surnames: 'national',
    localRegions: [
      { code: '340302', name: '安徽省蚌埠市龙子湖区' },
      { code: '340303', name: '安徽省蚌埠市蚌山区' },
      { code: '340304', name: '安徽省蚌埠市禹会区' },
      { code: '340311', name: '安徽省蚌埠市淮上区' },
      { code: '340321', name: '安徽省蚌埠市怀远县' },
      { code: '340322', name: '安徽省蚌埠市五河县' },
      { code: '340323', name: '安徽省蚌埠市固镇县' },
    ],
    migrantRegions: NORTH_MIGRANTS.filter((r) => r.code !== '340102').concat([{ code: '340102', name: '安徽省合肥市瑶海区' }]),
  },
  chengzihe: {
    above: [],
    district: { name: '城子河区', code: '230306' },
    addressPrefix: '黑龙江省鸡西市城子河区',
    cityPrefix: '鸡西市',
    box: { minLng: 130.95, minLat: 45.3, maxLng: 131.1, maxLat: 45.4 },
    surnames: 'national',
    localRegions: [
      { code: '230306', name: '黑龙江省鸡西市城子河区' },
      { code: '230302', name: '黑龙江省鸡西市鸡冠区' },
      { code: '230303', name: '黑龙江省鸡西市恒山区' },
    ],
    migrantRegions: NORTH_MIGRANTS,
  },
};

/** The preset's own profile, or — for a preset this file does not know — Liwan's places under the preset's name. */
export function profileFor(preset: Preset): LocalityProfile {
  const known = PROFILES[preset.id];
  if (known) return known;
  const base = PROFILES.liwan;
  return { ...base, district: { name: `${preset.name['zh-CN'].split(/[：:]/)[0].slice(0, 12) || '示范区'}`, code: base.district.code } };
}
