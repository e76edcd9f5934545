// Histories for later modules, as plain records: demands with their full timeline (GB/T 30428 steps,
// timestamps on working days inside working hours) and council votes whose figures come from the
// generated population (a party members' meeting's should-attend is the unit's full members, an owners'
// vote's area is the exclusive area of the unit's houses).
import type { Locality } from './locality.ts';
import type { Batch, CouncilVoteRecord, DemandRecord, DemandStep, ResidentRecord } from './records.ts';
import { Rng, Weighted } from './rng.ts';
import { addWorkingMinutes, momentBefore, momentIso, WORKING_MINUTES_PER_DAY, workingMomentBetween, type Moment } from './calendar.ts';
import { fromDay, toDay } from './people.ts';
import { pointIn } from './geometry.ts';

/** Per-unit counts rolled up to every ancestor as records are generated; fixed size, one slot per unit. */
export class UnitTallies {
  readonly fullMembers: Int32Array;
  readonly probationary: Int32Array;
  readonly adults: Int32Array;
  readonly households: Int32Array;
  readonly houses: Int32Array;
  /** exclusive area in hundredths of m² (exact integers up to 2^53) */
  readonly areaCents: Float64Array;
  constructor(units: number) {
    this.fullMembers = new Int32Array(units + 1);
    this.probationary = new Int32Array(units + 1);
    this.adults = new Int32Array(units + 1);
    this.households = new Int32Array(units + 1);
    this.houses = new Int32Array(units + 1);
    this.areaCents = new Float64Array(units + 1);
  }
  private up(loc: Locality, seq: number, f: (s: number) => void) {
    for (let s: number | null = seq; s !== null; s = loc.unit(s).parentSeq) f(s);
  }
  addMember(loc: Locality, seq: number, full: boolean) {
    this.up(loc, seq, (s) => (full ? this.fullMembers[s]++ : this.probationary[s]++));
  }
  addAdult(loc: Locality, seq: number) {
    this.up(loc, seq, (s) => this.adults[s]++);
  }
  addHousehold(loc: Locality, seq: number) {
    this.up(loc, seq, (s) => this.households[s]++);
  }
  addHouse(loc: Locality, seq: number, areaCents: number) {
    this.up(loc, seq, (s) => {
      this.houses[s]++;
      this.areaCents[s] += areaCents;
    });
  }
}

const TYPES = new Weighted<DemandRecord['type']>([['consult', 15], ['help', 30], ['complaint', 25], ['report', 10], ['suggestion', 20]]);
/** working days allowed to handle a demand, by type */
const DAYS_ALLOWED: Record<DemandRecord['type'], number> = { consult: 1, help: 3, complaint: 5, report: 5, suggestion: 10 };
const SOURCES = new Weighted<DemandRecord['source']>([['patrol', 40], ['app', 25], ['hotline', 25], ['party_member', 7], ['council', 3]]);
const TARGETS = new Weighted<DemandRecord['dispatchTarget']['kind']>([
  ['grid', 45], ['community', 20], ['party_member', 8], ['property_company', 10], ['department', 10], ['co_building', 3], ['council', 2], ['social_org', 2],
]);
const RATINGS = new Weighted<number>([[5, 72], [4, 24], [3, 2.5], [2, 1], [1, 0.5]]);
const DEPARTMENTS = ['区城管执法局', '区住房建设局', '区市场监管局', '区水务局', '区生态环境分局', '区卫生健康局', '区民政局', '供电局', '自来水公司', '燃气公司'];

const TOPICS: Record<string, string[]> = {
  party_members_meeting_art11: ['发展预备党员', '预备党员转正', '民主评议党员', '党费收缴使用情况', '支部委员补选', '“四议两公开”事项审议'],
  owners_art278: ['加装电梯', '使用专项维修资金', '选聘物业服务企业', '小区公共收益使用', '老旧小区微改造方案', '修订管理规约'],
  villagers_assembly_art22: ['村集体土地流转方案', '村级公益事业建设', '集体经济收益分配', '村规民约修订'],
  villager_representatives_art26: ['村道硬化工程', '集体资产租赁', '人居环境整治方案', '村级项目预算'],
  simple_majority: ['垃圾分类投放点设置', '停车秩序整治', '社区活动场地改造', '长者饭堂运营', '楼道杂物清理', '邻里纠纷调处公约'],
};
const EXPECTED_VOTES: Record<string, number> = {
  party_members_meeting_art11: 2,
  simple_majority: 1,
  villagers_assembly_art22: 0.5,
  villager_representatives_art26: 1.5,
};

