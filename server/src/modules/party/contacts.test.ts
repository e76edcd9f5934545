// 户联系 / 1+10 through the API: groups with a leader who is a member, one member per household, the
// automatic assignment (evenly, nearest first), visits by staff or by the linked member themselves, a
// member's own households masked, and the coverage roll-up — checked against a recount from raw rows for
// random sequences of links, unlinks and visits (property test).
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createTestApp, call, type Session, type TestApp } from '../../../test/app.ts';
import { buildTinyLocality, loginAll, type TinyLocality } from '../../../test/fixtures.ts';
import { fingerprint } from '../../../test/fingerprint.ts';
import { GridService } from '../grid/grid.service.ts';
import { systemContext } from '../../platform/context.ts';
import { planAssignment, evenCap, type AssignMember } from './contacts.assign.ts';
import { ContactsService, shiftDate } from './contacts.service.ts';
import { coverageDifferences } from './party.reliability.ts';

let h: TestApp;
let f: TinyLocality;
let s: Record<string, Session>;
const households: number[] = [];
const members: Record<string, number> = {};

const post = async (who: string, url: string, body: unknown, status = 201) => {
  const res = await call(h.app, s[who], 'POST', url, body);
  expect(res.statusCode, res.body).toBe(status);
  return res.json();
};
async function unchanged(run: () => Promise<LightMyRequestResponse>, status: number, code?: string) {
  const before = await fingerprint(h.database.db);
  const res = await run();
  expect(res.statusCode, res.body).toBe(status);
  if (code) expect(res.json().code).toBe(code);
  expect(await fingerprint(h.database.db)).toEqual(before);
}

beforeAll(async () => {
  h = await createTestApp();
  f = await buildTinyLocality(h.database, h.clock.now);
  s = await loginAll(h.app, f);
  const grid = new GridService(h.database.db, h.clock.now);
  const branchA1 = (await grid.bindPartyOrg(systemContext('t'), f.gridA1, { kind: 'branch', name: '甲一网格党支部' })).id;
  const branchA2 = (await grid.bindPartyOrg(systemContext('t'), f.gridA2, { kind: 'branch', name: '甲二网格党支部' })).id;
  const branchB1 = (await grid.bindPartyOrg(systemContext('t'), f.gridB1, { kind: 'branch', name: '乙一网格党支部' })).id;
  // households: five in building A1, three in grid A2, two in grid B1 (each with a head who has a phone)
  const places: [number, string][] = [
    [f.buildingA1, '甲'], [f.buildingA1, '甲'], [f.buildingA1, '甲'], [f.buildingA1, '甲'], [f.buildingA1, '甲'],
    [f.gridA2, '甲'], [f.gridA2, '甲'], [f.gridA2, '甲'], [f.gridB1, '乙'], [f.gridB1, '乙'],
  ];
  for (const [k, [unitId, tag]] of places.entries()) {
    const who = tag === '甲' ? 'secretary_a' : 'secretary_b';
    const hh = await post(who, '/api/households', { unitId, kind: 'registered_family', name: `${tag}户${k}` });
    const r = await post(who, '/api/residents', { unitId, name: `欧阳${tag}${k}`, phone: `1380013${String(8000 + k)}` });
    await post(who, `/api/households/${hh.id}/members`, { residentId: r.id, relationToHead: '户主', head: true });
    households.push(hh.id);
  }
  const member = async (key: string, who: string, unitId: number, partyOrgId: number) => {
    const r = await post(who, '/api/residents', { unitId, name: `党员${key}` });
    members[key] = (await post(who, '/api/party-members', { residentId: r.id, partyOrgId, category: 'ordinary', status: 'full' })).id;
  };
  await member('a1', 'secretary_a', f.buildingA1, branchA1);
  await member('a2', 'secretary_a', f.gridA2, branchA2);
  await member('b1', 'secretary_b', f.gridB1, branchB1);
  await call(h.app, s.secretary_a, 'PATCH', `/api/party-members/${members.a1}`, { userId: f.users.member_a1.id });
});
afterAll(async () => h?.close());

