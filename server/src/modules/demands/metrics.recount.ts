// An independent recount of the 民呼我应 metrics from raw rows, shared by the metrics property test and the
// crash suite's figures (demands.reliability.ts). Test support: never imported by the product.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';

// The independent recount. It reads only:
//   demand_event   the whole timeline (status, who, when, what the reporter said)
//   org_unit       id → parent_id (the subtree is walked by parent ids, never by stored paths)
//   demand_category code → parent_code
//   demand         per case only what no event carries: category_code (a case never changes category),
//                  respond_due_at and finish_due_at (the case's own deadlines, fixed at the report), and
//                  reporter_phone_hash (only to assert which cases the verifier's word may close as solved)
// and never the demand row's status, timestamps, counters, rating or resolved flag.

export const COUNT_KEYS = ['reported', 'registered', 'declined', 'responded_on_time', 'handled', 'reworked', 'completed', 'on_time', 'resolved', 'closed_ever', 'reopened', 'rated', 'satisfied', 'open', 'overdue'] as const;
export type CountKey = (typeof COUNT_KEYS)[number];
export type Counts = Record<CountKey, number>;

/** Each published rate as its definition states it (metrics.service.ts RATES), written out again here. */
export const RATE_PARTS: Record<string, [CountKey, CountKey]> = {
  registered_rate: ['registered', 'reported'],
  response_rate: ['responded_on_time', 'registered'],
  completion_rate: ['completed', 'registered'],
  on_time_rate: ['on_time', 'completed'],
  resolution_rate: ['resolved', 'completed'],
  rework_rate: ['reworked', 'handled'],
  reopen_rate: ['reopened', 'closed_ever'],
  satisfaction_rate: ['satisfied', 'rated'],
};

const OPEN = new Set(['reported', 'registered', 'dispatched', 'accepted', 'handled', 'verified']);

/** n/d as a percentage with two decimals, half up, exactly: quotient and remainder in BigInt (not percent()). */
export function exactPercent(n: number, d: number): string | null {
  if (d === 0) return null;
  const scaled = BigInt(n) * 10_000n;
  let hundredths = scaled / BigInt(d);
  if (2n * (scaled % BigInt(d)) >= BigInt(d)) hundredths += 1n;
  const whole = hundredths / 100n;
  const frac = hundredths % 100n;
  return `${whole}.${frac < 10n ? '0' : ''}${frac}`;
}

/** The locality's calendar date (Asia/Shanghai, UTC+8 all year) of an instant. */
const localDate = (t: Date) => new Date(t.getTime() + 8 * 3600_000).toISOString().slice(0, 10);

export interface Fact {
  id: number;
  home: number;
  top: string;
  date: string;
  flags: Record<CountKey, boolean>;
}

export interface Recount {
  facts: Fact[];
  parent: Map<number, number | null>;
  children: Map<number, number[]>;
  tops: string[];
}

const dataOf = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
const asDate = (v: Date | string) => (v instanceof Date ? v : new Date(v));

