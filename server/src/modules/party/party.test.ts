// Party members and 设岗定责 posts through the API: members of a branch in scope, in-service members'
// 报到, probationary members without a vote, posts claimed within capacity (also under concurrent claims),
// one post per member, a member claiming for themselves, and leaving handing back links and posts.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, call, type Session, type TestApp } from '../../../test/app.ts';
import { buildTinyLocality, loginAll, type TinyLocality } from '../../../test/fixtures.ts';
import { fingerprint } from '../../../test/fingerprint.ts';
import { GridService } from '../grid/grid.service.ts';
import { systemContext } from '../../platform/context.ts';

let h: TestApp;
let f: TinyLocality;
let s: Record<string, Session>;
let branchA1: number;
let branchB1: number;

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
  expect(res.json().messages.en).toMatch(/\S/);
  expect(await fingerprint(h.database.db)).toEqual(before);
}
const resident = async (unitId: number, name: string) => (await post('secretary_a', '/api/residents', { unitId, name })).id as number;

beforeAll(async () => {
  h = await createTestApp();
  f = await buildTinyLocality(h.database, h.clock.now);
  s = await loginAll(h.app, f);
  const grid = new GridService(h.database.db, h.clock.now);
  branchA1 = (await grid.bindPartyOrg(systemContext('t'), f.gridA1, { kind: 'branch', name: '甲一网格党支部' })).id;
  branchB1 = (await grid.bindPartyOrg(systemContext('t'), f.gridB1, { kind: 'branch', name: '乙一网格党支部' })).id;
});
afterAll(async () => h?.close());

describe('party members', () => {
  let memberId: number;
  let inService: number;
  it('registers a resident as a member of a branch in scope, audited', async () => {
    const r = await resident(f.gridA1, '党员甲');
    const m = await post('secretary_a', '/api/party-members', { residentId: r, partyOrgId: branchA1, category: 'ordinary', status: 'probationary', joinedOn: '2025-07-01' });
    memberId = m.id;
    expect(m).toMatchObject({ unitId: f.gridA1, partyOrgName: '甲一网格党支部', mayVote: false, name: '党员甲' });
    await unchanged(() => call(h.app, s.secretary_a, 'POST', '/api/party-members', { residentId: r, partyOrgId: branchA1, category: 'ordinary', status: 'full' }), 409, 'duplicate_member');
    const audit = await h.database.db.selectFrom('audit_log').select('target_id').where('action', '=', 'party_member.create').execute();
    expect(audit.map((a) => a.target_id)).toContain(String(memberId));
  });
  it('bad input and scope: branch and resident out of reach, in-service without work unit, future dates', async () => {
    const r = await resident(f.gridA1, '党员乙');
    await unchanged(() => call(h.app, s.secretary_a, 'POST', '/api/party-members', { residentId: r, partyOrgId: branchB1, category: 'ordinary', status: 'full' }), 404);
    await unchanged(() => call(h.app, s.secretary_a, 'POST', '/api/party-members', { residentId: r, partyOrgId: branchA1, category: 'in_service', status: 'full' }), 400, 'work_unit_required');
    await unchanged(() => call(h.app, s.secretary_a, 'POST', '/api/party-members', { residentId: r, partyOrgId: branchA1, category: 'ordinary', status: 'full', joinedOn: '2099-07-01' }), 400, 'invalid_joined_on');
    await unchanged(() => call(h.app, s.secretary_a, 'POST', '/api/party-members', { residentId: r, partyOrgId: branchA1, category: 'retired', status: 'full' }), 400);
    await unchanged(() => call(h.app, s.worker_a1, 'POST', '/api/party-members', { residentId: r, partyOrgId: branchA1, category: 'ordinary', status: 'full' }), 403);
    expect((await call(h.app, s.secretary_b, 'GET', `/api/party-members/${memberId}`)).statusCode).toBe(404);
    expect((await call(h.app, s.worker_a1, 'GET', `/api/party-members/${memberId}`)).statusCode).toBe(200);
    expect((await call(h.app, s.member_a1, 'GET', '/api/party-members')).statusCode).toBe(403);
  });
  it('报到: an in-service member of another branch registers with community A and becomes visible there', async () => {
    const r = await post('secretary_b', '/api/residents', { unitId: f.gridB1, name: '在职党员' });
    const m = await post('secretary_b', '/api/party-members', { residentId: r.id, partyOrgId: branchB1, category: 'in_service', status: 'full', workUnit: '区税务局' });
    inService = m.id;
    expect((await call(h.app, s.secretary_a, 'GET', `/api/party-members/${inService}`)).statusCode).toBe(404);
    await unchanged(() => call(h.app, s.secretary_b, 'POST', `/api/party-members/${memberId}/registration`, { registeredUnitId: f.communityA }), 404);
    await unchanged(() => call(h.app, s.secretary_a, 'POST', `/api/party-members/${memberId}/registration`, { registeredUnitId: f.communityA }), 400, 'not_in_service');
    const reg = await post('street_admin', `/api/party-members/${inService}/registration`, { registeredUnitId: f.communityA, registeredOn: '2026-03-01' }, 200);
    expect(reg).toMatchObject({ registeredUnitId: f.communityA, registeredOn: '2026-03-01', workUnit: '区税务局' });
    expect((await call(h.app, s.secretary_a, 'GET', `/api/party-members/${inService}`)).statusCode).toBe(200);
    const list = (await call(h.app, s.secretary_a, 'GET', '/api/party-members?category=in_service')).json().items;
    expect(list.map((x: { id: number }) => x.id)).toEqual([inService]);
  });
  it('full membership gives the vote; an account ties to one member only', async () => {
    const full = await call(h.app, s.secretary_a, 'PATCH', `/api/party-members/${memberId}`, { status: 'full', userId: f.users.member_a1.id });
    expect(full.statusCode, full.body).toBe(200);
    expect(full.json()).toMatchObject({ mayVote: true, userId: f.users.member_a1.id });
    const other = await post('secretary_a', '/api/party-members', { residentId: await resident(f.gridA1, '党员丙'), partyOrgId: branchA1, category: 'elderly', status: 'full' });
    await unchanged(() => call(h.app, s.secretary_a, 'PATCH', `/api/party-members/${other.id}`, { userId: f.users.member_a1.id }), 409, 'duplicate_user');
    await unchanged(() => call(h.app, s.secretary_a, 'PATCH', `/api/party-members/${other.id}`, { userId: f.users.worker_b1.id }), 400, 'unknown_reference');
  });
});

