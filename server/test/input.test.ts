// Bad input never writes: malformed JSON, wrong types, unknown fields, oversized bodies, moving a unit
// under its own descendant, a second party organisation on one unit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, call, login, type Session, type TestApp } from './app.ts';
import { buildTinyLocality, TEST_PASSWORD, type TinyLocality } from './fixtures.ts';
import { fingerprint } from './fingerprint.ts';

let h: TestApp;
let f: TinyLocality;
let admin: Session;
beforeAll(async () => {
  h = await createTestApp();
  f = await buildTinyLocality(h.database, h.clock.now);
  admin = await login(h.app, 'district_admin', TEST_PASSWORD);
});
afterAll(async () => h?.close());

async function rejected(send: () => Promise<{ statusCode: number; body: string }>, status: number, code?: string) {
  const before = await fingerprint(h.database.db);
  const res = await send();
  expect(res.statusCode, res.body).toBe(status);
  const body = JSON.parse(res.body);
  expect(body.messages['zh-CN'].length).toBeGreaterThan(2);
  expect(body.messages.en.length).toBeGreaterThan(2);
  if (code) expect(body.code).toBe(code);
  expect(await fingerprint(h.database.db)).toEqual(before);
  return body;
}

const raw = (payload: string | Buffer, contentType = 'application/json', url = '/api/units') => () =>
  h.app.inject({ method: 'POST', url, headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': contentType }, payload });

describe('malformed requests', () => {
  it('malformed JSON → 400 malformed_json', async () => {
    await rejected(raw('{"parentId": 1, "kind": "grid", "name": '), 400, 'malformed_json');
    await rejected(raw('{"parentId": 1,, }'), 400, 'malformed_json');
  });
  it('an empty JSON body → 400', async () => {
    await rejected(raw(''), 400);
  });
  it('wrong types → 400 naming the field', async () => {
    const body = await rejected(() => call(h.app, admin, 'POST', '/api/units', { parentId: 'one', kind: 'grid', name: 'x' }), 400, 'validation_failed');
    expect(body.messages.en).toContain('parentId');
    expect(body.messages['zh-CN']).toContain('parentId');
    await rejected(() => call(h.app, admin, 'POST', '/api/units', { parentId: f.communityA, kind: ['grid'], name: 'x' }), 400);
    await rejected(() => call(h.app, admin, 'POST', '/api/units', { parentId: f.communityA, kind: 'grid', name: null }), 400);
    await rejected(() => call(h.app, admin, 'POST', '/api/units', { parentId: 1.5, kind: 'grid', name: 'x' }), 400);
  });
  it('unknown fields → 400 naming the field', async () => {
    const body = await rejected(() => call(h.app, admin, 'POST', '/api/units', { parentId: f.communityA, kind: 'grid', name: 'x', colour: 'red' }), 400);
    expect(body.messages.en).toContain('colour');
    await rejected(() => call(h.app, admin, 'POST', `/api/units/${f.gridA1}/party-org`, { kind: 'branch', name: 'x', members: 3 }), 400);
  });
  it('a body over 1 MB → 413', async () => {
    const big = JSON.stringify({ parentId: f.communityA, kind: 'grid', name: 'x'.repeat(1024 * 1024) });
    await rejected(raw(big), 413, 'body_too_large');
  });
  it('a non-JSON content type → 415', async () => {
    await rejected(raw('parentId=1&kind=grid&name=x', 'application/x-www-form-urlencoded'), 415);
    await rejected(raw('hello', 'text/plain'), 415);
  });
  it('a JSON array or scalar where an object belongs → 400', async () => {
    await rejected(raw('[1,2,3]'), 400);
    await rejected(raw('"text"'), 400);
  });
  it('unknown API routes → 404 in both languages', async () => {
    const res = await call(h.app, admin, 'GET', '/api/nothing-here');
    expect(res.statusCode).toBe(404);
    expect(res.json().messages['zh-CN']).toBeTruthy();
  });
});

describe('tree rules', () => {
  it('moving a unit under its own descendant → 400, nothing written', async () => {
    const body = await rejected(() => call(h.app, admin, 'POST', `/api/units/${f.communityA}/move`, { parentId: f.buildingA1 }), 400, 'move_not_allowed');
    expect(body.messages['zh-CN']).toContain('下级');
  });
  it('moving a unit under itself → 400', async () => {
    await rejected(() => call(h.app, admin, 'POST', `/api/units/${f.gridA1}/move`, { parentId: f.gridA1 }), 400, 'move_not_allowed');
  });
  it('moving under a kind that may not hold it → 400', async () => {
    await rejected(() => call(h.app, admin, 'POST', `/api/units/${f.gridA1}/move`, { parentId: f.street }), 400, 'move_not_allowed');
  });
  it('a valid move re-roots the whole subtree', async () => {
    const res = await call(h.app, admin, 'POST', `/api/units/${f.gridA1}/move`, { parentId: f.communityB });
    expect(res.statusCode).toBe(200);
    const building = await h.database.db.selectFrom('org_unit').select(['path', 'depth']).where('id', '=', f.buildingA1).executeTakeFirstOrThrow();
    const community = await h.database.db.selectFrom('org_unit').select(['path']).where('id', '=', f.communityB).executeTakeFirstOrThrow();
    expect(building.path).toBe(`${community.path}${f.gridA1}/${f.buildingA1}/`);
    expect(building.depth).toBe(4);
    // and back, so other tests see the original tree
    expect((await call(h.app, admin, 'POST', `/api/units/${f.gridA1}/move`, { parentId: f.communityA })).statusCode).toBe(200);
  });
  it('a second party organisation on one unit → 409, nothing written', async () => {
    expect((await call(h.app, admin, 'POST', `/api/units/${f.gridB1}/party-org`, { kind: 'branch', name: '乙一网格党支部' })).statusCode).toBe(201);
    await rejected(() => call(h.app, admin, 'POST', `/api/units/${f.gridB1}/party-org`, { kind: 'general_branch', name: '第二个党组织' }), 409, 'party_org_exists');
  });
  it('archiving a unit with children → 409; archived units cannot take children', async () => {
    await rejected(() => call(h.app, admin, 'POST', `/api/units/${f.gridA1}/archive`), 409, 'has_children');
    const leaf = await call(h.app, admin, 'POST', '/api/units', { parentId: f.gridA2, kind: 'building', name: '临时楼' });
    expect((await call(h.app, admin, 'POST', `/api/units/${leaf.json().id}/archive`)).statusCode).toBe(200);
    await rejected(() => call(h.app, admin, 'POST', '/api/units', { parentId: leaf.json().id, kind: 'responsibility_zone', name: 'z' }), 409, 'archived');
  });
});

describe('boundaries', () => {
  const square = (x0: number, y0: number, x1: number, y1: number) => ({ type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] });
  it('an open ring → 400, nothing written', async () => {
    await rejected(() => call(h.app, admin, 'PUT', `/api/units/${f.communityB}/boundary`, { geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1]]] } }), 400, 'invalid_boundary');
  });
  it('a child boundary outside its parent\'s → 400; inside → 200', async () => {
    expect((await call(h.app, admin, 'PUT', `/api/units/${f.communityB}/boundary`, { geometry: square(113.2, 23.1, 113.3, 23.2) })).statusCode).toBe(200);
    await rejected(() => call(h.app, admin, 'PUT', `/api/units/${f.gridB1}/boundary`, { geometry: square(113.25, 23.15, 113.35, 23.25) }), 400, 'boundary_outside_parent');
    expect((await call(h.app, admin, 'PUT', `/api/units/${f.gridB1}/boundary`, { geometry: square(113.2, 23.1, 113.25, 23.2) })).statusCode).toBe(200);
    // the parent cannot now shrink away from its child
    await rejected(() => call(h.app, admin, 'PUT', `/api/units/${f.communityB}/boundary`, { geometry: square(113.26, 23.1, 113.3, 23.2) }), 400, 'boundary_excludes_child');
  });
});
