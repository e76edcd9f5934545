// The deterministic locality generator: a pure function of (preset, scale, seed, options) that streams
// the records of a synthetic locality — the unit tree with boundaries, party organisations, staff posts
// with a few deliberate gaps, then grid by grid the houses, households, residents and party members, and
// on request histories (demands, council votes).
//
// Memory: the structure (units, staff, party organisations: ~60k records at Liwan scale) is built up
// front; the population is generated one grid at a time and yielded, so nothing proportional to the
// number of residents is kept except fixed-size counters (IdAllocator, per-unit tallies).
import type { Preset, PresetUnitKind, PartyOrgKind } from '../../server/src/modules/grid/preset.ts';
import { PARTY_ORG_KINDS } from '../../server/src/modules/grid/preset.ts';
import type { BBox } from '../../server/src/platform/geo.ts';
import { IdAllocator } from './idcard.ts';
import { boxPolygon, tileBox } from './geometry.ts';
import { ETHNICITIES, businessName, givenName, personName, placeName, randomPlace, roadNames, socialOrgName, surname } from './names.ts';
import { addDays, birthDateForAge, fromDay, headAge, mobileNumber, toDay, yearOf } from './people.ts';
import { profileFor, type LocalityProfile, type Region } from './profiles.ts';
import { Rng, Weighted, splitCount } from './rng.ts';
import { deriveShape, type Scale, type Shape } from './scales.ts';
import type {
  Batch,
  GapRecord,
  HouseRecord,
  HouseholdKind,
  HouseholdRecord,
  PartyCategory,
  PartyMemberRecord,
  PartyOrgRecord,
  RecordType,
  ResidentRecord,
  StaffRecord,
  UnitRecord,
} from './records.ts';
import { HistoryGenerator, UnitTallies } from './history.ts';

export interface GeneratorOptions {
  seed: number;
  /** the date the locality is described at; posts, memberships and histories end on or before it */
  asOf?: string;
  /** chance that a mandatory slot (party organisation, leader, required role) is left empty */
  gapRate?: number;
  withHistory?: boolean;
  /** demands per 1,000 residents over the year before asOf */
  demandsPer1000?: number;
  /** rows per structure batch */
  batchSize?: number;
}

export const DEFAULT_AS_OF = '2026-06-30';
export const DEFAULT_GAP_RATE = 0.005;

/** Household mix; migrants are a larger share in Nanhai's industrial towns. */
const HOUSEHOLD_KINDS: Record<string, [HouseholdKind, number][]> = {
  default: [['registered_family', 70], ['non_registered_family', 25], ['business', 4], ['social_org', 1]],
  nanhai: [['registered_family', 52], ['non_registered_family', 42], ['business', 5], ['social_org', 1]],
};
const FAMILY_SIZE = new Weighted<number>([[1, 18], [2, 28], [3, 27], [4, 15], [5, 8], [6, 4]]);
const MIGRANT_SIZE = new Weighted<number>([[1, 35], [2, 25], [3, 22], [4, 12], [5, 6]]);
const WORKING_AGE_CATEGORY = new Weighted<PartyCategory>([['in_service', 45], ['ordinary', 37], ['unemployed', 10], ['floating', 8]]);
const HOUSE_USE = new Weighted<HouseRecord['use']>([['住宅', 92], ['商铺', 6], ['办公', 2]]);

export const CATEGORY_LABELS: Record<PartyCategory, string> = {
  ordinary: '普通党员',
  in_service: '在职党员',
  floating: '流动党员',
  unemployed: '无业党员',
  elderly: '离退休老党员',
};
export const HOUSEHOLD_KIND_LABELS: Record<HouseholdKind, string> = {
  registered_family: '户籍家庭户',
  non_registered_family: '非户籍家庭户',
  business: '工商企业户',
  social_org: '社会组织户',
};

/** Preference between the party-organisation kinds a unit kind allows. */
const ORG_KIND_WEIGHT: Record<PartyOrgKind, number> = { working_committee: 1, committee: 1, general_branch: 0.35, branch: 1, group: 1 };
const ORG_NAME: Record<PartyOrgKind, (label: string) => string> = {
  working_committee: (l) => `中共${l}工作委员会`,
  committee: (l) => `中共${l}委员会`,
  general_branch: (l) => `中共${l}总支部委员会`,
  branch: (l) => `中共${l}支部委员会`,
  group: (l) => `${l}党小组`,
};

