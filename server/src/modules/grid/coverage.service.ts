// The coverage report: gaps in a subtree (no party organisation, no leader, a required role unfilled),
// rolled up to each child so the tree can show a badge on every node.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import type { RequestContext } from '../../platform/context.ts';
import { hasPermissionAt } from '../../platform/access.ts';
import { businessDate } from '../../platform/clock.ts';
import { CoverageRepository, type GapRow } from './coverage.repository.ts';
import { GridService, unitView } from './grid.service.ts';

export interface GapCounts {
  missingPartyOrg: number;
  missingLeader: number;
  missingRole: number;
  /** units with at least one gap of any kind */
  unitsWithGaps: number;
}

function countGaps(gaps: GapRow[]): GapCounts {
  const units = new Set<number>();
  const counts: GapCounts = { missingPartyOrg: 0, missingLeader: 0, missingRole: 0, unitsWithGaps: 0 };
  for (const g of gaps) {
    units.add(g.unit_id);
    if (g.gap === 'party_org') counts.missingPartyOrg++;
    else if (g.gap === 'leader') counts.missingLeader++;
    else counts.missingRole++;
  }
  counts.unitsWithGaps = units.size;
  return counts;
}

/** The id of the ancestor of `path` at `depth` (root at depth 0). */
const ancestorAt = (path: string, depth: number) => Number(path.split('/')[depth + 1]);

export class CoverageService {
  private readonly repo: CoverageRepository;
  constructor(
    private readonly db: Kysely<Database>,
    private readonly grid: GridService,
    private readonly now: () => Date,
  ) {
    this.repo = new CoverageRepository(db);
  }

  async report(ctx: RequestContext, unitId: number, gapLimit = 1000) {
    const unit = await this.grid.unitFor(ctx, unitId, 'coverage.read');
    const today = businessDate(this.now());
    const [gaps, unitCounts, holders, children] = await Promise.all([
      this.repo.gaps(unit.path, today),
      this.repo.unitCounts(unit.path),
      this.repo.holderCounts(unit.path, today),
      this.grid.repo.children(unit.id),
    ]);
    const byChild = new Map<number, GapRow[]>();
    for (const g of gaps) {
      if (g.unit_id === unit.id) continue;
      const child = ancestorAt(g.path, unit.depth + 1);
      if (!byChild.has(child)) byChild.set(child, []);
      byChild.get(child)!.push(g);
    }
    return {
      unit: unitView(unit),
      asOf: today,
      totals: {
        units: unitCounts.reduce((s, r) => s + Number(r.units), 0),
        withPartyOrg: unitCounts.reduce((s, r) => s + Number(r.with_party_org), 0),
        ...countGaps(gaps),
      },
      byKind: unitCounts.map((r) => ({ kind: r.kind_code, units: Number(r.units), withPartyOrg: Number(r.with_party_org) })),
      holders: holders.map((h) => ({ kind: h.kind_code, role: h.role_code, holders: Number(h.holders) })),
      own: countGaps(gaps.filter((g) => g.unit_id === unit.id)),
      children: children.map((c) => ({ ...unitView(c), ...countGaps(byChild.get(c.id) ?? []) })),
      gapTotal: gaps.length,
      gaps: gaps.slice(0, gapLimit).map((g) => ({ unitId: g.unit_id, unitName: g.unit_name, kind: g.kind_code, path: g.path, gap: g.gap, role: g.role_code })),
    };
  }

  /** Gap counts for each of the given units' subtrees (tree badges), or null where the caller may not read coverage. */
  async badges(ctx: RequestContext, units: { id: number; path: string }[]): Promise<Map<number, GapCounts | null>> {
    const result = new Map<number, GapCounts | null>();
    if (!units.length) return result;
    const today = businessDate(this.now());
    // Siblings share a parent: one subtree query over the parent covers them all.
    // Roots have no common parent, so each is queried on its own.
    const subtrees = new Set(
      units.map((u) => {
        const parentPath = u.path.slice(0, u.path.slice(0, -1).lastIndexOf('/') + 1);
        return parentPath === '/' ? u.path : parentPath;
      }),
    );
    const gaps: GapRow[] = [];
    for (const p of subtrees) gaps.push(...(await this.repo.gaps(p, today)));
    for (const u of units) {
      if (!hasPermissionAt(ctx.actor, 'coverage.read', u.path)) {
        result.set(u.id, null);
        continue;
      }
      result.set(u.id, countGaps(gaps.filter((g) => g.path.startsWith(u.path))));
    }
    return result;
  }
}