const cents = (c: number) => (c / 100).toFixed(2);

export class HistoryGenerator {
  private voteCounter = 0;
  private readonly councils: { code: string; unitKinds: string[]; rule: string; basis: string; threshold: 'special' | 'ordinary' | null }[];
  private readonly categories: { code: string; name: string; children: { code: string; name: string }[] }[];
  private readonly currentStaff = new Map<number, Locality['staff']>();

  constructor(
    private readonly loc: Locality,
    private readonly tallies: UnitTallies,
  ) {
    const rules = new Map((loc.preset.voteRules ?? []).map((r) => [r.code, r]));
    this.councils = (loc.preset.councilKinds ?? []).map((c) => {
      const rule = c.voteRule ? rules.get(c.voteRule) : undefined;
      return { code: c.code, unitKinds: c.unitKinds ?? [], rule: c.voteRule ?? 'council_majority', basis: rule?.basis ?? 'simple_majority', threshold: rule?.threshold ?? null };
    });
    for (const s of loc.staff) {
      if (s.endedOn !== null) continue;
      const list = this.currentStaff.get(s.unitSeq);
      if (list) list.push(s);
      else this.currentStaff.set(s.unitSeq, [s]);
    }
    this.categories = (loc.preset.demandCategories ?? []).map((c) => ({
      code: c.code,
      name: c.name['zh-CN'],
      children: (c.children ?? []).map((s) => ({ code: s.code, name: s.name['zh-CN'] })),
    }));
  }

  /** Demands raised in the grid, then votes of the grid and every unit below it. */
  forGrid(gridSeq: number, residents: ResidentRecord[]): Batch[] {
    const rng = Rng.of(this.loc.options.seed, this.loc.preset.id, this.loc.scale.name, 'history', gridSeq);
    const demands = this.demands(rng, gridSeq, residents);
    const votes: CouncilVoteRecord[] = [];
    const walk = (seq: number) => {
      votes.push(...this.votes(rng, seq));
      for (const c of this.loc.unit(seq).children) walk(c);
    };
    walk(gridSeq);
    const out: Batch[] = [];
    if (demands.length) out.push({ type: 'demand', rows: demands });
    if (votes.length) out.push({ type: 'council_vote', rows: votes });
    return out;
  }

  /** Votes of the units above the grid level, once every grid below them is counted. */
  aboveGrids(): Batch[] {
    const votes: CouncilVoteRecord[] = [];
    for (const unit of this.loc.units) {
      if (unit.depth >= this.loc.gridDepthInTree) continue;
      votes.push(...this.votes(Rng.of(this.loc.options.seed, this.loc.preset.id, this.loc.scale.name, 'votes', unit.seq), unit.seq));
    }
    return votes.length ? [{ type: 'council_vote', rows: votes }] : [];
  }