interface UnitInfo extends UnitRecord {
  kindDef: PresetUnitKind;
  index: number;
  children: number[];
  box: BBox | null;
  /** the unit's party organisation (seq), if any */
  orgSeq: number | null;
  orgKind: PartyOrgKind | null;
}

export interface GeneratorSummary {
  preset: string;
  scale: string;
  seed: number;
  asOf: string;
  counts: Record<RecordType, number>;
  gaps: GapRecord[];
  levels: { depth: number; kinds: string[]; count: number }[];
}

export class Locality {
  readonly shape: Shape;
  readonly profile: LocalityProfile;
  readonly asOf: string;
  readonly gapRate: number;
  readonly units: UnitInfo[] = [];
  readonly staff: StaffRecord[] = [];
  readonly partyOrgs: PartyOrgRecord[] = [];
  readonly gaps: GapRecord[] = [];
  readonly gridSeqs: number[] = [];
  readonly counts: Record<RecordType, number> = { unit: 0, staff: 0, party_org: 0, house: 0, household: 0, resident: 0, party_member: 0, demand: 0, council_vote: 0 };
  private readonly kinds: Map<string, PresetUnitKind>;
  private readonly residentsPerGrid: number[];
  private readonly housesPerGrid: number[];
  private readonly roads: string[];
  private readonly gridDepth: number;

  constructor(
    readonly preset: Preset,
    readonly scale: Scale,
    readonly options: GeneratorOptions,
  ) {
    this.shape = deriveShape(preset, scale);
    this.profile = profileFor(preset);
    this.asOf = options.asOf ?? DEFAULT_AS_OF;
    this.gapRate = options.gapRate ?? DEFAULT_GAP_RATE;
    this.kinds = new Map(preset.unitKinds.map((k) => [k.code, k]));
    this.gridDepth = this.shape.ancestors.length + this.shape.gridLevel;
    this.buildTree();
    const rng = this.rng('population-split');
    this.residentsPerGrid = splitCount(scale.residents, this.gridSeqs.length, rng, 0.5, 1);
    this.housesPerGrid = splitCount(scale.houses, this.gridSeqs.length, rng, 0.5, 1);
    this.roads = roadNames(this.rng('roads'), Math.max(12, Math.ceil(this.gridSeqs.length * 0.8)));
    this.buildPostsAndOrgs();
  }

  private rng(...parts: (string | number)[]): Rng {
    return Rng.of(this.options.seed, this.preset.id, this.scale.name, ...parts);
  }

  unit(seq: number): UnitInfo {
    return this.units[seq - 1];
  }

  // ---------------------------------------------------------------------------------------------
  // Structure

  private addUnit(parent: UnitInfo | null, kindCode: string, name: string, code: string, box: BBox | null, index: number): UnitInfo {
    const kindDef = this.kinds.get(kindCode)!;
    const depth = parent ? parent.depth + 1 : 0;
    const seq = this.units.length + 1;
    const unit: UnitInfo = {
      seq,
      parentSeq: parent?.seq ?? null,
      depth,
      kind: kindCode,
      name,
      code,
      label: name,
      boundary: box ? boxPolygon(box) : null,
      kindDef,
      index,
      children: [],
      box,
      orgSeq: null,
      orgKind: null,
    };
    // Offices name a unit from the level above the grid down (文昌社区第1网格); higher units by their own name.
    const labelFrom = Math.max(0, this.gridDepth - 1);
    if (parent && depth > labelFrom && parent.depth >= labelFrom) unit.label = parent.label + name;
    this.units.push(unit);
    parent?.children.push(seq);
    return unit;
  }

