import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../../server/test/db.ts';
import { listPresetIds, loadPreset } from '../../server/src/modules/grid/preset.ts';
import { CoverageService } from '../../server/src/modules/grid/coverage.service.ts';
import { GridService } from '../../server/src/modules/grid/grid.service.ts';
import { boundaryInside, parseBoundary, type Boundary } from '../../server/src/platform/geo.ts';
import type { RequestContext } from '../../server/src/platform/context.ts';
import { build, type BuildResult } from './build.ts';
import { SCALES } from './scales.ts';
import { clearTableWriters, registerTableWriter } from './db-writer.ts';

// The day after the generator's default as-of date: every current post has started, every ended one has ended.
const now = () => new Date('2026-07-01T04:00:00Z');

function adminAt(root: { id: number; district_id: number; path: string }): RequestContext {
  return {
    actor: { userId: 1, username: 'test', displayName: 'test', mustChangePassword: false, grants: [{ grantId: 1, role: 'district_admin', districtId: root.district_id, unitId: root.id, unitPath: root.path }] },
    clientIp: null,
  };
}

async function coverageMatches(db: TestDatabase, result: BuildResult) {
  const grid = new GridService(db.db, now);
  const root = (await grid.repo.unit(result.rootId!))!;
  const report = await new CoverageService(db.db, grid, now).report(adminAt(root), root.id, 100_000);
  const reported = report.gaps.map((g) => `${g.unitId}:${g.gap}:${g.role ?? ''}`).sort();
  const planted = result.summary.gaps.map((g) => `${result.unitId(g.unitSeq)}:${g.gap}:${g.role ?? ''}`).sort();
  expect(planted.length).toBeGreaterThan(0);
  expect(reported).toEqual(planted);
  return { grid, root };
}

