// tree: the org tree at scale through the real GridService / GridRepository, each figure against the same
// SQL statements run on the bare driver, on the same open database, in alternating rounds (docs/bench.md).
import type { Db } from '../../server/src/db/connection.ts';
import { GridService } from '../../server/src/modules/grid/grid.service.ts';
import { CoverageRepository } from '../../server/src/modules/grid/coverage.repository.ts';
import { CoverageService } from '../../server/src/modules/grid/coverage.service.ts';
import { systemContext } from '../../server/src/platform/context.ts';
import { businessDate } from '../../server/src/platform/clock.ts';
import { assertSame, budgetFor, ENGINES, higherBetter, lowerBetter, measurePair, withConnections, type BareDriver, type Figure, type Suite } from '../harness.ts';
import { preparedScratch, sampleVia, SCALES, type UnitRef } from '../lib/locality.ts';
import * as Q from '../lib/product-sql.ts';

/** No subtree in these scales comes near it: the query returns the whole subtree. */
const SUBTREE_LIMIT = 1_000_000;

const sortedIds = (rows: { id: number }[]) => rows.map((r) => Number(r.id)).sort((a, b) => a - b);
const pathIds = (path: string) => path.split('/').filter(Boolean).map(Number);

/** What a children-with-badges call answers, on both sides: per child its id, active child count and gap rows below it. */
interface BadgeAnswer {
  id: number;
  childCount: number;
  gaps: number;
}