  private buildTree() {
    const { shape, profile } = this;
    const rng = this.rng('tree');
    const places = new Set<string>();
    let parent: UnitInfo | null = null;
    shape.ancestors.forEach((kind, i) => {
      const top = profile.above[i] ?? { name: this.kinds.get(kind)!.name['zh-CN'], code: profile.district.code.slice(0, 4) + '00' };
      parent = this.addUnit(parent, kind, top.name, top.code, { ...profile.box }, 1);
    });
    const districtKind = shape.levels[0].kinds[0];
    const district = this.addUnit(parent, districtKind, profile.district.name, profile.district.code, { ...profile.box }, 1);
    let previous: UnitInfo[] = [district];
    for (let level = 1; level < shape.levels.length; level++) {
      const capable = previous.filter((p) => shape.childKinds(p.kind, level - 1).length > 0);
      if (!capable.length) break;
      const total = Math.max(shape.levels[level].count, capable.length);
      const perParent = splitCount(total, capable.length, rng, 0.45, 1);
      const width = Math.max(level === 1 ? 3 : 2, String(Math.max(...perParent)).length);
      const current: UnitInfo[] = [];
      capable.forEach((p, pi) => {
        const n = perParent[pi];
        const kindPick = new Weighted(shape.childKinds(p.kind, level - 1).map((k) => [k, shape.kindWeight(k)] as const));
        const boxes = level <= shape.gridLevel && p.box ? tileBox(p.box, n, rng) : [];
        const perKind = new Map<string, number>();
        for (let i = 0; i < n; i++) {
          const kind = kindPick.pick(rng);
          const k = (perKind.get(kind) ?? 0) + 1;
          perKind.set(kind, k);
          const name = this.unitName(kind, k, rng, places);
          current.push(this.addUnit(p, kind, name, p.code + String(i + 1).padStart(width, '0'), boxes[i] ?? null, i + 1));
        }
      });
      previous = current;
      if (level === shape.gridLevel) this.gridSeqs.push(...current.map((u) => u.seq));
    }
  }

  private unitName(kind: string, n: number, rng: Rng, places: Set<string>): string {
    const zh = this.kinds.get(kind)!.name['zh-CN'];
    const place = () => placeName(rng, places);
    switch (kind) {
      case 'street':
        return `${place()}街道`;
      case 'town':
        return `${place()}镇`;
      case 'township':
        return `${place()}乡`;
      case 'town_street':
        return `${place()}${rng.chance(0.5) ? '街道' : rng.chance(0.8) ? '镇' : '乡'}`;
      case 'community':
        return `${place()}社区`;
      case 'village':
        return `${place()}村`;
      case 'natural_village':
        return `${surname(rng, this.profile.surnames)}${rng.pick(['家庄', '家洼', '家营', '家湾', '庄', '圩'])}${n}`;
      case 'economic_cooperative':
        return `${place()}经济社`;
      case 'residential_compound':
      case 'compound':
        return `${place()}${rng.pick(['花园', '小区', '苑', '新村', '雅居', '家园'])}`;
      case 'grid':
        return `第${n}网格`;
      case 'building':
        return `${n}号楼`;
      case 'responsibility_zone':
        return `第${n}责任区`;
      case 'household_contact_group':
        return `第${n}户联系党小组`;
      case 'courtyard':
        return `${n}号院`;
      case 'contact_households':
        return `第${n}党员联系户组`;
      default:
        return `第${n}${zh}`;
    }
  }

