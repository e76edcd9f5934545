// The demand loop through the API: intake and routing by boundary, the whole loop to a rating, return,
// rework, reopen, merge, the member pool, idempotent offline submissions, scope, bad input writing nothing,
// and the clock: warnings, overdue and escalation in working time.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, call, type Session, type TestApp } from '../../../test/app.ts';
import { buildTinyLocality, loginAll, type TinyLocality } from '../../../test/fixtures.ts';
import { fingerprint } from '../../../test/fingerprint.ts';
import { GridService } from '../grid/grid.service.ts';
import { systemContext } from '../../platform/context.ts';
import { demandsContext } from './demands.context.ts';
import { allowedActions, DEMAND_STATUSES, transition, TransitionRefused } from './demand.states.ts';

let h: TestApp;
let f: TinyLocality;
let s: Record<string, Session>;

const rect = (x0: number, y0: number, x1: number, y1: number) => ({ type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] });
// gridA1 holds [113.20,113.21]×[23.10,23.11]; gridA2 the square east of it; gridB1 further east
const IN_A1 = { lng: 113.205, lat: 23.105 };
const IN_B1 = { lng: 113.225, lat: 23.105 };

const post = async (who: string | null, url: string, body: unknown, status = 200) => {
  const res = await call(h.app, who ? s[who] : null, 'POST', url, body);
  expect(res.statusCode, res.body).toBe(status);
  return res.json();
};
const get = async (who: string, url: string, status = 200) => {
  const res = await call(h.app, s[who], 'GET', url);
  expect(res.statusCode, res.body).toBe(status);
  return res.json();
};
async function unchanged(run: () => Promise<LightMyRequestResponse>, status: number, code?: string) {
  const before = await fingerprint(h.database.db);
  const res = await run();
  expect(res.statusCode, res.body).toBe(status);
  if (code) expect(res.json().code).toBe(code);
  expect(res.json().messages['zh-CN']).toMatch(/\S/);
  expect(res.json().messages.en).toMatch(/\S/);
  expect(await fingerprint(h.database.db)).toEqual(before);
}
const report = (who: string | null, body: Record<string, unknown>, status = 201) =>
  post(who, who ? '/api/demands' : '/api/public/demands', { type: 'complaint', category: 'exposed_garbage', description: '楼下垃圾堆放两天没人清理', ...(who ? { channel: 'patrol' } : {}), ...body }, status);

beforeAll(async () => {
  h = await createTestApp();
  f = await buildTinyLocality(h.database, h.clock.now);
  const grid = new GridService(h.database.db, h.clock.now);
  const sys = systemContext('t');
  await grid.setBoundary(sys, f.street, rect(113.2, 23.1, 113.24, 23.12));
  await grid.setBoundary(sys, f.communityA, rect(113.2, 23.1, 113.22, 23.12));
  await grid.setBoundary(sys, f.communityB, rect(113.22, 23.1, 113.24, 23.12));
  await grid.setBoundary(sys, f.gridA1, rect(113.2, 23.1, 113.21, 23.11));
  await grid.setBoundary(sys, f.gridA2, rect(113.21, 23.1, 113.22, 23.11));
  await grid.setBoundary(sys, f.gridB1, rect(113.22, 23.1, 113.23, 23.11));
  // a Monday morning in the locality: 2026-11-23 09:00 +08:00
  h.clock.current = new Date('2026-11-23T01:00:00Z');
  s = await loginAll(h.app, f);
});
/** Moves the clock; sessions idle longer than their limit expire with it, so everyone logs in again. */
async function setClock(iso: string) {
  h.clock.current = new Date(iso);
  s = await loginAll(h.app, f);
}
afterAll(async () => h?.close());

describe('the state machine', () => {
  it('allows only the table’s steps; final states allow none', () => {
    for (const st of ['declined', 'merged'] as const) expect(allowedActions(st)).toEqual([]);
    // a rating of "not fixed" reopens a rated case, in the same transaction as the rating
    expect(allowedActions('rated')).toEqual(['reopen']);
    expect(transition('reported', 'register')).toBe('registered');
    expect(transition('handled', 'rework')).toBe('accepted');
    expect(transition('reported', 'escalate')).toBe('reported');
    expect(() => transition('reported', 'handle')).toThrow(TransitionRefused);
    expect(() => transition('closed', 'register')).toThrow(TransitionRefused);
    // every state but the final ones has a way on
    for (const st of DEMAND_STATUSES) if (!['rated', 'declined', 'merged'].includes(st)) expect(allowedActions(st).length, st).toBeGreaterThan(0);
  });
});

