// Houses, households, facilities and hazards through the API: placement in the tree, scope (outside → 404),
// unique addresses, owner shares, household members and head, the hazard state machine, audit rows in the
// same transaction, and bad input answered with a 4xx that writes nothing.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, call, type Session, type TestApp } from '../../../test/app.ts';
import { buildTinyLocality, loginAll, type TinyLocality } from '../../../test/fixtures.ts';
import { fingerprint } from '../../../test/fingerprint.ts';
import { canTransition, HAZARD_STATUSES, HAZARD_TRANSITIONS } from './hazards.service.ts';
import { shareMillionths } from './houses.service.ts';

let h: TestApp;
let f: TinyLocality;
let s: Record<string, Session>;

const post = async (who: string, url: string, body: unknown, status = 201) => {
  const res = await call(h.app, s[who], 'POST', url, body);
  expect(res.statusCode, res.body).toBe(status);
  return res.json();
};
const audits = async (action: string) => h.database.db.selectFrom('audit_log').select(['target_id', 'after', 'before']).where('action', '=', action).orderBy('id').execute();
async function unchanged(run: () => Promise<LightMyRequestResponse>, status: number, code?: string) {
  const before = await fingerprint(h.database.db);
  const res = await run();
  expect(res.statusCode, res.body).toBe(status);
  if (code) expect(res.json().code).toBe(code);
  expect(res.json().messages['zh-CN']).toMatch(/\S/);
  expect(await fingerprint(h.database.db)).toEqual(before);
}

beforeAll(async () => {
  h = await createTestApp();
  f = await buildTinyLocality(h.database, h.clock.now);
  s = await loginAll(h.app, f);
});
afterAll(async () => h?.close());

describe('pure rules', () => {
  it('hazard transitions: only the table’s, closed is final', () => {
    const allowed = HAZARD_STATUSES.flatMap((a) => HAZARD_STATUSES.filter((b) => canTransition(a, b)).map((b) => `${a}>${b}`));
    expect(allowed).toEqual(['open>rectifying', 'rectifying>resolved', 'resolved>rectifying', 'resolved>closed']);
    expect(HAZARD_TRANSITIONS.closed).toEqual([]);
  });
  it('shares in millionths: exact, at most six decimals', () => {
    expect(shareMillionths(0.5)).toBe(500_000);
    expect(shareMillionths(0.333333)).toBe(333_333);
    expect(shareMillionths(0.3333333)).toBeNull();
    expect(shareMillionths(0)).toBeNull();
    expect(shareMillionths(1.000001)).toBeNull();
  });
});

