// The demo street's base data and party life, for `npm start`: in the first two communities every building
// gets dwellings with households of residents; each grid's branch gets party members (one of them tied to
// the demo `member` account), a 户联系 group, links assigned automatically, and visits over the last two
// months; each community gets 设岗定责 posts with a few claims; each grid a facility or two and a hazard.
// Deterministic (the seed's Random) and small enough to take a few seconds.
import { sql } from 'kysely';
import type { DemoSeedContext } from '../../platform/module.ts';
import { systemContext } from '../../platform/context.ts';
import { recordAudit } from '../../platform/audit.ts';
import { businessDate } from '../../platform/clock.ts';
import { idCheckCharacter } from '../../platform/crypto/id-number.ts';
import { nameInitials } from '../basedata/residents.service.ts';
import { ResidentsRepository } from '../basedata/residents.repository.ts';
import { HousesService } from '../basedata/houses.service.ts';
import { HouseholdsService } from '../basedata/households.service.ts';
import { FacilitiesService } from '../basedata/facilities.service.ts';
import { HazardsService } from '../basedata/hazards.service.ts';
import { MembersService } from './members.service.ts';
import { MemberPostsService } from './member-posts.service.ts';
import { ContactsService, shiftDate } from './contacts.service.ts';

const SURNAMES = ['陈', '李', '黄', '张', '梁', '林', '刘', '何', '吴', '郭', '罗', '杨', '周', '谢', '麦', '邓', '冯', '叶', '苏', '潘'];
const GIVEN = ['伟', '芳', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀英', '华', '慧', '建国', '志强', '嘉欣', '家豪', '婉婷'];
const SEEDED_COMMUNITIES = 2;
const HOUSES_PER_BUILDING = 4;

/** A fake but valid GB 11643 number in 440103 (荔湾) for demo person n. */
export function demoIdNumber(n: number, male: boolean): string {
  const year = 1940 + (n % 60);
  const month = String(1 + (n % 12)).padStart(2, '0');
  const day = String(1 + (n % 28)).padStart(2, '0');
  const order = (n * 2 + (male ? 1 : 0)) % 1000;
  const first17 = `440103${year}${month}${day}${String(order).padStart(3, '0')}`;
  return first17 + idCheckCharacter(first17);
}

export async function seedPartyDemo(ctx: DemoSeedContext) {
  const { trx, rng, services } = ctx;
  const sys = systemContext('seed');
  const now = services.now;
  const today = businessDate(now());
  const houses = new HousesService(services.db, now);
  const households = new HouseholdsService(services.db, now);
  const facilities = new FacilitiesService(services.db, now);
  const hazards = new HazardsService(services.db, now);
  const members = new MembersService(services.db, now);
  const posts = new MemberPostsService(services.db, now);
  const contacts = new ContactsService(services.db, now);
  const residentsRepo = new ResidentsRepository(services.db);
  const communities = (ctx.data.communities as { id: number; name: string; grids: number[] }[]).slice(0, SEEDED_COMMUNITIES);
  const grids = new Map((ctx.data.grids as { id: number; name: string; box: { coordinates: number[][][] } }[]).map((g) => [g.id, g]));
  const memberAccount = await trx.selectFrom('app_user').select('id').where('username', '=', 'member').executeTakeFirst();

  let person = 0;
  // residents go in through the repository inside the seed's transaction, sealed and audited like the service does
  const addResident = async (unit: { id: number; district_id: number; path: string }, householdId: number, houseId: number, address: string, relation: string) => {
    person++;
    const male = rng.chance(0.5);
    const name = rng.pick(SURNAMES) + rng.pick(GIVEN);
    const idNumber = demoIdNumber(person, male);
    const id = services.pii.seal('id_number', 'resident.id_number', idNumber);
    const phone = services.pii.seal('phone', 'resident.phone', `139${String(20_000_000 + person * 7919).slice(-8)}`);
    const birth = `${idNumber.slice(6, 10)}-${idNumber.slice(10, 12)}-${idNumber.slice(12, 14)}`;
    const age = Number(today.slice(0, 4)) - Number(birth.slice(0, 4));
    const row = await residentsRepo.insert(
      unit.district_id,
      {
        unit_id: unit.id,
        household_id: householdId,
        house_id: houseId,
        name,
        name_initials: nameInitials(name),
        gender: male ? 'male' : 'female',
        birth_date: birth,
        id_cipher: id.ciphertext,
        id_hash: id.lookupHash,
        id_head: id.head,
        id_last4: id.tail,
        phone_cipher: phone.ciphertext,
        phone_hash: phone.lookupHash,
        phone_head: phone.head,
        phone_last4: phone.tail,
        registration: 'registered',
        relation_to_head: relation,
        address,
        tags: age >= 75 && rng.chance(0.4) ? ['elderly_alone'] : [],
        sensitive_tags: [],
        sources: { name: 'seed', idNumber: 'seed', phone: 'seed' },
      },
      trx,
    );
    await recordAudit(trx, sys, { action: 'resident.create', targetType: 'resident', targetId: row.id, unit, after: { name, householdId, houseId, source: 'seed' } });
    return { id: row.id, name };
  };

  let memberTied = false;
  for (const [ci, community] of communities.entries()) {
    const communityUnit = (await trx.selectFrom('org_unit').select(['id', 'district_id', 'path', 'name']).where('id', '=', community.id).executeTakeFirstOrThrow());
    for (const [gi, gridId] of community.grids.entries()) {
      const gridInfo = grids.get(gridId)!;
      const ring = gridInfo.box.coordinates[0];
      const [minLng, minLat] = ring[0];
      const [maxLng, maxLat] = ring[2];
      const buildings = await trx.selectFrom('org_unit').select(['id', 'district_id', 'path', 'name']).where('parent_id', '=', gridId).where('kind_code', '=', 'building').orderBy('id').execute();
      const gridResidents: { id: number; unitId: number }[] = [];
      for (const [bi, building] of buildings.entries()) {
        // a building's dwellings share its spot in the grid's strip, a few metres apart
        const bLng = minLng + ((bi + 0.5) / buildings.length) * (maxLng - minLng);
        const bLat = (minLat + maxLat) / 2;
        for (let r = 1; r <= HOUSES_PER_BUILDING; r++) {
          const room = `${Math.ceil(r / 2)}0${((r - 1) % 2) + 1}`;
          const address = `逢源街道${community.name}${gridInfo.name.replace(community.name, '')}${building.name}${room}房`;
          const commercial = bi === 0 && r === 1;
          const house = await houses.create(
            sys,
            { unitId: building.id, address, building: building.name, room, exclusiveArea: Math.round((55 + rng.next() * 60) * 100) / 100, usage: commercial ? 'commercial' : 'residential', lng: Math.round((bLng + r * 0.00002) * 1e6) / 1e6, lat: Math.round(bLat * 1e6) / 1e6 },
            trx,
          );
          const kind = commercial ? 'business' : rng.chance(0.15) ? 'non_registered_family' : 'registered_family';
          const household = await households.create(sys, { unitId: building.id, kind, name: commercial ? `${rng.pick(SURNAMES)}记士多` : `${room}户`, houseId: house.id, address }, trx);
          const head = await addResident(building, household.id, house.id, address, '户主');
          gridResidents.push({ id: head.id, unitId: building.id });
          if (!commercial) {
            const spouse = await addResident(building, household.id, house.id, address, '配偶');
            gridResidents.push({ id: spouse.id, unitId: building.id });
          }
          await trx.updateTable('household').set({ head_resident_id: head.id, name: commercial ? `${head.name}士多` : `${head.name}户` }).where('id', '=', household.id).execute();
          await recordAudit(trx, sys, { action: 'household.set_head', targetType: 'household', targetId: household.id, unit: building, after: { headResidentId: head.id } });
          if (!commercial) await houses.setOwners(sys, house.id, [{ residentId: head.id, share: 0.5 }, { residentId: gridResidents[gridResidents.length - 1].id, share: 0.5 }], trx);
        }
      }

      // party members of the grid's branch: two per grid (one resident in twelve), each linked to about ten households
      const branch = await trx.selectFrom('party_org').select(['id']).where('unit_id', '=', gridId).executeTakeFirst();
      if (branch) {
        const memberIds: number[] = [];
        for (const [k, r] of gridResidents.entries()) {
          if (k % 12 !== 1) continue;
          const category = k === 1 ? 'ordinary' : gi % 2 === 0 ? 'elderly' : gi === 3 ? 'unemployed' : 'ordinary';
          const tie = !memberTied && memberAccount && gi === 0 && ci === 0;
          const m = await members.create(sys, { residentId: r.id, partyOrgId: branch.id, category, status: k === 13 && gi === 1 ? 'probationary' : 'full', joinedOn: `${rng.int(1975, 2020)}-07-01`, userId: tie ? memberAccount!.id : null }, trx);
          if (tie) memberTied = true;
          memberIds.push(m.id);
        }
        // an in-service member from a district office who registered (报到) with this community
        if (gi === 0) {
          const r = gridResidents[gridResidents.length - 1];
          const m = await members.create(sys, { residentId: r.id, partyOrgId: branch.id, category: 'in_service', status: 'full', joinedOn: '2008-07-01', workUnit: rng.pick(['荔湾区税务局', '区教育局', '区卫健局']) }, trx);
          await members.register(sys, m.id, { registeredUnitId: community.id, registeredOn: '2024-03-05' }, trx);
          memberIds.push(m.id);
        }
        await contacts.createGroup(sys, { unitId: gridId, name: `${gridInfo.name}户联系党小组`, leaderMemberId: memberIds[0], memberIds }, trx);
      }
    }
    // 1+10: the community's households to its members, evenly and nearest first; visits over the last two months
    const plan = await contacts.autoAssign(sys, community.id, { maxPerMember: 10 }, trx);
    for (const link of plan.links) {
      if (!rng.chance(0.7)) continue;
      await contacts.logVisit(sys, link.householdId, { visitedOn: shiftDate(today, -rng.int(0, 60)), note: rng.pick(['入户走访，了解近况', '宣传垃圾分类', '收集加装电梯意见', '慰问独居长者']) }, trx);
    }
    // 设岗定责
    const postIds: number[] = [];
    for (const title of ['政策宣传岗', '环境卫生监督岗', '邻里矛盾调解岗']) {
      postIds.push((await posts.create(sys, { unitId: community.id, title, duties: `${title}：每月至少参与两次社区活动`, capacity: 3 }, trx)).id);
    }
    const free = await trx
      .selectFrom('party_member as m')
      .innerJoin('org_unit as u', 'u.id', 'm.unit_id')
      .select('m.id')
      .where('u.path', 'like', `${communityUnit.path}%`)
      .where('m.category', 'in', ['ordinary', 'elderly', 'unemployed'])
      .orderBy('m.id')
      .limit(5)
      .execute();
    for (const [k, m] of free.entries()) await posts.claim(sys, postIds[k % postIds.length], { memberId: m.id, claimedOn: '2025-03-01' }, trx);

    // facilities and hazards found on patrol
    for (const [gi, gridId] of community.grids.entries()) {
      const hydrant = await facilities.create(sys, { unitId: gridId, kind: 'fire_hydrant', name: `消防栓 ${ci + 1}-${gi + 1}` }, trx);
      if (gi % 2 === 0) await facilities.create(sys, { unitId: gridId, kind: 'camera', name: `治安监控 ${ci + 1}-${gi + 1}` }, trx);
      const hazard = await hazards.create(
        sys,
        { unitId: gridId, facilityId: gi === 0 ? hydrant.id : null, category: rng.pick(['消防通道堵塞', '电动车违规充电', '高空坠物风险', '燃气管道老化']), description: '巡查发现，已拍照留存，通知责任单位整改', severity: rng.pick(['low', 'medium', 'high'] as const), foundOn: shiftDate(today, -rng.int(5, 40)), ownerUnit: `${community.name.replace('社区', '')}物业服务有限公司` },
        trx,
      );
      if (gi % 3 === 1) await hazards.transition(sys, hazard.id, { to: 'rectifying' }, trx);
      if (gi % 3 === 2) {
        await hazards.transition(sys, hazard.id, { to: 'rectifying' }, trx);
        await hazards.transition(sys, hazard.id, { to: 'resolved', resolvedOn: today }, trx);
      }
    }
  }
  // keep the planner's statistics fresh after a bulk seed (PostgreSQL; harmless on PGlite)
  await sql`analyze household`.execute(trx);
}
