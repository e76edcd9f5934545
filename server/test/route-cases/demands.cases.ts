// Route-matrix rows of the demand loop (server/src/modules/demands: demands.routes.ts, handler-rules.ts):
// spread into CASES in route-matrix.test.ts. The shape is the matrix's RouteCase (declared there); the
// subset used here is restated so this file needs nothing from a test file.
//
// prepare builds the cases a row acts on through the DemandsService the routes use
// (demandsContext(app.services)), as the accounts of the tiny locality: worker_a1 reports on patrol in grid
// A1 and handles what is dispatched to the grid, secretary_a (community A) registers, dispatches and
// closes, secretary_b (community B) is the caller outside the scope. The tiny locality has no boundaries
// drawn, so reports name their unit.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { expect } from 'vitest';
import type { RequestContext } from '../../src/platform/context.ts';
import { systemContext } from '../../src/platform/context.ts';
import { UsersRepository } from '../../src/modules/users/users.repository.ts';
import { GridService } from '../../src/modules/grid/grid.service.ts';
import { demandsContext } from '../../src/modules/demands/demands.context.ts';
import { HandlerRulesService } from '../../src/modules/demands/handler-rules.ts';
import type { ReportInput } from '../../src/modules/demands/demands.service.ts';
import type { TinyLocality } from '../fixtures.ts';

type Ids = TinyLocality & Record<string, number>;
interface Prep {
  f: TinyLocality;
  app: FastifyInstance;
}
interface RawBody {
  contentType: string;
  payload: (ids: Ids) => Buffer;
}
interface DemandCase {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  route: string;
  prepare?: (h: Prep) => Promise<Record<string, number>>;
  url: (ids: Ids) => string;
  body?: (ids: Ids) => unknown;
  raw?: RawBody;
  as: string;
  status: number;
  auditRows?: number;
  check?: (body: unknown, ids: Ids) => void;
  stream?: { until: string; trigger?: (h: Prep, ids: Ids) => Promise<void> };
  outside?: { as: string; url?: (ids: Ids) => string; body?: (ids: Ids) => unknown; raw?: RawBody; status?: number; check?: (body: unknown, ids: Ids) => void };
  bad?: { url?: (ids: Ids) => string; body?: (ids: Ids) => unknown; raw?: RawBody; status?: number }[];
  public?: boolean;
}

const MISSING = 999_999_999;
const NO_SUCH_PHOTO = '00000000-0000-4000-8000-000000000000';
/** well-formed, never issued (the alphabet has no I, O, 0 or 1, but a code of ten A's is possible: it is looked up, not found) */
const NO_SUCH_CODE = 'AAAAAAAAAA';
const PNG = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#c00' } }).png().toBuffer();
const png: RawBody = { contentType: 'image/png', payload: () => PNG };
const none = () => undefined;

/** Tracking codes and photo ids are strings; the matrix's ids are numbers, so rows refer to them by index. */
const texts: string[] = [];
const keep = (s: string) => texts.push(s) - 1;
const text = (i: number) => texts[i];

/** An account's context with its grants, as the auth hook builds it for a request. */
async function as(app: FastifyInstance, f: TinyLocality, username: string): Promise<RequestContext> {
  const user = f.users[username];
  const grants = await new UsersRepository(app.services.db).grantsOf(user.id);
  return { actor: { userId: user.id, username, displayName: username, grants, mustChangePassword: false }, clientIp: null };
}

type Stage = 'reported' | 'registered' | 'dispatched' | 'accepted' | 'handled' | 'verified' | 'closed' | 'declined';
const ORDER: Stage[] = ['reported', 'registered', 'dispatched', 'accepted', 'handled', 'verified', 'closed'];
let reports = 0;

/**
 * A case reported on patrol by worker_a1 (or `by`) in `unitId` (grid A1), taken to `stage` by the
 * dispatcher of its community and the grid worker. Answers its id, its tracking code (by index) and, with
 * `photo`, the index of its photo's id.
 */
