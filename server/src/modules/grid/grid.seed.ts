// The grid's part of the demo locality: one 街道 of the liwan preset with 10 communities, 50 grids,
// 150 buildings and 300 party-member responsibility zones, fully staffed except for a few planted gaps
// (listed in ctx.plantedGaps) so the coverage report has something true to show.
import type { DemoSeedContext } from '../../platform/module.ts';
import { systemContext } from '../../platform/context.ts';
import { GridService } from './grid.service.ts';

const COMMUNITIES = ['文昌', '龙津', '华林', '多宝', '昌华', '宝源', '耀华', '恩宁', '蓬莱', '西关'];
const SURNAMES = ['陈', '李', '黄', '张', '梁', '林', '刘', '何', '吴', '郭', '罗', '杨', '周', '谢', '麦', '邓', '冯', '叶', '苏', '潘'];
const GIVEN = ['伟', '芳', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀英', '华', '慧', '建国', '志强', '嘉欣', '家豪', '婉婷', '子轩', '晓东', '玉梅', '国华', '少芬', '锦荣'];

export const DEMO_SHAPE = { communities: 10, gridsPerCommunity: 5, buildingsPerGrid: 3, zonesPerBuilding: 2 };

// Planted gaps, by position (community, grid, building, zone; 1-based).
const GAPS = {
  communityWithoutSecretary: 10,
  gridWithoutPartyOrg: [3, 4],
  gridWithEndedLeader: [5, 2],
  gridWithoutWorker: [7, 5],
  buildingWithoutLeader: [2, 1, 3],
  buildingWithoutPartyGroup: [9, 3, 2],
  zoneWithoutMember: [4, 1, 1, 2],
} as const;

const same = (a: readonly number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

// The street spans a box near Liwan; communities tile it 5×2, grids tile each community in 5 strips.
const STREET_BOX = { minLng: 113.225, minLat: 23.115, maxLng: 113.265, maxLat: 23.135 };
const rect = (minLng: number, minLat: number, maxLng: number, maxLat: number) => ({
  type: 'Polygon' as const,
  coordinates: [[[minLng, minLat], [maxLng, minLat], [maxLng, maxLat], [minLng, maxLat], [minLng, minLat]].map(([x, y]) => [round(x), round(y)])],
});
const round = (v: number) => Math.round(v * 1e6) / 1e6;

export async function seedGridDemo(ctx: DemoSeedContext) {
  const { trx, rng } = ctx;
  const sys = systemContext('seed');
  const grid = new GridService(ctx.services.db, ctx.services.now);
  const personName = () => rng.pick(SURNAMES) + rng.pick(GIVEN);
  const since = (year: number) => `${year}-${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`;
  const appoint = (unitId: number, role: string, startedOn = since(rng.int(2018, 2024)), endedOn: string | null = null) =>
    grid.appointPost(sys, unitId, { role, personName: personName(), startedOn, endedOn }, trx);

  const street = ctx.street;
  const district = (await grid.repo.unit(street.district_id, trx))!;
  if (!(await grid.repo.partyOrgOfUnit(district.district_id, district.id, trx))) {
    await grid.bindPartyOrg(sys, district.id, { kind: 'committee', name: `中共${district.name}委员会`, foundedOn: '1950-10-01' }, trx);
  }
  const streetName = (await grid.repo.unit(street.id, trx))!.name;
  await grid.setBoundary(sys, street.id, rect(STREET_BOX.minLng, STREET_BOX.minLat, STREET_BOX.maxLng, STREET_BOX.maxLat), trx);
  await grid.bindPartyOrg(sys, street.id, { kind: 'working_committee', name: `中共${streetName}工作委员会`, foundedOn: '2003-07-01' }, trx);
  await appoint(street.id, 'street_secretary');
  for (const name of ['广州市公安局荔湾区分局逢源派出所', '荔湾区人民医院', '逢源物业管理有限公司']) {
    await grid.addLinkedOrg(sys, street.id, { kind: 'big_party_committee_member', name, contactName: personName() }, trx);
  }

  const communities: { id: number; name: string; grids: number[] }[] = [];
  const grids: { id: number; name: string; communityId: number; box: ReturnType<typeof rect> }[] = [];
  const colWidth = (STREET_BOX.maxLng - STREET_BOX.minLng) / 5;
  const rowHeight = (STREET_BOX.maxLat - STREET_BOX.minLat) / 2;
  for (let c = 1; c <= DEMO_SHAPE.communities; c++) {
    const name = `${COMMUNITIES[c - 1]}社区`;
    const community = await grid.createChild(sys, { parentId: street.id, kind: 'community', name, code: `C${String(c).padStart(2, '0')}` }, trx);
    const cMinLng = STREET_BOX.minLng + ((c - 1) % 5) * colWidth;
    const cMinLat = STREET_BOX.minLat + Math.floor((c - 1) / 5) * rowHeight;
    await grid.setBoundary(sys, community.id, rect(cMinLng, cMinLat, cMinLng + colWidth, cMinLat + rowHeight), trx);
    await grid.bindPartyOrg(sys, community.id, { kind: 'committee', name: `中共${name}委员会`, foundedOn: since(rng.int(1995, 2010)) }, trx);
    if (c === GAPS.communityWithoutSecretary) ctx.plantedGaps.push({ unitId: community.id, gap: 'leader', role: 'community_secretary' });
    else await appoint(community.id, 'community_secretary');
    await appoint(community.id, 'community_organiser');
    await grid.addLinkedOrg(sys, community.id, { kind: 'property_company', name: `${COMMUNITIES[c - 1]}物业服务有限公司`, contactName: personName() }, trx);
    await grid.addLinkedOrg(sys, community.id, { kind: 'co_building', name: `${rng.pick(['荔湾区税务局', '广州地铁', '区教育局', '区卫健局', '区城管局'])}党支部`, startedOn: '2022-03-01' }, trx);
    if (c % 3 === 0) await grid.addLinkedOrg(sys, community.id, { kind: 'owners_committee', name: `${COMMUNITIES[c - 1]}花园业主委员会` }, trx);
    if (c % 2 === 0) await grid.addLinkedOrg(sys, community.id, { kind: 'social_org', name: `${COMMUNITIES[c - 1]}长者关爱服务队` }, trx);
    const entry = { id: community.id, name, grids: [] as number[] };
    communities.push(entry);

    for (let g = 1; g <= DEMO_SHAPE.gridsPerCommunity; g++) {
      const gName = `第${g}网格`;
      const gridUnit = await grid.createChild(sys, { parentId: community.id, kind: 'grid', name: gName, code: `C${String(c).padStart(2, '0')}G${g}` }, trx);
      const stripHeight = rowHeight / DEMO_SHAPE.gridsPerCommunity;
      const box = rect(cMinLng, cMinLat + (g - 1) * stripHeight, cMinLng + colWidth, cMinLat + g * stripHeight);
      await grid.setBoundary(sys, gridUnit.id, box, trx);
      entry.grids.push(gridUnit.id);
      grids.push({ id: gridUnit.id, name: `${name}${gName}`, communityId: community.id, box });
      if (same(GAPS.gridWithoutPartyOrg, [c, g])) ctx.plantedGaps.push({ unitId: gridUnit.id, gap: 'party_org', role: null });
      else await grid.bindPartyOrg(sys, gridUnit.id, { kind: 'branch', name: `${name}${gName}党支部`, foundedOn: since(rng.int(2015, 2021)) }, trx);
      if (same(GAPS.gridWithEndedLeader, [c, g])) {
        // The leader left at the end of 2025 and nobody has been appointed since.
        await appoint(gridUnit.id, 'grid_leader', '2019-03-01', '2025-12-31');
        ctx.plantedGaps.push({ unitId: gridUnit.id, gap: 'leader', role: 'grid_leader' });
      } else {
        await appoint(gridUnit.id, 'grid_leader');
      }
      if (same(GAPS.gridWithoutWorker, [c, g])) ctx.plantedGaps.push({ unitId: gridUnit.id, gap: 'role', role: 'grid_worker' });
      else await appoint(gridUnit.id, 'grid_worker');
      if (g === 1) await appoint(gridUnit.id, 'stationed_cadre', '2025-09-01');

      for (let b = 1; b <= DEMO_SHAPE.buildingsPerGrid; b++) {
        const bName = `${(g - 1) * DEMO_SHAPE.buildingsPerGrid + b}号楼`;
        const building = await grid.createChild(sys, { parentId: gridUnit.id, kind: 'building', name: bName }, trx);
        if (same(GAPS.buildingWithoutPartyGroup, [c, g, b])) ctx.plantedGaps.push({ unitId: building.id, gap: 'party_org', role: null });
        else await grid.bindPartyOrg(sys, building.id, { kind: 'group', name: `${bName}党小组` }, trx);
        if (same(GAPS.buildingWithoutLeader, [c, g, b])) ctx.plantedGaps.push({ unitId: building.id, gap: 'leader', role: 'building_leader' });
        else await appoint(building.id, 'building_leader');
        for (let z = 1; z <= DEMO_SHAPE.zonesPerBuilding; z++) {
          const zone = await grid.createChild(sys, { parentId: building.id, kind: 'responsibility_zone', name: `${bName}第${z}责任区` }, trx);
          if (same(GAPS.zoneWithoutMember, [c, g, b, z])) ctx.plantedGaps.push({ unitId: zone.id, gap: 'leader', role: 'zone_member' });
          else await appoint(zone.id, 'zone_member');
        }
      }
    }
  }
  ctx.data.communities = communities;
  ctx.data.grids = grids;
}
