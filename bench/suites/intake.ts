// intake: the 民呼我应 intake path under load and the handler's inbox at scale (issue #5), each figure beside
// the engine's own limit in the same run (docs/bench.md):
//   - patrol reports with a location, routed by boundary among every grid polygon of the locality (10,440 at
//     the default scale), photo-less, through the real server process (`tongxin serve`): throughput and
//     latency at a fixed concurrency, and latency at a fixed rate of 500 req/s — against the bare
//     Fastify + driver server inserting the same row, already routed, with one INSERT into `demand`;
//   - DemandsRepository.inbox with 1,000,000 cases in the database (bulk-loaded with generate_series, most
//     closed, ~3% active), p95, for a grid worker, a street handler and a party member with their own
//     assignments — against the same SQL on the bare driver.
import { Rng } from '../generator/rng.ts';
import { BoundaryIndex, bboxOf, parseBoundary } from '../../server/src/platform/geo.ts';
import { scopePaths } from '../../server/src/platform/access.ts';
import type { Actor } from '../../server/src/platform/context.ts';
import { UsersRepository } from '../../server/src/modules/users/users.repository.ts';
import { DemandsRepository } from '../../server/src/modules/demands/demands.repository.ts';
import { assertSame, budgetFor, ENGINES, higherBetter, lowerBetter, measurePair, withConnections, type BareDriver, type Figure, type Suite, type SuiteContext } from '../harness.ts';
import { preparedScratch, sampleVia, SCALES, type Sample } from '../lib/locality.ts';
import { login, probe, runLoad, runRate, startServer, type LoadResult, type RateResult, type RunningServer, type Session } from '../lib/servers.ts';
import * as Q from '../lib/product-sql.ts';

/**
 * Cases bulk-loaded before anything is measured (issue #5: the inbox with 1M cases in the database). Setup,
 * not measured: ~2 min on PostgreSQL, ~5 min on PGlite (a ~2 GB data directory) on a busy two-core machine.
 */
const CASES = 1_000_000;
const SMOKE_CASES = 300;
/** Share of the bulk-loaded cases still open, with an active assignment (per mille). */
const ACTIVE_PER_MILLE = 30;
/** Share of the assignments made to a party member's own account rather than a grid (per cent). */
const MEMBER_PERCENT = 10;
const MEMBER_ACCOUNTS = 1000;
const INBOX_LIMIT = 100;
/** The fixed rate of the latency figure, requests per second (issue #5: p99 < 50 ms at 500 req/s). */
const FIXED_RATE = 500;
/** Reports generated up front and sent in rotation. */
const REPORT_POOL = 20_000;
const BULK_CHUNK = 100_000;

interface Grid {
  districtId: number;
  id: number;
  path: string;
}

interface Report {
  grid: Grid;
  category: string;
  description: string;
  lng: number;
  lat: number;
}

const sortedIds = (rows: { id: number; assignment_id: number }[]) => rows.map((r) => `${Number(r.id)}:${Number(r.assignment_id)}`).sort();

/** Every grid with a boundary, the spatial index over them, and the leaf categories a patrol report may take. */
async function loadGrids(bare: BareDriver) {
  const rows = await bare.query<{ district_id: number; id: number; path: string; boundary: unknown }>(
    `select u.district_id, u.id, u.path, u.boundary from org_unit u join unit_kind k on k.code = u.kind_code
     where k.is_grid and u.boundary is not null and u.archived_at is null order by u.id`,
  );
  const index = new BoundaryIndex<number>();
  const grids: (Grid & { box: ReturnType<typeof bboxOf> })[] = [];
  for (const r of rows) {
    const parsed = parseBoundary(typeof r.boundary === 'string' ? JSON.parse(r.boundary) : r.boundary);
    if ('problem' in parsed) continue;
    index.add(Number(r.id), parsed.boundary);
    grids.push({ districtId: Number(r.district_id), id: Number(r.id), path: r.path, box: bboxOf(parsed.boundary) });
  }
  // Leaves of the preset's dictionary that neither raise an emergency (the secretary's notification is
  // another path) nor are handed up at once by a deciding-level rule.
  const categories = (
    await bare.query<{ code: string }>(
      `select c.code from demand_category c join demand_category p on p.code = c.parent_code
       where c.active and not c.emergency and not p.emergency and c.decide_kinds is null and p.decide_kinds is null
       order by c.sort, c.code`,
    )
  ).map((r) => r.code);
  if (!grids.length) throw new Error('the locality has no grid with a boundary');
  if (!categories.length) throw new Error('the preset has no usable leaf demand category');
  return { grids, index, categories };
}

