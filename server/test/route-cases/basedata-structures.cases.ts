// Route-matrix rows for houses, households, facilities, hazards, party members, 设岗定责 posts and
// 户联系 / 1+10 (server/src/modules/basedata/structures.routes.ts, server/src/modules/party/party.routes.ts):
// spread into CASES in route-matrix.test.ts. The shape is the matrix's RouteCase, restated so this file
// needs nothing from a test file; prepare builds its objects through the services, on the matrix's database
// (reached through the grid service it is handed).
import type { TinyLocality } from '../fixtures.ts';
import type { GridService } from '../../src/modules/grid/grid.service.ts';
import type { ResidentsService } from '../../src/modules/basedata/residents.service.ts';
import { systemContext } from '../../src/platform/context.ts';
import { HousesService } from '../../src/modules/basedata/houses.service.ts';
import { HouseholdsService } from '../../src/modules/basedata/households.service.ts';
import { FacilitiesService } from '../../src/modules/basedata/facilities.service.ts';
import { HazardsService } from '../../src/modules/basedata/hazards.service.ts';
import { MembersService } from '../../src/modules/party/members.service.ts';
import { MemberPostsService } from '../../src/modules/party/member-posts.service.ts';
import { ContactsService } from '../../src/modules/party/contacts.service.ts';

type Ids = TinyLocality & Record<string, number>;
interface Prep {
  grid: GridService;
  residents: ResidentsService;
  f: TinyLocality;
}
interface StructureCase {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  route: string;
  prepare?: (h: Prep) => Promise<Record<string, number>>;
  url: (ids: Ids) => string;
  body?: (ids: Ids) => unknown;
  as: string;
  status: number;
  outside?: { as: string; url?: (ids: Ids) => string; body?: (ids: Ids) => unknown; status?: number };
  bad?: { url?: (ids: Ids) => string; body: (ids: Ids) => unknown; status?: number }[];
}

const sys = systemContext('matrix');
const MISSING = 999_999_999;
/** the matrix's clock (test/app.ts TestClock) */
const now = () => new Date('2026-11-20T02:00:00Z');
let counter = 0;
const next = () => ++counter;

function services(grid: GridService) {
  const db = grid.repo.db;
  return {
    houses: new HousesService(db, now),
    households: new HouseholdsService(db, now),
    facilities: new FacilitiesService(db, now),
    hazards: new HazardsService(db, now),
    members: new MembersService(db, now),
    posts: new MemberPostsService(db, now),
    contacts: new ContactsService(db, now),
  };
}

async function branchOf(grid: GridService, unitId: number) {
  const unit = (await grid.repo.unit(unitId))!;
  const existing = await grid.repo.partyOrgOfUnit(unit.district_id, unit.id);
  return existing ? existing.id : (await grid.bindPartyOrg(sys, unitId, { kind: 'branch', name: `${unit.name}党支部` })).id;
}
const house = async (p: Prep, unitId = p.f.buildingA1) => (await services(p.grid).houses.create(sys, { unitId, address: `矩阵路${next()}号` })).id;
const household = async (p: Prep, unitId = p.f.gridA1) => (await services(p.grid).households.create(sys, { unitId, kind: 'registered_family', name: `矩阵户${next()}` })).id;
const resident = async (p: Prep, unitId = p.f.gridA1) => (await p.residents.create(sys, { unitId, name: `矩阵居民${next()}` })).id;
const member = async (p: Prep, extra: { category?: 'ordinary' | 'in_service'; workUnit?: string } = {}) =>
  (await services(p.grid).members.create(sys, { residentId: await resident(p), partyOrgId: await branchOf(p.grid, p.f.gridA1), category: extra.category ?? 'ordinary', status: 'full', workUnit: extra.workUnit })).id;
const linked = async (p: Prep) => {
  const hh = await household(p);
  const m = await member(p);
  await services(p.grid).contacts.setLink(sys, hh, m);
  return { hh, m };
};
const get = (url: string) => ({ url: () => url, body: () => undefined });