  private buildPostsAndOrgs() {
    const asOfDay = toDay(this.asOf);
    for (const unit of this.units) {
      const rng = this.rng('posts', unit.seq);
      const gapRng = this.rng('gaps', unit.seq);
      let leaderSeq: number | null = null;
      for (const role of unit.kindDef.roles) {
        const mandatory = !!(role.required || role.leader);
        const single = !!role.leader || role.maxHolders === 1;
        const female = role.code.includes('worker') ? 0.62 : 0.4;
        const person = (startedOn: string, endedOn: string | null): StaffRecord => {
          const male = !rng.chance(female);
          const birthYear = rng.int(1962, 1996);
          const s: StaffRecord = {
            seq: this.staff.length + 1,
            unitSeq: unit.seq,
            kind: unit.kind,
            role: role.code,
            name: personName(rng, this.profile.surnames, male, birthYear),
            gender: male ? '男' : '女',
            phone: mobileNumber(rng),
            startedOn,
            endedOn,
          };
          this.staff.push(s);
          return s;
        };
        const start = () => fromDay(rng.int(toDay('2016-01-01'), asOfDay - 30));
        if (mandatory) {
          if (gapRng.chance(this.gapRate)) {
            const how = gapRng.chance(0.5) ? 'ended' : 'never';
            if (how === 'ended') {
              const endedDay = rng.int(asOfDay - 300, asOfDay - 1);
              person(fromDay(rng.int(toDay('2015-01-01'), endedDay - 200)), fromDay(endedDay));
            }
            this.gaps.push({ unitSeq: unit.seq, gap: role.leader ? 'leader' : 'role', role: role.code, how });
            continue;
          }
          const holders = single ? 1 : rng.int(1, Math.min(role.maxHolders ?? (role.code === 'contact_member' ? 5 : 2), role.code === 'contact_member' ? 5 : 2));
          for (let h = 0; h < holders; h++) {
            const startedOn = start();
            // Some leaders had a predecessor whose post ended the day before.
            if (role.leader && h === 0 && rng.chance(0.12)) {
              const prevStart = fromDay(rng.int(toDay('2010-01-01'), toDay(startedOn) - 100));
              person(prevStart, addDays(startedOn, -1));
            }
            const s = person(startedOn, null);
            if (role.leader && h === 0) leaderSeq = s.seq;
          }
        } else {
          const holders = single ? (rng.chance(0.5) ? 1 : 0) : rng.chance(0.5) ? rng.int(1, Math.min(role.maxHolders ?? 3, 3)) : 0;
          for (let h = 0; h < holders; h++) person(start(), null);
        }
      }
      if (unit.kindDef.requiresPartyOrg === false) continue;
      if (gapRng.chance(this.gapRate)) {
        this.gaps.push({ unitSeq: unit.seq, gap: 'party_org', role: null, how: 'never' });
        continue;
      }
      const orgKind = this.orgKindFor(unit, rng);
      const founded = this.foundingWindow(unit.depth);
      const org: PartyOrgRecord = {
        seq: this.partyOrgs.length + 1,
        unitSeq: unit.seq,
        kind: orgKind,
        name: ORG_NAME[orgKind](this.orgLabel(unit)),
        foundedOn: fromDay(rng.int(toDay(founded[0]), Math.min(toDay(founded[1]), asOfDay - 366))),
        secretaryStaffSeq: leaderSeq,
      };
      this.partyOrgs.push(org);
      unit.orgSeq = org.seq;
      unit.orgKind = orgKind;
    }
  }

  /** 中共广州市荔湾区委员会, 中共蚌埠市委员会, 中共文昌社区委员会 … */
  private orgLabel(unit: UnitInfo): string {
    const districtDepth = this.shape.ancestors.length;
    if (unit.depth === districtDepth && districtDepth === 0) return `${this.profile.cityPrefix}${unit.name}`;
    if (unit.depth === districtDepth) return `${this.unit(unit.parentSeq!).name}${unit.name}`;
    return unit.label;
  }

  private orgKindFor(unit: UnitInfo, rng: Rng): PartyOrgKind {
    const allowed = (unit.kindDef.partyOrgKinds ?? [...PARTY_ORG_KINDS]) as PartyOrgKind[];
    if (allowed.length === 1) return allowed[0];
    // A 街道 has a working committee, a 镇/乡 a committee.
    if (allowed.includes('working_committee') && unit.name.endsWith('街道')) return 'working_committee';
    if (allowed.includes('committee') && (unit.depth <= this.shape.ancestors.length || /[镇乡]$/.test(unit.name))) return 'committee';
    const usable = allowed.filter((k) => k !== 'working_committee' || unit.name.endsWith('街道'));
    return new Weighted(usable.map((k) => [k, ORG_KIND_WEIGHT[k]] as const)).pick(rng);
  }

  private foundingWindow(depth: number): [string, string] {
    const rel = depth - this.shape.ancestors.length;
    if (rel <= 0) return ['1949-10-01', '1956-12-31'];
    if (rel === 1) return ['1955-01-01', '2005-12-31'];
    if (rel < this.shape.gridLevel) return ['1990-01-01', '2015-12-31'];
    if (rel === this.shape.gridLevel) return ['2008-01-01', '2021-12-31'];
    return ['2014-01-01', '2024-12-31'];
  }