/**
 * Reports at random points inside random grids: a point is kept only when exactly one grid's boundary holds
 * it (an edge shared by two grids would leave the expected grid to the product's tie rule).
 */
function reportPool(grids: Awaited<ReturnType<typeof loadGrids>>['grids'], index: BoundaryIndex<number>, categories: string[], n: number): Report[] {
  const rng = Rng.of(20261121, 'intake-reports');
  const out: Report[] = [];
  for (let attempts = 0; out.length < n; attempts++) {
    if (attempts > n * 20) throw new Error(`could not place ${n} report points inside single grids`);
    const g = grids[rng.int(0, grids.length - 1)];
    const lng = Math.round((g.box.minLng + (0.05 + 0.9 * rng.next()) * (g.box.maxLng - g.box.minLng)) * 1e7) / 1e7;
    const lat = Math.round((g.box.minLat + (0.05 + 0.9 * rng.next()) * (g.box.maxLat - g.box.minLat)) * 1e7) / 1e7;
    const hits = index.find(lng, lat);
    if (hits.length !== 1 || hits[0] !== g.id) continue;
    out.push({ grid: g, category: categories[out.length % categories.length], description: `巡查发现问题，请处理（压测 ${out.length + 1}）`, lng, lat });
  }
  return out;
}

/**
 * Accounts as a deployment has them, written with plain SQL (they never log in: the password hash is no
 * argon2 hash): a 网格长 and a 网格员 on every grid — the dispatchers every report on the grid notifies, and
 * the size of role_grant the notification lookup searches — `MEMBER_ACCOUNTS` party members with the member
 * role on a grid, a street admin on the sample street. Answers the ids the inbox figures use.
 */
async function createAccounts(bare: BareDriver, sample: Sample, members: number) {
  await bare.query(`
    with g as (
      select u.district_id, u.id from org_unit u join unit_kind k on k.code = u.kind_code
      where k.is_grid and u.archived_at is null
    ),
    roles as (select unnest(array['grid_leader', 'grid_worker']) as role_code),
    users as (
      insert into app_user (username, display_name, password_hash, must_change_password)
      select 'bench-' || r.role_code || '-' || g.id, r.role_code || ' ' || g.id, '!bench', false from g cross join roles r
      returning id, username
    )
    insert into role_grant (user_id, role_code, district_id, unit_id)
    select users.id, r.role_code, g.district_id, g.id from g cross join roles r join users on users.username = 'bench-' || r.role_code || '-' || g.id`);
  await bare.query(
    `with g as (
       select u.district_id, u.id, row_number() over (order by u.id) - 1 as idx, count(*) over () as n
       from org_unit u join unit_kind k on k.code = u.kind_code where k.is_grid and u.archived_at is null
     ),
     users as (
       insert into app_user (username, display_name, password_hash, must_change_password)
       select 'bench-member-' || i, '党员 ' || i, '!bench', false from generate_series(1, $1::int) i
       returning id, username
     )
     insert into role_grant (user_id, role_code, district_id, unit_id)
     select users.id, 'party_member', g.district_id, g.id
     from users join g on g.idx = (substr(users.username, 14)::int8 - 1) % g.n`,
    [members],
  );
  await bare.query(
    `with users as (
       insert into app_user (username, display_name, password_hash, must_change_password)
       values ('bench-street-admin', '街道管理员', '!bench', false) returning id
     )
     insert into role_grant (user_id, role_code, district_id, unit_id) select users.id, 'street_admin', $1, $2 from users`,
    [sample.street.districtId, sample.street.id],
  );
  const id = async (username: string) => Number((await bare.query<{ id: number }>('select id from app_user where username = $1', [username]))[0].id);
  const memberIds = (await bare.query<{ id: number }>(`select id from app_user where username like 'bench-member-%' order by id`)).map((r) => Number(r.id));
  return { gridWorker: await id(`bench-grid_worker-${sample.grid.id}`), streetAdmin: await id('bench-street-admin'), member: memberIds[0], memberIds };
}

