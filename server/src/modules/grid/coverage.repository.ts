// Coverage: which units in a subtree lack a party organisation, a leader, or a holder of a required role.
// One pass per question over the subtree's prefix range; roll-ups group by the ancestor one level below the root.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import { likePrefix } from './grid.repository.ts';

export type GapKind = 'party_org' | 'leader' | 'role';

export interface GapRow {
  district_id: number;
  unit_id: number;
  unit_name: string;
  kind_code: string;
  path: string;
  gap: GapKind;
  role_code: string | null;
}

export class CoverageRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Every gap in the subtree rooted at `rootPath` (the root included), as of `today`. */
  async gaps(rootPath: string, today: string): Promise<GapRow[]> {
    const prefix = likePrefix(rootPath);
    const result = await sql<GapRow>`
      with sub as (
        select u.district_id, u.id, u.name, u.kind_code, u.path
        from org_unit u
        where u.path like ${prefix} and u.archived_at is null
      )
      select sub.district_id, sub.id as unit_id, sub.name as unit_name, sub.kind_code, sub.path, 'party_org' as gap, null as role_code
      from sub join unit_kind k on k.code = sub.kind_code
      where k.requires_party_org
        and not exists (select 1 from party_org o where o.district_id = sub.district_id and o.unit_id = sub.id)
      union all
      select sub.district_id, sub.id, sub.name, sub.kind_code, sub.path, case when r.leader then 'leader' else 'role' end, r.code
      from sub join staff_role r on r.kind_code = sub.kind_code and (r.required or r.leader)
      -- a correlated anti-join per (unit, role) on staff_post's unit index: the planner picks a good plan at
      -- district scale (a CTE of the subtree's current posts made PostgreSQL hash the whole subtree first)
      where not exists (
        select 1 from staff_post s
        where s.district_id = sub.district_id and s.unit_id = sub.id and s.role_code = r.code
          and s.started_on <= ${today}::date and (s.ended_on is null or s.ended_on >= ${today}::date))
      order by 5, 6, 7`.execute(this.db);
    return result.rows;
  }

  /** Units per kind in the subtree, and how many of them have a party organisation. */
  async unitCounts(rootPath: string) {
    const prefix = likePrefix(rootPath);
    const result = await sql<{ kind_code: string; units: number; with_party_org: number }>`
      select u.kind_code, count(*)::int8 as units, count(o.id)::int8 as with_party_org
      from org_unit u
      left join party_org o on o.district_id = u.district_id and o.unit_id = u.id
      where u.path like ${prefix} and u.archived_at is null
      group by u.kind_code order by u.kind_code`.execute(this.db);
    return result.rows;
  }

  /** Current post holders per role in the subtree. */
  async holderCounts(rootPath: string, today: string) {
    const prefix = likePrefix(rootPath);
    const result = await sql<{ kind_code: string; role_code: string; holders: number }>`
      select s.kind_code, s.role_code, count(*)::int8 as holders
      from staff_post s join org_unit u on u.district_id = s.district_id and u.id = s.unit_id
      where u.path like ${prefix} and u.archived_at is null
        and s.started_on <= ${today}::date and (s.ended_on is null or s.ended_on >= ${today}::date)
      group by s.kind_code, s.role_code order by 1, 2`.execute(this.db);
    return result.rows;
  }
}
