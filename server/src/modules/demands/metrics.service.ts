// The published indicators of 接诉即办 / 民呼我应, per unit (rolled up the tree: a unit counts every case
// routed to it or below), per top-level category and per period. Each rate is shown with its numerator,
// its denominator and its definition; the percentage is rounded from the exact fraction (half up, two
// decimals) with integer arithmetic, never from a float.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import type { RequestContext } from '../../platform/context.ts';
import { hasPermissionAt } from '../../platform/access.ts';
import { NotFoundError, ValidationError, type Messages } from '../../platform/errors.ts';
import { isCalendarDate } from '../../platform/clock.ts';
import { GridRepository } from '../grid/grid.repository.ts';
import { MetricsRepository, type CountKey, type Counts } from './metrics.repository.ts';
import type { DemandSettings } from './settings.service.ts';

export interface RateDefinition {
  key: string;
  name: Messages;
  numerator: CountKey;
  denominator: CountKey;
  definition: Messages;
}

export const RATES: RateDefinition[] = [
  {
    key: 'registered_rate',
    name: { 'zh-CN': '受理率', en: 'Registered rate' },
    numerator: 'registered',
    denominator: 'reported',
    definition: { 'zh-CN': '已立案的诉求 ÷ 上报的诉求（合并的重复诉求不计）', en: 'Demands registered ÷ demands reported (merged duplicates excluded)' },
  },
  {
    key: 'response_rate',
    name: { 'zh-CN': '响应率', en: 'Response rate' },
    numerator: 'responded_on_time',
    denominator: 'registered',
    definition: { 'zh-CN': '在响应时限内被承办方签收的诉求 ÷ 已立案的诉求', en: 'Demands a handler accepted within the time to respond ÷ demands registered' },
  },
  {
    key: 'completion_rate',
    name: { 'zh-CN': '办结率', en: 'Completion rate' },
    numerator: 'completed',
    denominator: 'registered',
    definition: { 'zh-CN': '已结案（含已评价）的诉求 ÷ 已立案的诉求', en: 'Demands closed (or closed and rated) ÷ demands registered' },
  },
  {
    key: 'on_time_rate',
    name: { 'zh-CN': '按期结案率', en: 'On-time closure rate' },
    numerator: 'on_time',
    denominator: 'completed',
    definition: { 'zh-CN': '在办结时限（按工作时间计）内结案的诉求 ÷ 已结案的诉求', en: 'Demands closed by their deadline (in working time) ÷ demands closed' },
  },
  {
    key: 'resolution_rate',
    name: { 'zh-CN': '解决率', en: 'Resolution rate' },
    numerator: 'resolved',
    denominator: 'completed',
    definition: { 'zh-CN': '结案且经诉求人（无诉求人时为核查人）确认已解决的诉求 ÷ 已结案的诉求', en: 'Closed demands confirmed fixed by the reporter (or the verifier, when there is no reporter) ÷ demands closed' },
  },
  {
    key: 'rework_rate',
    name: { 'zh-CN': '返工率', en: 'Rework rate' },
    numerator: 'reworked',
    denominator: 'handled',
    definition: { 'zh-CN': '核查时至少返工一次的诉求 ÷ 处置过的诉求', en: 'Demands sent back for rework at least once ÷ demands handled' },
  },
  {
    key: 'reopen_rate',
    name: { 'zh-CN': '重办率', en: 'Reopen rate' },
    numerator: 'reopened',
    denominator: 'closed_ever',
    definition: { 'zh-CN': '结案后因诉求人评价“未解决/不满意”而重新办理的诉求 ÷ 结案过的诉求', en: 'Demands reopened after closure because the reporter said "not fixed / not satisfied" ÷ demands ever closed' },
  },
  {
    key: 'satisfaction_rate',
    name: { 'zh-CN': '满意率', en: 'Satisfaction rate' },
    numerator: 'satisfied',
    denominator: 'rated',
    definition: { 'zh-CN': '最近一次评价为“满意”或“基本满意”的诉求 ÷ 有评价的诉求', en: 'Demands whose latest rating is satisfied or basically satisfied ÷ demands rated' },
  },
];