async function demandAt({ app, f }: Prep, stage: Stage, opts: { by?: string; unitId?: number; dispatcher?: string; handler?: string; claimable?: boolean; dispatchTo?: number; photo?: boolean; report?: Partial<ReportInput> } = {}) {
  const { demands, photos } = demandsContext(app.services);
  const reporter = await as(app, f, opts.by ?? 'worker_a1');
  const dispatcher = await as(app, f, opts.dispatcher ?? 'secretary_a');
  const handler = await as(app, f, opts.handler ?? 'worker_a1');
  let photoId: string | undefined;
  if (opts.photo) {
    const stored = await photos.save(Readable.from([PNG]));
    photoId = (await demands.recordPhoto(reporter, stored)).id;
  }
  reports++;
  const { demand } = await demands.report(reporter, {
    channel: 'patrol',
    type: 'complaint',
    category: 'exposed_garbage',
    description: `楼下垃圾堆放两天没人清理（${reports}）`,
    unitId: opts.unitId ?? f.gridA1,
    lng: 113.205,
    lat: 23.105,
    ...(photoId ? { photoIds: [photoId] } : {}),
    ...opts.report,
  });
  const id = demand.id;
  const reached = (s: Stage) => ORDER.indexOf(stage) >= ORDER.indexOf(s);
  if (stage === 'declined') await demands.decline(dispatcher, id, { reason: '重复上报' });
  if (reached('registered')) await demands.register(dispatcher, id, { claimable: opts.claimable });
  if (reached('dispatched')) await demands.dispatch(dispatcher, id, { handler: { type: 'unit', unitId: opts.dispatchTo ?? opts.unitId ?? f.gridA1 } });
  if (reached('accepted')) await demands.accept(handler, id);
  if (reached('handled')) await demands.handle(handler, id, { result: '已清理干净' });
  if (reached('verified')) await demands.verify(handler, id, { fixed: true });
  if (reached('closed')) await demands.close(dispatcher, id, {});
  return { id, code: keep(demand.tracking_code), ...(photoId ? { photo: keep(photoId) } : {}) };
}

/** A demand of community B (secretary_b's), for targets outside secretary_a's scope. */
const demandOfB = (p: Prep, stage: Stage = 'reported') => demandAt(p, stage, { by: 'secretary_b', dispatcher: 'secretary_b', unitId: p.f.gridB1 });

const statusIs = (status: string) => (body: unknown) => expect((body as { status: string }).status).toBe(status);

const report = (extra: Record<string, unknown> = {}) => (i: Ids) => ({ channel: 'patrol', type: 'complaint', category: 'exposed_garbage', description: '路口垃圾桶满溢', unitId: i.gridA1, ...extra });
const publicReport = (extra: Record<string, unknown> = {}) => (i: Ids) => ({ type: 'help', category: 'exposed_garbage', description: '小区门口垃圾没人清理', unitId: i.gridA1, reporterPhone: '13800138000', ...extra });
const calendar = { weekdays: [1, 2, 3, 4, 5], periods: [{ start: '09:00', end: '12:00' }, { start: '13:30', end: '18:00' }], overrides: { '2027-01-01': 'holiday' } };