export async function recount(db: Kysely<Database>): Promise<Recount> {
  const [units, categories, demands, events] = await Promise.all([
    db.selectFrom('org_unit').select(['id', 'parent_id', 'archived_at']).execute(),
    db.selectFrom('demand_category').select(['code', 'parent_code']).execute(),
    db.selectFrom('demand').select(['district_id', 'id', 'category_code', 'respond_due_at', 'finish_due_at', 'reporter_phone_hash']).execute(),
    db.selectFrom('demand_event').selectAll().orderBy('district_id').orderBy('demand_id').orderBy('seq').execute(),
  ]);
  const parent = new Map(units.map((u) => [Number(u.id), u.parent_id === null ? null : Number(u.parent_id)]));
  const children = new Map<number, number[]>();
  for (const u of units) if (u.parent_id !== null && !u.archived_at) children.set(Number(u.parent_id), [...(children.get(Number(u.parent_id)) ?? []), Number(u.id)]);
  const parentCode = new Map(categories.map((c) => [c.code, c.parent_code]));
  const topOf = (code: string): string => {
    let c = code;
    for (let guard = 0; parentCode.get(c); guard++) {
      if (guard > 10) throw new Error(`category cycle at ${code}`);
      c = parentCode.get(c)!;
    }
    return c;
  };
  const byCase = new Map<string, typeof events>();
  for (const e of events) {
    const key = `${e.district_id}:${e.demand_id}`;
    const list = byCase.get(key);
    if (list) list.push(e);
    else byCase.set(key, [e]);
  }
  const facts: Fact[] = [];
  for (const d of demands) {
    const timeline = byCase.get(`${d.district_id}:${d.id}`) ?? [];
    const where = `case ${d.id}`;
    if (!timeline.length || timeline[0].action !== 'report') throw new Error(`${where}: the timeline does not start with its report`);
    let status = '';
    let home = 0;
    let reportedAt = new Date(0);
    let reporterUser: number | null = null;
    let channel = '';
    let escalations = 0;
    let firstAccept: Date | null = null;
    let lastClose: Date | null = null;
    let lastRating: string | null = null;
    // the reporter's (or, without one, the verifier's) latest word that the problem is gone
    let solved: boolean | null = null;
    let overdueNow = false;
    const seen = new Set<string>();
    for (const [i, e] of timeline.entries()) {
      if (e.seq !== i + 1) throw new Error(`${where}: seq ${e.seq} at position ${i + 1}`);
      if (i > 0 && e.from_status !== status) throw new Error(`${where}: event ${e.seq} (${e.action}) starts from ${e.from_status}, the case was ${status}`);
      const data = dataOf(e.data);
      const at = asDate(e.at);
      seen.add(e.action);
      switch (e.action) {
        case 'report':
          home = Number(data.unitId);
          reportedAt = at;
          reporterUser = e.actor_user_id === null ? null : Number(e.actor_user_id);
          channel = String(data.channel);
          break;
        case 'reroute':
          // re-routing an unregistered case that never went up corrects where it belongs; later it only moves it
          if (e.from_status === 'reported' && escalations === 0) home = Number(data.to);
          break;
        case 'escalate':
          escalations++;
          overdueNow = false;
          break;
        case 'accept':
          firstAccept ??= at;
          break;
        case 'verify':
          if (e.actor_kind === 'reporter' || (reporterUser !== null && e.actor_user_id !== null && Number(e.actor_user_id) === reporterUser)) solved = true;
          break;
        case 'close':
          lastClose = at;
          if (typeof data.resolved === 'boolean') {
            // the verifier's word stands for the reporter's only when there is no reporter to ask
            if (solved !== null || channel !== 'patrol' || reporterUser !== null || d.reporter_phone_hash !== null) throw new Error(`${where}: closed with resolved=${data.resolved} on the verifier's word, but it has a reporter or a word already`);
            solved = data.resolved;
          }
          break;
        case 'rate':
          lastRating = String(data.rating);
          solved = data.resolved === true;
          break;
        case 'reopen':
          overdueNow = false;
          break;
        case 'overdue':
          overdueNow = true;
          break;
      }
      status = e.to_status;
    }
    if (status === 'merged') continue;
    const completed = status === 'closed' || status === 'rated';
    const flags: Record<CountKey, boolean> = {
      reported: true,
      registered: seen.has('register'),
      declined: status === 'declined',
      responded_on_time: firstAccept !== null && firstAccept.getTime() <= asDate(d.respond_due_at).getTime(),
      handled: seen.has('handle'),
      reworked: seen.has('rework'),
      completed,
      on_time: completed && lastClose !== null && lastClose.getTime() <= asDate(d.finish_due_at).getTime(),
      resolved: completed && solved === true,
      closed_ever: seen.has('close'),
      reopened: seen.has('reopen'),
      rated: lastRating !== null,
      satisfied: lastRating === 'satisfied' || lastRating === 'basically_satisfied',
      open: OPEN.has(status),
      overdue: OPEN.has(status) && overdueNow,
    };
    facts.push({ id: Number(d.id), home, top: topOf(d.category_code), date: localDate(reportedAt), flags });
  }
  return { facts, parent, children, tops: categories.filter((c) => !c.parent_code).map((c) => c.code) };
}