  // ---------------------------------------------------------------------------------------------
  // The stream

  *batches(): Generator<Batch> {
    const size = this.options.batchSize ?? 5000;
    const structure: [RecordType, unknown[]][] = [
      ['unit', this.units.map(publicUnit)],
      ['staff', this.staff],
      ['party_org', this.partyOrgs],
    ];
    for (const [type, rows] of structure) {
      for (let i = 0; i < rows.length; i += size) {
        const chunk = rows.slice(i, i + size);
        this.counts[type] += chunk.length;
        yield { type, rows: chunk } as Batch;
      }
    }
    const population = new PopulationGenerator(this);
    const history = this.options.withHistory ? new HistoryGenerator(this, population.tallies) : null;
    for (let g = 0; g < this.gridSeqs.length; g++) {
      const grid = population.grid(g, this.residentsPerGrid[g], this.housesPerGrid[g]);
      for (const batch of [
        { type: 'house', rows: grid.houses },
        { type: 'household', rows: grid.households },
        { type: 'resident', rows: grid.residents },
        { type: 'party_member', rows: grid.members },
      ] as Batch[]) {
        if (!batch.rows.length) continue;
        this.counts[batch.type] += batch.rows.length;
        yield batch;
      }
      if (history) {
        for (const batch of history.forGrid(this.gridSeqs[g], grid.residents)) {
          this.counts[batch.type] += batch.rows.length;
          yield batch;
        }
      }
    }
    if (history) {
      for (const batch of history.aboveGrids()) {
        this.counts[batch.type] += batch.rows.length;
        yield batch;
      }
    }
  }

  summary(): GeneratorSummary {
    return {
      preset: this.preset.id,
      scale: this.scale.name,
      seed: this.options.seed,
      asOf: this.asOf,
      counts: { ...this.counts },
      gaps: [...this.gaps],
      levels: this.shape.levels.map((l) => ({ depth: l.depth, kinds: l.kinds, count: l.count })),
    };
  }

  /** Roads of the locality, a grid's share picked by its index. */
  roadsOfGrid(gridIndex: number, rng: Rng): string[] {
    const a = this.roads[(gridIndex * 2) % this.roads.length];
    const b = this.roads[(gridIndex * 2 + 1 + rng.int(0, 3)) % this.roads.length];
    return a === b ? [a] : [a, b];
  }

  get gridDepthInTree() {
    return this.gridDepth;
  }
}

function publicUnit(u: UnitInfo): UnitRecord {
  return { seq: u.seq, parentSeq: u.parentSeq, depth: u.depth, kind: u.kind, name: u.name, code: u.code, label: u.label, boundary: u.boundary };
}

// -------------------------------------------------------------------------------------------------
// Population, one grid at a time

interface GridPopulation {
  houses: HouseRecord[];
  households: HouseholdRecord[];
  residents: ResidentRecord[];
  members: PartyMemberRecord[];
}

interface Member {
  relation: string;
  age: number;
  male: boolean;
  surname: string;
}

class PopulationGenerator {
  readonly tallies: UnitTallies;
  private readonly ids: IdAllocator;
  private readonly householdKinds: Weighted<HouseholdKind>;
  private readonly localRegions: Weighted<Region>;
  private readonly migrantRegions: Weighted<Region>;
  private houseCounter = 0;
  private householdCounter = 0;
  private residentCounter = 0;

  constructor(private readonly loc: Locality) {
    const p = loc.profile;
    this.ids = new IdAllocator([...p.localRegions, ...p.migrantRegions].map((r) => r.code));
    this.householdKinds = new Weighted(HOUSEHOLD_KINDS[loc.preset.id] ?? HOUSEHOLD_KINDS.default);
    this.localRegions = new Weighted(p.localRegions.map((r, i) => [r, i === 0 ? 85 : 15 / (p.localRegions.length - 1 || 1)] as const));
    this.migrantRegions = new Weighted(p.migrantRegions.map((r) => [r, 1] as const));
    this.tallies = new UnitTallies(loc.units.length);
  }

