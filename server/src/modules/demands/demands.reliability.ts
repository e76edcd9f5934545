// What the reliability suites need of the demand loop (docs/reliability.md): cases in the suites' localities
// at several stages, leak probes for every GET route (or the reason it needs none), fuzz fixtures, the
// crash/load workload, invariants tying the case rows to their timelines, and the metrics against a recount.
import type { Db } from '../../db/connection.ts';
import type { ReliabilityHooks, WorkloadObject, WorkloadStep } from '../../platform/module.ts';
import { systemContext, publicContext } from '../../platform/context.ts';
import { DemandsService } from './demands.service.ts';
import { InboxBus } from './inbox.ts';
import { compareAnswer, recount, type Published } from './metrics.recount.ts';

const MISSING_ID = 9007199254740991;

async function demandPaths(db: Db) {
  return db.selectFrom('demand').select(['id', 'unit_path', 'home_unit_path', 'tracking_code']).orderBy('id').execute();
}

/** The stage a case is at, as the workload's object types name it; the case's unit rides along as `parent`. */
const STAGE_OF: Record<string, string> = { reported: 'demand:reported', registered: 'demand:registered', dispatched: 'demand:dispatched', accepted: 'demand:accepted' };

interface CaseAnswer {
  id: number;
  status: string;
  unitId: number;
}

/** After a step: the case under the type of the stage it reached (none once it has left the steps below). */
const madeCase = (res: unknown): WorkloadObject[] => {
  const d = res as CaseAnswer;
  const type = STAGE_OF[d.status];
  return type ? [{ type, id: Number(d.id), parent: Number(d.unitId) }] : [];
};

/** One step of the loop on a case at `from` (taken, so no two requests act on one case at once). */
const loopStep = (name: string, weight: number, from: string, action: string, body: (v: Parameters<WorkloadStep['request']>[0], id: number) => unknown): WorkloadStep => ({
  name,
  weight,
  request: (v) => {
    const id = v.take(from);
    return id === undefined ? null : { method: 'POST', url: `/api/demands/${id}/${action}`, body: body(v, id) };
  },
  made: madeCase,
  evidence: (res) => ({ action: `demand.${action}`, targetId: Number((res as CaseAnswer).id) }),
});

/** The metrics of a unit over all time, as the crash suite asks for them. */
const METRICS_FROM = '2000-01-01';
const METRICS_TO = '2099-12-31';