describe('the whole loop', () => {
  it('a resident without an account reports; it lands in the grid holding the location and goes round to a rating', async () => {
    const r = await report(null, { ...IN_A1, reporterName: '张三', reporterPhone: '13800138000' });
    expect(r.trackingCode).toMatch(/^[A-HJ-NP-Z2-9]{10}$/);
    const id = (await h.database.db.selectFrom('demand').select('id').where('tracking_code', '=', r.trackingCode).executeTakeFirstOrThrow()).id;
    let d = await get('secretary_a', `/api/demands/${id}`);
    expect(d.unitId).toBe(f.gridA1);
    expect(d.routedBy).toBe('boundary');
    expect(d.reporterPhone).toBe('138****8000');
    expect(d.actions).toEqual(expect.arrayContaining(['register', 'decline', 'merge']));
    d = await post('secretary_a', `/api/demands/${id}/register`, {});
    d = await post('secretary_a', `/api/demands/${id}/dispatch`, { handler: { type: 'unit', unitId: f.gridA1 } });
    expect(d.status).toBe('dispatched');
    // the grid worker sees it in their inbox and was told
    const inbox = await get('worker_a1', '/api/demands/inbox');
    expect(inbox.items.map((i: { id: number }) => i.id)).toContain(id);
    const notes = await get('worker_a1', '/api/inbox');
    expect(notes.items.some((n: { demandId: number; kind: string }) => n.demandId === id && n.kind === 'dispatched')).toBe(true);
    d = await post('worker_a1', `/api/demands/${id}/accept`, {});
    d = await post('worker_a1', `/api/demands/${id}/handle`, { result: '已清理干净' });
    // the reporter confirms it through the tracking page
    let t = await post(null, `/api/public/demands/${r.trackingCode}/verify`, { fixed: true });
    expect(t.status).toBe('verified');
    d = await post('secretary_a', `/api/demands/${id}/close`, {});
    t = await post(null, `/api/public/demands/${r.trackingCode}/rate`, { rating: 'satisfied', resolved: true });
    expect(t.status).toBe('rated');
    expect(t.timeline.map((e: { action: string }) => e.action)).toEqual(['report', 'register', 'dispatch', 'accept', 'handle', 'verify', 'close', 'rate']);
    // the public page names no people
    expect(t.timeline.every((e: { actorName: string | null }) => e.actorName === null)).toBe(true);
    expect(JSON.stringify(t)).not.toContain('13800138000');
    // one audit row per step, in the same transaction
    const audit = await h.database.db.selectFrom('audit_log').select('action').where('target_type', '=', 'demand').where('target_id', '=', String(id)).execute();
    expect(audit.map((a) => a.action).sort()).toEqual(['demand.accept', 'demand.close', 'demand.dispatch', 'demand.handle', 'demand.rate', 'demand.register', 'demand.report', 'demand.verify']);
  });

  it('not fixed → rework to the same hands; not satisfied → reopened, counted', async () => {
    const r = await report('worker_a1', { ...IN_A1 });
    const id = r.id;
    await post('secretary_a', `/api/demands/${id}/register`, {});
    await post('secretary_a', `/api/demands/${id}/dispatch`, { handler: { type: 'unit', unitId: f.gridA1 } });
    await post('worker_a1', `/api/demands/${id}/accept`, {});
    await post('worker_a1', `/api/demands/${id}/handle`, { result: '清理了一部分' });
    let d = await post('worker_a1', `/api/demands/${id}/verify`, { fixed: false, note: '还有垃圾' });
    expect(d.status).toBe('accepted');
    expect(d.reworkCount).toBe(1);
    d = await post('worker_a1', `/api/demands/${id}/handle`, { result: '全部清理' });
    d = await post('worker_a1', `/api/demands/${id}/verify`, { fixed: true });
    d = await post('secretary_a', `/api/demands/${id}/close`, {});
    expect(d.status).toBe('closed');
    // the reporter (the grid worker's own account) rates it: not fixed reopens it
    d = await post('worker_a1', `/api/demands/${id}/rate`, { rating: 'unsatisfied', resolved: false });
    expect(d.status).toBe('registered');
    expect(d.reopenCount).toBe(1);
  });

  it('a handler returns a case that is not theirs; it goes back to the dispatcher, never closed', async () => {
    const r = await report('worker_a1', { ...IN_A1 });
    await post('secretary_a', `/api/demands/${r.id}/register`, {});
    await post('secretary_a', `/api/demands/${r.id}/dispatch`, { handler: { type: 'unit', unitId: f.gridA1 } });
    const d = await post('worker_a1', `/api/demands/${r.id}/return`, { reason: '不属于本网格，是隔壁网格的' });
    expect(d.status).toBe('registered');
    expect(d.activeAssignment).toBeNull();
    // beyond authority: it goes up a level at once
    await post('secretary_a', `/api/demands/${r.id}/dispatch`, { handler: { type: 'unit', unitId: f.gridA1 } });
    const up = await post('worker_a1', `/api/demands/${r.id}/return`, { reason: '涉及多个网格', beyondAuthority: true });
    expect(up.unitId).toBe(f.communityA);
    expect(up.escalationLevel).toBe(1);
  });

  it('the same offline submission sent twice is one case', async () => {
    const key = 'offline-0123456789abcdef';
    const a = await report('worker_a1', { ...IN_A1, clientKey: key });
    const b = await report('worker_a1', { ...IN_A1, clientKey: key }, 200);
    expect(b.id).toBe(a.id);
    const n = await h.database.db.selectFrom('demand').select('id').where('client_key', '=', key).execute();
    expect(n).toHaveLength(1);
  });

  it('a duplicate nearby is shown and merged', async () => {
    const first = await report('worker_a1', { ...IN_A1, lng: 113.2051 });
    const near = await get('worker_a1', `/api/demands/nearby?category=exposed_garbage&lng=${IN_A1.lng}&lat=${IN_A1.lat}`);
    expect(near.items.some((i: { id: number }) => i.id === first.id)).toBe(true);
    const second = await report('worker_a1', { ...IN_A1 });
    const d = await post('secretary_a', `/api/demands/${second.id}/merge`, { intoId: first.id });
    expect(d.status).toBe('merged');
    const target = await get('secretary_a', `/api/demands/${first.id}`);
    expect(target.timeline.at(-1).action).toBe('absorb');
  });
});