describe('设岗定责 posts', () => {
  let postId: number;
  const members: number[] = [];
  beforeAll(async () => {
    for (const name of ['岗甲', '岗乙', '岗丙', '岗丁']) {
      members.push((await post('secretary_a', '/api/party-members', { residentId: await resident(f.gridA1, name), partyOrgId: branchA1, category: 'ordinary', status: 'full' })).id);
    }
  });
  it('defines a post on a unit in scope; bad input writes nothing', async () => {
    postId = (await post('secretary_a', '/api/member-posts', { unitId: f.gridA1, title: '环境卫生监督岗', duties: '每周巡查一次', capacity: 2 })).id;
    await unchanged(() => call(h.app, s.secretary_b, 'POST', '/api/member-posts', { unitId: f.gridA1, title: 'x' }), 404);
    await unchanged(() => call(h.app, s.secretary_a, 'POST', '/api/member-posts', { unitId: f.gridA1, title: 'x', capacity: 0 }), 400);
    // grid workers do not see the party's posts at all; a party member sees them but may not define one
    await unchanged(() => call(h.app, s.worker_a1, 'POST', '/api/member-posts', { unitId: f.gridA1, title: 'x' }), 404);
    await unchanged(() => call(h.app, s.member_a1, 'POST', '/api/member-posts', { unitId: f.gridA1, title: 'x' }), 403);
  });
  it('concurrent claims never exceed the capacity', async () => {
    const results = await Promise.all(members.map((memberId) => call(h.app, s.secretary_a, 'POST', `/api/member-posts/${postId}/claims`, { memberId })));
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([201, 201, 409, 409]);
    expect(results.filter((r) => r.statusCode === 409).every((r) => r.json().code === 'post_full')).toBe(true);
    const detail = (await call(h.app, s.member_a1, 'GET', `/api/member-posts/${postId}`)).json();
    expect(detail).toMatchObject({ holders: 2, capacity: 2, open: false });
    await unchanged(() => call(h.app, s.secretary_a, 'PATCH', `/api/member-posts/${postId}`, { capacity: 1 }), 409, 'capacity_below_holders');
  });
  it('one post per member; a member claims and ends for themselves only', async () => {
    const holder = (await call(h.app, s.secretary_a, 'GET', `/api/member-posts/${postId}`)).json().claims[0];
    const second = await post('secretary_a', '/api/member-posts', { unitId: f.gridA1, title: '政策宣传岗', capacity: 5 });
    await unchanged(() => call(h.app, s.secretary_a, 'POST', `/api/member-posts/${second.id}/claims`, { memberId: holder.memberId }), 409, 'already_holds_post');
    // member_a1's account is tied to the first member
    const own = (await call(h.app, s.secretary_a, 'GET', '/api/party-members?q=党员甲')).json().items[0].id;
    await unchanged(() => call(h.app, s.member_a1, 'POST', `/api/member-posts/${second.id}/claims`, { memberId: members[3] }), 400, 'unknown_reference');
    const claim = await post('member_a1', `/api/member-posts/${second.id}/claims`, { memberId: own });
    // someone else's claim: the member can see the post, so the refusal is a 403
    await unchanged(() => call(h.app, s.member_a1, 'POST', `/api/member-post-claims/${holder.id}/end`, {}), 403);
    const ended = await post('member_a1', `/api/member-post-claims/${claim.id}/end`, {}, 200);
    expect(ended.endedOn).toBe('2026-11-20');
    await unchanged(() => call(h.app, s.member_a1, 'POST', `/api/member-post-claims/${claim.id}/end`, {}), 409, 'claim_ended');
  });
  it('a member who leaves hands back their post', async () => {
    const holder = (await call(h.app, s.secretary_a, 'GET', `/api/member-posts/${postId}`)).json().claims.find((c: { endedOn: string | null }) => c.endedOn === null);
    const left = await call(h.app, s.secretary_a, 'PATCH', `/api/party-members/${holder.memberId}`, { leftOn: '2026-11-19' });
    expect(left.statusCode, left.body).toBe(200);
    expect((await call(h.app, s.secretary_a, 'GET', `/api/member-posts/${postId}`)).json().holders).toBe(1);
    await unchanged(() => call(h.app, s.secretary_a, 'POST', `/api/member-posts/${postId}/claims`, { memberId: holder.memberId }), 409, 'member_left');
  });
});
