// The published figures of 民呼我应 against an independent recount from raw rows. Random histories go
// round the loop through DemandsService (every channel of reporter, every step including merge, return,
// rework, reopen, escalation and the clock's sweep, with working and non-working time passing between
// steps); then every unit of the locality, every top-level category and several periods are compared,
// count by count and rate by rate, with a recount that replays the append-only timeline. Then Bengbu's
// published 2023 figures from 588 cases, and the rounding of percentages by hand.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, call, login, type TestApp } from '../../../test/app.ts';
import { buildTinyLocality, TEST_PASSWORD, type TinyLocality } from '../../../test/fixtures.ts';
import { initDeployment } from '../../cli/deployment.ts';
import { GridService } from '../grid/grid.service.ts';
import { UsersRepository } from '../users/users.repository.ts';
import { publicContext, systemContext, type RequestContext } from '../../platform/context.ts';
import { AppError } from '../../platform/errors.ts';
import { demandsContext } from './demands.context.ts';
import type { DemandsService, HandlerInput } from './demands.service.ts';
import type { MetricsService } from './metrics.service.ts';
import { percent } from './metrics.service.ts';
import { compareAnswer, exactPercent, recount } from './metrics.recount.ts';
import type { Rating } from './demand.states.ts';

// ----------------------------------------------------------------------------------------------------
describe('percent(): exact, half up, two decimals', () => {
  // each worked by hand: n/d × 100, then to two decimals, a remainder of exactly half rounding up
  const table: [number, number, string | null][] = [
    [0, 1, '0.00'],
    [1, 1, '100.00'],
    [0, 0, null], // no denominator, no rate
    [1, 3, '33.33'], // 33.333…
    [2, 3, '66.67'], // 66.666…
    [1, 7, '14.29'], // 14.2857…
    [528, 535, '98.69'], // 98.69158…
    [588, 588, '100.00'],
    [1, 8, '12.50'], // 12.5 exactly
    [1, 200, '0.50'], // 0.5 exactly
    [1, 20000, '0.01'], // 0.005: exactly half of a hundredth, up
    [201, 20000, '1.01'], // 1.005: half up (a float gives 1.00)
    [1, 40000, '0.00'], // 0.0025: below half
    [3, 40000, '0.01'], // 0.0075: above half
    [999_999, 1_000_000, '100.00'], // 99.9999 rounds up to a whole hundred
    [1_000_000_001, 2_000_000_000, '50.00'], // 50.00000005
  ];
  it.each(table)('%i / %i → %s', (n, d, want) => {
    expect(percent(n, d)).toBe(want);
    expect(exactPercent(n, d)).toBe(want);
  });
  it('agrees with the recount’s own rounding on random fractions', () => {
    fc.assert(
      fc.property(fc.nat({ max: 5_000_000 }), fc.integer({ min: 1, max: 5_000_000 }), (n, d) => percent(n, d) === exactPercent(n, d)),
      { seed: 20230101, numRuns: 2000 },
    );
  });
});

// ----------------------------------------------------------------------------------------------------

const rect = (x0: number, y0: number, x1: number, y1: number) => ({ type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] });
const MINUTE = 60_000;
/**
 * Time passing between two steps: mostly minutes or hours of a working day (a lunch break, an evening on
 * the calendar), sometimes a night, a weekend or a week, after which the sweep finds cases overdue.
 */
const WAITS = [0, 3, 25, 95, 240, 0, 3, 25, 95, 240, 17 * 60, 17 * 60, 2.5 * 24 * 60, 6 * 24 * 60].map((m) => m * MINUTE);

type ReporterKind = 'public' | 'worker' | 'staff';
interface StepPlan {
  pick: number;
  variant: number;
  wait: number;
  sweep: boolean;
}
interface CasePlan {
  reporter: ReporterKind;
  place: number;
  category: number;
  phone: boolean;
  hotline: boolean;
  steps: StepPlan[];
}
interface Plan {
  cases: CasePlan[];
  order: number[];
  period: [number, number];
  category: number;
}