describe('scope and bad input', () => {
  it('a case of another community looks like nothing at all', async () => {
    const r = await report('worker_b1', { ...IN_B1 });
    await unchanged(() => call(h.app, s.secretary_a, 'GET', `/api/demands/${r.id}`), 404, 'not_found');
    await unchanged(() => call(h.app, s.secretary_a, 'POST', `/api/demands/${r.id}/register`, {}), 404, 'not_found');
    const q = await get('secretary_a', '/api/demands?limit=200');
    expect(q.items.some((i: { id: number }) => i.id === r.id)).toBe(false);
  });
  it('a location outside every grid → 400 outside_every_grid, nothing written', async () => {
    await unchanged(() => call(h.app, null, 'POST', '/api/public/demands', { type: 'help', category: 'exposed_garbage', description: '求助', lng: 100, lat: 30 }), 400, 'outside_every_grid');
  });
  it('steps out of order or by the wrong person → 409 / 403, nothing written', async () => {
    const r = await report('worker_a1', { ...IN_A1 });
    await unchanged(() => call(h.app, s.secretary_a, 'POST', `/api/demands/${r.id}/close`, {}), 409, 'transition_not_allowed');
    await unchanged(() => call(h.app, s.worker_a1, 'POST', `/api/demands/${r.id}/register`, {}), 403, 'not_dispatcher');
    await post('secretary_a', `/api/demands/${r.id}/register`, {});
    await post('secretary_a', `/api/demands/${r.id}/dispatch`, { handler: { type: 'unit', unitId: f.gridA2 } });
    // gridA1's worker is not gridA2's handler
    await unchanged(() => call(h.app, s.worker_a1, 'POST', `/api/demands/${r.id}/accept`, {}), 403, 'not_handler');
    await unchanged(() => call(h.app, s.secretary_a, 'POST', `/api/demands/${r.id}/dispatch`, { handler: { type: 'unit', unitId: f.gridB1 } }), 400, 'unknown_reference');
  });
  it('an unknown category, an incomplete location, a bad phone → 400, nothing written', async () => {
    await unchanged(() => call(h.app, null, 'POST', '/api/public/demands', { type: 'help', category: 'no_such_thing', description: 'x', ...IN_A1 }), 400, 'unknown_category');
    await unchanged(() => call(h.app, null, 'POST', '/api/public/demands', { type: 'help', category: 'exposed_garbage', description: 'x', lng: 113.2 }), 400, 'incomplete_location');
    await unchanged(() => call(h.app, null, 'POST', '/api/public/demands', { type: 'help', category: 'exposed_garbage', description: 'x', ...IN_A1, reporterPhone: '12345' }), 400, 'invalid_phone');
    await unchanged(() => call(h.app, s.resident_a1, 'POST', '/api/demands', { channel: 'hotline', type: 'help', category: 'exposed_garbage', description: 'x', ...IN_A1 }), 403);
  });
  it('fake images (wrong magic bytes) and oversize uploads → 415 / 413, nothing written', async () => {
    const before = await fingerprint(h.database.db);
    const fake = await h.app.inject({ method: 'POST', url: '/api/public/photos', headers: { 'content-type': 'image/jpeg' }, payload: Buffer.from('this is not a jpeg at all, just text pretending') });
    expect(fake.statusCode, fake.body).toBe(415);
    const big = Buffer.alloc(9 * 1024 * 1024, 0);
    big.set([0xff, 0xd8, 0xff, 0xe0]);
    const over = await h.app.inject({ method: 'POST', url: '/api/public/photos', headers: { 'content-type': 'image/jpeg' }, payload: big });
    expect(over.statusCode, over.body).toBe(413);
    expect(await fingerprint(h.database.db)).toEqual(before);
  });
});