describe('houses', () => {
  let houseId: number;
  it('registers a house in a building, audited, with a unique address per district', async () => {
    const house = await post('worker_a1', '/api/houses', { unitId: f.buildingA1, address: '多宝路12号1栋201', building: '1栋', room: '201', exclusiveArea: 88.5, lng: 113.25, lat: 23.12 });
    houseId = house.id;
    expect(house.exclusiveArea).toBe('88.50');
    expect(house.sources.address).toBe('manual:worker_a1');
    expect((await audits('house.create')).map((a) => a.target_id)).toContain(String(houseId));
    await unchanged(() => call(h.app, s.secretary_a, 'POST', '/api/houses', { unitId: f.gridA2, address: '多宝路12号1栋201' }), 409, 'duplicate_address');
  });
  it('only in a grid or below one; out of scope → 404; bad area → 400; nothing written', async () => {
    await unchanged(() => call(h.app, s.secretary_a, 'POST', '/api/houses', { unitId: f.communityA, address: '社区大院1号' }), 400, 'unit_not_in_grid');
    await unchanged(() => call(h.app, s.worker_b1, 'POST', '/api/houses', { unitId: f.gridA1, address: '越界路1号' }), 404);
    await unchanged(() => call(h.app, s.worker_a1, 'POST', '/api/houses', { unitId: f.gridA1, address: '面积路1号', exclusiveArea: 12.345 }), 400, 'invalid_area');
    await unchanged(() => call(h.app, s.worker_a1, 'POST', '/api/houses', { unitId: f.gridA1, address: '坐标路1号', lng: 113.2 }), 400, 'invalid_location');
    await unchanged(() => call(h.app, s.auditor, 'POST', '/api/houses', { unitId: f.gridA1, address: '审计路1号' }), 403);
    expect((await call(h.app, s.worker_b1, 'GET', `/api/houses/${houseId}`)).statusCode).toBe(404);
    expect((await call(h.app, s.member_a1, 'GET', `/api/houses/${houseId}`)).statusCode).toBe(404);
  });
  it('lists and searches in scope only', async () => {
    const mine = (await call(h.app, s.street_admin, 'GET', '/api/houses?q=多宝路')).json().items;
    expect(mine.map((x: { id: number }) => x.id)).toEqual([houseId]);
    expect((await call(h.app, s.worker_b1, 'GET', '/api/houses')).json().items).toEqual([]);
    expect((await call(h.app, s.worker_b1, 'GET', `/api/houses?unitId=${f.gridA1}`)).statusCode).toBe(404);
    expect((await call(h.app, s.resident_a1, 'GET', '/api/houses')).statusCode).toBe(403);
  });
  it('owners: shares add up to at most 1, residents must be in reach; names masked without resident.read', async () => {
    const a = await post('worker_a1', '/api/residents', { unitId: f.buildingA1, name: '张大山' });
    const b = await post('worker_a1', '/api/residents', { unitId: f.buildingA1, name: '李小梅' });
    const other = await post('worker_b1', '/api/residents', { unitId: f.gridB1, name: '王外人' });
    await unchanged(() => call(h.app, s.worker_a1, 'PUT', `/api/houses/${houseId}/owners`, { owners: [{ residentId: a.id, share: 0.6 }, { residentId: b.id, share: 0.5 }] }), 400, 'shares_exceed_one');
    await unchanged(() => call(h.app, s.worker_a1, 'PUT', `/api/houses/${houseId}/owners`, { owners: [{ residentId: other.id, share: 0.5 }] }), 400, 'unknown_reference');
    await unchanged(() => call(h.app, s.worker_a1, 'PUT', `/api/houses/${houseId}/owners`, { owners: [{ residentId: a.id, share: 0.5 }, { residentId: a.id, share: 0.2 }] }), 400, 'duplicate_owner');
    const third = 0.333333;
    const res = await call(h.app, s.worker_a1, 'PUT', `/api/houses/${houseId}/owners`, { owners: [{ residentId: a.id, share: third }, { residentId: b.id, share: third }] });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().ownerShareTotal).toBe('0.666666');
    expect(res.json().owners.map((o: { name: string }) => o.name).sort()).toEqual(['张大山', '李小梅']);
    const audit = (await audits('house.owners')).at(-1)!;
    expect(audit.after).toHaveLength(2);
  });
  it('edits, moves within scope, and archives only an empty house', async () => {
    const moved = await call(h.app, s.secretary_a, 'PATCH', `/api/houses/${houseId}`, { unitId: f.gridA2, usage: 'mixed' });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json().unitId).toBe(f.gridA2);
    await unchanged(() => call(h.app, s.secretary_a, 'PATCH', `/api/houses/${houseId}`, { unitId: f.gridB1 }), 404);
    await unchanged(() => call(h.app, s.secretary_a, 'PATCH', `/api/houses/${houseId}`, {}), 400);
    const hh = await post('secretary_a', '/api/households', { unitId: f.gridA2, kind: 'registered_family', name: '张家', houseId });
    await unchanged(() => call(h.app, s.secretary_a, 'POST', `/api/houses/${houseId}/archive`), 409, 'house_in_use');
    expect((await call(h.app, s.secretary_a, 'POST', `/api/households/${hh.id}/archive`)).statusCode).toBe(200);
    const archived = await call(h.app, s.secretary_a, 'POST', `/api/houses/${houseId}/archive`);
    expect(archived.json().archived).toBe(true);
    // the address is free again once the house is archived
    await post('secretary_a', '/api/houses', { unitId: f.gridA2, address: '多宝路12号1栋201' });
  });
});