  /** Lowest units of the grid's subtree (its leaves), or the grid itself. */
  private leavesOf(seq: number): number[] {
    const unit = this.loc.unit(seq);
    if (!unit.children.length) return [seq];
    return unit.children.flatMap((c) => this.leavesOf(c));
  }

  private partyOrgOf(unitSeq: number): number | null {
    // Members belong to the nearest organisation that is not a party group (groups are subdivisions of a branch).
    for (let u: UnitInfo | undefined = this.loc.unit(unitSeq); u; u = u.parentSeq ? this.loc.unit(u.parentSeq) : undefined) {
      if (u.orgSeq && u.orgKind !== 'group') return u.orgSeq;
    }
    return null;
  }

  grid(gridIndex: number, residents: number, houseCount: number): GridPopulation {
    const loc = this.loc;
    const gridSeq = loc.gridSeqs[gridIndex];
    const grid = loc.unit(gridSeq);
    const rng = Rng.of(loc.options.seed, loc.preset.id, loc.scale.name, 'grid', gridSeq);
    const asOf = loc.asOf;
    const profile = loc.profile;
    const leaves = this.leavesOf(gridSeq);
    const roads = loc.roadsOfGrid(gridIndex, rng);
    const out: GridPopulation = { houses: [], households: [], residents: [], members: [] };

    // ---- houses: spread over the grid's lowest units; addresses from the unit just below the grid ----
    const houses: (HouseRecord & { areaCents: number })[] = [];
    const anchorNumber = new Map<number, { road: string; no: number; next: number; perFloor: number }>();
    let streetNo = rng.int(1, 40);
    for (let i = 0; i < houseCount; i++) {
      const leaf = leaves[i % leaves.length];
      let anchorSeq = leaf;
      while (anchorSeq !== gridSeq && loc.unit(anchorSeq).parentSeq !== gridSeq) anchorSeq = loc.unit(anchorSeq).parentSeq!;
      let address: string;
      if (anchorSeq === gridSeq) {
        address = `${profile.addressPrefix}${roads[i % roads.length]}${streetNo}号`;
        streetNo += rng.int(1, 3);
      } else {
        let a = anchorNumber.get(anchorSeq);
        if (!a) {
          a = { road: rng.pick(roads), no: streetNo, next: 0, perFloor: rng.int(2, 6) };
          streetNo += rng.int(1, 4);
          anchorNumber.set(anchorSeq, a);
        }
        const floor = 1 + Math.floor(a.next / a.perFloor);
        const room = (a.next % a.perFloor) + 1;
        a.next++;
        address = `${profile.addressPrefix}${a.road}${a.no}号${loc.unit(anchorSeq).name}${floor}${String(room).padStart(2, '0')}房`;
      }
      const use = HOUSE_USE.pick(rng);
      const sqm = use === '住宅' ? rng.normal(78, 24, 28, 220) : use === '商铺' ? rng.normal(48, 25, 12, 300) : rng.normal(120, 60, 40, 400);
      const areaCents = Math.round(sqm * 100);
      houses.push({
        houseNo: `F${String(++this.houseCounter).padStart(8, '0')}`,
        gridSeq,
        unitSeq: leaf,
        address,
        use,
        area: (areaCents / 100).toFixed(2),
        ownerName: '',
        ownerIdNumber: '',
        ownerPhone: '',
        ownerResidentNo: null,
        areaCents,
      });
    }

    // ---- households and residents ----
    let placed = 0;
    let houseCursor = 0;
    while (placed < residents) {
      const kind = this.householdKinds.pick(rng);
      const house = houses.length ? houses[houseCursor++ % houses.length] : null;
      const firstInHouse = houseCursor <= houses.length;
      const migrant = kind === 'non_registered_family';
      let size = kind === 'registered_family' ? FAMILY_SIZE.pick(rng) : migrant ? MIGRANT_SIZE.pick(rng) : rng.int(1, kind === 'business' ? 4 : 3);
      size = Math.min(size, residents - placed);
      const members = kind === 'registered_family' || migrant ? this.family(rng, size, migrant) : this.collective(rng, size);
      const region = migrant ? this.migrantRegions.pick(rng) : this.localRegions.pick(rng);
      const currentAddress = house?.address ?? `${profile.addressPrefix}${roads[0]}${rng.int(1, 300)}号`;
      const registeredAddress = migrant ? `${region.name}${randomPlace(rng)}镇${randomPlace(rng)}村${rng.int(1, 200)}号` : currentAddress;
      const householdNo = `H${String(++this.householdCounter).padStart(8, '0')}`;
      const unitSeq = house?.unitSeq ?? leaves[0];
      const orgName = kind === 'business' ? businessName(rng, profile.cityPrefix, randomPlace(rng)) : kind === 'social_org' ? socialOrgName(rng, loc.unit(grid.parentSeq ?? gridSeq).name.replace(/(社区|村|街道|镇)$/, '')) : null;
      const people: ResidentRecord[] = [];
      for (const m of members) {
        const birthDate = birthDateForAge(rng, m.age, asOf);
        const personRegion = migrant ? region : m.relation === '户主' || m.relation === '配偶' ? region : rng.chance(0.9) ? loc.profile.localRegions[0] : region;
        const idNumber = this.ids.allocate(personRegion.code, birthDate, m.male);
        const r: ResidentRecord = {
          residentNo: `P${String(++this.residentCounter).padStart(9, '0')}`,
          name: m.surname + givenName(rng, m.male, yearOf(birthDate)),
          gender: m.male ? '男' : '女',
          ethnicity: ETHNICITIES.pick(rng),
          birthDate,
          idNumber,
          phone: m.age >= 16 && rng.chance(0.92) ? mobileNumber(rng) : null,
          householdNo,
          relation: m.relation,
          registeredAddress,
          currentAddress,
          residenceType: migrant ? '流动人口' : '户籍人口',
          politicalStatus: '群众',
          gridSeq,
          unitSeq,
          houseNo: house?.houseNo ?? null,
        };
        const member = m.age >= 18 ? this.membership(rng, r, m.age, migrant) : null;
        if (member) {
          member.partyOrgSeq = this.partyOrgOf(unitSeq);
          r.politicalStatus = member.status === 'full' ? '中共党员' : '中共预备党员';
          out.members.push(member);
          this.tallies.addMember(loc, unitSeq, member.status === 'full');
        } else if (m.age >= 14 && m.age <= 28 && rng.chance(0.3)) {
          r.politicalStatus = '共青团员';
        }
        if (m.age >= 18) this.tallies.addAdult(loc, unitSeq);
        people.push(r);
      }
      const head = people[0];
      out.residents.push(...people);
      out.households.push({
        householdNo,
        kind,
        orgName,
        gridSeq,
        unitSeq,
        houseNo: house?.houseNo ?? null,
        headResidentNo: head.residentNo,
        headName: head.name,
        headIdNumber: head.idNumber,
        size: people.length,
        phone: people.find((p) => p.phone)?.phone ?? null,
        address: currentAddress,
      });
      this.tallies.addHousehold(loc, unitSeq);
      // The first family in a house usually owns it.
      if (house && firstInHouse && kind === 'registered_family' && rng.chance(0.8)) {
        house.ownerName = head.name;
        house.ownerIdNumber = head.idNumber;
        house.ownerPhone = head.phone ?? mobileNumber(rng);
        house.ownerResidentNo = head.residentNo;
      }
      placed += people.length;
    }
    // Owners who live elsewhere: landlords of rented and vacant houses, and companies' premises.
    for (const house of houses) {
      if (house.ownerResidentNo) continue;
      const male = rng.chance(0.55);
      const age = rng.int(30, 80);
      const birthDate = birthDateForAge(rng, age, asOf);
      const region = this.localRegions.pick(rng);
      house.ownerName = personName(rng, profile.surnames, male, yearOf(birthDate));
      house.ownerIdNumber = this.ids.allocate(region.code, birthDate, male);
      house.ownerPhone = mobileNumber(rng);
    }
    for (const { areaCents, ...house } of houses) {
      out.houses.push(house);
      this.tallies.addHouse(loc, house.unitSeq, areaCents);
    }
    return out;
  }