export const demandsReliability: ReliabilityHooks = {
  seed: async ({ db, pii, now, units }) => {
    const service = new DemandsService(db, pii, now, new InboxBus());
    const sys = systemContext('reliability-seed');
    let i = 0;
    for (const unit of units.filter((u) => u.kind === 'grid')) {
      const stage = i++ % 4;
      const anonymous = stage % 2 === 0;
      const { demand } = await service.report(anonymous ? publicContext('public', null) : sys, {
        channel: anonymous ? 'resident' : 'patrol',
        type: 'complaint',
        category: 'exposed_garbage',
        description: `可靠性测试诉求${i}`,
        unitId: unit.id,
        reporterName: anonymous ? `居民${i}` : undefined,
        reporterPhone: anonymous ? '13800138000' : undefined,
      });
      if (stage >= 1) await service.register(sys, demand.id, {});
      if (stage >= 2) await service.dispatch(sys, demand.id, { handler: { type: 'unit', unitId: unit.id } });
      if (stage >= 3) await service.accept(sys, demand.id);
    }
  },
  leakProbes: [
    {
      route: '/api/demands/:id',
      permission: 'demand.read',
      missing: `/api/demands/${MISSING_ID}`,
      objects: async (db) => (await demandPaths(db)).map((d) => ({ url: `/api/demands/${d.id}`, unitPath: [d.unit_path, d.home_unit_path] })),
    },
    {
      route: '/api/demands/metrics',
      permission: 'demand.read',
      missing: `/api/demands/metrics?unitId=${MISSING_ID}&from=2026-01-01&to=2026-12-31`,
      objects: async (db) => (await db.selectFrom('org_unit').select(['id', 'path']).where('depth', '<=', 3).orderBy('id').execute()).map((u) => ({ url: `/api/demands/metrics?unitId=${u.id}&from=2020-01-01&to=2030-12-31`, unitPath: u.path })),
    },
    {
      route: '/api/demands/:id/suggested-handler',
      permission: 'demand.read',
      missing: `/api/demands/${MISSING_ID}/suggested-handler`,
      objects: async (db) => (await demandPaths(db)).map((d) => ({ url: `/api/demands/${d.id}/suggested-handler`, unitPath: [d.unit_path, d.home_unit_path] })),
    },
    {
      route: '/api/demand-handler-rules',
      permission: 'demand.read',
      missing: `/api/demand-handler-rules?unitId=${MISSING_ID}`,
      objects: async (db) => (await db.selectFrom('org_unit').select(['id', 'path']).where('depth', '<=', 3).orderBy('id').execute()).map((u) => ({ url: `/api/demand-handler-rules?unitId=${u.id}`, unitPath: u.path })),
    },
  ],
  leakListProbes: [
    {
      route: '/api/demands',
      permission: 'demand.read',
      urls: async () => ['/api/demands?limit=200', '/api/demands?status=registered&limit=200'],
      itemUnitPaths: async (body, db) => {
        const paths = new Map((await demandPaths(db)).map((d) => [Number(d.id), [d.unit_path, d.home_unit_path]]));
        // the JSON the suite received from GET /api/demands
        return (body as { items: { id: number }[] }).items.map((i) => paths.get(i.id) ?? '(unknown demand)');
      },
    },
    {
      route: '/api/demands/inbox',
      permission: 'demand.handle',
      urls: async () => ['/api/demands/inbox'],
      itemUnitPaths: async (body, db) => {
        const rows = await db.selectFrom('demand_assignment').select(['demand_id', 'handler_unit_path']).where('status', 'in', ['pending', 'accepted']).execute();
        const paths = new Map(rows.map((r) => [Number(r.demand_id), r.handler_unit_path]));
        // the JSON the suite received from GET /api/demands/inbox
        return (body as { items: { id: number }[] }).items.map((i) => paths.get(i.id) ?? '(not assigned)');
      },
    },
    {
      route: '/api/demands/pool',
      permission: 'demand.claim',
      urls: async () => ['/api/demands/pool'],
      itemUnitPaths: async (body, db) => {
        const paths = new Map((await demandPaths(db)).map((d) => [Number(d.id), d.unit_path]));
        return (body as { items: { id: number }[] }).items.map((i) => paths.get(i.id) ?? '(unknown demand)');
      },
    },
  ],
  leakExempt: [
    { route: '/api/demands/mine', reason: "the caller's own reports, selected by their user id" },
    { route: '/api/demands/nearby', reason: 'strangers get only category, status and distance of open cases nearby (no id, title or reporter); details only for cases the caller may read' },
    { route: '/api/demands/:id/photos/:photoId', reason: "served after the same read check as GET /api/demands/:id (DemandsService.photoFor → readableOrHandler)" },
    { route: '/api/demand-categories', reason: 'the deployment-wide category dictionary and its deadlines' },
    { route: '/api/demand-calendar', reason: 'the deployment-wide working calendar' },
    { route: '/api/inbox', reason: "the caller's own notifications, selected by their user id" },
    { route: '/api/inbox/stream', reason: "the caller's own live notifications, selected by their user id" },
    { route: '/api/public/demands/:code', reason: 'public by design: the unguessable tracking code is the key; no names or numbers are shown' },
    { route: '/api/public/demands/:code/photos/:photoId', reason: 'public by design, behind the tracking code' },
    { route: '/api/public/demands/nearby', reason: 'public: category, status and distance only' },
    { route: '/api/public/demand-categories', reason: 'public: the category dictionary a resident picks from' },
    { route: '/api/public/units', reason: 'public: unit names a resident picks from when they have no location' },
  ],
  fuzzFixtures: async (db) => {
    const rows = await demandPaths(db);
    const ids = rows.slice(0, 30).map((r) => Number(r.id));
    const codes = rows.slice(0, 10).map((r) => r.tracking_code);
    const actions = ['register', 'decline', 'merge', 'reroute', 'dispatch', 'claim', 'accept', 'return', 'escalate', 'handle', 'verify', 'close', 'rate'];
    return {
      params: {
        '/api/demands/:id': { id: ids },
        ...Object.fromEntries(actions.map((a) => [`/api/demands/:id/${a}`, { id: ids }])),
        '/api/public/demands/:code': { code: codes },
        '/api/public/demands/:code/verify': { code: codes },
        '/api/public/demands/:code/rate': { code: codes },
      },
      fields: { category: ['exposed_garbage', 'illegal_structure', 'emergency', 'nope'], intoId: ids, type: ['complaint', 'help'] },
    };
  },
  workloadObjects: async (db) =>
    (await db.selectFrom('demand').select(['id', 'status', 'unit_id']).orderBy('id').execute()).flatMap((d) => (STAGE_OF[d.status] ? [{ type: STAGE_OF[d.status], id: Number(d.id), parent: Number(d.unit_id) }] : [])),
  workload: [
    {
      name: 'report a demand (patrol)',
      weight: 1,
      request: (v) => {
        const unitId = v.pick('unit:grid');
        return unitId === undefined ? null : { method: 'POST', url: '/api/demands', body: { channel: 'patrol', type: 'report', category: 'exposed_garbage', description: v.uniqueName('巡查发现垃圾堆放'), unitId } };
      },
      made: madeCase,
      evidence: (res) => ({ action: 'demand.report', targetId: Number((res as CaseAnswer).id) }),
    },
    loopStep('register a demand (立案)', 0.5, 'demand:reported', 'register', (v) => ({ note: v.uniqueName('立案') })),
    loopStep('dispatch a demand to its grid (派遣)', 0.5, 'demand:registered', 'dispatch', (v, id) => ({ handler: { type: 'unit', unitId: v.parentOf(id) }, note: v.uniqueName('派遣') })),
    loopStep('accept a demand (签收)', 0.4, 'demand:dispatched', 'accept', (v) => ({ note: v.uniqueName('签收') })),
    loopStep('report a demand handled', 0.3, 'demand:accepted', 'handle', (v) => ({ result: v.uniqueName('已清理完毕') })),
  ],
  loadReads: async (db) => {
    const top = await db.selectFrom('org_unit').select('id').where('parent_id', 'is', null).orderBy('id').limit(1).execute();
    return ['/api/demands?limit=50', '/api/demands/inbox', ...top.map((u) => `/api/demands/metrics?unitId=${u.id}&from=${METRICS_FROM}&to=${METRICS_TO}`)];
  },
  figures: [
    {
      name: 'metrics (counts and rates: the unit, each child, each category) = recount from the timeline',
      urls: async (db) =>
        (await db.selectFrom('org_unit').select('id').where('depth', '<=', 2).where('archived_at', 'is', null).orderBy('id').execute()).map(
          (u) => `/api/demands/metrics?unitId=${u.id}&from=${METRICS_FROM}&to=${METRICS_TO}`,
        ),
      compare: async (body, url, db) => {
        const q = new URL(url, 'http://x').searchParams;
        return compareAnswer(await recount(db), body as Published, { unitId: Number(q.get('unitId')), from: q.get('from')!, to: q.get('to')! }, 'metrics');
      },
    },
  ],
  invariants: [
    {
      name: "a demand's seq equals its number of timeline events, and its status is the last event's",
      sql: `select d.id from demand d
              left join lateral (select count(*) as n, max(seq) as last from demand_event e where e.district_id = d.district_id and e.demand_id = d.id) c on true
              left join demand_event l on l.district_id = d.district_id and l.demand_id = d.id and l.seq = d.seq
            where c.n <> d.seq or c.last is distinct from d.seq or l.to_status is distinct from d.status`,
    },
    {
      name: 'every timeline event has its audit row',
      sql: `select e.demand_id, e.seq from demand_event e
            where not exists (select 1 from audit_log a where a.target_type = 'demand' and a.target_id = e.demand_id::text and a.action = 'demand.' || e.action and (a.after ->> 'seq')::int = e.seq)`,
    },
    {
      name: 'a case being handled has exactly one active assignment; others have none',
      sql: `select d.id from demand d
            where (d.status in ('dispatched', 'accepted')) <> exists (select 1 from demand_assignment a where a.district_id = d.district_id and a.demand_id = d.id and a.status in ('pending', 'accepted'))`,
    },
  ],
};