describe('households', () => {
  let id: number;
  let zhang: number;
  let li: number;
  it('the four kinds; code unique per district; house must be in reach', async () => {
    const hh = await post('worker_a1', '/api/households', { unitId: f.gridA1, kind: 'non_registered_family', name: '陈家', code: 'HH-001' });
    id = hh.id;
    await unchanged(() => call(h.app, s.worker_a1, 'POST', '/api/households', { unitId: f.gridA1, kind: 'business', name: '士多', code: 'HH-001' }), 409, 'duplicate_code');
    await unchanged(() => call(h.app, s.worker_a1, 'POST', '/api/households', { unitId: f.gridA1, kind: 'gang', name: 'x' }), 400);
    const bHouse = await post('worker_b1', '/api/houses', { unitId: f.gridB1, address: '乙路1号' });
    await unchanged(() => call(h.app, s.worker_a1, 'POST', '/api/households', { unitId: f.gridA1, kind: 'business', name: '士多', houseId: bHouse.id }), 400, 'unknown_reference');
    await post('worker_a1', '/api/households', { unitId: f.gridA1, kind: 'social_org', name: '长者协会' });
  });
  it('members and a head who must be a member; a resident belongs to one household at a time', async () => {
    zhang = (await post('worker_a1', '/api/residents', { unitId: f.gridA1, name: '陈一' })).id;
    li = (await post('worker_a1', '/api/residents', { unitId: f.gridA1, name: '陈二' })).id;
    await unchanged(() => call(h.app, s.worker_a1, 'PUT', `/api/households/${id}/head`, { residentId: zhang }), 400, 'head_not_member');
    const added = await post('worker_a1', `/api/households/${id}/members`, { residentId: zhang, relationToHead: '户主', head: true });
    expect(added.headResidentId).toBe(zhang);
    expect(added.members[0]).toMatchObject({ residentId: zhang, isHead: true });
    await post('worker_a1', `/api/households/${id}/members`, { residentId: li, relationToHead: '子女' });
    const other = await post('worker_a1', '/api/households', { unitId: f.gridA1, kind: 'registered_family', name: '别家' });
    await unchanged(() => call(h.app, s.worker_a1, 'POST', `/api/households/${other.id}/members`, { residentId: li }), 409, 'in_other_household');
    const head = await call(h.app, s.worker_a1, 'PUT', `/api/households/${id}/head`, { residentId: li });
    expect(head.json().headResidentId).toBe(li);
    const removed = await call(h.app, s.worker_a1, 'DELETE', `/api/households/${id}/members/${li}`);
    expect(removed.statusCode, removed.body).toBe(200);
    expect(removed.json().headResidentId).toBeNull();
    expect(removed.json().members.map((m: { residentId: number }) => m.residentId)).toEqual([zhang]);
    expect((await audits('household.remove_member')).length).toBe(1);
    await unchanged(() => call(h.app, s.worker_a1, 'POST', `/api/households/${id}/archive`), 409, 'household_not_empty');
  });
  it('scope: outside → 404; list in scope; members masked for callers without resident.read', async () => {
    expect((await call(h.app, s.worker_b1, 'GET', `/api/households/${id}`)).statusCode).toBe(404);
    expect((await call(h.app, s.auditor, 'GET', `/api/households/${id}`)).json().members[0].name).toBe('陈一');
    const list = (await call(h.app, s.secretary_a, 'GET', `/api/households?unitId=${f.gridA1}&kind=non_registered_family`)).json().items;
    expect(list.map((x: { id: number }) => x.id)).toEqual([id]);
    expect((await call(h.app, s.secretary_b, 'GET', '/api/households?q=陈家')).json().items).toEqual([]);
    const patched = await call(h.app, s.worker_a1, 'PATCH', `/api/households/${id}`, { name: '陈氏家庭', kind: 'registered_family' });
    expect(patched.json()).toMatchObject({ name: '陈氏家庭', kind: 'registered_family' });
  });
});