export const treeSuite: Suite = {
  name: 'tree',
  description: 'subtree, ancestors, children with coverage badges, subtree move, unit creation: GridService vs the same SQL on the bare driver',
  engines: ENGINES,
  scales: SCALES,
  defaultScale: 'street',
  async run(ctx) {
    const { options, log } = ctx;
    const { scratch, locality } = await preparedScratch(ctx, 'tree');
    const budget = budgetFor(options);
    const today = () => businessDate(new Date());

    return withConnections(scratch, async ({ product: database, bare }) => {
      const s = await sampleVia(database.db);
      const now = () => new Date();
      const grid = new GridService(database.db, now);
      const coverage = new CoverageService(database.db, grid, now);
      const sys = systemContext('bench');
      const figures: Figure[] = [];

      /** Checks both sides answer the same, measures them in alternating rounds, adds the figure. */
      const compare = async <A, B>(name: string, unit: string, perCall: number, productFn: () => Promise<A>, baselineFn: () => Promise<B>, same?: (a: A, b: B) => [unknown, unknown]) => {
        if (same) {
          const [a, b] = same(await productFn(), await baselineFn());
          assertSame(name, a, b);
        }
        const t = await measurePair(productFn, baselineFn, budget);
        figures.push(higherBetter(name, unit, t.product.perSecond * perCall, t.baseline.perSecond * perCall));
        log(`${name}: product median ${t.product.medianMs.toFixed(2)} ms (${t.product.runs} runs), baseline ${t.baseline.medianMs.toFixed(2)} ms (${t.baseline.runs} runs)`);
      };

      // (0) building the tree: the whole preparation (generator or demo seed through the services, party
      // organisations, posts, ANALYZE) against the engine copying the same org_unit rows into a table with the
      // same indexes in one statement
      {
        await bare.query('create temporary table bench_unit_copy (like org_unit including all)');
        const t = performance.now();
        await bare.query('insert into bench_unit_copy select * from org_unit');
        const copySeconds = (performance.now() - t) / 1000;
        await bare.query('drop table bench_unit_copy');
        figures.push(higherBetter(`build the tree (${locality.units} units with party organisations, posts, boundaries; build took ${locality.seconds.toFixed(1)} s)`, 'units/s', locality.units / locality.seconds, locality.units / copySeconds));
        log(`build: ${locality.units} units in ${locality.seconds.toFixed(1)} s; raw copy of the rows ${(copySeconds * 1000).toFixed(0)} ms`);
      }

      // (0b) subtree roll-up at every level: unit counts by kind of the subtree, the tail latency (p95) an
      // office sees when it opens any unit (the target: < 20 ms on PGlite, < 10 ms on PostgreSQL)
      const counts = new CoverageRepository(database.db);
      for (const level of ['district', 'street', 'community', 'grid', 'building', 'zone'] as const) {
        const u = s[level];
        const params = [Q.likePrefix(u.path)];
        assertSame(`unit counts of the ${level}`, await counts.unitCounts(u.path), await bare.query(Q.UNIT_COUNTS, params));
        const t = await measurePair(() => counts.unitCounts(u.path), () => bare.query(Q.UNIT_COUNTS, params), budget);
        figures.push(lowerBetter(`subtree roll-up of a ${level} (${u.size} units), p95: CoverageRepository.unitCounts`, 'ms', t.product.p95Ms, t.baseline.p95Ms));
        log(`roll-up of the ${level}: product p50 ${t.product.medianMs.toFixed(2)} / p95 ${t.product.p95Ms.toFixed(2)} ms, baseline p50 ${t.baseline.medianMs.toFixed(2)} / p95 ${t.baseline.p95Ms.toFixed(2)} ms`);
      }

      // (a) subtree by path prefix
      for (const [label, u] of [
        ['street', s.street],
        ['community', s.community],
      ] as const) {
        await compare(
          `subtree of a ${label} (${u.size} units): GridRepository.searchUnits`,
          'queries/s',
          1,
          () => grid.repo.searchUnits([u.path], { limit: SUBTREE_LIMIT }),
          () => bare.query<{ id: number }>(Q.SUBTREE, [Q.likePrefix(u.path), SUBTREE_LIMIT]),
          (a, b) => [sortedIds(a), sortedIds(b)],
        );
      }

      // (b) ancestors: the unit, then its ancestors by the ids in its path (as GridService.detail does)
      await compare(
        `ancestors of a unit at depth ${s.zone.depth}: GridRepository.unit + unitsByIds`,
        'queries/s',
        1,
        async () => {
          const unit = (await grid.repo.unit(s.zone.id))!;
          return grid.repo.unitsByIds(pathIds(unit.path).filter((a) => a !== unit.id));
        },
        async () => {
          const [unit] = await bare.query<{ id: number; path: string }>(Q.UNIT_BY_ID, [s.zone.id]);
          const ids = pathIds(unit.path).filter((a) => a !== Number(unit.id));
          return bare.query<{ id: number }>(Q.unitsByIds(ids.length), ids);
        },
        (a, b) => [sortedIds(a), sortedIds(b)],
      );

      // (c) children with coverage badges (GET /api/units/:id/children?coverage=true without HTTP)
      const badgesProduct = async (u: UnitRef): Promise<BadgeAnswer[]> => {
        const children = await grid.children(sys, u.id);
        const counts = await coverage.badges(sys, children);
        return children.map((c) => {
          const b = counts.get(c.id)!;
          return { id: c.id, childCount: c.childCount, gaps: b.missingPartyOrg + b.missingLeader + b.missingRole };
        });
      };
      const badgesBaseline = async (u: UnitRef) => {
        const [self] = await bare.query<{ id: number; path: string }>(Q.UNIT_BY_ID, [u.id]);
        const children = await bare.query<{ id: number; path: string }>(Q.CHILDREN, [Number(self.id)]);
        const ids = children.map((c) => Number(c.id));
        const counts = ids.length ? await bare.query<{ parent_id: number; n: number }>(Q.childCounts(ids.length), ids) : [];
        const gaps = await bare.query<{ path: string }>(Q.GAPS, [Q.likePrefix(self.path), today()]);
        return { children, counts, gaps };
      };
      const badgeAnswer = ({ children, counts, gaps }: Awaited<ReturnType<typeof badgesBaseline>>): BadgeAnswer[] =>
        children.map((c) => ({
          id: Number(c.id),
          childCount: Number(counts.find((k) => Number(k.parent_id) === Number(c.id))?.n ?? 0),
          gaps: gaps.filter((g) => g.path.startsWith(c.path)).length,
        }));
      for (const [label, u] of [
        ['the district', s.district],
        ['a street', s.street],
      ] as const) {
        await compare(
          `children with coverage badges of ${label} (${u.size} units): GridService.children + CoverageService.badges`,
          'calls/s',
          1,
          () => badgesProduct(u),
          () => badgesBaseline(u),
          (a, b) => [a, badgeAnswer(b)],
        );
      }

      // (d) move a community's subtree to another street and back: two moves per call, the tree unchanged after
      const movedSize = async (path: string) => (await bare.query(Q.SUBTREE, [Q.likePrefix(path), SUBTREE_LIMIT])).length;
      const movedPath = `${s.otherStreet.path}${s.community.id}/`;
      await grid.move(sys, s.community.id, s.otherStreet.id);
      assertSame('subtree moved by GridService.move', s.community.size, await movedSize(movedPath));
      await grid.move(sys, s.community.id, s.street.id);
      await rawMove(bare, s.community, s.street, s.otherStreet);
      assertSame('subtree moved by the raw UPDATEs', s.community.size, await movedSize(movedPath));
      await rawMove(bare, s.community, s.otherStreet, s.street);
      await compare(
        `move a community subtree (${s.community.size} units) to another street: GridService.move (audited)`,
        'moves/s',
        2,
        async () => {
          await grid.move(sys, s.community.id, s.otherStreet.id);
          await grid.move(sys, s.community.id, s.street.id);
        },
        async () => {
          await rawMove(bare, s.community, s.street, s.otherStreet);
          await rawMove(bare, s.community, s.otherStreet, s.street);
        },
      );

      // (e) create a unit (a responsibility zone under a building); removed again afterwards
      let n = 0;
      await compare(
        'create a unit: GridService.createChild (audited)',
        'units/s',
        1,
        () => grid.createChild(sys, { parentId: s.building.id, kind: s.zone.kind, name: `压测新建${n++}` }),
        () => bare.query(Q.INSERT_UNIT, [s.building.districtId, s.building.id, s.zone.kind, `压测新建${n++}`, s.building.path, s.building.depth + 1]),
      );
      await removeCreated(database.db, s.building.id, '压测新建%');
      return figures;
    });
  },
};

/** The rows a move changes, in one transaction under the tree lock: what GridService.move writes, nothing else. */
async function rawMove(bare: BareDriver, unit: UnitRef, from: UnitRef, to: UnitRef) {
  const oldPath = `${from.path}${unit.id}/`;
  const newPath = `${to.path}${unit.id}/`;
  await bare.transaction(async (query) => {
    await query(Q.LOCK_TREE);
    await query(Q.SET_PARENT, [to.id, unit.districtId, unit.id]);
    await query(Q.MOVE_SUBTREE, [newPath, oldPath.length + 1, to.depth + 1 - unit.depth, new Date(), Q.likePrefix(oldPath)]);
  });
}

/** The units the create figure made go again (their audit rows stay), so later figures see the prepared tree. */
async function removeCreated(db: Db, parentId: number, pattern: string) {
  await db.deleteFrom('org_unit').where('parent_id', '=', parentId).where('name', 'like', pattern).execute();
}
