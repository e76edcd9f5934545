// Two people at once. Parallel requests (Promise.all of app.inject) at the places where people race:
// two party members claiming one order, two ratings of one closed case, a storm of steps on one case,
// two dispatchers merging two cases into each other, and one offline report sent twice at once. On
// PGlite there is one session, so the requests take turns; with TEST_DATABASE_URL they run on a pool of
// connections at the same time, and only the row locks and unique constraints keep them apart. Either
// way: one winner, the others a 409 with a stable code, never a 500, and a timeline with no gap.
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, call, login, type Session, type TestApp } from '../../../test/app.ts';
import { buildTinyLocality, loginAll, TEST_PASSWORD, type TinyLocality } from '../../../test/fixtures.ts';
import { testEngine } from '../../../test/db.ts';
import { GridService } from '../grid/grid.service.ts';
import { UsersService } from '../users/users.service.ts';
import { systemContext } from '../../platform/context.ts';
import { Random } from '../../platform/random.ts';
import { demandsContext } from './demands.context.ts';
import { isDemandStatus, transition, TRANSITIONS, type DemandAction } from './demand.states.ts';

let h: TestApp;
let f: TinyLocality;
let s: Record<string, Session>;
const sys = systemContext('races-test');

const post = async (who: string | null, url: string, body: unknown, status = 200) => {
  const res = await call(h.app, who ? s[who] : null, 'POST', url, body);
  expect(res.statusCode, res.body).toBe(status);
  return res.json();
};
const codes = (rs: LightMyRequestResponse[]) => rs.map((r) => r.statusCode).sort((a, b) => a - b);
const events = (id: number) => h.database.db.selectFrom('demand_event').selectAll().where('demand_id', '=', id).orderBy('seq').execute();

/** A case in gridA1 taken by staff (the service, as the system) up to `status`. */
async function caseAt(status: 'registered' | 'dispatched' | 'closed', opts: { code?: boolean } = {}) {
  const { demands } = demandsContext(h.app.services);
  let id: number;
  let trackingCode: string;
  if (opts.code) {
    const r = await post(null, '/api/public/demands', { type: 'complaint', category: 'exposed_garbage', description: '楼道堆放杂物', unitId: f.gridA1 }, 201);
    trackingCode = r.trackingCode;
    id = Number((await h.database.db.selectFrom('demand').select('id').where('tracking_code', '=', trackingCode).executeTakeFirstOrThrow()).id);
  } else {
    const { demand } = await demands.report(sys, { channel: 'patrol', type: 'complaint', category: 'exposed_garbage', description: '楼道堆放杂物', unitId: f.gridA1 });
    id = demand.id;
    trackingCode = demand.tracking_code;
  }
  await demands.register(sys, id, {});
  if (status === 'registered') return { id, trackingCode };
  await demands.dispatch(sys, id, { handler: { type: 'unit', unitId: f.gridA1 } });
  if (status === 'dispatched') return { id, trackingCode };
  await demands.accept(sys, id);
  await demands.handle(sys, id, { result: '已清理' });
  await demands.verify(sys, id, { fixed: true });
  await demands.close(sys, id, {});
  return { id, trackingCode };
}

beforeAll(async () => {
  h = await createTestApp({ publicReportRateLimitPerMinute: 1_000_000 });
  f = await buildTinyLocality(h.database, h.clock.now);
  // a second party member's account in gridA1, and both members on the roll of the grid's branch
  await new UsersService(h.database.db).create(sys, { username: 'member_a2', displayName: 'member_a2', role: 'party_member', unitId: f.gridA1, password: TEST_PASSWORD });
  const branch = (await new GridService(h.database.db, h.clock.now).bindPartyOrg(sys, f.gridA1, { kind: 'branch', name: '甲一网格党支部' })).id;
  s = await loginAll(h.app, f);
  s.member_a2 = await login(h.app, 'member_a2', TEST_PASSWORD);
  for (const [name, account] of [['党员甲', 'member_a1'], ['党员乙', 'member_a2']] as const) {
    const resident = await post('secretary_a', '/api/residents', { unitId: f.gridA1, name }, 201);
    await post('secretary_a', '/api/party-members', { residentId: resident.id, partyOrgId: branch, category: 'ordinary', status: 'full', userId: s[account].userId }, 201);
  }
});
afterAll(async () => h?.close());

