// The loop's figures as counts over demand rows: one aggregate per request, grouped by the child of the
// unit asked for (the roll-up) and by top-level category. Rates are made from these counts in the service.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import { likePrefix } from '../grid/grid.repository.ts';

/** Every count a rate is made of; each is defined in metrics.service.ts beside the rate that uses it. */
export const COUNT_KEYS = [
  'reported',
  'registered',
  'declined',
  'responded_on_time',
  'handled',
  'reworked',
  'completed',
  'on_time',
  'resolved',
  'closed_ever',
  'reopened',
  'rated',
  'satisfied',
  'open',
  'overdue',
] as const;
export type CountKey = (typeof COUNT_KEYS)[number];
export type Counts = Record<CountKey, number>;

// Merged duplicates are not cases of their own: they count in none of the figures.
const COUNT_SQL = sql`
  count(*) as reported,
  count(*) filter (where d.registered_at is not null) as registered,
  count(*) filter (where d.status = 'declined') as declined,
  count(*) filter (where d.responded_at is not null and d.responded_at <= d.respond_due_at) as responded_on_time,
  count(*) filter (where d.handled_at is not null) as handled,
  count(*) filter (where d.rework_count > 0) as reworked,
  count(*) filter (where d.status in ('closed', 'rated')) as completed,
  count(*) filter (where d.status in ('closed', 'rated') and d.closed_at <= d.finish_due_at) as on_time,
  count(*) filter (where d.status in ('closed', 'rated') and d.resolved) as resolved,
  count(*) filter (where d.status in ('closed', 'rated') or d.reopen_count > 0) as closed_ever,
  count(*) filter (where d.reopen_count > 0) as reopened,
  count(*) filter (where d.rating is not null) as rated,
  count(*) filter (where d.rating in ('satisfied', 'basically_satisfied')) as satisfied,
  count(*) filter (where d.status in ('reported', 'registered', 'dispatched', 'accepted', 'handled', 'verified')) as open,
  count(*) filter (where d.overdue_at is not null and d.status in ('reported', 'registered', 'dispatched', 'accepted', 'handled', 'verified')) as overdue`;

type CountRow = Record<CountKey, string | number>;

export const toCounts = (r: CountRow | undefined): Counts => Object.fromEntries(COUNT_KEYS.map((k) => [k, Number(r?.[k] ?? 0)])) as Counts;

export interface MetricsScope {
  unitPath: string;
  from: Date;
  to: Date;
  /** a top-level category: the figures of it and its sub-categories only */
  categoryCodes?: string[];
}

export class MetricsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  private where(s: MetricsScope) {
    const category = s.categoryCodes?.length ? sql`and d.category_code in (${sql.join(s.categoryCodes)})` : sql``;
    return sql`d.home_unit_path like ${likePrefix(s.unitPath)} and d.reported_at >= ${s.from} and d.reported_at < ${s.to} and d.status <> 'merged' ${category}`;
  }

  async total(s: MetricsScope): Promise<Counts> {
    const r = await sql<CountRow>`select ${COUNT_SQL} from demand d where ${this.where(s)}`.execute(this.db);
    return toCounts(r.rows[0]);
  }

  /** Counts per child of the unit: the child's id is the path segment after the unit's own. */
  async byChild(s: MetricsScope): Promise<(Counts & { unitId: number })[]> {
    const segment = s.unitPath.split('/').length;
    const r = await sql<CountRow & { child: string }>`
      select split_part(d.home_unit_path, '/', ${segment}) as child, ${COUNT_SQL}
      from demand d where ${this.where(s)} and length(d.home_unit_path) > ${s.unitPath.length}
      group by 1`.execute(this.db);
    return r.rows.map((row) => ({ unitId: Number(row.child), ...toCounts(row) }));
  }

  /** Counts per top-level category (a sub-category counts under its parent). */
  async byCategory(s: MetricsScope): Promise<(Counts & { category: string })[]> {
    const r = await sql<CountRow & { category: string }>`
      select coalesce(c.parent_code, c.code) as category, ${COUNT_SQL}
      from demand d join demand_category c on c.code = d.category_code
      where ${this.where(s)}
      group by 1 order by 1`.execute(this.db);
    return r.rows.map((row) => ({ category: row.category, ...toCounts(row) }));
  }
}
