// rollup: any unit's counts at every level. The coverage report (CoverageService.report) and the unit-count
// roll-up (CoverageRepository.unitCounts) for a district, a street, a community and a grid, against a raw SQL
// aggregate on the bare driver computing the same numbers in one statement (see docs/bench.md).
import { CoverageRepository } from '../../server/src/modules/grid/coverage.repository.ts';
import { CoverageService } from '../../server/src/modules/grid/coverage.service.ts';
import { GridService } from '../../server/src/modules/grid/grid.service.ts';
import { systemContext } from '../../server/src/platform/context.ts';
import { businessDate } from '../../server/src/platform/clock.ts';
import { assertSame, budgetFor, ENGINES, higherBetter, measurePair, withConnections, type Figure, type Suite } from '../harness.ts';
import { preparedScratch, sampleVia, SCALES } from '../lib/locality.ts';
import * as Q from '../lib/product-sql.ts';

const LEVELS = ['district', 'street', 'community', 'grid'] as const;

interface GapCounts {
  missingPartyOrg: number;
  missingLeader: number;
  missingRole: number;
  unitsWithGaps: number;
}

/** The numbers of a coverage report, in one canonical shape for both sides. */
interface ReportNumbers {
  totals: { units: number; withPartyOrg: number } & GapCounts;
  byKind: { kind: string; units: number; withPartyOrg: number }[];
  holders: { kind: string; role: string; holders: number }[];
  own: GapCounts;
  children: ({ id: number } & GapCounts)[];
}

const gapCounts = (g: GapCounts): GapCounts => ({ missingPartyOrg: Number(g.missingPartyOrg), missingLeader: Number(g.missingLeader), missingRole: Number(g.missingRole), unitsWithGaps: Number(g.unitsWithGaps) });

/**
 * Everything CoverageService.report counts, in one statement: per-kind unit and party-organisation counts,
 * current holders per role, gap counts for the subtree, for the unit itself and for each child (in
 * GridRepository.children's order).
 * $1 subtree prefix, $2 today, $3 the unit's id, $4 the path segment (1-based) holding a child's id.
 */
const REPORT_AGGREGATE = `
  with sub as (
    select u.district_id, u.id, u.kind_code, u.path
    from org_unit u where u.path like $1 and u.archived_at is null
  ),
  current_post as (
    select s.district_id, s.unit_id, s.kind_code, s.role_code
    from staff_post s join sub on sub.district_id = s.district_id and sub.id = s.unit_id
    where s.started_on <= $2::date and (s.ended_on is null or s.ended_on >= $2::date)
  ),
  gap as (
    select sub.id, sub.path, 'party_org' as gap
    from sub join unit_kind k on k.code = sub.kind_code
    where k.requires_party_org and not exists (select 1 from party_org o where o.district_id = sub.district_id and o.unit_id = sub.id)
    union all
    select sub.id, sub.path, case when r.leader then 'leader' else 'role' end
    from sub join staff_role r on r.kind_code = sub.kind_code and (r.required or r.leader)
    where not exists (select 1 from current_post c where c.district_id = sub.district_id and c.unit_id = sub.id and c.role_code = r.code)
  ),
  by_kind as (
    select sub.kind_code, count(*) as units, count(o.id) as with_party_org
    from sub left join party_org o on o.district_id = sub.district_id and o.unit_id = sub.id
    group by sub.kind_code
  ),
  by_child as (
    select split_part(g.path, '/', $4)::int8 as child_id,
      count(*) filter (where gap = 'party_org') as p, count(*) filter (where gap = 'leader') as l,
      count(*) filter (where gap = 'role') as r, count(distinct g.id) as u
    from gap g where g.id <> $3 group by 1
  )
  select
    (select jsonb_build_object('units', coalesce(sum(units), 0), 'withPartyOrg', coalesce(sum(with_party_org), 0)) from by_kind) as unit_totals,
    (select jsonb_build_object('missingPartyOrg', count(*) filter (where gap = 'party_org'), 'missingLeader', count(*) filter (where gap = 'leader'),
       'missingRole', count(*) filter (where gap = 'role'), 'unitsWithGaps', count(distinct id)) from gap) as gap_totals,
    (select jsonb_build_object('missingPartyOrg', count(*) filter (where gap = 'party_org'), 'missingLeader', count(*) filter (where gap = 'leader'),
       'missingRole', count(*) filter (where gap = 'role'), 'unitsWithGaps', count(distinct id)) from gap where id = $3) as own,
    (select coalesce(jsonb_agg(jsonb_build_object('kind', kind_code, 'units', units, 'withPartyOrg', with_party_org) order by kind_code), '[]') from by_kind) as by_kind,
    (select coalesce(jsonb_agg(jsonb_build_object('kind', kind_code, 'role', role_code, 'holders', n) order by kind_code, role_code), '[]')
       from (select kind_code, role_code, count(*) as n from current_post group by 1, 2) h) as holders,
    (select coalesce(jsonb_agg(jsonb_build_object('id', c.id, 'missingPartyOrg', coalesce(b.p, 0), 'missingLeader', coalesce(b.l, 0),
       'missingRole', coalesce(b.r, 0), 'unitsWithGaps', coalesce(b.u, 0)) order by c.code nulls last, c.name), '[]')
       from org_unit c left join by_child b on b.child_id = c.id where c.parent_id = $3 and c.archived_at is null) as children`;