describe('automatic assignment (pure)', () => {
  const m = (id: number, homePath: string, load = 0, area = '/1/'): AssignMember => ({ id, areaPaths: [area], homePath, lng: null, lat: null, load });
  it('evenly: nobody above ceil(total / members), everyone assigned when there is room', () => {
    const hs = Array.from({ length: 23 }, (_, i) => ({ id: i + 1, path: `/1/2/${i % 3}/`, lng: null, lat: null }));
    const plan = planAssignment(hs, [m(1, '/1/2/0/'), m(2, '/1/2/1/'), m(3, '/1/2/2/', 2)]);
    expect(plan.cap).toBe(evenCap([m(1, ''), m(2, ''), m(3, '', 2)], 23));
    expect(plan.cap).toBe(9);
    const load = new Map<number, number>();
    for (const l of plan.links) load.set(l.memberId, (load.get(l.memberId) ?? 0) + 1);
    expect(plan.links).toHaveLength(23);
    expect(load.get(3)! + 2).toBeLessThanOrEqual(9);
    expect(Math.max(...load.values())).toBeLessThanOrEqual(9);
  });
  it('nearest first: own building before the neighbouring one, then coordinates, then the member’s own area', () => {
    const plan = planAssignment(
      [{ id: 1, path: '/1/2/5/', lng: null, lat: null }, { id: 2, path: '/1/2/6/', lng: null, lat: null }],
      [m(10, '/1/2/6/'), m(11, '/1/2/5/')],
    );
    expect(plan.links).toEqual([{ householdId: 1, memberId: 11 }, { householdId: 2, memberId: 10 }]);
    const geo = planAssignment([{ id: 1, path: '/1/2/5/', lng: 113.3, lat: 23.1 }], [{ ...m(20, '/1/2/5/'), lng: 113.2, lat: 23.1 }, { ...m(21, '/1/2/5/'), lng: 113.299, lat: 23.1 }]);
    expect(geo.links[0].memberId).toBe(21);
    const area = planAssignment([{ id: 1, path: '/1/9/5/', lng: null, lat: null }], [m(30, '/1/9/5/', 0, '/1/2/'), m(31, '/1/2/7/', 0, '/1/9/')]);
    expect(area.links[0].memberId).toBe(31);
    expect(planAssignment([{ id: 1, path: '/1/', lng: null, lat: null }], [], 10).links).toEqual([]);
  });
});

describe('groups', () => {
  let groupId: number;
  it('a group in scope with its leader as a member; the leader must be a member', async () => {
    const g = await post('secretary_a', '/api/contact-groups', { unitId: f.gridA1, name: '甲一户联系小组', leaderMemberId: members.a1 });
    groupId = g.id;
    expect(g.members).toEqual([{ memberId: members.a1, name: '党员a1', households: 0, leader: true }]);
    await unchanged(() => call(h.app, s.secretary_a, 'PATCH', `/api/contact-groups/${groupId}`, { leaderMemberId: members.a2 }), 400, 'leader_not_member');
    await unchanged(() => call(h.app, s.secretary_a, 'PUT', `/api/contact-groups/${groupId}/members/${members.b1}`), 400, 'unknown_reference');
    await unchanged(() => call(h.app, s.secretary_b, 'PATCH', `/api/contact-groups/${groupId}`, { name: 'x' }), 404);
    await unchanged(() => call(h.app, s.member_a1, 'PATCH', `/api/contact-groups/${groupId}`, { name: 'x' }), 404);
    const removed = await call(h.app, s.secretary_a, 'DELETE', `/api/contact-groups/${groupId}/members/${members.a1}`);
    expect(removed.json().leaderMemberId).toBeNull();
    expect((await call(h.app, s.worker_a1, 'GET', `/api/contact-groups/${groupId}`)).statusCode).toBe(200);
    expect((await call(h.app, s.worker_b1, 'GET', `/api/contact-groups/${groupId}`)).statusCode).toBe(404);
  });
});