export const STRUCTURE_CASES: StructureCase[] = [
  // ---- houses ----
  { method: 'GET', route: '/api/houses', url: () => '/api/houses?q=%E7%9F%A9%E9%98%B5', as: 'worker_a1', status: 200, outside: { as: 'member_a1', status: 403 }, bad: [get('/api/houses?limit=0'), get('/api/houses?usage=castle')] },
  { method: 'GET', route: '/api/houses/:id', prepare: async (p) => ({ house1: await house(p) }), url: (i) => `/api/houses/${i.house1}`, as: 'worker_a1', status: 200, outside: { as: 'secretary_b' }, bad: [get('/api/houses/abc')] },
  { method: 'POST', route: '/api/houses', prepare: async (p) => ({ dupAddress: await house(p) }), url: () => '/api/houses', body: (i) => ({ unitId: i.gridA1, address: '矩阵大道1号', exclusiveArea: 66.6 }), as: 'worker_a1', status: 201, outside: { as: 'secretary_b' },
    bad: [{ body: (i) => ({ unitId: i.gridA1 }) }, { body: (i) => ({ unitId: i.gridA1, address: '矩阵大道2号', exclusiveArea: -3 }) }, { body: (i) => ({ unitId: i.gridA1, address: '矩阵大道3号', lat: 23.1 }) }] },
  { method: 'PATCH', route: '/api/houses/:id', prepare: async (p) => ({ house2: await house(p) }), url: (i) => `/api/houses/${i.house2}`, body: () => ({ room: '301' }), as: 'worker_a1', status: 200, outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ exclusiveArea: -1 }) }, { body: () => ({}) }, { body: (i) => ({ unitId: i.communityA }), status: 404 }] },
  { method: 'POST', route: '/api/houses/:id/archive', prepare: async (p) => {
      const busy = await house(p);
      await services(p.grid).households.create(sys, { unitId: p.f.buildingA1, kind: 'business', name: `矩阵店${next()}`, houseId: busy });
      return { house3: await house(p), busyHouse: busy };
    }, url: (i) => `/api/houses/${i.house3}/archive`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' }, bad: [{ url: (i) => `/api/houses/${i.busyHouse}/archive`, body: () => undefined, status: 409 }] },
  { method: 'PUT', route: '/api/houses/:id/owners', prepare: async (p) => ({ house4: await house(p), owner: await resident(p, p.f.buildingA1) }), url: (i) => `/api/houses/${i.house4}/owners`, body: (i) => ({ owners: [{ residentId: i.owner, share: 0.5 }] }),
    as: 'worker_a1', status: 200, outside: { as: 'secretary_b' }, bad: [{ body: (i) => ({ owners: [{ residentId: i.owner, share: 1.5 }] }) }, { body: () => ({ owners: [{ residentId: MISSING, share: 0.5 }] }) }] },

  // ---- households ----
  { method: 'GET', route: '/api/households', url: () => '/api/households?kind=registered_family', as: 'worker_a1', status: 200, outside: { as: 'member_a1', status: 403 }, bad: [get('/api/households?kind=gang')] },
  { method: 'GET', route: '/api/households/:id', prepare: async (p) => ({ hh1: await household(p) }), url: (i) => `/api/households/${i.hh1}`, as: 'worker_a1', status: 200, outside: { as: 'secretary_b' }, bad: [get('/api/households/0')] },
  { method: 'POST', route: '/api/households', url: () => '/api/households', body: (i) => ({ unitId: i.gridA1, kind: 'business', name: '矩阵士多' }), as: 'worker_a1', status: 201, outside: { as: 'secretary_b' },
    bad: [{ body: (i) => ({ unitId: i.gridA1, kind: 'business', name: '' }) }, { body: (i) => ({ unitId: i.gridA1, kind: 'gang', name: 'x' }) }, { body: (i) => ({ unitId: i.gridA1, kind: 'business', name: 'x', houseId: MISSING }) }] },
  { method: 'PATCH', route: '/api/households/:id', prepare: async (p) => ({ hh2: await household(p) }), url: (i) => `/api/households/${i.hh2}`, body: () => ({ address: '矩阵路88号' }), as: 'worker_a1', status: 200, outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ kind: 'x' }) }, { body: () => ({ houseId: MISSING }) }] },
  { method: 'POST', route: '/api/households/:id/archive', prepare: async (p) => {
      const full = await household(p);
      await services(p.grid).households.addMember(sys, full, { residentId: await resident(p) });
      return { hh3: await household(p), fullHousehold: full };
    }, url: (i) => `/api/households/${i.hh3}/archive`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' }, bad: [{ url: (i) => `/api/households/${i.fullHousehold}/archive`, body: () => undefined, status: 409 }] },
  { method: 'POST', route: '/api/households/:id/members', prepare: async (p) => ({ hh4: await household(p), joiner: await resident(p) }), url: (i) => `/api/households/${i.hh4}/members`, body: (i) => ({ residentId: i.joiner, relationToHead: '户主', head: true }),
    as: 'worker_a1', status: 201, outside: { as: 'secretary_b' }, bad: [{ body: () => ({ residentId: MISSING }) }, { body: () => ({}) }] },
  { method: 'DELETE', route: '/api/households/:id/members/:residentId', prepare: async (p) => {
      const hh = await household(p);
      const r = await resident(p);
      await services(p.grid).households.addMember(sys, hh, { residentId: r });
      return { hh5: hh, leaver: r, stranger: await resident(p) };
    }, url: (i) => `/api/households/${i.hh5}/members/${i.leaver}`, as: 'worker_a1', status: 200, outside: { as: 'secretary_b' }, bad: [{ url: (i) => `/api/households/${i.hh5}/members/${i.stranger}`, body: () => undefined, status: 404 }] },
  { method: 'PUT', route: '/api/households/:id/head', prepare: async (p) => {
      const hh = await household(p);
      const r = await resident(p);
      await services(p.grid).households.addMember(sys, hh, { residentId: r });
      return { hh6: hh, headRes: r, notMember: await resident(p) };
    }, url: (i) => `/api/households/${i.hh6}/head`, body: (i) => ({ residentId: i.headRes }), as: 'worker_a1', status: 200, outside: { as: 'secretary_b' },
    bad: [{ body: (i) => ({ residentId: i.notMember }) }, { body: () => ({ residentId: 'x' }) }] },

  // ---- facilities ----
  { method: 'GET', route: '/api/facilities', url: () => '/api/facilities', as: 'worker_a1', status: 200, outside: { as: 'member_a1', status: 403 }, bad: [get('/api/facilities?status=broken')] },
  { method: 'GET', route: '/api/facilities/:id', prepare: async (p) => ({ fac1: (await services(p.grid).facilities.create(sys, { unitId: p.f.gridA1, kind: 'fire_hydrant', name: '矩阵消防栓' })).id }),
    url: (i) => `/api/facilities/${i.fac1}`, as: 'worker_a1', status: 200, outside: { as: 'secretary_b' }, bad: [get('/api/facilities/-5')] },
  { method: 'POST', route: '/api/facilities', url: () => '/api/facilities', body: (i) => ({ unitId: i.gridA1, kind: 'camera', name: '矩阵监控' }), as: 'worker_a1', status: 201, outside: { as: 'secretary_b' },
    bad: [{ body: (i) => ({ unitId: i.gridA1, kind: 'Camera!', name: 'x' }) }, { body: (i) => ({ unitId: i.gridA1, kind: 'camera', name: 'x', lng: 200, lat: 1 }) }] },
  { method: 'PATCH', route: '/api/facilities/:id', prepare: async (p) => ({ fac2: (await services(p.grid).facilities.create(sys, { unitId: p.f.gridA1, kind: 'elevator', name: '矩阵电梯' })).id }),
    url: (i) => `/api/facilities/${i.fac2}`, body: () => ({ note: '已检修' }), as: 'worker_a1', status: 200, outside: { as: 'secretary_b' }, bad: [{ body: () => ({ status: 'x' }) }, { body: () => ({ lng: 113.2 }) }] },

  // ---- hazards ----
  { method: 'GET', route: '/api/hazards', url: () => '/api/hazards?status=open', as: 'worker_a1', status: 200, outside: { as: 'member_a1', status: 403 }, bad: [get('/api/hazards?severity=x')] },
  { method: 'GET', route: '/api/hazards/:id', prepare: async (p) => ({ hz1: (await services(p.grid).hazards.create(sys, { unitId: p.f.gridA1, category: '消防通道堵塞', description: '杂物', severity: 'high', foundOn: '2026-11-01' })).id }),
    url: (i) => `/api/hazards/${i.hz1}`, as: 'worker_a1', status: 200, outside: { as: 'secretary_b' }, bad: [get('/api/hazards/1.5')] },
  { method: 'POST', route: '/api/hazards', url: () => '/api/hazards', body: (i) => ({ unitId: i.gridA1, category: '高空坠物', description: '阳台花盆', severity: 'medium', foundOn: '2026-11-01', ownerUnit: '甲物业' }), as: 'worker_a1', status: 201,
    outside: { as: 'secretary_b' }, bad: [{ body: (i) => ({ unitId: i.gridA1, category: 'x', description: 'y', severity: 'medium', foundOn: '2099-01-01' }) }, { body: (i) => ({ unitId: i.gridA1, category: 'x', description: 'y', severity: 'x', foundOn: '2026-01-01' }) }] },
  { method: 'PATCH', route: '/api/hazards/:id', prepare: async (p) => ({ hz2: (await services(p.grid).hazards.create(sys, { unitId: p.f.gridA1, category: '电动车充电', description: '飞线充电', severity: 'high', foundOn: '2026-11-02' })).id }),
    url: (i) => `/api/hazards/${i.hz2}`, body: () => ({ ownerUnit: '甲物业' }), as: 'worker_a1', status: 200, outside: { as: 'secretary_b' }, bad: [{ body: () => ({ foundOn: '2026-13-01' }) }, { body: () => ({ status: 'closed' }) }] },
  { method: 'POST', route: '/api/hazards/:id/transition', prepare: async (p) => ({ hz3: (await services(p.grid).hazards.create(sys, { unitId: p.f.gridA1, category: '燃气', description: '管道老化', severity: 'critical', foundOn: '2026-11-03' })).id }),
    url: (i) => `/api/hazards/${i.hz3}/transition`, body: () => ({ to: 'rectifying' }), as: 'worker_a1', status: 200, outside: { as: 'secretary_b' }, bad: [{ body: () => ({ to: 'closed' }), status: 409 }, { body: () => ({ to: 'x' }) }] },

  // ---- party members ----
  { method: 'GET', route: '/api/party-members', url: () => '/api/party-members', as: 'secretary_a', status: 200, outside: { as: 'member_a1', status: 403 }, bad: [get('/api/party-members?category=x')] },
  { method: 'GET', route: '/api/party-members/:id', prepare: async (p) => ({ pm1: await member(p) }), url: (i) => `/api/party-members/${i.pm1}`, as: 'worker_a1', status: 200, outside: { as: 'secretary_b' }, bad: [get('/api/party-members/abc')] },
  { method: 'POST', route: '/api/party-members', prepare: async (p) => ({ pmRes: await resident(p), branchA1: await branchOf(p.grid, p.f.gridA1) }), url: () => '/api/party-members',
    body: (i) => ({ residentId: i.pmRes, partyOrgId: i.branchA1, category: 'ordinary', status: 'probationary', joinedOn: '2025-07-01' }), as: 'secretary_a', status: 201, outside: { as: 'secretary_b' },
    bad: [{ body: (i) => ({ residentId: i.pmRes, partyOrgId: i.branchA1, category: 'x', status: 'full' }) }, { body: (i) => ({ residentId: i.pmRes, partyOrgId: i.branchA1, category: 'in_service', status: 'full' }) }] },
  { method: 'PATCH', route: '/api/party-members/:id', prepare: async (p) => ({ pm2: await member(p) }), url: (i) => `/api/party-members/${i.pm2}`, body: () => ({ joinedOn: '2001-07-01' }), as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ status: 'x' }) }, { body: () => ({ joinedOn: '2099-07-01' }) }] },
  { method: 'POST', route: '/api/party-members/:id/registration', prepare: async (p) => ({ pm3: await member(p, { category: 'in_service', workUnit: '区税务局' }) }), url: (i) => `/api/party-members/${i.pm3}/registration`,
    body: (i) => ({ registeredUnitId: i.communityA, registeredOn: '2026-03-01' }), as: 'secretary_a', status: 200, outside: { as: 'secretary_b' }, bad: [{ body: () => ({ registeredUnitId: MISSING }) }, { body: () => ({}) }] },

  // ---- 设岗定责 ----
  { method: 'GET', route: '/api/member-posts', url: () => '/api/member-posts', as: 'member_a1', status: 200, outside: { as: 'worker_a1', status: 403 }, bad: [get('/api/member-posts?limit=0')] },
  { method: 'GET', route: '/api/member-posts/:id', prepare: async (p) => ({ post1: (await services(p.grid).posts.create(sys, { unitId: p.f.gridA1, title: '矩阵岗一' })).id }),
    url: (i) => `/api/member-posts/${i.post1}`, as: 'member_a1', status: 200, outside: { as: 'secretary_b' }, bad: [get('/api/member-posts/x')] },
  { method: 'POST', route: '/api/member-posts', url: () => '/api/member-posts', body: (i) => ({ unitId: i.gridA1, title: '矩阵岗二', capacity: 2 }), as: 'secretary_a', status: 201, outside: { as: 'secretary_b' },
    bad: [{ body: (i) => ({ unitId: i.gridA1, title: '' }) }, { body: (i) => ({ unitId: i.gridA1, title: 'x', capacity: 0 }) }] },
  { method: 'PATCH', route: '/api/member-posts/:id', prepare: async (p) => ({ post2: (await services(p.grid).posts.create(sys, { unitId: p.f.gridA1, title: '矩阵岗三' })).id }),
    url: (i) => `/api/member-posts/${i.post2}`, body: () => ({ capacity: 3 }), as: 'secretary_a', status: 200, outside: { as: 'secretary_b' }, bad: [{ body: () => ({ capacity: 0 }) }, { body: () => ({}) }] },
  { method: 'POST', route: '/api/member-posts/:id/claims', prepare: async (p) => ({ post3: (await services(p.grid).posts.create(sys, { unitId: p.f.gridA1, title: '矩阵岗四' })).id, claimer: await member(p) }),
    url: (i) => `/api/member-posts/${i.post3}/claims`, body: (i) => ({ memberId: i.claimer }), as: 'secretary_a', status: 201, outside: { as: 'secretary_b' }, bad: [{ body: () => ({ memberId: MISSING }) }, { body: () => ({}) }] },
  { method: 'POST', route: '/api/member-post-claims/:id/end', prepare: async (p) => {
      const s = services(p.grid);
      const postId = (await s.posts.create(sys, { unitId: p.f.gridA1, title: '矩阵岗五' })).id;
      return { claim1: (await s.posts.claim(sys, postId, { memberId: await member(p), claimedOn: '2026-01-01' })).id };
    }, url: (i) => `/api/member-post-claims/${i.claim1}/end`, body: () => ({}), as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ endedOn: '2099-01-01' }) }, { url: () => `/api/member-post-claims/${MISSING}/end`, body: () => ({}), status: 404 }] },

  // ---- 户联系 / 1+10 ----
  { method: 'GET', route: '/api/contact-groups', url: () => '/api/contact-groups', as: 'worker_a1', status: 200, outside: { as: 'member_a1', status: 403 }, bad: [get('/api/contact-groups?limit=0')] },
  { method: 'GET', route: '/api/contact-groups/:id', prepare: async (p) => ({ group1: (await services(p.grid).contacts.createGroup(sys, { unitId: p.f.gridA1, name: '矩阵小组一', leaderMemberId: await member(p) })).id }),
    url: (i) => `/api/contact-groups/${i.group1}`, as: 'worker_a1', status: 200, outside: { as: 'secretary_b' }, bad: [get('/api/contact-groups/0')] },
  { method: 'POST', route: '/api/contact-groups', prepare: async (p) => ({ leader1: await member(p) }), url: () => '/api/contact-groups', body: (i) => ({ unitId: i.gridA1, name: '矩阵小组二', leaderMemberId: i.leader1 }), as: 'secretary_a', status: 201,
    outside: { as: 'secretary_b' }, bad: [{ body: (i) => ({ unitId: i.gridA1, name: '' }) }, { body: (i) => ({ unitId: i.gridA1, name: 'x', leaderMemberId: MISSING }) }] },
  { method: 'PATCH', route: '/api/contact-groups/:id', prepare: async (p) => ({ group2: (await services(p.grid).contacts.createGroup(sys, { unitId: p.f.gridA1, name: '矩阵小组三', leaderMemberId: await member(p) })).id, outsider: await member(p) }),
    url: (i) => `/api/contact-groups/${i.group2}`, body: () => ({ name: '矩阵小组三（新）' }), as: 'secretary_a', status: 200, outside: { as: 'secretary_b' }, bad: [{ body: (i) => ({ leaderMemberId: i.outsider }) }, { body: () => ({}) }] },
  { method: 'PUT', route: '/api/contact-groups/:id/members/:memberId', prepare: async (p) => ({ group3: (await services(p.grid).contacts.createGroup(sys, { unitId: p.f.gridA1, name: '矩阵小组四' })).id, joiner2: await member(p) }),
    url: (i) => `/api/contact-groups/${i.group3}/members/${i.joiner2}`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' }, bad: [{ url: (i) => `/api/contact-groups/${i.group3}/members/${MISSING}`, body: () => undefined }] },
  { method: 'DELETE', route: '/api/contact-groups/:id/members/:memberId', prepare: async (p) => {
      const m = await member(p);
      return { group4: (await services(p.grid).contacts.createGroup(sys, { unitId: p.f.gridA1, name: '矩阵小组五', memberIds: [m] })).id, leaver2: m, notInGroup: await member(p) };
    }, url: (i) => `/api/contact-groups/${i.group4}/members/${i.leaver2}`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ url: (i) => `/api/contact-groups/${i.group4}/members/${i.notInGroup}`, body: () => undefined, status: 404 }] },
  { method: 'GET', route: '/api/contact-links', url: () => '/api/contact-links', as: 'worker_a1', status: 200, outside: { as: 'member_a1', status: 403 }, bad: [get('/api/contact-links?limit=0')] },
  { method: 'PUT', route: '/api/households/:id/contact', prepare: async (p) => ({ hh7: await household(p), linker: await member(p) }), url: (i) => `/api/households/${i.hh7}/contact`, body: (i) => ({ memberId: i.linker }), as: 'worker_a1', status: 200,
    outside: { as: 'secretary_b' }, bad: [{ body: () => ({ memberId: MISSING }) }, { body: () => ({}) }] },
  { method: 'DELETE', route: '/api/households/:id/contact', prepare: async (p) => ({ hh8: (await linked(p)).hh, unlinkedHh: await household(p) }), url: (i) => `/api/households/${i.hh8}/contact`, as: 'worker_a1', status: 204,
    outside: { as: 'secretary_b' }, bad: [{ url: (i) => `/api/households/${i.unlinkedHh}/contact`, body: () => undefined, status: 404 }] },
  { method: 'POST', route: '/api/households/:id/contact-visits', prepare: async (p) => ({ hh9: (await linked(p)).hh }), url: (i) => `/api/households/${i.hh9}/contact-visits`, body: () => ({ visitedOn: '2026-11-19', note: '入户走访' }),
    as: 'worker_a1', status: 201, outside: { as: 'secretary_b' }, bad: [{ body: () => ({ visitedOn: '2099-01-01' }) }, { body: () => ({ visitedOn: 'yesterday' }) }] },
  { method: 'GET', route: '/api/contact-visits', url: () => '/api/contact-visits', as: 'auditor', status: 200, outside: { as: 'member_a1', status: 403 }, bad: [get('/api/contact-visits?from=x')] },
  { method: 'GET', route: '/api/my/contacts', url: () => '/api/my/contacts', as: 'member_a1', status: 200, outside: { as: 'worker_a1', status: 403 } },
  { method: 'GET', route: '/api/units/:id/contact-coverage', url: (i) => `/api/units/${i.communityA}/contact-coverage?days=30`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' }, bad: [{ url: (i) => `/api/units/${i.communityA}/contact-coverage?days=0`, body: () => undefined }] },
  { method: 'POST', route: '/api/units/:id/contacts/auto-assign', prepare: async (p) => ({ spareMember: await member(p) }), url: (i) => `/api/units/${i.communityA}/contacts/auto-assign`, body: () => ({ maxPerMember: 10 }), as: 'secretary_a', status: 200,
    outside: { as: 'secretary_b' }, bad: [{ body: () => ({ maxPerMember: 0 }) }, { body: () => ({ dryRun: 'yes' }) }] },
];