describe('facilities and hazards', () => {
  let facilityId: number;
  let hazardId: number;
  it('facilities: CRUD in scope', async () => {
    const fac = await post('worker_a1', '/api/facilities', { unitId: f.gridA1, kind: 'fire_hydrant', name: '1号消防栓', lng: 113.2, lat: 23.1 });
    facilityId = fac.id;
    await unchanged(() => call(h.app, s.worker_a1, 'POST', '/api/facilities', { unitId: f.gridA1, kind: 'Fire Hydrant', name: 'x' }), 400);
    await unchanged(() => call(h.app, s.worker_b1, 'PATCH', `/api/facilities/${facilityId}`, { status: 'out_of_service' }), 404);
    expect((await call(h.app, s.worker_a1, 'PATCH', `/api/facilities/${facilityId}`, { status: 'out_of_service' })).json().status).toBe('out_of_service');
    expect((await call(h.app, s.street_admin, 'GET', '/api/facilities?kind=fire_hydrant')).json().items).toHaveLength(1);
    expect((await call(h.app, s.worker_b1, 'GET', `/api/facilities/${facilityId}`)).statusCode).toBe(404);
  });
  it('hazards: open → rectifying → resolved → closed, other moves refused, the timeline is the audit trail', async () => {
    await unchanged(() => call(h.app, s.worker_a1, 'POST', '/api/hazards', { unitId: f.gridA1, category: '消防通道堵塞', description: '杂物', severity: 'high', foundOn: '2099-01-01' }), 400, 'invalid_found_on');
    await unchanged(() => call(h.app, s.worker_a1, 'POST', '/api/hazards', { unitId: f.gridA1, category: '消防通道堵塞', description: '杂物', severity: 'high', foundOn: '2026-02-30' }), 400, 'invalid_found_on');
    await unchanged(() => call(h.app, s.worker_a1, 'POST', '/api/hazards', { unitId: f.gridA1, category: 'x', description: 'y', severity: 'apocalyptic', foundOn: '2026-01-01' }), 400);
    const hz = await post('worker_a1', '/api/hazards', { unitId: f.gridA1, facilityId, category: '消防通道堵塞', description: '楼道堆放杂物', severity: 'high', foundOn: '2026-11-01', ownerUnit: '甲物业' });
    hazardId = hz.id;
    expect(hz).toMatchObject({ status: 'open', ownerUnit: '甲物业', allowedTransitions: ['rectifying'] });
    await unchanged(() => call(h.app, s.worker_a1, 'POST', `/api/hazards/${hazardId}/transition`, { to: 'closed' }), 409, 'invalid_transition');
    expect((await post('worker_a1', `/api/hazards/${hazardId}/transition`, { to: 'rectifying' }, 200)).status).toBe('rectifying');
    await unchanged(() => call(h.app, s.worker_a1, 'POST', `/api/hazards/${hazardId}/transition`, { to: 'resolved', resolvedOn: '2026-10-01' }), 400, 'invalid_resolved_on');
    expect((await post('worker_a1', `/api/hazards/${hazardId}/transition`, { to: 'resolved', resolvedOn: '2026-11-15' }, 200)).resolvedOn).toBe('2026-11-15');
    expect((await post('leader_a1', `/api/hazards/${hazardId}/transition`, { to: 'closed' }, 200)).status).toBe('closed');
    await unchanged(() => call(h.app, s.worker_a1, 'POST', `/api/hazards/${hazardId}/transition`, { to: 'rectifying' }), 409, 'invalid_transition');
    await unchanged(() => call(h.app, s.worker_a1, 'PATCH', `/api/hazards/${hazardId}`, { severity: 'low' }), 409, 'hazard_closed');
    const detail = (await call(h.app, s.auditor, 'GET', `/api/hazards/${hazardId}`)).json();
    expect(detail.timeline.map((t: { action: string }) => t.action)).toEqual(['hazard.create', 'hazard.transition', 'hazard.transition', 'hazard.transition']);
    expect((await call(h.app, s.worker_b1, 'GET', `/api/hazards/${hazardId}`)).statusCode).toBe(404);
    expect((await call(h.app, s.secretary_a, 'GET', '/api/hazards?status=closed')).json().items.map((x: { id: number }) => x.id)).toEqual([hazardId]);
  });
  it('a hazard becomes a demand through one service method, in the caller’s transaction', async () => {
    const { HazardsService } = await import('./hazards.service.ts');
    const { systemContext } = await import('../../platform/context.ts');
    const service = new HazardsService(h.database.db, h.clock.now);
    const hz = await service.create(systemContext('t'), { unitId: f.gridA2, category: '燃气管道老化', description: '管道锈蚀', severity: 'critical', foundOn: '2026-11-10' });
    const source = await h.database.db.transaction().execute((trx) => service.openDemandFrom(systemContext('t'), hz.id, 'D-2026-0001', trx));
    expect(source).toMatchObject({ hazardId: hz.id, unitId: f.gridA2, severity: 'critical' });
    expect((await service.detail(systemContext('t'), hz.id)).status).toBe('rectifying');
    expect((await audits('hazard.demand')).at(-1)!.after).toEqual({ demand: 'D-2026-0001' });
  });
});