const stepArb: fc.Arbitrary<StepPlan> = fc.record({
  pick: fc.nat({ max: 10_000 }),
  variant: fc.nat({ max: 10_000 }),
  wait: fc.nat({ max: WAITS.length - 1 }),
  sweep: fc.nat({ max: 6 }).map((n) => n === 0),
});
const caseArb: fc.Arbitrary<CasePlan> = fc.record({
  reporter: fc.constantFrom<ReporterKind>('public', 'worker', 'staff'),
  place: fc.nat({ max: 5 }),
  category: fc.nat({ max: 10_000 }),
  phone: fc.boolean(),
  hotline: fc.boolean(),
  steps: fc.array(stepArb, { minLength: 4, maxLength: 26, size: 'max' }),
});
const planArb: fc.Arbitrary<Plan> = fc.record({
  cases: fc.array(caseArb, { minLength: 1, maxLength: 4, size: 'max' }),
  order: fc.array(fc.nat({ max: 10_000 }), { maxLength: 60, size: 'max' }),
  period: fc.tuple(fc.nat({ max: 10_000 }), fc.nat({ max: 10_000 })),
  category: fc.nat({ max: 10_000 }),
});

describe('published figures equal a recount of the timeline (random histories)', () => {
  let h: TestApp;
  let f: TinyLocality;
  let demands: DemandsService;
  let metrics: MetricsService;
  let workerA1: RequestContext;
  let workerB1: RequestContext;
  /** every category code, top-level ones too (a case may name just the class) */
  let categoryCodes: string[];
  const sys = systemContext('metrics-test');
  const pub = publicContext('public', '127.0.0.1');

  beforeAll(async () => {
    h = await createTestApp({ publicReportRateLimitPerMinute: 1_000_000 });
    f = await buildTinyLocality(h.database, h.clock.now);
    const grid = new GridService(h.database.db, h.clock.now);
    // grids only: communities without a boundary of their own
    await grid.setBoundary(sys, f.gridA1, rect(113.2, 23.1, 113.21, 23.11));
    await grid.setBoundary(sys, f.gridA2, rect(113.21, 23.1, 113.22, 23.11));
    await grid.setBoundary(sys, f.gridB1, rect(113.22, 23.1, 113.23, 23.11));
    ({ demands, metrics } = demandsContext(h.app.services));
    const users = new UsersRepository(h.database.db);
    const ctxOf = async (name: string): Promise<RequestContext> => ({
      actor: { userId: f.users[name].id, username: name, displayName: name, grants: await users.grantsOf(f.users[name].id), mustChangePassword: false },
      clientIp: null,
    });
    workerA1 = await ctxOf('worker_a1');
    workerB1 = await ctxOf('worker_b1');
    categoryCodes = (await h.database.db.selectFrom('demand_category').select('code').orderBy('sort').execute()).map((c) => c.code);
    // a Monday morning in the locality: 2026-11-23 09:00 +08:00
    h.clock.current = new Date('2026-11-23T01:00:00Z');
  });
  afterAll(async () => h?.close());

  it('for every unit, every top-level category and random periods, every count and rate', async () => {
    interface Live {
      id: number;
      code: string;
      reporter: ReporterKind;
      worker: RequestContext | null;
    }
    const all: Live[] = [];
    const tally = { steps: 0, refused: 0, sweeps: 0, runs: 0, checks: 0 };
    const locationOf = [
      { lng: 113.205, lat: 23.105 },
      { lng: 113.215, lat: 23.105 },
      { lng: 113.225, lat: 23.105 },
    ];
    /** Where a case is reported: by location in a grid, or by naming a unit (a building, a grid, a community). */
    const places = () => [
      { unitId: f.gridA1, at: locationOf[0] },
      { unitId: f.gridA2, at: locationOf[1] },
      { unitId: f.gridB1, at: locationOf[2] },
      { unitId: f.buildingA1, at: null },
      { unitId: f.gridA2, at: null },
      { unitId: f.communityB, at: null },
    ];

    const refusedOk = async (what: string, run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (e) {
        if (e instanceof AppError && e.statusCode === 409) {
          tally.refused++;
          return;
        }
        throw new Error(`${what}: ${(e as Error).message}`, { cause: e });
      }
    };
    const mustRefuse = async (what: string, run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (e) {
        if (e instanceof AppError && e.statusCode === 409 && e.code === 'transition_not_allowed') {
          tally.refused++;
          return;
        }
        throw new Error(`${what}: expected 409 transition_not_allowed, got ${(e as Error).message}`, { cause: e });
      }
      throw new Error(`${what}: expected a refusal, it went through`);
    };

    async function create(p: CasePlan): Promise<Live> {
      const place = places()[p.place];
      const category = categoryCodes[p.category % categoryCodes.length];
      const base = { type: 'complaint' as const, category, description: `随机诉求 ${all.length + 1}` };
      const where = place.at ? { ...place.at } : { unitId: place.unitId };
      if (p.reporter === 'public') {
        const { demand } = await demands.report(pub, { ...base, ...where, channel: 'resident', reporterName: '居民', ...(p.phone ? { reporterPhone: '13800138000' } : {}) });
        return { id: demand.id, code: demand.tracking_code, reporter: 'public', worker: null };
      }
      if (p.reporter === 'worker') {
        // a grid worker's own account: by location anywhere, by unit only inside their own grid
        const inB = place.unitId === f.gridB1 || place.unitId === f.communityB;
        const worker = inB ? workerB1 : workerA1;
        const spot = place.unitId === f.buildingA1 ? { unitId: f.buildingA1 } : place.at ? { ...place.at } : { ...locationOf[inB ? 2 : 1] };
        const { demand } = await demands.report(worker, { ...base, ...spot, channel: 'patrol' });
        return { id: demand.id, code: demand.tracking_code, reporter: 'worker', worker };
      }
      // staff taking it down with no reporter to ask (a patrol finding, or a hotline call without a number)
      const { demand } = await demands.report(sys, { ...base, ...where, channel: p.hotline ? 'hotline' : 'patrol' });
      return { id: demand.id, code: demand.tracking_code, reporter: 'staff', worker: null };
    }

    async function step(c: Live, s: StepPlan) {
      const d = (await demands.repo.byId(c.id))!;
      const v = s.variant;
      const ratings: Rating[] = ['satisfied', 'basically_satisfied', 'unsatisfied'];
      const units = [f.gridA1, f.gridA2, f.gridB1, f.buildingA1, f.communityA, f.communityB, f.street];
      const handler = (): HandlerInput => (v % 4 === 0 ? { type: 'department', name: '城管执法中队' } : { type: 'unit', unitId: d.unit_id });
      type Option = [string, () => Promise<unknown>];
      // what moves the case on, and the detours and setbacks possible from here
      let main: Option[] = [];
      let detours: Option[] = [];
      const escalate: Option = ['escalate', () => demands.escalate(sys, c.id, { reason: '需上级协调' })];
      const returned: Option = ['return', () => demands.returnCase(sys, c.id, { reason: '不属于本单位', beyondAuthority: v % 3 === 0 })];
      switch (d.status) {
        case 'reported':
        case 'registered': {
          main = [d.status === 'reported' ? ['register', () => demands.register(sys, c.id, {})] : ['dispatch', () => demands.dispatch(sys, c.id, { handler: handler() })]];
          detours = [['decline', () => demands.decline(sys, c.id, { reason: '不属于受理范围' })], ['reroute', () => demands.reroute(sys, c.id, { unitId: units[v % units.length] })], escalate, escalate];
          // a duplicate goes into an earlier case that is still open
          const open = await h.database.db.selectFrom('demand').select('id').where('id', '<', c.id).where('status', 'in', ['reported', 'registered', 'dispatched', 'accepted', 'handled', 'verified']).orderBy('id').execute();
          if (open.length) detours.push(['merge', () => demands.merge(sys, c.id, { intoId: Number(open[v % open.length].id) })]);
          break;
        }
        case 'dispatched':
          main = [['accept', () => demands.accept(sys, c.id)]];
          detours = [returned, escalate, ['dispatch again', () => demands.dispatch(sys, c.id, { handler: handler() })]];
          break;
        case 'accepted':
          main = [['handle', () => demands.handle(sys, c.id, { result: '已处置' })]];
          detours = [returned, escalate];
          break;
        case 'handled':
          main = [['verify by staff', () => demands.verify(sys, c.id, { fixed: true })], ['verify by the reporter', () => demands.verify(pub, 0, { fixed: true }, c.code)]];
          if (c.worker) main.push(['verify by the reporting worker', () => demands.verify(c.worker!, c.id, { fixed: true })]);
          detours = [['rework by staff', () => demands.verify(sys, c.id, { fixed: false, note: '还没弄好' })], ['rework by the reporter', () => demands.verify(pub, 0, { fixed: false, note: '还没弄好' }, c.code)]];
          break;
        case 'verified':
          main = [['close', () => demands.close(sys, c.id, v % 3 === 0 ? {} : { resolved: v % 3 === 1 })]];
          break;
        case 'closed':
          main = [['rate', () => demands.rate(pub, 0, { rating: ratings[v % 3], resolved: Math.floor(v / 3) % 4 !== 0 }, c.code)]];
          break;
      }
      // moving on is four times as likely as the one detour drawn, and as just letting time pass
      const options: Option[] = [['wait', async () => {}]];
      if (main.length) options.push(...[0, 1, 2, 3].map((i) => main[(v + i) % main.length]));
      if (detours.length) options.push(detours[v % detours.length]);
      const [name, run] = options[s.pick % options.length];
      // now and then a step out of order: refused, writing nothing
      if (s.pick % 29 === 28 && d.status !== 'verified') await mustRefuse(`case ${c.id} close from ${d.status}`, () => demands.close(sys, c.id, {}));
      else if (s.pick % 31 === 30 && d.status !== 'closed') await mustRefuse(`case ${c.id} rate from ${d.status}`, () => demands.rate(pub, 0, { rating: 'satisfied', resolved: true }, c.code));
      else await refusedOk(`case ${c.id} ${name} from ${d.status}`, run);
      tally.steps++;
      h.clock.advance(WAITS[s.wait] + (v % 7) * MINUTE);
      if (s.sweep) {
        await demands.sweep();
        tally.sweeps++;
      }
    }

    const units = () => [f.district, f.street, f.communityA, f.communityB, f.gridA1, f.gridA2, f.gridB1, f.buildingA1];
    async function check(label: string, full: boolean, plan?: Plan) {
      const r = await recount(h.database.db);
      const dates = [...new Set(r.facts.map((x) => x.date))].sort();
      const periods: [string, string][] = [['2000-01-01', '2199-12-31']];
      if (dates.length) {
        const [a, b] = plan ? plan.period : [0, dates.length - 1];
        const [i, j] = [a % dates.length, b % dates.length].sort((x, y) => x - y);
        periods.push([dates[i], dates[j]], [dates[j], dates[j]]);
      }
      // after each run: every unit, all categories over one random period and one random category over all
      // time; at the end: every unit × every top-level category × every period
      const cats: (string | undefined)[] = full ? [undefined, ...r.tops] : [undefined, r.tops[(plan?.category ?? 0) % r.tops.length]];
      const problems: string[] = [];
      for (const unitId of units()) {
        for (const category of cats) {
          for (const [from, to] of full ? periods : category === undefined ? [periods[(plan?.category ?? 0) % periods.length]] : periods.slice(0, 1)) {
            const q = { unitId, from, to, ...(category ? { category } : {}) };
            const got = await metrics.metrics(sys, q);
            problems.push(...compareAnswer(r, got, q, label));
            tally.checks++;
          }
        }
      }
      expect(problems, problems.slice(0, 30).join('\n')).toEqual([]);
      return r;
    }

    await fc.assert(
      fc.asyncProperty(planArb, async (plan) => {
        tally.runs++;
        const queue = plan.cases.map((p) => ({ p, next: -1, live: null as Live | null }));
        const advance = async (q: (typeof queue)[number]) => {
          if (!q.live) {
            q.live = await create(q.p);
            all.push(q.live);
            h.clock.advance((q.p.category % 40) * MINUTE);
          } else await step(q.live, q.p.steps[q.next]);
          q.next++;
        };
        const unfinished = () => queue.filter((q) => q.next < q.p.steps.length);
        for (const o of plan.order) {
          const open = unfinished();
          if (!open.length) break;
          await advance(open[o % open.length]);
        }
        for (const q of queue) while (q.next < q.p.steps.length) await advance(q);
        await check(`run ${tally.runs}`, false, plan);
      }),
      { seed: 5_880_535, numRuns: 32, endOnFailure: true },
    );

    // and once over everything: every unit × every top-level category × several periods
    const r = await check('final', true);
    // the loop was really exercised: every kind of step happened somewhere
    const actions = new Set((await h.database.db.selectFrom('demand_event').select('action').distinct().execute()).map((e) => e.action));
    for (const a of ['report', 'register', 'decline', 'merge', 'absorb', 'reroute', 'dispatch', 'accept', 'return', 'escalate', 'handle', 'rework', 'verify', 'close', 'rate', 'reopen', 'warn', 'overdue', 'response_overdue']) {
      expect(actions, a).toContain(a);
    }
    expect(r.facts.length).toBeGreaterThan(50);

    // the same figures through the API, as the district's admin (logging in again: the clock has moved on)
    // (the clock goes back to the real time first: a session's start is stamped by the database's now(), and
    // one that looks older than the longest session on the app's clock is gone before it is used)
    h.clock.current = new Date();
    const admin = await login(h.app, 'district_admin', TEST_PASSWORD);
    const q = { unitId: f.district, from: '2000-01-01', to: '2199-12-31' };
    const res = await call(h.app, admin, 'GET', `/api/demands/metrics?unitId=${q.unitId}&from=${q.from}&to=${q.to}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(compareAnswer(r, res.json(), q, 'http')).toEqual([]);
    const statuses = await h.database.db.selectFrom('demand').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').orderBy('status').execute();
    console.info(`metrics property: ${tally.runs} runs, ${all.length} cases (${statuses.map((x) => `${x.status} ${x.n}`).join(', ')}), ${tally.steps} steps (${tally.refused} refused), ${tally.sweeps} sweeps, ${tally.checks} metrics answers compared`);
  });
});

// ----------------------------------------------------------------------------------------------------

describe('Bengbu 2023 from raw events', () => {
  let h: TestApp;
  beforeAll(async () => {
    h = await createTestApp({ publicReportRateLimitPerMinute: 1_000_000 });
  });
  afterAll(async () => h?.close());

  it('588 platform issues, all completed, satisfaction 98.69 %', async () => {
    // 2023-01-03 09:00 +08:00, a Tuesday
    h.clock.current = new Date('2023-01-03T01:00:00Z');
    const init = await initDeployment(h.database, { preset: 'bengbu', rootName: '蚌埠市', now: h.clock.now });
    const sys = systemContext('bengbu-test');
    const pub = publicContext('public', '127.0.0.1');
    const grid = new GridService(h.database.db, h.clock.now);
    const county = await grid.createChild(sys, { parentId: init.root.id, kind: 'county_district', name: '龙子湖区' });
    const street = await grid.createChild(sys, { parentId: county.id, kind: 'town_street', name: '东风街道' });
    const community = await grid.createChild(sys, { parentId: street.id, kind: 'community', name: '胜利社区' });
    const village = await grid.createChild(sys, { parentId: street.id, kind: 'village', name: '长淮村' });
    const compounds = [
      await grid.createChild(sys, { parentId: community.id, kind: 'compound', name: '一号小区' }),
      await grid.createChild(sys, { parentId: community.id, kind: 'compound', name: '二号小区' }),
      await grid.createChild(sys, { parentId: village.id, kind: 'natural_village', name: '前庄' }),
    ];
    const { demands, metrics } = demandsContext(h.app.services);
    const cats = await h.database.db.selectFrom('demand_category').select(['code', 'parent_code']).where('parent_code', 'is not', null).orderBy('sort').execute();
    expect(new Set(cats.map((c) => c.parent_code)).size).toBe(10);

    const at = (t: number) => (h.clock.current = new Date(t));
    const closeRound = async (id: number) => {
      await demands.dispatch(sys, id, { handler: { type: 'unit', unitId: (await demands.repo.byId(id))!.unit_id } });
      await demands.accept(sys, id);
      await demands.handle(sys, id, { result: '已办结' });
      await demands.verify(sys, id, { fixed: true });
      await demands.close(sys, id, {});
    };
    // 588 residents' reports spread over the year, one every 14½ hours, each taken round to closure.
    // Reporters rate 535 of them two days later: 500 satisfied, 28 basically satisfied and 7 unsatisfied
    // (though solved). An "unsatisfied" rating reopens the case; those 7 are handled and closed again a
    // day later, and their reporters do not rate a second time, so their latest rating stays "unsatisfied".
    const ratings = (i: number): Rating | null => (i < 500 ? 'satisfied' : i < 528 ? 'basically_satisfied' : i < 535 ? 'unsatisfied' : null);
    for (let i = 0; i < 588; i++) {
      const start = Date.parse('2023-01-03T01:00:00Z') + i * 14.5 * 3600_000;
      at(start);
      const { demand } = await demands.report(pub, { channel: 'resident', type: 'help', category: cats[i % cats.length].code, description: `平台诉求 ${i + 1}`, unitId: compounds[i % 3].id });
      await demands.register(sys, demand.id, {});
      await closeRound(demand.id);
      const rating = ratings(i);
      if (!rating) continue;
      at(start + 2 * 86_400_000);
      await demands.rate(pub, 0, { rating, resolved: true }, demand.tracking_code);
      if (rating !== 'unsatisfied') continue;
      at(start + 3 * 86_400_000);
      await closeRound(demand.id);
    }

    // completion: 588 closed or rated ÷ 588 registered = 100.00 %
    // satisfaction: 528 whose latest rating is satisfied or basically satisfied ÷ 535 rated
    //   = 0.98691588…, i.e. 98.6915… %; the third decimal is 1 < 5, so 98.69 %
    const q = { unitId: county.id, from: '2023-01-01', to: '2023-12-31' };
    const m = await metrics.metrics(sys, q);
    const rate = (key: string) => m.rates.find((r) => r.key === key)!;
    expect(m.counts.reported).toBe(588);
    expect(m.counts.registered).toBe(588);
    expect(rate('completion_rate')).toEqual({ key: 'completion_rate', numerator: 588, denominator: 588, percent: '100.00' });
    expect(rate('satisfaction_rate')).toEqual({ key: 'satisfaction_rate', numerator: 528, denominator: 535, percent: '98.69' });
    expect(rate('reopen_rate')).toEqual({ key: 'reopen_rate', numerator: 7, denominator: 588, percent: '1.19' });
    expect(m.categories).toHaveLength(10);
    // and every figure of the answer (total, each child, each category) equals the timeline's recount
    const r = await recount(h.database.db);
    expect(compareAnswer(r, m, q, 'bengbu')).toEqual([]);
    // the city above the county sees the same; 2022 sees nothing
    expect((await metrics.metrics(sys, { ...q, unitId: init.root.id })).counts.reported).toBe(588);
    expect((await metrics.metrics(sys, { ...q, from: '2022-01-01', to: '2022-12-31' })).counts.reported).toBe(0);
  });
});