interface AggregateRow {
  unit_totals: { units: number; withPartyOrg: number };
  gap_totals: GapCounts;
  own: GapCounts;
  by_kind: ReportNumbers['byKind'];
  holders: ReportNumbers['holders'];
  children: ({ id: number } & GapCounts)[];
}

function aggregateNumbers(row: AggregateRow): ReportNumbers {
  return {
    totals: { units: Number(row.unit_totals.units), withPartyOrg: Number(row.unit_totals.withPartyOrg), ...gapCounts(row.gap_totals) },
    byKind: row.by_kind.map((k) => ({ kind: k.kind, units: Number(k.units), withPartyOrg: Number(k.withPartyOrg) })),
    holders: row.holders.map((h) => ({ kind: h.kind, role: h.role, holders: Number(h.holders) })),
    own: gapCounts(row.own),
    children: row.children.map((c) => ({ id: Number(c.id), ...gapCounts(c) })),
  };
}

export const rollupSuite: Suite = {
  name: 'rollup',
  description: 'coverage report and unit-count roll-up of a district, street, community and grid vs one raw SQL aggregate',
  engines: ENGINES,
  scales: SCALES,
  defaultScale: 'street',
  async run(ctx) {
    const { options, log } = ctx;
    const { scratch } = await preparedScratch(ctx, 'rollup');
    const budget = budgetFor(options);
    const today = businessDate(new Date());

    return withConnections(scratch, async ({ product: database, bare }) => {
      const sample = await sampleVia(database.db);
      const now = () => new Date();
      const coverage = new CoverageService(database.db, new GridService(database.db, now), now);
      const counts = new CoverageRepository(database.db);
      const sys = systemContext('bench');
      const figures: Figure[] = [];
      for (const level of LEVELS) {
        const unit = sample[level];

        const report = await coverage.report(sys, unit.id);
        const productNumbers: ReportNumbers = {
          totals: report.totals,
          byKind: report.byKind,
          holders: report.holders,
          own: report.own,
          children: report.children.map((c) => ({ id: c.id, ...gapCounts(c) })),
        };
        const params = [Q.likePrefix(unit.path), today, unit.id, unit.depth + 3];
        const [row] = await bare.query<AggregateRow>(REPORT_AGGREGATE, params);
        assertSame(`coverage report of the ${level}`, productNumbers, aggregateNumbers(row));
        const r = await measurePair(() => coverage.report(sys, unit.id), () => bare.query(REPORT_AGGREGATE, params), budget);
        figures.push(higherBetter(`coverage report of a ${level} (${unit.size} units): CoverageService.report`, 'reports/s', r.product.perSecond, r.baseline.perSecond));
        log(`report of the ${level}: product median ${r.product.medianMs.toFixed(2)} ms (${r.product.runs} runs), baseline ${r.baseline.medianMs.toFixed(2)} ms (${r.baseline.runs} runs)`);

        const countParams = [Q.likePrefix(unit.path)];
        assertSame(`unit counts of the ${level}`, await counts.unitCounts(unit.path), await bare.query(Q.UNIT_COUNTS, countParams));
        const c = await measurePair(() => counts.unitCounts(unit.path), () => bare.query(Q.UNIT_COUNTS, countParams), budget);
        figures.push(higherBetter(`unit counts by kind of a ${level} (${unit.size} units): CoverageRepository.unitCounts`, 'queries/s', c.product.perSecond, c.baseline.perSecond));
        log(`unit counts of the ${level}: product median ${c.product.medianMs.toFixed(2)} ms (${c.product.runs} runs), baseline ${c.baseline.medianMs.toFixed(2)} ms (${c.baseline.runs} runs)`);
      }
      return figures;
    });
  },
};