export const DEMAND_CASES: DemandCase[] = [
  // ---- intake ----
  { method: 'POST', route: '/api/demands', url: () => '/api/demands', body: report(), as: 'worker_a1', status: 201, check: statusIs('reported'),
    outside: { as: 'secretary_b' },
    bad: [
      { body: report({ category: 'no_such_category' }) },
      { body: report({ unitId: undefined }) },
      { body: report({ lng: 113.205 }) },
      { body: report({ description: '   ' }) },
      { body: report({ channel: 'open311' }) },
      { body: report({ channel: 'hazard' }) },
      { body: report({ reporterPhone: '12345' }) },
      { body: report({ photoIds: [NO_SUCH_PHOTO] }) },
      { body: report({ unitId: MISSING }), status: 404 },
      { body: report({ clientKey: 'short' }) },
    ] },
  // 突发事件: the party organisation above the case is told at once, and that is a step of its own on the timeline
  { method: 'POST', route: '/api/demands', prepare: async ({ app, f }) => {
      const db = app.services.db;
      if (!(await db.selectFrom('party_org').select('id').where('unit_id', '=', f.gridA1).executeTakeFirst())) {
        await new GridService(db, app.services.now).bindPartyOrg(systemContext('t'), f.gridA1, { kind: 'branch', name: '甲一网格党支部' });
      }
      return {};
    },
    url: () => '/api/demands', body: report({ emergency: true, description: '燃气管道泄漏' }), as: 'worker_a1', status: 201, auditRows: 2 },
  // the same report sent again (an offline queue): the case it made already, and nothing written
  { method: 'POST', route: '/api/demands', prepare: async (p) => {
      await demandAt(p, 'reported', { report: { clientKey: 'matrix-resend-key-0001' } });
      return {};
    },
    url: () => '/api/demands', body: report({ clientKey: 'matrix-resend-key-0001' }), as: 'worker_a1', status: 200, auditRows: 0 },
  { method: 'GET', route: '/api/demands/nearby', prepare: async (p) => ({ near: (await demandAt(p, 'reported')).id }),
    url: () => '/api/demands/nearby?category=exposed_garbage&lng=113.205&lat=23.105&radius=200', as: 'secretary_a', status: 200,
    check: (b, i) => expect((b as { items: { id: number | null }[] }).items.map((x) => x.id)).toContain(i.near),
    // a stranger learns that something is open nearby, not what
    outside: { as: 'secretary_b', status: 200, check: (b) => expect((b as { items: { id: number | null; title: string | null }[] }).items.every((x) => x.id === null && x.title === null)).toBe(true) },
    bad: [{ url: () => '/api/demands/nearby?category=exposed_garbage&lng=113.205' }, { url: () => '/api/demands/nearby?category=no_such_category&lng=113.2&lat=23.1' }, { url: () => '/api/demands/nearby?category=exposed_garbage&lng=113.2&lat=23.1&radius=5' }] },

  // ---- reading ----
  { method: 'GET', route: '/api/demands', url: (i) => `/api/demands?unitId=${i.communityA}&status=reported&status=registered`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ url: () => '/api/demands?limit=0' }, { url: () => '/api/demands?status=lost' }, { url: () => '/api/demands?from=yesterday' }, { url: () => `/api/demands?unitId=${MISSING}`, status: 404 }] },
  { method: 'GET', route: '/api/demands/inbox', url: () => '/api/demands/inbox', as: 'worker_a1', status: 200 },
  { method: 'GET', route: '/api/demands/pool', url: () => '/api/demands/pool', as: 'member_a1', status: 200, outside: { as: 'worker_a1', status: 403 } },
  { method: 'GET', route: '/api/demands/mine', url: () => '/api/demands/mine', as: 'worker_a1', status: 200, outside: { as: 'auditor', status: 403 } },
  { method: 'GET', route: '/api/demands/metrics', url: (i) => `/api/demands/metrics?unitId=${i.communityA}&from=2026-11-01&to=2026-11-30`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ url: (i) => `/api/demands/metrics?unitId=${i.communityA}&from=2026-11-30&to=2026-11-01` }, { url: (i) => `/api/demands/metrics?unitId=${i.communityA}&from=2026-02-30&to=2026-03-01` },
      { url: (i) => `/api/demands/metrics?unitId=${i.communityA}&from=2026-11-01&to=2026-11-30&category=exposed_garbage` }, { url: () => '/api/demands/metrics?from=2026-11-01&to=2026-11-30' }] },
  { method: 'GET', route: '/api/demands/:id', prepare: async (p) => ({ d: (await demandAt(p, 'reported')).id }), url: (i) => `/api/demands/${i.d}`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    check: (b) => expect((b as { actions: string[] }).actions).toEqual(expect.arrayContaining(['register', 'decline', 'merge'])),
    bad: [{ url: () => '/api/demands/abc' }, { url: () => '/api/demands/0' }, { url: () => `/api/demands/${MISSING}`, status: 404 }] },

  // ---- the loop ----
  { method: 'POST', route: '/api/demands/:id/register', prepare: async (p) => ({ d: (await demandAt(p, 'reported')).id, done: (await demandAt(p, 'registered')).id }),
    url: (i) => `/api/demands/${i.d}/register`, body: () => ({ note: '属实，立案' }), as: 'secretary_a', status: 200, check: statusIs('registered'), outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ claimable: 'yes' }) }, { body: () => ({ reason: 'x' }) }, { url: (i) => `/api/demands/${i.done}/register`, body: () => ({}), status: 409 }] },
  { method: 'POST', route: '/api/demands/:id/decline', prepare: async (p) => ({ d: (await demandAt(p, 'reported')).id, gone: (await demandAt(p, 'declined')).id }),
    url: (i) => `/api/demands/${i.d}/decline`, body: () => ({ reason: '不属于政府职责范围' }), as: 'secretary_a', status: 200, check: statusIs('declined'), outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ reason: '   ' }) }, { body: () => ({}) }, { url: (i) => `/api/demands/${i.gone}/decline`, body: () => ({ reason: '再次' }), status: 409 }] },
  // a duplicate goes into the case it repeats: a step on each (merge on the duplicate, absorb on the other), each audited
  { method: 'POST', route: '/api/demands/:id/merge', prepare: async (p) => ({ dup: (await demandAt(p, 'reported')).id, into: (await demandAt(p, 'registered')).id, gone: (await demandAt(p, 'declined')).id, other: (await demandOfB(p)).id }),
    url: (i) => `/api/demands/${i.dup}/merge`, body: (i) => ({ intoId: i.into, note: '同一处垃圾' }), as: 'secretary_a', status: 200, auditRows: 2, check: statusIs('merged'), outside: { as: 'secretary_b' },
    bad: [{ body: (i) => ({ intoId: i.dup }) }, { body: () => ({ intoId: MISSING }) }, { body: (i) => ({ intoId: i.other }) }, { body: (i) => ({ intoId: i.gone }), status: 409 }, { body: () => ({}) }] },
  { method: 'POST', route: '/api/demands/:id/reroute', prepare: async (p) => ({ d: (await demandAt(p, 'reported')).id }),
    url: (i) => `/api/demands/${i.d}/reroute`, body: (i) => ({ unitId: i.gridA2, note: '位置在甲二网格' }), as: 'secretary_a', status: 200,
    check: (b, i) => expect((b as { unitId: number }).unitId).toBe(i.gridA2), outside: { as: 'secretary_b' },
    bad: [{ body: (i) => ({ unitId: i.gridB1 }), status: 404 }, { body: () => ({ unitId: 0 }) }, { body: () => ({}) }] },
  { method: 'POST', route: '/api/demands/:id/dispatch', prepare: async (p) => ({ d: (await demandAt(p, 'registered')).id, fresh: (await demandAt(p, 'reported')).id }),
    url: (i) => `/api/demands/${i.d}/dispatch`, body: (i) => ({ handler: { type: 'unit', unitId: i.gridA1 }, note: '请尽快处理' }), as: 'secretary_a', status: 200, check: statusIs('dispatched'), outside: { as: 'secretary_b' },
    bad: [{ body: (i) => ({ handler: { type: 'unit', unitId: i.gridB1 } }) }, { body: () => ({ handler: { type: 'department', name: '   ' } }) }, { body: () => ({ handler: { type: 'embassy', name: 'x' } }) },
      { body: () => ({ handler: { type: 'linked_org', linkedOrgId: MISSING } }) }, { url: (i) => `/api/demands/${i.fresh}/dispatch`, body: (i) => ({ handler: { type: 'unit', unitId: i.gridA1 } }), status: 409 }] },
  // each case dispatched is its own step, with its own audit row
  { method: 'POST', route: '/api/demands/bulk-dispatch', prepare: async (p) => ({ d1: (await demandAt(p, 'registered')).id, d2: (await demandAt(p, 'registered')).id }),
    url: () => '/api/demands/bulk-dispatch', body: (i) => ({ ids: [i.d1, i.d2], handler: { type: 'unit', unitId: i.gridA2 } }), as: 'secretary_a', status: 200, auditRows: 2,
    check: (b) => expect((b as { results: { ok: boolean }[] }).results.map((r) => r.ok)).toEqual([true, true]),
    // each case answers for itself: out of scope, each one is "not found" and nothing changes
    outside: { as: 'secretary_b', status: 200, check: (b) => expect((b as { results: { ok: boolean; code: string }[] }).results.map((r) => [r.ok, r.code])).toEqual([[false, 'not_found'], [false, 'not_found']]) },
    bad: [{ body: (i) => ({ ids: [], handler: { type: 'unit', unitId: i.gridA2 } }) }, { body: (i) => ({ ids: [i.d1] }) }, { body: (i) => ({ ids: Array.from({ length: 101 }, (_, n) => n + 1), handler: { type: 'unit', unitId: i.gridA2 } }) }] },
  // 党员接单: a claim is a dispatch to oneself and its acceptance, two steps on the timeline so no state is skipped
  { method: 'POST', route: '/api/demands/:id/claim', prepare: async (p) => {
      const taken = (await demandAt(p, 'registered', { claimable: true })).id;
      await demandsContext(p.app.services).demands.claim(await as(p.app, p.f, 'member_a1'), taken);
      return { d: (await demandAt(p, 'registered', { claimable: true })).id, plain: (await demandAt(p, 'registered')).id, taken };
    },
    url: (i) => `/api/demands/${i.d}/claim`, as: 'member_a1', status: 200, auditRows: 2, check: statusIs('accepted'), outside: { as: 'secretary_b' },
    bad: [{ url: (i) => `/api/demands/${i.taken}/claim`, status: 409 }, { url: (i) => `/api/demands/${i.plain}/claim`, status: 404 }, { url: () => '/api/demands/abc/claim' }] },
  { method: 'POST', route: '/api/demands/:id/accept', prepare: async (p) => ({ d: (await demandAt(p, 'dispatched')).id, early: (await demandAt(p, 'registered')).id, elsewhere: (await demandAt(p, 'dispatched', { dispatchTo: p.f.gridA2 })).id }),
    url: (i) => `/api/demands/${i.d}/accept`, body: () => ({ note: '马上去' }), as: 'worker_a1', status: 200, check: statusIs('accepted'), outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ note: 'x'.repeat(1001) }) }, { url: (i) => `/api/demands/${i.early}/accept`, body: () => ({}), status: 409 }, { url: (i) => `/api/demands/${i.elsewhere}/accept`, body: () => ({}), status: 403 }] },
  { method: 'POST', route: '/api/demands/:id/return', prepare: async (p) => ({ d: (await demandAt(p, 'dispatched')).id }),
    url: (i) => `/api/demands/${i.d}/return`, body: () => ({ reason: '不属于本网格' }), as: 'worker_a1', status: 200, check: statusIs('registered'), outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ reason: '' }) }, { body: () => ({}) }, { body: () => ({ reason: '超出权限', beyondAuthority: 'yes' }) }] },
  // beyond the grid's authority: returned and escalated to the community at once, two steps
  { method: 'POST', route: '/api/demands/:id/return', prepare: async (p) => ({ d: (await demandAt(p, 'accepted')).id }),
    url: (i) => `/api/demands/${i.d}/return`, body: () => ({ reason: '需要社区协调', beyondAuthority: true }), as: 'worker_a1', status: 200, auditRows: 2,
    check: (b, i) => expect(b).toMatchObject({ status: 'registered', unitId: i.communityA }) },
  { method: 'POST', route: '/api/demands/:id/escalate', prepare: async (p) => ({ d: (await demandAt(p, 'reported')).id, done: (await demandAt(p, 'handled')).id }),
    url: (i) => `/api/demands/${i.d}/escalate`, body: () => ({ reason: '网格无法协调' }), as: 'leader_a1', status: 200, check: (b, i) => expect((b as { unitId: number }).unitId).toBe(i.communityA),
    outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ reason: ' ' }) }, { body: () => ({}) }, { url: (i) => `/api/demands/${i.done}/escalate`, body: () => ({ reason: '再上报' }), status: 409 }] },
  { method: 'POST', route: '/api/demands/:id/handle', prepare: async (p) => ({ d: (await demandAt(p, 'accepted')).id, pending: (await demandAt(p, 'dispatched')).id }),
    url: (i) => `/api/demands/${i.d}/handle`, body: () => ({ result: '已清运' }), as: 'worker_a1', status: 200, check: statusIs('handled'), outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ result: '' }) }, { body: () => ({ result: '已清运', photoIds: [NO_SUCH_PHOTO] }) }, { body: () => ({ result: '已清运', photoIds: ['not-a-uuid'] }) },
      { url: (i) => `/api/demands/${i.pending}/handle`, body: () => ({ result: '已清运' }), status: 409 }] },
  { method: 'POST', route: '/api/demands/:id/verify', prepare: async (p) => ({ d: (await demandAt(p, 'handled')).id, early: (await demandAt(p, 'accepted')).id }),
    url: (i) => `/api/demands/${i.d}/verify`, body: () => ({ fixed: true, note: '现场已清理' }), as: 'worker_a1', status: 200, check: statusIs('verified'), outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ fixed: false }) }, { body: () => ({ fixed: 'yes' }) }, { url: (i) => `/api/demands/${i.early}/verify`, body: () => ({ fixed: true }), status: 409 }] },
  { method: 'POST', route: '/api/demands/:id/close', prepare: async (p) => ({ d: (await demandAt(p, 'verified')).id, early: (await demandAt(p, 'handled')).id }),
    url: (i) => `/api/demands/${i.d}/close`, body: () => ({ note: '办结' }), as: 'secretary_a', status: 200, check: statusIs('closed'), outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ resolved: 'yes' }) }, { url: (i) => `/api/demands/${i.early}/close`, body: () => ({}), status: 409 }] },
  { method: 'POST', route: '/api/demands/:id/rate', prepare: async (p) => ({ d: (await demandAt(p, 'closed')).id, early: (await demandAt(p, 'verified')).id }),
    url: (i) => `/api/demands/${i.d}/rate`, body: () => ({ rating: 'satisfied', resolved: true }), as: 'worker_a1', status: 200, check: statusIs('rated'), outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ rating: 'great', resolved: true }) }, { body: () => ({ rating: 'satisfied' }) }, { url: (i) => `/api/demands/${i.early}/rate`, body: () => ({ rating: 'satisfied', resolved: true }), status: 409 }] },
  // "not fixed" reopens it in the same transaction: the rating and the reopening are two steps
  { method: 'POST', route: '/api/demands/:id/rate', prepare: async (p) => ({ d: (await demandAt(p, 'closed')).id }),
    url: (i) => `/api/demands/${i.d}/rate`, body: () => ({ rating: 'unsatisfied', resolved: false, comment: '还是很脏' }), as: 'worker_a1', status: 200, auditRows: 2, check: statusIs('registered') },

  // ---- photos ----
  { method: 'GET', route: '/api/demands/:id/photos/:photoId', prepare: async (p) => {
      const d = await demandAt(p, 'reported', { photo: true });
      return { d: d.id, photo: d.photo!, other: (await demandAt(p, 'reported')).id };
    },
    url: (i) => `/api/demands/${i.d}/photos/${text(i.photo)}?thumb=true`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ url: (i) => `/api/demands/${i.d}/photos/not-a-uuid` }, { url: (i) => `/api/demands/${i.d}/photos/${NO_SUCH_PHOTO}`, status: 404 }, { url: (i) => `/api/demands/${i.other}/photos/${text(i.photo)}`, status: 404 },
      { url: (i) => `/api/demands/${i.d}/photos/${text(i.photo)}?thumb=maybe` }] },
  { method: 'POST', route: '/api/demands/photos', url: () => '/api/demands/photos', raw: png, as: 'worker_a1', status: 201, outside: { as: 'auditor', status: 403 },
    bad: [{ raw: { contentType: 'image/png', payload: () => Buffer.from('not an image at all, just text') }, status: 415 }, { raw: { contentType: 'image/jpeg', payload: () => Buffer.alloc(0) } },
      { body: () => ({ photo: 'base64…' }) }, { raw: { contentType: 'image/png', payload: () => PNG.subarray(0, 40) }, status: 415 }] },
  { method: 'POST', route: '/api/public/photos', public: true, url: () => '/api/public/photos', raw: png, as: 'anonymous', status: 201,
    check: (b) => expect((b as { token: string }).token).toMatch(/\S{16,}/),
    bad: [{ raw: { contentType: 'image/webp', payload: () => Buffer.from('RIFF0000WEBPVP8 garbage') }, status: 415 }, { body: () => ({}) }] },

  // ---- public: residents without an account ----
  { method: 'POST', route: '/api/public/demands', public: true, url: () => '/api/public/demands', body: publicReport(), as: 'anonymous', status: 201,
    check: (b) => expect((b as { trackingCode: string }).trackingCode).toMatch(/^[A-HJ-NP-Z2-9]{10}$/),
    bad: [{ body: publicReport({ unitId: undefined }) }, { body: publicReport({ emergency: true }) }, { body: publicReport({ channel: 'patrol' }) }, { body: publicReport({ reporterPhone: '1380013800' }) },
      { body: publicReport({ unitId: MISSING }), status: 404 }, { body: publicReport({ photoIds: [NO_SUCH_PHOTO], photoToken: 'guess' }) }] },
  { method: 'GET', route: '/api/public/demands/nearby', public: true, url: () => '/api/public/demands/nearby?category=exposed_garbage&lng=113.205&lat=23.105', as: 'anonymous', status: 200,
    check: (b) => expect((b as { items: { id: null }[] }).items.every((x) => x.id === null)).toBe(true),
    bad: [{ url: () => '/api/public/demands/nearby?category=exposed_garbage&lng=113.2&lat=100' }, { url: () => '/api/public/demands/nearby?lng=113.2&lat=23.1' }] },
  { method: 'GET', route: '/api/public/demands/:code', public: true, prepare: async (p) => ({ code: (await demandAt(p, 'registered')).code }),
    url: (i) => `/api/public/demands/${text(i.code)}`, as: 'anonymous', status: 200,
    check: (b) => expect((b as { timeline: { actorName: string | null }[] }).timeline.every((e) => e.actorName === null)).toBe(true),
    bad: [{ url: () => '/api/public/demands/abc' }, { url: () => `/api/public/demands/${NO_SUCH_CODE}`, status: 404 }] },
  { method: 'POST', route: '/api/public/demands/:code/verify', public: true, prepare: async (p) => ({ code: (await demandAt(p, 'handled')).code, early: (await demandAt(p, 'accepted')).code }),
    url: (i) => `/api/public/demands/${text(i.code)}/verify`, body: () => ({ fixed: true }), as: 'anonymous', status: 200, check: statusIs('verified'),
    bad: [{ body: () => ({ fixed: false }) }, { body: () => ({ fixed: true, extra: 1 }) }, { url: () => `/api/public/demands/${NO_SUCH_CODE}/verify`, body: () => ({ fixed: true }), status: 404 },
      { url: (i) => `/api/public/demands/${text(i.early)}/verify`, body: () => ({ fixed: true }), status: 409 }] },
  { method: 'POST', route: '/api/public/demands/:code/rate', public: true, prepare: async (p) => ({ code: (await demandAt(p, 'closed')).code, early: (await demandAt(p, 'verified')).code }),
    url: (i) => `/api/public/demands/${text(i.code)}/rate`, body: () => ({ rating: 'basically_satisfied', resolved: true }), as: 'anonymous', status: 200, check: statusIs('rated'),
    bad: [{ body: () => ({ rating: 'meh', resolved: true }) }, { url: () => `/api/public/demands/${NO_SUCH_CODE}/rate`, body: () => ({ rating: 'satisfied', resolved: true }), status: 404 },
      { url: (i) => `/api/public/demands/${text(i.early)}/rate`, body: () => ({ rating: 'satisfied', resolved: true }), status: 409 }] },
  // not satisfied through the tracking page: rated, then reopened — two steps
  { method: 'POST', route: '/api/public/demands/:code/rate', public: true, prepare: async (p) => ({ code: (await demandAt(p, 'closed')).code }),
    url: (i) => `/api/public/demands/${text(i.code)}/rate`, body: () => ({ rating: 'unsatisfied', resolved: true }), as: 'anonymous', status: 200, auditRows: 2, check: statusIs('registered') },
  { method: 'GET', route: '/api/public/demands/:code/photos/:photoId', public: true, prepare: async (p) => {
      const d = await demandAt(p, 'reported', { photo: true });
      return { code: d.code, photo: d.photo!, other: (await demandAt(p, 'reported')).code };
    },
    url: (i) => `/api/public/demands/${text(i.code)}/photos/${text(i.photo)}`, as: 'anonymous', status: 200,
    bad: [{ url: (i) => `/api/public/demands/${text(i.other)}/photos/${text(i.photo)}`, status: 404 }, { url: (i) => `/api/public/demands/${text(i.code)}/photos/not-a-uuid` }, { url: (i) => `/api/public/demands/lower1case/photos/${text(i.photo)}` }] },
  { method: 'GET', route: '/api/public/demand-categories', public: true, url: () => '/api/public/demand-categories', as: 'anonymous', status: 200 },
  { method: 'GET', route: '/api/public/units', public: true, url: (i) => `/api/public/units?parentId=${i.street}`, as: 'anonymous', status: 200, bad: [{ url: () => '/api/public/units?parentId=abc' }, { url: () => '/api/public/units?parentId=0' }] },

  // ---- settings (deployment-wide: no scope, so another admin is refused with 403) ----
  { method: 'GET', route: '/api/demand-categories', url: () => '/api/demand-categories', as: 'worker_a1', status: 200 },
  { method: 'PATCH', route: '/api/demand-categories/:code', url: () => '/api/demand-categories/illegal_small_ads', body: () => ({ warnPercent: 75 }), as: 'district_admin', status: 200,
    outside: { as: 'street_admin', status: 403 },
    bad: [{ body: () => ({}) }, { body: () => ({ respondMinutes: 600, finishMinutes: 60 }) }, { body: () => ({ decideKinds: ['no_such_kind'] }) }, { body: () => ({ active: 'no' }) },
      { url: () => '/api/demand-categories/no_such_category', body: () => ({ warnPercent: 75 }), status: 404 }, { url: () => '/api/demand-categories/Bad-Code', body: () => ({ warnPercent: 75 }) }] },
  { method: 'GET', route: '/api/demand-calendar', url: () => '/api/demand-calendar', as: 'worker_a1', status: 200 },
  { method: 'PUT', route: '/api/demand-calendar', url: () => '/api/demand-calendar', body: () => calendar, as: 'district_admin', status: 200, outside: { as: 'street_admin', status: 403 },
    bad: [{ body: () => ({ ...calendar, periods: [{ start: '18:00', end: '09:00' }] }) }, { body: () => ({ ...calendar, weekdays: [1, 1] }) }, { body: () => ({ ...calendar, weekdays: [8] }) },
      { body: () => ({ ...calendar, overrides: { '2027-02-30': 'holiday' } }) }, { body: () => ({ weekdays: [1], periods: calendar.periods }) }] },

  // ---- dispatch rules (handler-rules.ts) ----
  { method: 'GET', route: '/api/demand-handler-rules', url: (i) => `/api/demand-handler-rules?unitId=${i.gridA1}`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ url: () => '/api/demand-handler-rules' }, { url: () => '/api/demand-handler-rules?unitId=abc' }] },
  { method: 'PUT', route: '/api/demand-handler-rules', url: () => '/api/demand-handler-rules', body: (i) => ({ unitId: i.communityA, categoryCode: 'exposed_garbage', handler: { type: 'unit', unitId: i.gridA1 } }), as: 'secretary_a', status: 200,
    outside: { as: 'secretary_b' },
    bad: [{ body: (i) => ({ unitId: i.communityA, categoryCode: 'no_such_category', handler: { type: 'unit', unitId: i.gridA1 } }) }, { body: (i) => ({ unitId: i.communityA, categoryCode: null, handler: { type: 'unit', unitId: i.gridB1 } }) },
      { body: (i) => ({ unitId: MISSING, categoryCode: null, handler: { type: 'unit', unitId: i.gridA1 } }), status: 404 }, { body: (i) => ({ unitId: i.communityA, handler: { type: 'unit', unitId: i.gridA1 } }) },
      { body: (i) => ({ unitId: i.communityA, categoryCode: null, handler: { type: 'council', name: '' } }) }] },
  { method: 'DELETE', route: '/api/demand-handler-rules/:id', prepare: async ({ app, f }) => {
      const rules = new HandlerRulesService(app.services.db, demandsContext(app.services).settings);
      return { rule: (await rules.set(await as(app, f, 'secretary_a'), { unitId: f.gridA2, categoryCode: null, handler: { type: 'department', name: '区城管局' } })).id };
    },
    url: (i) => `/api/demand-handler-rules/${i.rule}`, as: 'secretary_a', status: 204, outside: { as: 'secretary_b' },
    bad: [{ url: () => `/api/demand-handler-rules/${MISSING}`, status: 404 }, { url: () => '/api/demand-handler-rules/abc' }] },
  { method: 'GET', route: '/api/demands/:id/suggested-handler', prepare: async (p) => ({ d: (await demandAt(p, 'registered')).id }), url: (i) => `/api/demands/${i.d}/suggested-handler`, as: 'secretary_a', status: 200,
    outside: { as: 'secretary_b' }, bad: [{ url: () => '/api/demands/abc/suggested-handler' }, { url: () => `/api/demands/${MISSING}/suggested-handler`, status: 404 }] },

  // ---- the inbox ----
  { method: 'GET', route: '/api/inbox', url: () => '/api/inbox?unread=true&limit=20', as: 'worker_a1', status: 200, bad: [{ url: () => '/api/inbox?limit=0' }, { url: () => '/api/inbox?before=abc' }, { url: () => '/api/inbox?unread=perhaps' }] },
  { method: 'POST', route: '/api/inbox/read', prepare: async (p) => {
      const { id } = await demandAt(p, 'dispatched');
      const n = await p.app.services.db.selectFrom('notification').select('id').where('user_id', '=', p.f.users.worker_a1.id).where('demand_id', '=', id).executeTakeFirstOrThrow();
      return { note: n.id };
    },
    url: () => '/api/inbox/read', body: (i) => ({ ids: [i.note] }), as: 'worker_a1', status: 204,
    // another user's notification ids: answered like one's own, and nothing marked
    outside: { as: 'secretary_b', status: 204 },
    bad: [{ body: () => ({ ids: [0] }) }, { body: () => ({ ids: 'some' }) }, { body: () => ({}) }, { body: () => ({ ids: Array.from({ length: 501 }, (_, n) => n + 1) }) }] },
  // live notifications: the stream says hello with the unread count, then a case dispatched to the grid arrives on it
  { method: 'GET', route: '/api/inbox/stream', prepare: async (p) => ({ live: (await demandAt(p, 'registered')).id }), url: () => '/api/inbox/stream', as: 'worker_a1', status: 200,
    stream: {
      until: 'notification',
      trigger: async ({ app, f }, i) => {
        await demandsContext(app.services).demands.dispatch(await as(app, f, 'secretary_a'), i.live, { handler: { type: 'unit', unitId: f.gridA1 } });
      },
    },
    check: (events, i) => {
      const list = events as { event: string; data: { unread?: number; demandId?: number; kind?: string } }[];
      expect(list[0].event).toBe('hello');
      expect(typeof list[0].data.unread).toBe('number');
      expect(list.at(-1)!.data).toMatchObject({ kind: 'dispatched', demandId: i.live });
    } },
];
