// The loop's configuration: the category dictionary with its deadlines and the working calendar.
// Deployment-wide, like the unit kinds: copied from the preset at init, then edited by a district admin
// (demand.config). Read on every report, so held in memory and dropped on every change made here.
import type { Kysely, Transaction } from 'kysely';

type Q = Kysely<Database> | Transaction<Database>;
import type { Database } from '../../db/types.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { Preset } from '../grid/preset.ts';
import { recordAudit } from '../../platform/audit.ts';
import { requirePermissionAnywhere } from '../../platform/access.ts';
import { NotFoundError, ValidationError } from '../../platform/errors.ts';
import { DEFAULT_CALENDAR, addWorkingMinutes, validateCalendar, type CalendarSettings } from './calendar.ts';

export interface Category {
  code: string;
  parentCode: string | null;
  name: { 'zh-CN': string; en: string };
  respondMinutes: number;
  finishMinutes: number;
  warnPercent: number;
  emergency: boolean;
  decideKinds: string[] | null;
  sort: number;
  active: boolean;
}

/** Default deadlines when a preset names none: respond within 2 working hours, finish within 5 working days. */
export const DEFAULT_RESPOND_MINUTES = 120;
export const DEFAULT_FINISH_MINUTES = 5 * 8 * 60;
/** 突发事件: respond within 30 working minutes, finish within one working day; the secretary is told at once. */
const EMERGENCY_DEADLINES = { respond: 30, finish: 8 * 60 };

const CATEGORY = { 'zh-CN': '诉求类别', en: 'Demand category' };

export interface Deadlines {
  respondDueAt: Date;
  finishDueAt: Date;
  warnAt: Date;
}

export class DemandSettings {
  private cache: { categories: Map<string, Category>; calendar: CalendarSettings } | null = null;

  constructor(private readonly db: Kysely<Database>) {}

  invalidate() {
    this.cache = null;
  }

  /** `q`: the caller's transaction when there is one (PGlite has one session: a second connection would wait for ever). */
  private async load(q: Q = this.db) {
    if (this.cache) return this.cache;
    const rows = await q.selectFrom('demand_category').selectAll().orderBy('sort').orderBy('code').execute();
    const categories = new Map<string, Category>(
      rows.map((r) => [
        r.code,
        {
          code: r.code,
          parentCode: r.parent_code,
          name: { 'zh-CN': r.name_zh, en: r.name_en },
          respondMinutes: r.respond_minutes,
          finishMinutes: r.finish_minutes,
          warnPercent: r.warn_percent,
          emergency: r.emergency,
          decideKinds: r.decide_kinds,
          sort: r.sort,
          active: r.active,
        },
      ]),
    );
    const cal = await q.selectFrom('demand_calendar').selectAll().where('id', '=', 1).executeTakeFirst();
    const calendar: CalendarSettings = cal ? { weekdays: cal.weekdays.map(Number), periods: cal.periods, overrides: cal.overrides } : DEFAULT_CALENDAR;
    this.cache = { categories, calendar };
    return this.cache;
  }

  async categories(q?: Q): Promise<Category[]> {
    return [...(await this.load(q)).categories.values()];
  }

  async category(code: string, q?: Q): Promise<Category | undefined> {
    return (await this.load(q)).categories.get(code);
  }

  /** A category a new case may take: it exists and is active. Unknown codes are the reporter's mistake (400). */
  async usableCategory(code: string, q?: Q): Promise<Category> {
    const c = await this.category(code, q);
    if (!c || !c.active) throw new ValidationError({ 'zh-CN': `诉求类别“${code}”不存在或已停用`, en: `Demand category "${code}" does not exist or is no longer used` }, { category: code }, 'unknown_category');
    return c;
  }

  /** The category and its children: a filter by a top-level class covers its sub-categories. */
  async familyOf(code: string): Promise<string[]> {
    const all = await this.categories();
    return [code, ...all.filter((c) => c.parentCode === code).map((c) => c.code)];
  }

  async calendar(q?: Q): Promise<CalendarSettings> {
    return (await this.load(q)).calendar;
  }

  /** The case's deadlines from `from`, counted in working time on the locality's calendar. */
  async deadlines(category: Category, from: Date, q?: Q): Promise<Deadlines> {
    const cal = await this.calendar(q);
    return {
      respondDueAt: addWorkingMinutes(from, category.respondMinutes, cal),
      finishDueAt: addWorkingMinutes(from, category.finishMinutes, cal),
      warnAt: addWorkingMinutes(from, Math.floor((category.finishMinutes * category.warnPercent) / 100), cal),
    };
  }

