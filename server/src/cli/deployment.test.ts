// init from every preset, and the demo locality: deterministic, and its coverage report lists exactly the planted gaps.
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../../test/db.ts';
import { loadConfig } from '../config.ts';
import { listPresetIds, loadPreset, kindChains } from '../modules/grid/preset.ts';
import { KindsService } from '../modules/grid/kinds.service.ts';
import { GridService } from '../modules/grid/grid.service.ts';
import { CoverageService } from '../modules/grid/coverage.service.ts';
import { systemContext } from '../platform/context.ts';
import { initDeployment, seedDemo } from './deployment.ts';
import { DEMO_SHAPE } from '../modules/grid/grid.seed.ts';
import { createKeyring, createPiiCipher } from '../platform/crypto/index.ts';

const opened: TestDatabase[] = [];
afterAll(async () => {
  for (const d of opened) await d.drop();
});
async function freshDb() {
  const d = await createTestDatabase();
  opened.push(d);
  return d;
}
const now = () => new Date('2026-11-20T02:00:00Z');

describe('init --preset', () => {
  it.each(listPresetIds())('%s: applies the kinds, children and roles, creates the root and a first admin', async (id) => {
    const db = await freshDb();
    const preset = loadPreset(id);
    const result = await initDeployment(db, { preset: id, now });
    expect(result.admin.oneTimePassword).toHaveLength(16);
    const kinds = await new KindsService(db.db).list();
    expect(kinds.map((k) => k.code).sort()).toEqual(preset.unitKinds.map((k) => k.code).sort());
    for (const k of preset.unitKinds) {
      const stored = kinds.find((s) => s.code === k.code)!;
      expect(stored.children.sort()).toEqual([...k.children].sort());
      expect(stored.roles.map((r) => r.code).sort()).toEqual(k.roles.map((r) => r.code).sort());
      expect(stored.roles.filter((r) => r.required).map((r) => r.code).sort()).toEqual(k.roles.filter((r) => r.required).map((r) => r.code).sort());
      expect(stored.isDistrict).toBe(k.code === preset.districtKind);
    }
    const root = await db.db.selectFrom('org_unit').selectAll().where('id', '=', result.root.id).executeTakeFirstOrThrow();
    expect(root.kind_code).toBe(preset.rootKinds[0]);
    expect(root.path).toBe(`/${root.id}/`);
    // A second init is refused and changes nothing.
    await expect(initDeployment(db, { preset: id, now })).rejects.toThrow(/initialised/i);
  });

  it('bengbu: a town holds both the rural and the urban chain, side by side in one tree', async () => {
    const db = await freshDb();
    const init = await initDeployment(db, { preset: 'bengbu', now });
    const chains = kindChains(loadPreset('bengbu'));
    expect(chains.length).toBeGreaterThanOrEqual(2);
    const grid = new GridService(db.db, now);
    const sys = systemContext('t');
    // Build every chain under one town, then check each unit sits where its preset chain says.
    const county = await grid.createChild(sys, { parentId: init.root.id, kind: chains[0][1], name: '测试县区' });
    const town = await grid.createChild(sys, { parentId: county.id, kind: chains[0][2], name: '测试镇' });
    for (const [n, chain] of chains.entries()) {
      let parent = town.id;
      for (const kind of chain.slice(3)) parent = (await grid.createChild(sys, { parentId: parent, kind, name: `${kind}-${n}` })).id;
    }
    const under = await db.db.selectFrom('org_unit').select(['kind_code']).where('parent_id', '=', town.id).execute();
    expect(under.map((u) => u.kind_code).sort()).toEqual([...new Set(chains.map((c) => c[3]))].sort());
    expect(new Set(under.map((u) => u.kind_code)).size).toBeGreaterThanOrEqual(2);
  });
});

describe('the demo locality', () => {
  it('is deterministic and its coverage report lists exactly the planted gaps', async () => {
    const config = loadConfig({ TONGXIN_DATA_DIR: '/tmp/unused' });
    const a = await freshDb();
    const b = await freshDb();
    const pii = createPiiCipher(createKeyring());
    const demoA = await seedDemo(a, config, { pii, now });
    const demoB = await seedDemo(b, config, { pii, now });
    const units = DEMO_SHAPE.communities * (1 + DEMO_SHAPE.gridsPerCommunity * (1 + DEMO_SHAPE.buildingsPerGrid * (1 + DEMO_SHAPE.zonesPerBuilding)));
    const snapshot = async (d: TestDatabase) => ({
      units: (await sql`select id, parent_id, kind_code, name, code, path from org_unit order by id`.execute(d.db)).rows,
      orgs: (await sql`select unit_id, kind, name, founded_on from party_org order by unit_id`.execute(d.db)).rows,
      posts: (await sql`select s.unit_id, s.role_code, p.name, s.started_on, s.ended_on from staff_post s join person p on p.id = s.person_id order by s.id`.execute(d.db)).rows,
      linked: (await sql`select unit_id, kind, name from linked_org order by id`.execute(d.db)).rows,
    });
    const snapA = await snapshot(a);
    expect(snapA.units).toHaveLength(units + 2);
    expect(snapA).toEqual(await snapshot(b));
    expect(demoA.plantedGaps).toEqual(demoB.plantedGaps);
    expect(demoA.logins.map((l) => l.username)).toEqual(['district', 'street', 'secretary', 'gridleader', 'gridworker', 'member', 'resident', 'auditor']);

    const grid = new GridService(a.db, now);
    const report = await new CoverageService(a.db, grid, now).report(systemContext('t'), demoA.init.root.id);
    const listed = report.gaps.map((g) => ({ unitId: g.unitId, gap: g.gap, role: g.role }));
    const byKey = (x: { unitId: number; gap: string; role: string | null }) => `${x.unitId}:${x.gap}:${x.role}`;
    expect(listed.map(byKey).sort()).toEqual(demoA.plantedGaps.map(byKey).sort());
    expect(report.totals.unitsWithGaps).toBe(7);
    expect(report.totals.units).toBe(units + 2);
    // rolled up: the street's row carries every gap
    expect(report.children).toHaveLength(1);
    expect(report.children[0].missingPartyOrg + report.children[0].missingLeader + report.children[0].missingRole).toBe(demoA.plantedGaps.length);
    // recount from raw rows: each community's rolled-up figure equals the gaps found under its path
    const street = await new CoverageService(a.db, grid, now).report(systemContext('t'), demoA.street.id);
    for (const c of street.children) {
      const under = report.gaps.filter((g) => g.path.startsWith(c.path));
      expect(c.unitsWithGaps).toBe(new Set(under.map((g) => g.unitId)).size);
      expect(c.missingPartyOrg).toBe(under.filter((g) => g.gap === 'party_org').length);
    }
  }, 240_000); // seeds the demo street twice: ~25 s on a quiet machine, minutes on a busy one
});