export function within(r: Recount, unitId: number, home: number): boolean {
  for (let u: number | null | undefined = home, guard = 0; u !== null && u !== undefined; u = r.parent.get(u), guard++) {
    if (guard > 50) throw new Error(`unit cycle at ${home}`);
    if (u === unitId) return true;
  }
  return false;
}

export function tally(facts: Fact[]): Counts {
  const c = Object.fromEntries(COUNT_KEYS.map((k) => [k, 0])) as Counts;
  for (const f of facts) for (const k of COUNT_KEYS) if (f.flags[k]) c[k]++;
  return c;
}

export interface Figures {
  counts: Record<string, number>;
  rates: { key: string; numerator: number; denominator: number; percent: string | null }[];
}
export interface Published extends Figures {
  children: (Figures & { unitId: number })[];
  categories: (Figures & { category: string })[];
}

export function compareFigures(expected: Counts, got: Figures, where: string, out: string[]) {
  const keys = Object.keys(got.counts).sort();
  if (keys.join() !== [...COUNT_KEYS].sort().join()) out.push(`${where}: count keys ${keys.join()}`);
  for (const k of COUNT_KEYS) if (Number(got.counts[k]) !== expected[k]) out.push(`${where} ${k}: published ${got.counts[k]}, recount ${expected[k]}`);
  const rateKeys = got.rates.map((r) => r.key).sort();
  if (rateKeys.join() !== Object.keys(RATE_PARTS).sort().join()) out.push(`${where}: rate keys ${rateKeys.join()}`);
  for (const [key, [num, den]] of Object.entries(RATE_PARTS)) {
    const r = got.rates.find((x) => x.key === key);
    const want = { numerator: expected[num], denominator: expected[den], percent: exactPercent(expected[num], expected[den]) };
    if (!r) continue;
    if (r.numerator !== want.numerator || r.denominator !== want.denominator || r.percent !== want.percent) {
      out.push(`${where} ${key}: published ${r.numerator}/${r.denominator}=${r.percent}, recount ${want.numerator}/${want.denominator}=${want.percent}`);
    }
  }
}

/** Every figure of one metrics answer against the recount: the unit's total, each child, each category. */
export function compareAnswer(r: Recount, got: Published, q: { unitId: number; from: string; to: string; category?: string }, label: string): string[] {
  const out: string[] = [];
  const where = `${label} unit ${q.unitId} category ${q.category ?? '(all)'} ${q.from}..${q.to}`;
  const inPeriod = r.facts.filter((f) => f.date >= q.from && f.date <= q.to && (!q.category || f.top === q.category));
  const mine = inPeriod.filter((f) => within(r, q.unitId, f.home));
  compareFigures(tally(mine), got, where, out);
  const kids = r.children.get(q.unitId) ?? [];
  const gotKids = got.children.map((c) => Number(c.unitId)).sort((a, b) => a - b);
  if (gotKids.join() !== [...kids].sort((a, b) => a - b).join()) out.push(`${where}: children ${gotKids.join()} ≠ ${kids.join()}`);
  for (const child of got.children) compareFigures(tally(mine.filter((f) => within(r, Number(child.unitId), f.home))), child, `${where} › child ${child.unitId}`, out);
  const tops = [...new Set(mine.map((f) => f.top))].sort();
  const gotTops = got.categories.map((c) => c.category).sort();
  if (gotTops.join() !== tops.join()) out.push(`${where}: categories ${gotTops.join()} ≠ ${tops.join()}`);
  for (const c of got.categories) compareFigures(tally(mine.filter((f) => f.top === c.category)), c, `${where} › category ${c.category}`, out);
  return out;
}