  private family(rng: Rng, size: number, migrant: boolean): Member[] {
    const table = migrant ? 'national' : this.loc.profile.surnames;
    const familyName = surname(rng, table);
    const age = headAge(rng, migrant);
    const headMale = rng.chance(size === 1 ? 0.45 : 0.62);
    const members: Member[] = [];
    const spouseAge = Math.round(Math.min(99, Math.max(20, age + (headMale ? -2 : 2) + rng.normal(0, 3))));
    const hasSpouse = size >= 2 && age >= 22 && rng.chance(0.82);
    members.push({ relation: '户主', age, male: headMale, surname: headMale || !hasSpouse ? familyName : surname(rng, table) });
    if (hasSpouse) members.push({ relation: '配偶', age: spouseAge, male: !headMale, surname: headMale ? surname(rng, table) : familyName });
    const childBase = Math.min(age, hasSpouse ? spouseAge : age);
    let children = 0;
    const kids: number[] = [];
    while (members.length < size && children < 3 && childBase - 22 >= 0) {
      const childAge = childBase - rng.int(22, 36) - children * rng.int(1, 4);
      if (childAge < 0) break;
      const male = rng.chance(0.52);
      members.push({ relation: male ? '子' : '女', age: childAge, male, surname: familyName });
      kids.push(childAge);
      children++;
    }
    if (members.length < size && age < 62) {
      const parentAge = age + rng.int(22, 34);
      if (parentAge <= 100) {
        const male = rng.chance(0.4);
        members.push({ relation: male ? '父亲' : '母亲', age: parentAge, male, surname: male && headMale ? familyName : surname(rng, table) });
      }
    }
    while (members.length < size) {
      const oldestKid = kids.length ? Math.max(...kids) : -1;
      const male = rng.chance(0.52);
      if (oldestKid >= 22) {
        members.push({ relation: male ? '孙子' : '孙女', age: Math.max(0, oldestKid - rng.int(22, 34)), male, surname: familyName });
      } else {
        members.push({ relation: '其他', age: rng.int(16, 70), male, surname: surname(rng, table) });
      }
    }
    return members;
  }