/**
 * `total` cases in bulk with generate_series, `BULK_CHUNK` per statement: each with one assignment — most
 * done (the case closed or rated years or days ago), ACTIVE_PER_MILLE‰ pending or accepted on an open case
 * reported within the last day (deadlines days ahead, so the server's clock sweep has nothing to do);
 * MEMBER_PERCENT% of the assignments to a party member's own account, the rest to the case's grid. Cases
 * rotate over every grid. No timeline events or audit rows: the inbox reads neither.
 */
async function bulkCases(bare: BareDriver, total: number, categories: string[], memberIds: number[], log: (m: string) => void) {
  const started = performance.now();
  await bare.query(`drop table if exists bench_intake_grid`);
  await bare.query(`
    create table bench_intake_grid as
    select row_number() over (order by u.id) - 1 as idx, u.district_id, u.id, u.path,
      (u.bbox_min_lng + u.bbox_max_lng) / 2 as lng, (u.bbox_min_lat + u.bbox_max_lat) / 2 as lat
    from org_unit u join unit_kind k on k.code = u.kind_code
    where k.is_grid and u.boundary is not null and u.archived_at is null`);
  const [{ n: grids }] = await bare.query<{ n: number }>('select count(*)::int8 as n from bench_intake_grid');
  for (let from = 1; from <= total; from += BULK_CHUNK) {
    const to = Math.min(total, from + BULK_CHUNK - 1);
    await bare.query(
      `with src as (
         select i, g.district_id, g.id as unit_id, g.path as unit_path,
           g.lng + (abs(hashint8(i)::int8) % 1000 - 500) * 1e-7 as lng, g.lat + (abs(hashint8(-i)::int8) % 1000 - 500) * 1e-7 as lat,
           abs(hashint8(i)::int8) % 1000 < $5 as active, abs(hashint8(i + 7)::int8) as h
         from generate_series($1::int8, $2::int8) as i join bench_intake_grid g on g.idx = i % $6::int8
       ),
       timed as (
         select src.*,
           case when active then now() - (h % 1440) * interval '1 minute'
                else now() - (2 * 1440 + h % (3 * 365 * 1440)) * interval '1 minute' end as at,
           case when not active then (case when h % 3 = 0 then 'rated' else 'closed' end)
                when h % 2 = 0 then 'dispatched' else 'accepted' end as status
         from src
       ),
       d as (
         insert into demand (district_id, case_no, tracking_code, channel, type, category_code, title, description, lng, lat,
           home_unit_id, home_unit_path, unit_id, unit_path, routed_by, status, reporter_name,
           reported_at, registered_at, first_dispatched_at, responded_at, handled_at, verified_at, closed_at, rated_at,
           respond_due_at, finish_due_at, level_since, level_due_at, level_warn_at, rating, resolved)
         select district_id, 'H-' || lpad(i::text, 8, '0'), 'H' || lpad(upper(to_hex(i)), 9, '0'),
           (array['patrol', 'resident', 'hotline'])[1 + i % 3], (array['report', 'help', 'complaint', 'consult', 'suggestion'])[1 + i % 5],
           ($3::text[])[1 + i % array_length($3::text[], 1)], '历史诉求 ' || i, '压测生成的历史诉求 ' || i, lng, lat,
           unit_id, unit_path, unit_id, unit_path, 'boundary', status, '居民',
           at, at + interval '10 minutes', at + interval '20 minutes',
           case when status = 'dispatched' then null else at + interval '1 hour' end,
           case when active then null else at + interval '2 days' end,
           case when active then null else at + interval '2 days 2 hours' end,
           case when active then null else at + interval '2 days 3 hours' end,
           case when status = 'rated' then at + interval '3 days' end,
           at + interval '2 days', at + interval '7 days', at, at + interval '7 days', at + interval '5 days 14 hours',
           case when status = 'rated' then 'satisfied' end, case when active then null else true end
         from timed
         returning district_id, id, unit_id, unit_path, status, first_dispatched_at, responded_at, handled_at
       )
       insert into demand_assignment (district_id, demand_id, handler_type, handler_unit_id, handler_unit_path, handler_user_id, handler_name, status, created_at, accepted_at, ended_at)
       select d.district_id, d.id, case when m.member then 'member' else 'unit' end, d.unit_id, d.unit_path,
         case when m.member then ($4::int8[])[1 + (abs(hashint8(d.id)::int8) / 100) % array_length($4::int8[], 1)] end,
         case when m.member then '党员' else '网格' end,
         case d.status when 'dispatched' then 'pending' when 'accepted' then 'accepted' else 'done' end,
         d.first_dispatched_at, d.responded_at, d.handled_at
       from d cross join lateral (select abs(hashint8(d.id)::int8) % 100 < $7 as member) m`,
      [from, to, categories, memberIds, ACTIVE_PER_MILLE, grids, MEMBER_PERCENT],
    );
    if (to < total) log(`cases: ${to.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  await bare.query('drop table bench_intake_grid');
  // Fresh statistics and the visibility map, as autovacuum would leave them (PGlite runs no autovacuum), and
  // the load's dirty pages written out now rather than by a checkpoint in the middle of a measurement.
  await bare.query('vacuum analyze demand');
  await bare.query('vacuum analyze demand_assignment');
  try {
    await bare.query('checkpoint');
  } catch (err) {
    log(`checkpoint refused (${(err as Error).message}): a checkpoint may land during the measurements`);
  }
  const [counts] = await bare.query<{ cases: number; active: number; unit_active: number }>(
    `select (select count(*) from demand)::int8 as cases,
       (select count(*) from demand_assignment where status in ('pending', 'accepted'))::int8 as active,
       (select count(*) from demand_assignment where status in ('pending', 'accepted') and handler_user_id is null)::int8 as unit_active`,
  );
  const seconds = (performance.now() - started) / 1000;
  log(`cases: ${Number(counts.cases).toLocaleString('en-US')} in the database, ${Number(counts.active).toLocaleString('en-US')} with an active assignment (${Number(counts.unit_active).toLocaleString('en-US')} to grids), loaded in ${seconds.toFixed(0)} s`);
  return { seconds, cases: Number(counts.cases) };
}

/** The inbox figures: the product's repository against the same SQL on the bare driver, alternating rounds, p95. */
async function inboxFigures(ctx: SuiteContext, bare: BareDriver, repo: DemandsRepository, users: UsersRepository, who: { label: string; userId: number }[], cases: number): Promise<Figure[]> {
  const budget = budgetFor(ctx.options);
  const figures: Figure[] = [];
  for (const { label, userId } of who) {
    // What handlerInbox passes: the caller's own grants folded into the subtrees where they may handle.
    const actor: Actor = { userId, username: label, displayName: label, grants: await users.grantsOf(userId), mustChangePassword: false };
    const paths = scopePaths(actor, 'demand.handle');
    if (paths.length > 1) throw new Error(`${label} handles for ${paths.length} subtrees; the bare SQL mirrors one`);
    const product = () => repo.inbox(userId, paths, INBOX_LIMIT);
    const baseline = () =>
      paths.length
        ? bare.query<{ id: number; assignment_id: number }>(Q.INBOX_WITH_UNIT, ['pending', 'accepted', userId, Q.likePrefix(paths[0]), INBOX_LIMIT])
        : bare.query<{ id: number; assignment_id: number }>(Q.INBOX_OWN, ['pending', 'accepted', userId, INBOX_LIMIT]);
    const rows = await product();
    assertSame(`inbox of ${label}`, sortedIds(rows.map((r) => ({ id: r.id, assignment_id: r.assignment_id }))), sortedIds(await baseline()));
    const t = await measurePair(product, baseline, budget);
    figures.push(lowerBetter(`handler inbox of ${label} (${rows.length} active cases shown, ${cases.toLocaleString('en-US')} cases in the database), p95: DemandsRepository.inbox`, 'ms', t.product.p95Ms, t.baseline.p95Ms));
    ctx.log(`inbox of ${label}: ${rows.length} rows; product p50 ${t.product.medianMs.toFixed(2)} / p95 ${t.product.p95Ms.toFixed(2)} ms (${t.product.runs} runs), baseline p50 ${t.baseline.medianMs.toFixed(2)} / p95 ${t.baseline.p95Ms.toFixed(2)} ms`);
  }
  return figures;
}

interface Servers {
  product: RunningServer;
  bare: RunningServer;
  session: Session;
}

function requestOf(servers: Servers, server: RunningServer, reports: Report[]) {
  const isProduct = server.kind === 'product';
  const headers: Record<string, string> = isProduct ? { cookie: servers.session.cookie, 'x-csrf-token': servers.session.csrf } : {};
  const request = (i: number) => {
    const r = reports[i % reports.length];
    const common = { channel: 'patrol', type: 'report', category: r.category, description: r.description, lng: r.lng, lat: r.lat };
    return isProduct ? { path: '/api/demands', body: common } : { path: '/demands', body: { ...common, districtId: r.grid.districtId, unitId: r.grid.id, unitPath: r.grid.path } };
  };
  return { headers, request };
}

/** Throughput and latency at the fixed concurrency: a short unmeasured warm-up, then the measured load. */
async function atConcurrency(ctx: SuiteContext, servers: Servers, server: RunningServer, reports: Report[]): Promise<LoadResult> {
  const { connections, duration, smoke } = ctx.options;
  const { headers, request } = requestOf(servers, server, reports);
  const spec = (durationS: number) => ({ baseUrl: server.baseUrl, method: 'POST' as const, headers, connections, durationS, request });
  await runLoad(smoke ? { ...spec(duration), amount: connections } : spec(Math.min(2, duration / 5)));
  const result = await runLoad(smoke ? { ...spec(duration), amount: connections * 5 } : spec(duration));
  ctx.log(`${server.kind} at ${connections} connections: ${result.requestsPerSec.toFixed(0)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms (${result.requests} requests)`);
  return result;
}

/** Latency at the fixed rate, open loop (see runRate). */
async function atRate(ctx: SuiteContext, servers: Servers, server: RunningServer, reports: Report[], rate: number): Promise<RateResult> {
  const { connections, duration, smoke } = ctx.options;
  const { headers, request } = requestOf(servers, server, reports);
  const result = await runRate({ baseUrl: server.baseUrl, method: 'POST', headers, rate, durationS: duration, maxConnections: connections, request, ...(smoke ? { amount: 20 } : {}) });
  const behind = result.achievedPerSec < 0.95 * rate ? ' — it did not keep up: requests queued behind each other and the latency shows it' : '';
  ctx.log(`${server.kind} at ${rate} req/s: achieved ${result.achievedPerSec.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, max ${result.maxMs.toFixed(0)} ms (${result.requests} requests)${behind}`);
  return result;
}

export const intakeSuite: Suite = {
  name: 'intake',
  description: 'POST /api/demands routed among every grid polygon (req/s, p50/p99 at a fixed concurrency, p99 at 500 req/s) vs a bare one-INSERT server; handler inbox p95 with 1M cases vs the same SQL',
  engines: ENGINES,
  scales: SCALES,
  defaultScale: 'liwan10k',
  async run(ctx) {
    const { options, log } = ctx;
    const { scratch, locality } = await preparedScratch(ctx, 'intake');
    const total = options.smoke ? SMOKE_CASES : CASES;
    const rate = options.smoke ? 50 : FIXED_RATE;
    const figures: Figure[] = [];

    // Setup on the bare driver (not measured): accounts, the bulk cases, the report pool.
    const setup = await withConnections(scratch, async ({ product, bare }) => {
      const sample = await sampleVia(product.db);
      const { grids, index, categories } = await loadGrids(bare);
      log(`${grids.length.toLocaleString('en-US')} grids with boundaries, ${categories.length} leaf categories`);
      const accounts = await createAccounts(bare, sample, options.smoke ? 10 : MEMBER_ACCOUNTS);
      const bulk = await bulkCases(bare, total, categories, accounts.memberIds, log);
      const [bench] = await bare.query<{ id: number }>('select id from app_user where username = $1', [locality.user.username]);
      return { sample, accounts, cases: bulk.cases, grids: grids.length, index, reports: reportPool(grids, index, categories, options.smoke ? 100 : REPORT_POOL), benchUserId: Number(bench.id) };
    });

    // The inbox on fresh connections: the session that loaded a million rows is not the one a handler gets
    // (on PostgreSQL it measurably slowed the baseline's parallel plans).
    await withConnections(scratch, async ({ product, bare }) => {
      const { sample, accounts, grids, cases } = setup;
      figures.push(
        ...(await inboxFigures(ctx, bare, new DemandsRepository(product.db), new UsersRepository(product.db), [
          { label: `a grid worker (one grid of ${grids.toLocaleString('en-US')})`, userId: accounts.gridWorker },
          { label: `a street handler (${sample.street.size.toLocaleString('en-US')} units)`, userId: accounts.streetAdmin },
          { label: 'a party member (own assignments only)', userId: accounts.member },
        ], cases)),
      );
    });

    // The two servers, side by side (PGlite: the bare server gets a copy of the directory).
    const bareScratch = await scratch.copy();
    if (bareScratch.dataDir !== scratch.dataDir) ctx.cleanup.add('remove the bare server copy', () => bareScratch.drop());
    log('starting the product and the bare server…');
    const [product, bare] = await Promise.all([
      startServer('product', scratch, ctx.cleanup, { logLevel: options.logLevel }),
      startServer('bare', bareScratch, ctx.cleanup, { logLevel: options.logLevel }),
    ]);
    const session = await login(product.baseUrl, locality.user.username, locality.user.password);
    const servers: Servers = { product, bare, session };
    // The product routes by boundary: the first reports must land in the grid the point was drawn in.
    for (let i = 0; i < Math.min(10, setup.reports.length); i++) {
      const { headers, request } = requestOf(servers, product, setup.reports);
      const r = request(i);
      const answer = (await probe(product.baseUrl, 'POST', r.path, headers, r.body)) as { unitId: number; routedBy: string };
      if (Number(answer.unitId) !== setup.reports[i].grid.id || answer.routedBy !== 'boundary') {
        throw new Error(`report ${i} was routed to unit ${answer.unitId} (${answer.routedBy}), expected grid ${setup.reports[i].grid.id} by boundary`);
      }
      const b = requestOf(servers, bare, setup.reports).request(i);
      await probe(bare.baseUrl, 'POST', b.path, {}, b.body);
    }

    // Both sides get the same reports in the same order. The product server is stopped before the bare one
    // is measured: its clock sweep (every minute) must not land in the baseline's figures.
    const productLoad = await atConcurrency(ctx, servers, product, setup.reports);
    const productRate = await atRate(ctx, servers, product, setup.reports, rate);
    await product.stop();
    const bareLoad = await atConcurrency(ctx, servers, bare, setup.reports);
    const bareRate = await atRate(ctx, servers, bare, setup.reports, rate);
    await bare.stop();

    // Every report the product took went to the grid whose boundary holds its point.
    await withConnections(scratch, async ({ bare: driver }) => {
      const rows = await driver.query<{ id: number; unit_id: number; lng: number; lat: number; routed_by: string }>(
        'select id, unit_id, lng, lat, routed_by from demand where reporter_user_id = $1',
        [setup.benchUserId],
      );
      const wrong = rows.filter((r) => r.routed_by !== 'boundary' || !setup.index.find(r.lng, r.lat).includes(Number(r.unit_id)));
      if (wrong.length) throw new Error(`${wrong.length} of ${rows.length} reports were not routed to the grid holding their point (first: case ${wrong[0].id})`);
      log(`routing checked: all ${rows.length.toLocaleString('en-US')} reports the product took are in the grid holding their point`);
    });

    const load = options.smoke ? `${options.connections} connections, ${options.connections * 5} requests` : `${options.connections} connections × ${options.duration} s`;
    const route = `POST /api/demands (patrol report routed among ${setup.grids.toLocaleString('en-US')} grid polygons, no photos) vs bare one-INSERT POST /demands`;
    figures.unshift(
      higherBetter(`${route}, ${load}: throughput`, 'req/s', productLoad.requestsPerSec, bareLoad.requestsPerSec),
      lowerBetter(`${route}, ${options.connections} connections: latency p50`, 'ms', productLoad.p50Ms, bareLoad.p50Ms),
      lowerBetter(`${route}, ${options.connections} connections: latency p99`, 'ms', productLoad.p99Ms, bareLoad.p99Ms),
      lowerBetter(`${route}, fixed rate ${rate} req/s (open loop${options.smoke ? ', 20 requests' : `, ${options.duration} s`}): latency p50`, 'ms', productRate.p50Ms, bareRate.p50Ms),
      lowerBetter(`${route}, fixed rate ${rate} req/s: latency p99`, 'ms', productRate.p99Ms, bareRate.p99Ms),
    );
    return figures;
  },
};