  /** At init: the preset's two-level dictionary, with default deadlines (emergencies shorter), and the default calendar. */
  async applyPreset(trx: Transaction<Database>, preset: Preset) {
    let sort = 0;
    for (const top of preset.demandCategories ?? []) {
      const emergency = top.code === 'emergency';
      const minutes = emergency ? EMERGENCY_DEADLINES : { respond: DEFAULT_RESPOND_MINUTES, finish: DEFAULT_FINISH_MINUTES };
      const row = (code: string, parent: string | null, name: { 'zh-CN': string; en: string }) => ({
        code,
        parent_code: parent,
        name_zh: name['zh-CN'],
        name_en: name.en,
        respond_minutes: minutes.respond,
        finish_minutes: minutes.finish,
        emergency,
        sort: sort++,
      });
      await trx.insertInto('demand_category').values(row(top.code, null, top.name)).onConflict((oc) => oc.column('code').doNothing()).execute();
      for (const child of top.children ?? []) {
        await trx.insertInto('demand_category').values(row(child.code, top.code, child.name)).onConflict((oc) => oc.column('code').doNothing()).execute();
      }
    }
    await trx
      .insertInto('demand_calendar')
      .values({ id: 1, weekdays: DEFAULT_CALENDAR.weekdays, periods: JSON.stringify(DEFAULT_CALENDAR.periods), overrides: JSON.stringify(DEFAULT_CALENDAR.overrides) })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    this.invalidate();
  }

  async updateCategory(ctx: RequestContext, code: string, patch: { respondMinutes?: number; finishMinutes?: number; warnPercent?: number; emergency?: boolean; decideKinds?: string[] | null; active?: boolean }) {
    requirePermissionAnywhere(ctx.actor, 'demand.config');
    const result = await this.db.transaction().execute(async (trx) => {
      const before = await trx.selectFrom('demand_category').selectAll().where('code', '=', code).forUpdate().executeTakeFirst();
      if (!before) throw new NotFoundError(CATEGORY);
      const respond = patch.respondMinutes ?? before.respond_minutes;
      const finish = patch.finishMinutes ?? before.finish_minutes;
      if (finish < respond) throw new ValidationError({ 'zh-CN': '办结时限不能短于响应时限', en: 'The time to finish cannot be shorter than the time to respond' }, undefined, 'finish_before_respond');
      if (patch.decideKinds) {
        const known = new Set((await trx.selectFrom('unit_kind').select('code').execute()).map((k) => k.code));
        const unknown = patch.decideKinds.filter((k) => !known.has(k));
        if (unknown.length) throw new ValidationError({ 'zh-CN': `单元类型不存在：${unknown.join('、')}`, en: `Unknown unit kinds: ${unknown.join(', ')}` }, { unknown }, 'unknown_kind');
      }
      const after = await trx
        .updateTable('demand_category')
        .set({
          respond_minutes: respond,
          finish_minutes: finish,
          ...(patch.warnPercent !== undefined ? { warn_percent: patch.warnPercent } : {}),
          ...(patch.emergency !== undefined ? { emergency: patch.emergency } : {}),
          ...(patch.decideKinds !== undefined ? { decide_kinds: patch.decideKinds && patch.decideKinds.length ? patch.decideKinds : null } : {}),
          ...(patch.active !== undefined ? { active: patch.active } : {}),
        })
        .where('code', '=', code)
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, ctx, { action: 'demand_category.update', targetType: 'demand_category', targetId: code, before, after });
      return after;
    });
    this.invalidate();
    return (await this.category(result.code))!;
  }

  async updateCalendar(ctx: RequestContext, input: unknown) {
    requirePermissionAnywhere(ctx.actor, 'demand.config');
    const checked = validateCalendar(input);
    if ('problem' in checked) throw new ValidationError(checked.problem, undefined, 'invalid_calendar');
    const s = checked.settings;
    await this.db.transaction().execute(async (trx) => {
      const before = await trx.selectFrom('demand_calendar').selectAll().where('id', '=', 1).forUpdate().executeTakeFirst();
      await trx
        .insertInto('demand_calendar')
        .values({ id: 1, weekdays: s.weekdays, periods: JSON.stringify(s.periods), overrides: JSON.stringify(s.overrides) })
        .onConflict((oc) => oc.column('id').doUpdateSet({ weekdays: s.weekdays, periods: JSON.stringify(s.periods), overrides: JSON.stringify(s.overrides), updated_at: new Date() }))
        .execute();
      await recordAudit(trx, ctx, { action: 'demand_calendar.update', targetType: 'demand_calendar', targetId: 1, before: before ?? null, after: s });
    });
    this.invalidate();
    return s;
  }
}