  /** Members registered with a business or organisation (集体户): working-age adults. */
  private collective(rng: Rng, size: number): Member[] {
    const members: Member[] = [];
    for (let i = 0; i < size; i++) {
      const male = rng.chance(0.55);
      members.push({ relation: i === 0 ? '户主' : '集体户成员', age: rng.int(20, 58), male, surname: surname(rng, this.loc.profile.surnames) });
    }
    return members;
  }

  /** About 4% of adults are party members, more among the old; a few are probationary. */
  private membership(rng: Rng, r: ResidentRecord, age: number, migrant: boolean): PartyMemberRecord | null {
    const p = age < 36 ? 0.026 : age < 60 ? 0.04 : 0.065;
    if (!rng.chance(p)) return null;
    const asOf = this.loc.asOf;
    const probationary = age <= 40 && rng.chance(0.12);
    let joinedOn: string;
    let confirmedOn: string | null;
    if (probationary) {
      joinedOn = addDays(asOf, -rng.int(20, 350));
      confirmedOn = null;
    } else {
      const birthDay = toDay(r.birthDate);
      const earliest = Math.max(birthDay + 365 * 19, toDay('1949-10-01'));
      const latest = Math.min(birthDay + 365 * Math.max(20, Math.min(age, 45)), toDay(asOf) - 400);
      const day = latest > earliest ? rng.int(earliest, latest) : Math.min(earliest, toDay(asOf) - 400);
      joinedOn = fromDay(day);
      confirmedOn = addDays(joinedOn, 365);
    }
    let category: PartyCategory;
    if (age >= 60) category = rng.chance(0.8) ? 'elderly' : 'ordinary';
    else if (migrant) category = rng.chance(0.7) ? 'floating' : 'in_service';
    else category = WORKING_AGE_CATEGORY.pick(rng);
    return {
      residentNo: r.residentNo,
      name: r.name,
      gender: r.gender,
      birthDate: r.birthDate,
      idNumber: r.idNumber,
      phone: r.phone,
      category,
      status: probationary ? 'probationary' : 'full',
      joinedOn,
      confirmedOn,
      partyOrgSeq: null,
      gridSeq: r.gridSeq,
      unitSeq: r.unitSeq,
    };
  }
}