describe('the clock: warnings, overdue, escalation in working time', () => {
  it('an untouched case warns, goes overdue and moves one level up after its working-hours deadline; weekends and holidays do not count', async () => {
    const { demands } = demandsContext(h.app.services);
    const sweepAt = async (iso: string) => {
      h.clock.current = new Date(iso);
      return demands.sweep();
    };
    await sweepAt('2026-11-27T07:59:00Z'); // anything already due is out of the way
    // Friday 2026-11-27 16:00 (+08). 5 working days = 2,400 working minutes on the default calendar
    // (09:00–12:00 and 13:30–18:00, 450 minutes a day): 120 on Friday, 450 × 5 next week, 30 on Monday 7th.
    await setClock('2026-11-27T08:00:00Z');
    const r = await report('worker_a1', { ...IN_A1 });
    const d0 = await get('secretary_a', `/api/demands/${r.id}`);
    expect(d0.levelDueAt).toBe('2026-12-07T01:30:00.000Z');
    // the warning comes at 80 % of the working time: 1,920 minutes, the end of Thursday 3 December
    expect((await sweepAt('2026-12-03T09:59:00Z')).warned).toBe(0);
    expect((await sweepAt('2026-12-03T10:00:00Z')).warned).toBeGreaterThanOrEqual(1);
    await setClock('2026-12-03T10:00:00Z');
    const warned = await get('secretary_a', `/api/demands/${r.id}`);
    expect(warned.timeline.at(-1).action).toBe('warn');
    expect(warned.unitId).toBe(f.gridA1);
    // Saturday, Sunday and Monday 09:29 are not yet past it
    await sweepAt('2026-12-07T01:29:00Z');
    await setClock('2026-12-07T01:29:00Z');
    expect((await get('secretary_a', `/api/demands/${r.id}`)).overdueAt).toBeNull();
    // 09:31 Monday: overdue, and one level up
    const done = await sweepAt('2026-12-07T01:31:00Z');
    expect(done.escalated).toBeGreaterThanOrEqual(1);
    await setClock('2026-12-07T01:31:00Z');
    const up = await get('secretary_a', `/api/demands/${r.id}`);
    expect(up.unitId).toBe(f.communityA);
    expect(up.escalationLevel).toBe(1);
    expect(up.timeline.slice(-2).map((e: { action: string }) => e.action)).toEqual(['overdue', 'escalate']);
    // the case's own deadline (for the on-time figure) stays; the community gets a fresh window
    expect(up.finishDueAt).toBe('2026-12-07T01:30:00.000Z');
    expect(new Date(up.levelDueAt).getTime()).toBeGreaterThan(new Date(up.finishDueAt).getTime());
  });

  it('holidays on the calendar do not count', async () => {
    const res = await call(h.app, s.district_admin, 'PUT', '/api/demand-calendar', {
      weekdays: [1, 2, 3, 4, 5],
      periods: [{ start: '09:00', end: '12:00' }, { start: '13:30', end: '18:00' }],
      overrides: { '2026-12-08': 'holiday', '2026-12-09': 'holiday' },
    });
    expect(res.statusCode, res.body).toBe(200);
    // Monday 7 December 09:00: 2,400 minutes = Mon, (Tue, Wed off), Thu, Fri, Mon 14th, Tue 15th, and 150 minutes on Wed 16th
    await setClock('2026-12-07T01:00:00Z');
    const r = await report('worker_a1', { ...IN_A1 });
    const d = await get('secretary_a', `/api/demands/${r.id}`);
    expect(d.levelDueAt).toBe('2026-12-16T03:30:00.000Z');
  });
});