  private demands(rng: Rng, gridSeq: number, residents: ResidentRecord[]): DemandRecord[] {
    const loc = this.loc;
    if (!this.categories.length || !residents.length) return [];
    const grid = loc.unit(gridSeq);
    const expected = (residents.length * (loc.options.demandsPer1000 ?? 8)) / 1000;
    const n = Math.floor(expected) + (rng.chance(expected - Math.floor(expected)) ? 1 : 0);
    const asOfDay = toDay(loc.asOf);
    const endOfAsOf: Moment = { day: asOfDay, minute: 24 * 60 - 1 };
    const staff = this.currentStaff.get(gridSeq) ?? [];
    const worker = staff.find((s) => s.role.includes('worker')) ?? staff[0];
    const leader = staff.find((s) => /leader|secretary|head/.test(s.role)) ?? staff[0];
    const parent = grid.parentSeq ? loc.unit(grid.parentSeq) : grid;
    const box = grid.boundary ? boxOf(grid.boundary.coordinates[0]) : loc.profile.box;
    const out: DemandRecord[] = [];
    const perDay = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const cat = rng.pick(this.categories);
      const sub = cat.children.length ? rng.pick(cat.children) : { code: cat.code, name: cat.name };
      const type = TYPES.pick(rng);
      const source = SOURCES.pick(rng);
      const reporter = source === 'patrol' && worker ? { name: worker.name, phone: worker.phone } : (() => {
        const r = rng.pick(residents);
        return { name: r.name, phone: r.phone };
      })();
      const targetKind = TARGETS.pick(rng);
      const targetName =
        targetKind === 'grid' ? grid.label
        : targetKind === 'community' ? parent.label
        : targetKind === 'party_member' ? rng.pick(residents).name
        : targetKind === 'department' ? rng.pick(DEPARTMENTS)
        : targetKind === 'property_company' ? `${parent.name.replace(/(社区|村)$/, '')}物业服务有限公司`
        : targetKind === 'co_building' ? `${rng.pick(DEPARTMENTS)}党支部`
        : targetKind === 'council' ? `${parent.name}议事会`
        : `${parent.name.replace(/(社区|村)$/, '')}社工服务站`;
      const reported = workingMomentBetween(() => rng.next(), asOfDay - 365, asOfDay - 1);
      const steps: [DemandStep, number, string][] = [
        ['registered', rng.int(5, 120), leader ? `${parent.name}受理员` : '受理员'],
        ['dispatched', rng.int(10, 240), `${parent.name}调度员`],
        ['accepted', rng.int(5, 180), targetName],
        ['handled', Math.round(rng.float(0.2, DAYS_ALLOWED[type] * 1.15) * WORKING_MINUTES_PER_DAY), targetName],
        ['verified', rng.int(30, 900), leader?.name ?? `${grid.label}网格长`],
        ['closed', rng.int(10, 240), `${parent.name}受理员`],
      ];
      const rated = rng.chance(0.93);
      if (rated) steps.push(['rated', rng.int(60, 1200), reporter.name]);
      const timeline: DemandRecord['timeline'] = [{ step: 'reported', at: momentIso(reported), actor: reporter.name }];
      let at = reported;
      let handledAt: Moment | null = null;
      for (const [step, minutes, actor] of steps) {
        at = addWorkingMinutes(at, minutes);
        if (!momentBefore(at, endOfAsOf)) break;
        if (step === 'handled') handledAt = at;
        timeline.push({ step, at: momentIso(at), actor });
      }
      const deadline = addWorkingMinutes(reported, DAYS_ALLOWED[type] * WORKING_MINUTES_PER_DAY);
      const last = timeline[timeline.length - 1].step;
      const k = (perDay.get(reported.day) ?? 0) + 1;
      perDay.set(reported.day, k);
      out.push({
        demandNo: `D${fromDay(reported.day).replaceAll('-', '')}${grid.code}${String(k).padStart(3, '0')}`,
        gridSeq,
        category: cat.code,
        subcategory: sub.code,
        type,
        source,
        title: `${sub.name}（${grid.label}）`,
        reporterName: reporter.name,
        reporterPhone: reporter.phone,
        location: pointIn(box, rng),
        dispatchTarget: { kind: targetKind, name: targetName },
        deadline: momentIso(deadline),
        status: last,
        onTime: handledAt ? !momentBefore(deadline, handledAt) : null,
        rating: last === 'rated' ? RATINGS.pick(rng) : null,
        timeline,
      });
    }
    return out;
  }

  private votes(rng: Rng, seq: number): CouncilVoteRecord[] {
    const loc = this.loc;
    const unit = loc.unit(seq);
    const t = this.tallies;
    const out: CouncilVoteRecord[] = [];
    const asOfDay = toDay(loc.asOf);
    for (const council of this.councils) {
      if (!council.unitKinds.includes(unit.kind)) continue;
      const expected = council.basis === 'owners_art278' ? (unit.depth <= loc.gridDepthInTree ? 0.3 : 0.02) : (EXPECTED_VOTES[council.basis] ?? 1);
      const n = Math.floor(expected) + (rng.chance(expected - Math.floor(expected)) ? 1 : 0);
      for (let i = 0; i < n; i++) {
        const held = workingMomentBetween(() => rng.next(), asOfDay - 365, asOfDay - 1);
        const vote: CouncilVoteRecord = {
          voteNo: `V${String(++this.voteCounter).padStart(8, '0')}`,
          unitSeq: seq,
          councilKind: council.code,
          voteRule: council.rule,
          basis: council.basis,
          threshold: council.threshold,
          topic: rng.pick(TOPICS[council.basis] ?? TOPICS.simple_majority),
          heldOn: fromDay(held.day),
          shouldAttend: 0,
          attended: 0,
          for: 0,
          against: 0,
          abstain: 0,
          excluded: [],
          totalArea: null,
          participatingArea: null,
          forArea: null,
          againstArea: null,
          abstainArea: null,
          households: null,
          attendedHouseholds: null,
        };
        const split = (attended: number) => {
          const yes = Math.round(attended * rng.float(0.45, 1));
          const no = rng.int(0, attended - yes);
          return [yes, no, attended - yes - no];
        };
        if (council.basis === 'party_members_meeting_art11') {
          const full = t.fullMembers[seq];
          if (full === 0) continue;
          vote.shouldAttend = full;
          vote.attended = Math.max(1, Math.round(full * rng.float(0.55, 1)));
          if (t.probationary[seq]) vote.excluded.push({ reason: '预备党员（无表决权）', count: t.probationary[seq] });
        } else if (council.basis === 'owners_art278') {
          const owners = t.houses[seq];
          if (owners === 0) continue;
          vote.shouldAttend = owners;
          const share = rng.float(0.55, 0.97);
          vote.attended = Math.max(1, Math.min(owners, Math.round(owners * share)));
          const total = t.areaCents[seq];
          const participating = Math.min(total, Math.round(total * Math.min(1, share + rng.float(-0.05, 0.05))));
          const [yes, no, abstain] = split(vote.attended);
          const forArea = Math.round((participating * yes) / vote.attended);
          const againstArea = Math.round((participating * no) / vote.attended);
          vote.totalArea = cents(total);
          vote.participatingArea = cents(participating);
          vote.forArea = cents(forArea);
          vote.againstArea = cents(againstArea);
          vote.abstainArea = cents(participating - forArea - againstArea);
          [vote.for, vote.against, vote.abstain] = [yes, no, abstain];
          out.push(vote);
          continue;
        } else if (council.basis === 'villagers_assembly_art22') {
          const adults = t.adults[seq];
          if (adults === 0) continue;
          vote.shouldAttend = adults;
          vote.attended = Math.max(1, Math.round(adults * rng.float(0.35, 0.75)));
          vote.households = t.households[seq];
          vote.attendedHouseholds = Math.round(t.households[seq] * rng.float(0.5, 0.85));
        } else if (council.basis === 'villager_representatives_art26') {
          const members = Math.min(80, Math.max(15, Math.round(t.households[seq] / 10)));
          vote.shouldAttend = members;
          vote.attended = Math.round(members * rng.float(0.6, 1));
        } else {
          const members = rng.int(7, 25);
          vote.shouldAttend = members;
          vote.attended = Math.round(members * rng.float(0.6, 1));
        }
        [vote.for, vote.against, vote.abstain] = split(vote.attended);
        out.push(vote);
      }
    }
    return out;
  }
}

function boxOf(ring: number[][]) {
  const xs = ring.map((p) => p[0]);
  const ys = ring.map((p) => p[1]);
  return { minLng: Math.min(...xs), minLat: Math.min(...ys), maxLng: Math.max(...xs), maxLat: Math.max(...ys) };
}