describe('links, visits and a member’s own households', () => {
  it('auto-assigns a community evenly; a dry run writes nothing', async () => {
    await unchanged(() => call(h.app, s.secretary_a, 'POST', `/api/units/${f.communityA}/contacts/auto-assign`, { dryRun: true }), 200);
    const res = await post('secretary_a', `/api/units/${f.communityA}/contacts/auto-assign`, {}, 200);
    expect(res).toMatchObject({ households: 8, members: 2, cap: 4, assigned: 8, unassigned: 0 });
    const load = Object.fromEntries(res.perMember.map((p: { memberId: number; after: number }) => [p.memberId, p.after]));
    expect(load).toEqual({ [members.a1]: 4, [members.a2]: 4 });
    // building A1's first households went to the member living there
    const links = (await call(h.app, s.secretary_a, 'GET', `/api/contact-links?unitId=${f.buildingA1}`)).json().items;
    expect(links.filter((l: { memberId: number }) => l.memberId === members.a1)).toHaveLength(4);
    expect((await call(h.app, s.secretary_b, 'GET', '/api/contact-links')).json().items).toEqual([]);
    expect((await audits('contact.link')).length).toBe(8);
  });
  it('a link by hand replaces the earlier one; members of another district or out of reach are refused', async () => {
    const res = await call(h.app, s.street_admin, 'PUT', `/api/households/${households[0]}/contact`, { memberId: members.a2 });
    expect(res.statusCode, res.body).toBe(200);
    expect((await h.database.db.selectFrom('contact_link').select('member_id').where('household_id', '=', households[0]).execute()).map((l) => Number(l.member_id))).toEqual([members.a2]);
    await unchanged(() => call(h.app, s.secretary_a, 'PUT', `/api/households/${households[0]}/contact`, { memberId: members.b1 }), 400, 'unknown_reference');
    await unchanged(() => call(h.app, s.secretary_b, 'PUT', `/api/households/${households[0]}/contact`, { memberId: members.b1 }), 404);
    await unchanged(() => call(h.app, s.member_a1, 'PUT', `/api/households/${households[1]}/contact`, { memberId: members.a1 }), 404);
    expect((await call(h.app, s.secretary_a, 'PUT', `/api/households/${households[0]}/contact`, { memberId: members.a1 })).statusCode).toBe(200);
  });
  it('the member sees only their own households, masked, and logs visits to them only', async () => {
    const mine = (await call(h.app, s.member_a1, 'GET', '/api/my/contacts')).json().items;
    expect(mine).toHaveLength(4);
    for (const m of mine) {
      expect(m.headName).toMatch(/^欧阳\*+$/);
      expect(m.headPhone).toMatch(/^138\*{4}\d{4}$/);
    }
    expect(JSON.stringify(mine)).not.toContain('13800138');
    expect((await call(h.app, s.worker_a1, 'GET', '/api/my/contacts')).statusCode).toBe(403);
    const own = mine[0].householdId;
    const visit = await post('member_a1', `/api/households/${own}/contact-visits`, { visitedOn: '2026-11-18', note: '入户走访' });
    expect(visit.memberId).toBe(members.a1);
    const notMine = households.find((x) => !mine.some((m: { householdId: number }) => m.householdId === x) && x !== households[8] && x !== households[9])!;
    await unchanged(() => call(h.app, s.member_a1, 'POST', `/api/households/${notMine}/contact-visits`, { visitedOn: '2026-11-18' }), 404);
    await unchanged(() => call(h.app, s.member_a1, 'POST', `/api/households/${own}/contact-visits`, { visitedOn: '2099-01-01' }), 400, 'invalid_visited_on');
    await unchanged(() => call(h.app, s.worker_b1, 'POST', `/api/households/${households[8]}/contact-visits`, { visitedOn: '2026-11-18' }), 409, 'no_linked_member');
    await post('worker_a1', `/api/households/${notMine}/contact-visits`, { visitedOn: '2026-10-01' });
    const visits = (await call(h.app, s.auditor, 'GET', '/api/contact-visits')).json().items;
    expect(visits).toHaveLength(2);
    expect((await call(h.app, s.auditor_b, 'GET', '/api/contact-visits')).json().items).toEqual([]);
  });
  it('coverage: exact numerators and denominators, rolled up the tree', async () => {
    const res = await call(h.app, s.street_admin, 'GET', `/api/units/${f.street}/contact-coverage?days=30`);
    expect(res.statusCode, res.body).toBe(200);
    const c = res.json();
    expect(c.totals).toMatchObject({ households: 10, linked: 8, visited: 1, covered: 1, linkedRate: { numerator: 8, denominator: 10, percent: 80 } });
    expect(c.since).toBe('2026-10-22');
    const a = c.children.find((x: { id: number }) => x.id === f.communityA);
    expect(a).toMatchObject({ households: 8, linked: 8, visited: 1 });
    expect((await call(h.app, s.street_admin, 'GET', `/api/units/${f.street}/contact-coverage?days=60`)).json().totals.visited).toBe(2);
    expect(await coverageDifferences(c, h.database.db, f.street)).toEqual([]);
    expect((await call(h.app, s.secretary_b, 'GET', `/api/units/${f.communityA}/contact-coverage`)).statusCode).toBe(404);
    expect((await call(h.app, s.member_a1, 'GET', `/api/units/${f.gridA1}/contact-coverage`)).statusCode).toBe(403);
  });
});

describe('property: the coverage roll-up equals a recount from raw rows', () => {
  it('after any sequence of links, unlinks and visits, at every level', async () => {
    const service = new ContactsService(h.database.db, h.clock.now);
    const sys = systemContext('property');
    const memberKeys = ['a1', 'a2', 'b1'] as const;
    const op = fc.oneof(
      fc.record({ kind: fc.constant('link' as const), h: fc.nat(9), m: fc.nat(2) }),
      fc.record({ kind: fc.constant('unlink' as const), h: fc.nat(9) }),
      fc.record({ kind: fc.constant('visit' as const), h: fc.nat(9), daysAgo: fc.nat(120) }),
    );
    const units = [f.district, f.street, f.communityA, f.communityB, f.gridA1, f.gridA2, f.buildingA1];
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 120 }), async (ops, days) => {
        for (const o of ops) {
          const householdId = households[o.h];
          const inB = o.h >= 8;
          try {
            if (o.kind === 'link') await service.setLink(sys, householdId, members[inB ? 'b1' : memberKeys[o.m % 2]]);
            else if (o.kind === 'unlink') await service.removeLink(sys, householdId);
            else await service.logVisit(sys, householdId, { visitedOn: shiftDate('2026-11-20', -o.daysAgo) });
          } catch (e) {
            // unlinking an unlinked household, or visiting one without a member: refused, nothing to count
            if (!(e instanceof Error) || !('statusCode' in e)) throw e;
          }
        }
        for (const unitId of units) {
          const res = await call(h.app, s.district_admin, 'GET', `/api/units/${unitId}/contact-coverage?days=${days}`);
          expect(res.statusCode).toBe(200);
          expect(await coverageDifferences(res.json(), h.database.db, unitId)).toEqual([]);
        }
      }),
      { numRuns: 15, seed: 20261122 },
    );
  });
});

async function audits(action: string) {
  return h.database.db.selectFrom('audit_log').select(['target_id', 'after']).where('action', '=', action).execute();
}