describe('category → handler rules', () => {
  it('suggest the nearest rule for the category, then its class, then the catch-all; without one, the home grid', async () => {
    await setClock('2026-12-10T02:00:00Z');
    const r = await report('worker_a1', { ...IN_A1 });
    let sug = await get('secretary_a', `/api/demands/${r.id}/suggested-handler`);
    expect(sug.handler).toEqual({ type: 'unit', unitId: f.gridA1 });
    // the community's catch-all: its council; then a class rule for 市容环境: the department
    let res = await call(h.app, s.secretary_a, 'PUT', '/api/demand-handler-rules', { unitId: f.communityA, categoryCode: null, handler: { type: 'council', name: '甲社区议事会' } });
    expect(res.statusCode, res.body).toBe(200);
    sug = await get('secretary_a', `/api/demands/${r.id}/suggested-handler`);
    expect(sug.handler).toEqual({ type: 'council', name: '甲社区议事会' });
    res = await call(h.app, s.street_admin, 'PUT', '/api/demand-handler-rules', { unitId: f.street, categoryCode: 'city_appearance', handler: { type: 'department', name: '城管执法队' } });
    expect(res.statusCode, res.body).toBe(200);
    // the community's catch-all is nearer than the street's class rule
    sug = await get('secretary_a', `/api/demands/${r.id}/suggested-handler`);
    expect(sug.handler.type).toBe('council');
    res = await call(h.app, s.secretary_a, 'PUT', '/api/demand-handler-rules', { unitId: f.communityA, categoryCode: 'exposed_garbage', handler: { type: 'unit', unitId: f.gridA2 } });
    sug = await get('secretary_a', `/api/demands/${r.id}/suggested-handler`);
    expect(sug.handler).toEqual({ type: 'unit', unitId: f.gridA2 });
    const list = await get('secretary_a', `/api/demand-handler-rules?unitId=${f.gridA1}`);
    expect(list.items.map((i: { categoryCode: string | null }) => i.categoryCode).sort()).toEqual(['city_appearance', 'exposed_garbage', null].sort());
    // the suggestion dispatches as it is
    await post('secretary_a', `/api/demands/${r.id}/register`, {});
    const d = await post('secretary_a', `/api/demands/${r.id}/dispatch`, { handler: sug.handler });
    expect(d.activeAssignment.handlerUnitId).toBe(f.gridA2);
    // another community cannot set rules here, nor point a rule outside its scope
    await unchanged(() => call(h.app, s.secretary_b, 'PUT', '/api/demand-handler-rules', { unitId: f.communityA, categoryCode: null, handler: { type: 'council', name: 'x' } }), 404);
    await unchanged(() => call(h.app, s.secretary_a, 'PUT', '/api/demand-handler-rules', { unitId: f.communityA, categoryCode: null, handler: { type: 'unit', unitId: f.gridB1 } }), 400, 'unknown_reference');
  });
});