/** numerator/denominator as a percentage string with two decimals, rounded half up, exactly (BigInt). */
export function percent(numerator: number, denominator: number): string | null {
  if (denominator === 0) return null;
  const n = BigInt(numerator) * 20000n + BigInt(denominator);
  const basisPoints = n / (2n * BigInt(denominator));
  const s = basisPoints.toString().padStart(3, '0');
  return `${s.slice(0, -2)}.${s.slice(-2)}`;
}

export function ratesOf(c: Counts) {
  return RATES.map((r) => ({ key: r.key, numerator: c[r.numerator], denominator: c[r.denominator], percent: percent(c[r.numerator], c[r.denominator]) }));
}

const ONE_DAY = 24 * 3600 * 1000;
/** 'YYYY-MM-DD' (locality date) → the instant it begins in Asia/Shanghai (UTC+8, no DST). */
const startOfLocalDay = (date: string) => new Date(Date.parse(`${date}T00:00:00+08:00`));

export class MetricsService {
  private readonly repo: MetricsRepository;
  private readonly grid: GridRepository;

  constructor(
    db: Kysely<Database>,
    private readonly settings: DemandSettings,
  ) {
    this.repo = new MetricsRepository(db);
    this.grid = new GridRepository(db);
  }

  async metrics(ctx: RequestContext, input: { unitId: number; from: string; to: string; category?: string }) {
    const unit = await this.grid.unit(input.unitId);
    if (!unit || !hasPermissionAt(ctx.actor, 'demand.read', unit.path)) throw new NotFoundError({ 'zh-CN': '单元', en: 'Unit' });
    if (!isCalendarDate(input.from) || !isCalendarDate(input.to) || input.to < input.from) {
      throw new ValidationError({ 'zh-CN': '统计期间无效：起止日期须为真实日期，且止不早于起', en: 'Invalid period: from and to must be real dates, to not before from' }, undefined, 'invalid_period');
    }
    let categoryCodes: string[] | undefined;
    if (input.category) {
      const c = await this.settings.category(input.category);
      if (!c || c.parentCode) throw new ValidationError({ 'zh-CN': `“${input.category}”不是一级诉求类别`, en: `"${input.category}" is not a top-level demand category` }, undefined, 'unknown_category');
      categoryCodes = await this.settings.familyOf(c.code);
    }
    const scope = { unitPath: unit.path, from: startOfLocalDay(input.from), to: new Date(startOfLocalDay(input.to).getTime() + ONE_DAY), categoryCodes };
    const [total, children, categories, childUnits] = await Promise.all([this.repo.total(scope), this.repo.byChild(scope), this.repo.byCategory(scope), this.grid.children(unit.id)]);
    const byId = new Map(children.map((c) => [c.unitId, c]));
    const all = await this.settings.categories();
    return {
      unit: { id: unit.id, name: unit.name },
      period: { from: input.from, to: input.to },
      category: input.category ?? null,
      definitions: RATES,
      counts: total,
      rates: ratesOf(total),
      children: childUnits.map((u) => {
        // the child's id is the row's key, not one of its counts
        const { unitId: _child, ...c } = byId.get(Number(u.id)) ?? zero();
        return { unitId: u.id, name: u.name, kind: u.kind_code, counts: c, rates: ratesOf(c) };
      }),
      categories: categories.map((c) => {
        const { category, ...counts } = c;
        const def = all.find((x) => x.code === category);
        return { category, name: def?.name ?? { 'zh-CN': category, en: category }, counts: counts as Counts, rates: ratesOf(counts as Counts) };
      }),
    };
  }
}

function zero(): Counts & { unitId: number } {
  return { unitId: 0, reported: 0, registered: 0, declined: 0, responded_on_time: 0, handled: 0, reworked: 0, completed: 0, on_time: 0, resolved: 0, closed_ever: 0, reopened: 0, rated: 0, satisfied: 0, open: 0, overdue: 0 };
}