describe(`races (${testEngine()})`, () => {
  it('two members claim one order from the pool: one gets it, the other 409 already_claimed; one assignment', async () => {
    for (let round = 0; round < 6; round++) {
      const order = await post('resident_a1', '/api/demands', { channel: 'member_order', type: 'help', category: 'elderly_children', description: '帮独居老人买药', unitId: f.gridA1 }, 201);
      expect(order.claimable).toBe(true);
      await post('secretary_a', `/api/demands/${order.id}/register`, {});
      for (const m of ['member_a1', 'member_a2']) expect((await call(h.app, s[m], 'GET', '/api/demands/pool')).json().items.map((i: { id: number }) => i.id)).toContain(order.id);
      const who = round % 2 ? ['member_a2', 'member_a1'] : ['member_a1', 'member_a2'];
      const rs = await Promise.all(who.map((m) => call(h.app, s[m], 'POST', `/api/demands/${order.id}/claim`)));
      expect(codes(rs), rs.map((r) => r.body).join('\n')).toEqual([200, 409]);
      const lost = rs.find((r) => r.statusCode === 409)!;
      expect(lost.json().code).toBe('already_claimed');
      expect(lost.json().messages.en).toMatch(/claimed/);
      const won = rs.find((r) => r.statusCode === 200)!.json();
      expect(won.status).toBe('accepted');
      const assignments = await h.database.db.selectFrom('demand_assignment').selectAll().where('demand_id', '=', order.id).execute();
      expect(assignments).toHaveLength(1);
      expect(assignments[0]).toMatchObject({ handler_type: 'member', status: 'accepted', handler_user_id: won.activeAssignment.handlerUserId });
      expect((await events(order.id)).map((e) => e.action)).toEqual(['report', 'register', 'dispatch', 'accept']);
      // the winner's order, gone from both pools
      for (const m of ['member_a1', 'member_a2']) expect((await call(h.app, s[m], 'GET', '/api/demands/pool')).json().items.map((i: { id: number }) => i.id)).not.toContain(order.id);
    }
  });

  it('both claims really wait on the case’s row lock, then one wins', async () => {
    // Someone else holds the case (as any step does) while both members press "claim": neither may answer
    // before it is let go. On PostgreSQL both requests are then inside their transactions, blocked on the
    // row lock; the loser reads the row the winner committed and is told it is taken.
    const order = await post('resident_a1', '/api/demands', { channel: 'member_order', type: 'help', category: 'elderly_children', description: '陪老人去医院', unitId: f.gridA1 }, 201);
    await post('secretary_a', `/api/demands/${order.id}/register`, {});
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => (locked = resolve));
    const holder = h.database.db.transaction().execute(async (trx) => {
      await trx.selectFrom('demand').select('id').where('id', '=', order.id).forUpdate().execute();
      locked();
      await released;
    });
    await holding;
    let answered = 0;
    const claims = ['member_a1', 'member_a2'].map((m) =>
      call(h.app, s[m], 'POST', `/api/demands/${order.id}/claim`).then((r) => {
        answered++;
        return r;
      }),
    );
    if (testEngine() === 'postgres') {
      // both requests are inside their transactions, waiting for the lock
      const waiting = async () => Number((await sql<{ n: number }>`select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(h.database.db)).rows[0].n);
      for (let tries = 0; (await waiting()) < 2 && tries < 100; tries++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await waiting()).toBe(2);
    } else await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answered).toBe(0);
    release();
    await holder;
    const rs = await Promise.all(claims);
    expect(codes(rs), rs.map((r) => r.body).join('\n')).toEqual([200, 409]);
    expect(rs.find((r) => r.statusCode === 409)!.json().code).toBe('already_claimed');
    expect(await h.database.db.selectFrom('demand_assignment').select('id').where('demand_id', '=', order.id).execute()).toHaveLength(1);
  });

  it('a member claims while the dispatcher dispatches: one of them wins, the other 409', async () => {
    for (let round = 0; round < 4; round++) {
      const order = await post('resident_a1', '/api/demands', { channel: 'member_order', type: 'help', category: 'elderly_children', description: '帮忙修水龙头', unitId: f.gridA1 }, 201);
      await post('secretary_a', `/api/demands/${order.id}/register`, {});
      const tries = [() => call(h.app, s.member_a1, 'POST', `/api/demands/${order.id}/claim`), () => call(h.app, s.secretary_a, 'POST', `/api/demands/${order.id}/dispatch`, { handler: { type: 'unit', unitId: f.gridA1 } })];
      const rs = await Promise.all(round % 2 ? tries.reverse().map((t) => t()) : tries.map((t) => t()));
      expect(codes(rs), rs.map((r) => r.body).join('\n')).toEqual([200, 409]);
      expect(['already_claimed', 'transition_not_allowed']).toContain(rs.find((r) => r.statusCode === 409)!.json().code);
      const active = await h.database.db.selectFrom('demand_assignment').select('id').where('demand_id', '=', order.id).where('status', 'in', ['pending', 'accepted']).execute();
      expect(active).toHaveLength(1);
    }
  });

  it('two ratings of one closed case with its tracking code: one succeeds, the other 409; one rate event', async () => {
    const pairs = [
      ['satisfied', 'basically_satisfied'],
      ['unsatisfied', 'satisfied'],
      ['satisfied', 'unsatisfied'],
      ['unsatisfied', 'unsatisfied'],
    ] as const;
    for (const [a, b] of pairs) {
      const c = await caseAt('closed', { code: true });
      const rs = await Promise.all(
        [a, b].map((rating) => call(h.app, null, 'POST', `/api/public/demands/${c.trackingCode}/rate`, { rating, resolved: rating !== 'unsatisfied' })),
      );
      expect(codes(rs), rs.map((r) => r.body).join('\n')).toEqual([200, 409]);
      expect(rs.find((r) => r.statusCode === 409)!.json().code).toBe('transition_not_allowed');
      const timeline = await events(c.id);
      expect(timeline.filter((e) => e.action === 'rate')).toHaveLength(1);
      const rated = timeline.find((e) => e.action === 'rate')!;
      const winner = (rated.data as { rating: string }).rating;
      // "unsatisfied" reopens in the same transaction as the rating; the loser never rates the reopened case
      expect(timeline.filter((e) => e.action === 'reopen')).toHaveLength(winner === 'unsatisfied' ? 1 : 0);
      const row = (await h.database.db.selectFrom('demand').select(['status', 'rating', 'reopen_count']).where('id', '=', c.id).executeTakeFirstOrThrow());
      expect(row).toEqual({ status: winner === 'unsatisfied' ? 'registered' : 'rated', rating: winner, reopen_count: winner === 'unsatisfied' ? 1 : 0 });
    }
  });

  it('the reporter’s own account rating twice at once: one rating', async () => {
    const r = await post('resident_a1', '/api/demands', { channel: 'resident', type: 'complaint', category: 'exposed_garbage', description: '垃圾桶满了', unitId: f.gridA1 }, 201);
    const { demands } = demandsContext(h.app.services);
    await demands.register(sys, r.id, {});
    await demands.dispatch(sys, r.id, { handler: { type: 'unit', unitId: f.gridA1 } });
    await demands.accept(sys, r.id);
    await demands.handle(sys, r.id, { result: '已清运' });
    await demands.verify(sys, r.id, { fixed: true });
    await demands.close(sys, r.id, {});
    const rs = await Promise.all([0, 1].map(() => call(h.app, s.resident_a1, 'POST', `/api/demands/${r.id}/rate`, { rating: 'satisfied', resolved: true })));
    expect(codes(rs), rs.map((x) => x.body).join('\n')).toEqual([200, 409]);
    expect((await events(r.id)).filter((e) => e.action === 'rate')).toHaveLength(1);
  });

  it('a storm of steps on one case never skips a state: consecutive seqs, each event from the last one’s state', async () => {
    const rng = new Random(20261123);
    type Attempt = { name: string; run: (c: { id: number; trackingCode: string }) => Promise<LightMyRequestResponse> };
    const attempts: Attempt[] = [
      { name: 'accept', run: (c) => call(h.app, s.worker_a1, 'POST', `/api/demands/${c.id}/accept`, {}) },
      { name: 'accept', run: (c) => call(h.app, s.worker_a1, 'POST', `/api/demands/${c.id}/accept`, {}) },
      { name: 'handle', run: (c) => call(h.app, s.worker_a1, 'POST', `/api/demands/${c.id}/handle`, { result: '已处置' }) },
      { name: 'handle', run: (c) => call(h.app, s.leader_a1, 'POST', `/api/demands/${c.id}/handle`, { result: '已处置' }) },
      { name: 'verify', run: (c) => call(h.app, s.worker_a1, 'POST', `/api/demands/${c.id}/verify`, { fixed: true }) },
      { name: 'verify', run: (c) => call(h.app, null, 'POST', `/api/public/demands/${c.trackingCode}/verify`, { fixed: true }) },
      { name: 'rework', run: (c) => call(h.app, s.leader_a1, 'POST', `/api/demands/${c.id}/verify`, { fixed: false, note: '没弄干净' }) },
      { name: 'close', run: (c) => call(h.app, s.secretary_a, 'POST', `/api/demands/${c.id}/close`, {}) },
      { name: 'close', run: (c) => call(h.app, s.street_admin, 'POST', `/api/demands/${c.id}/close`, {}) },
      { name: 'return', run: (c) => call(h.app, s.worker_a1, 'POST', `/api/demands/${c.id}/return`, { reason: '不归我们管' }) },
      { name: 'dispatch', run: (c) => call(h.app, s.secretary_a, 'POST', `/api/demands/${c.id}/dispatch`, { handler: { type: 'unit', unitId: f.gridA1 } }) },
      { name: 'rate', run: (c) => call(h.app, null, 'POST', `/api/public/demands/${c.trackingCode}/rate`, { rating: rng.next() < 0.3 ? 'unsatisfied' : 'satisfied', resolved: true }) },
    ];
    const seen: Record<string, number> = {};
    const cases = [];
    for (let k = 0; k < 4; k++) cases.push(await caseAt('dispatched', { code: true }));
    for (const c of cases) {
      for (let round = 0; round < 10; round++) {
        const batch = Array.from({ length: 10 }, () => attempts[Math.floor(rng.next() * attempts.length)]);
        const rs = await Promise.all(batch.map((a) => a.run(c)));
        rs.forEach((r, i) => {
          seen[`${batch[i].name} ${r.statusCode}`] = (seen[`${batch[i].name} ${r.statusCode}`] ?? 0) + 1;
          // 200, or 409 for a step the case has moved past (never a 500, never a gap)
          expect([200, 409], `${batch[i].name}: ${r.body}`).toContain(r.statusCode);
          if (r.statusCode === 409) expect(r.json().code).toBe('transition_not_allowed');
        });
        const row = await h.database.db.selectFrom('demand').select('status').where('id', '=', c.id).executeTakeFirstOrThrow();
        if (row.status === 'rated') break;
      }
    }
    // every kind of attempt both won and lost somewhere
    for (const name of ['accept', 'handle', 'verify', 'close', 'rate']) {
      expect(seen[`${name} 200`], `${name} 200`).toBeGreaterThan(0);
      expect(seen[`${name} 409`], `${name} 409`).toBeGreaterThan(0);
    }
  });

  it('two dispatchers merge two cases into each other at once: one merge, one 409, no deadlock', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await caseAt('registered');
      const b = await caseAt('registered');
      const rs = await Promise.all([
        call(h.app, s.secretary_a, 'POST', `/api/demands/${a.id}/merge`, { intoId: b.id }),
        call(h.app, s.street_admin, 'POST', `/api/demands/${b.id}/merge`, { intoId: a.id }),
      ]);
      expect(codes(rs), rs.map((r) => r.body).join('\n')).toEqual([200, 409]);
      expect(['transition_not_allowed', 'merge_target_closed']).toContain(rs.find((r) => r.statusCode === 409)!.json().code);
      const rows = await h.database.db.selectFrom('demand').select(['id', 'status']).where('id', 'in', [a.id, b.id]).execute();
      expect(rows.map((r) => r.status).sort()).toEqual(['merged', 'registered']);
    }
  });

  it('the same offline report sent twice at once is one case, answered to both', async () => {
    for (let round = 0; round < 4; round++) {
      const clientKey = `race-${round}-0123456789abcdef`;
      const body = { channel: 'patrol', type: 'complaint', category: 'exposed_garbage', description: '井盖缺失', unitId: f.gridA1, clientKey };
      const rs = await Promise.all([0, 1].map(() => call(h.app, s.worker_a1, 'POST', '/api/demands', body)));
      expect(codes(rs), rs.map((r) => r.body).join('\n')).toEqual([200, 201]);
      expect(new Set(rs.map((r) => r.json().id)).size).toBe(1);
      expect(await h.database.db.selectFrom('demand').select('id').where('client_key', '=', clientKey).execute()).toHaveLength(1);
    }
  });

  it('afterwards, every timeline holds: seqs 1..n, each step from the state before it by the table, the row at the last state, one audit row per event, at most one active assignment', async () => {
    const rows = await h.database.db.selectFrom('demand').select(['id', 'district_id', 'status', 'seq']).execute();
    const all = await h.database.db.selectFrom('demand_event').selectAll().orderBy('demand_id').orderBy('seq').execute();
    const audits = await h.database.db.selectFrom('audit_log').select(['target_id', (eb) => eb.fn.countAll<number>().as('n')]).where('target_type', '=', 'demand').groupBy('target_id').execute();
    const active = await h.database.db.selectFrom('demand_assignment').select(['demand_id', (eb) => eb.fn.countAll<number>().as('n')]).where('status', 'in', ['pending', 'accepted']).groupBy('demand_id').execute();
    const problems: string[] = [];
    for (const d of rows) {
      const timeline = all.filter((e) => Number(e.demand_id) === Number(d.id));
      let state: string | null = null;
      timeline.forEach((e, i) => {
        if (e.seq !== i + 1) problems.push(`case ${d.id}: event ${i + 1} has seq ${e.seq}`);
        if (e.from_status !== state) problems.push(`case ${d.id}: ${e.action} (seq ${e.seq}) from ${e.from_status}, but the case was ${state}`);
        if (e.action in TRANSITIONS && e.action !== 'report' && isDemandStatus(e.from_status ?? '')) {
          let to: string;
          try {
            to = transition(e.from_status as Parameters<typeof transition>[0], e.action as DemandAction);
          } catch {
            to = '(refused)';
          }
          if (to !== e.to_status) problems.push(`case ${d.id}: ${e.action} from ${e.from_status} led to ${e.to_status}, the table says ${to}`);
        } else if (e.action !== 'report' && e.to_status !== e.from_status) problems.push(`case ${d.id}: ${e.action} changed the state`);
        state = e.to_status;
      });
      if (d.seq !== timeline.length) problems.push(`case ${d.id}: seq ${d.seq}, ${timeline.length} events`);
      if (d.status !== state) problems.push(`case ${d.id}: status ${d.status}, last event to ${state}`);
      const audited = Number(audits.find((a) => Number(a.target_id) === Number(d.id))?.n ?? 0);
      if (audited !== timeline.length) problems.push(`case ${d.id}: ${audited} audit rows, ${timeline.length} events`);
    }
    for (const a of active) if (Number(a.n) > 1) problems.push(`case ${a.demand_id}: ${a.n} active assignments`);
    expect(problems).toEqual([]);
    expect(rows.length).toBeGreaterThan(30);
  });
});