describe('a liwan village built into the database', () => {
  let db: TestDatabase;
  let result: BuildResult;
  const residents: number[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    // A later module's table, plugged in with one line.
    await sql`create table generated_resident (district_id bigint not null, unit_id bigint not null, resident_no text primary key, name text not null, id_number text not null)`.execute(db.db);
    registerTableWriter('resident', (ctx, rows) =>
      ctx.insert(
        'generated_resident',
        [
          { name: 'district_id', type: 'bigint' },
          { name: 'unit_id', type: 'bigint' },
          { name: 'resident_no', type: 'text' },
          { name: 'name', type: 'text' },
          { name: 'id_number', type: 'text' },
        ],
        [rows.map((r) => ctx.districtId(r.unitSeq)), rows.map((r) => ctx.unitId(r.unitSeq)), rows.map((r) => r.residentNo), rows.map((r) => r.name), rows.map((r) => r.idNumber)],
      ),
    );
    registerTableWriter('resident', async (_ctx, rows) => void residents.push(rows.length));
    result = await build({ preset: loadPreset('liwan'), scale: SCALES.village, seed: 11, gapRate: 0.1, db });
  });
  afterAll(async () => {
    clearTableWriters();
    await db?.drop();
  });

  it('writes the tree, people, posts and party organisations', async () => {
    const count = async (table: 'org_unit' | 'person' | 'staff_post' | 'party_org') => Number((await db.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    expect(await count('org_unit')).toBe(result.summary.counts.unit);
    expect(await count('person')).toBe(result.summary.counts.staff);
    expect(await count('staff_post')).toBe(result.summary.counts.staff);
    expect(await count('party_org')).toBe(result.summary.counts.party_org);
    const audit = await db.db.selectFrom('audit_log').select(['action']).execute();
    expect(audit.map((a) => a.action).sort()).toEqual(['generator.build', 'preset.apply']);
  });

  it('computes path, depth and district_id as GridService does', async () => {
    const units = await db.db.selectFrom('org_unit').selectAll().orderBy('id').execute();
    const byId = new Map(units.map((u) => [u.id, u]));
    for (const u of units) {
      if (u.parent_id === null) {
        expect(u.path).toBe(`/${u.id}/`);
        expect(u.depth).toBe(0);
        expect(u.district_id).toBe(u.id);
        continue;
      }
      const parent = byId.get(u.parent_id)!;
      expect(u.path).toBe(`${parent.path}${u.id}/`);
      expect(u.depth).toBe(parent.depth + 1);
      expect(u.district_id).toBe(u.kind_code === 'district' ? u.id : parent.district_id);
    }
  });

  it('stores boundaries the app accepts, inside their parents, with their bounding boxes', async () => {
    const units = await db.db.selectFrom('org_unit').selectAll().execute();
    const byId = new Map(units.map((u) => [u.id, u]));
    let withBoundary = 0;
    for (const u of units) {
      if (!u.boundary) continue;
      withBoundary++;
      expect('boundary' in parseBoundary(u.boundary)).toBe(true);
      const ring = (u.boundary as { coordinates: number[][][] }).coordinates[0];
      expect(u.bbox_min_lng).toBe(Math.min(...ring.map((p) => p[0])));
      expect(u.bbox_max_lat).toBe(Math.max(...ring.map((p) => p[1])));
      const parent = u.parent_id ? byId.get(u.parent_id) : null;
      if (parent) expect(boundaryInside(u.boundary as Boundary, parent.boundary as Boundary)).toBeNull();
    }
    expect(withBoundary).toBe(1 + 1 + 1 + 5);
  });

  it('leaves exactly the recorded gaps, as the coverage report sees them', async () => {
    await coverageMatches(db, result);
  });

  it('leaves the tree usable by the app: new units, posts and details on generated units', async () => {
    const grid = new GridService(db.db, now);
    const root = (await grid.repo.unit(result.rootId!))!;
    const ctx = adminAt(root);
    const gridUnit = result.locality.units.find((u) => u.kind === 'grid')!;
    const gridId = result.unitId(gridUnit.seq);
    const created = await grid.createChild(ctx, { parentId: gridId, kind: 'building', name: '新建99号楼' });
    expect(created.id).toBeGreaterThan(Math.max(...result.locality.units.map((u) => result.unitId(u.seq))));
    expect(created.path).toBe(`${(await grid.repo.unit(gridId))!.path}${created.id}/`);
    const post = await grid.appointPost(ctx, created.id, { role: 'building_leader', personName: '测试人', startedOn: '2026-01-05' });
    expect(post.current).toBe(true);
    const detail = await grid.detail(ctx, gridId);
    expect(detail.boundary).not.toBeNull();
    expect(detail.unit.childCount).toBe(gridUnit.children.length + 1);
  });

  it('hands residents to registered table writers', async () => {
    const n = Number((await sql<{ n: number }>`select count(*)::int8 as n from generated_resident`.execute(db.db)).rows[0].n);
    expect(n).toBe(SCALES.village.residents);
    expect(residents.reduce((a, b) => a + b, 0)).toBe(SCALES.village.residents);
    expect(result.dbRows.resident).toBe(SCALES.village.residents);
  });

  it('refuses to build into an initialised database and leaves it unchanged', async () => {
    clearTableWriters();
    const before = await db.db.selectFrom('org_unit').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    await expect(build({ preset: loadPreset('liwan'), scale: SCALES.village, seed: 12, db })).rejects.toThrow(/已经用预设|Already initialised/);
    const after = await db.db.selectFrom('org_unit').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });
});

describe.each(listPresetIds().filter((p) => p !== 'liwan'))('a %s village built into the database', (presetId) => {
  let db: TestDatabase;
  afterAll(async () => db?.drop());
  it('matches the coverage report gap for gap', async () => {
    db = await createTestDatabase();
    const result = await build({ preset: loadPreset(presetId), scale: SCALES.village, seed: 5, gapRate: 0.15, db });
    await coverageMatches(db, result);
    const bad = await db.db.selectFrom('org_unit').select(['id', 'boundary']).where('boundary', 'is not', null).execute();
    for (const u of bad) expect('boundary' in parseBoundary(u.boundary)).toBe(true);
  });
});
