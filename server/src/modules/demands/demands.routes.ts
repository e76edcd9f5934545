// HTTP API of the demand loop: thin routes — validate, call one service method, answer. Public routes (a
// resident without an account reporting, tracking, verifying and rating with a tracking code) are marked
// `public` and rate-limited per client address.
import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Readable } from 'node:stream';
import { Type } from 'typebox';
import { ctxOf, IdParam, Obj } from '../../platform/http.ts';
import type { AppServices } from '../../platform/module.ts';
import { publicContext, type RequestContext } from '../../platform/context.ts';
import { requirePermissionAnywhere } from '../../platform/access.ts';
import { RateLimiter } from '../../platform/auth/rate-limit.ts';
import { TooManyRequestsError, ValidationError } from '../../platform/errors.ts';
import { demandsContext } from './demands.context.ts';
import * as S from './demands.schema.ts';

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'];
const MIME: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

export async function demandsRoutes(base: FastifyInstance, services: AppServices) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { demands, metrics, inbox, bus, photos, settings } = demandsContext(services);
  const tags = ['demands'];
  const limiter = new RateLimiter(services.config.publicReportRateLimitPerMinute, 60_000, () => services.now().getTime());
  const limited = (req: FastifyRequest) => {
    const wait = limiter.hit(req.ip ?? 'unknown');
    if (wait) throw new TooManyRequestsError({ 'zh-CN': `提交过于频繁，请 ${wait} 秒后再试`, en: `Too many submissions; try again in ${wait} s` }, wait);
  };
  const publicCtx = (req: FastifyRequest): RequestContext => publicContext('public', req.ip ?? null);
  const answerDemand = (d: Parameters<typeof demands.view>[0]) => ({ ...demands.view(d, { staff: true }), trackingCode: d.tracking_code });

  // ---- intake ----
  app.post('/demands', { schema: { tags, summary: 'Report a demand: patrol, hotline, council, hazard (staff), or a resident with an account', body: S.ReportBody } }, async (req, reply) => {
    const { demand, created } = await demands.report(ctxOf(req), req.body);
    return reply.status(created ? 201 : 200).send(answerDemand(demand));
  });
  app.get('/demands/nearby', { schema: { tags, summary: 'Open demands of the same category near a point (possible duplicates)', querystring: S.NearbyQuery } }, async (req) =>
    demands.nearby(ctxOf(req), { category: req.query.category, lng: req.query.lng, lat: req.query.lat, radiusMetres: req.query.radius, excludeId: req.query.excludeId }),
  );

  // ---- reading ----
  app.get('/demands', { schema: { tags, summary: "The dispatcher's queue: demands in scope, by deadline", querystring: S.QueueQuery } }, async (req) => {
    requirePermissionAnywhere(ctxOf(req).actor, 'demand.read');
    const q = req.query;
    return demands.queue(ctxOf(req), { ...q, from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined });
  });
  app.get('/demands/inbox', { schema: { tags, summary: "The handler's inbox: demands dispatched to the caller or to a unit they handle for" } }, async (req) => demands.handlerInbox(ctxOf(req)));
  app.get('/demands/pool', { schema: { tags, summary: '群众点单: orders party members in scope may claim' } }, async (req) => {
    requirePermissionAnywhere(ctxOf(req).actor, 'demand.claim');
    return demands.pool(ctxOf(req));
  });
  app.get('/demands/mine', { schema: { tags, summary: "The caller's own reports" } }, async (req) => demands.mine(ctxOf(req)));
  app.get('/demands/metrics', { schema: { tags, summary: 'Rates with numerators, denominators and definitions, per unit (rolled up), child and category', querystring: S.MetricsQuery } }, async (req) => {
    requirePermissionAnywhere(ctxOf(req).actor, 'demand.read');
    return metrics.metrics(ctxOf(req), req.query);
  });
  app.get('/demands/:id', { schema: { tags, summary: 'A demand with its timeline, assignments, photos and the actions open to the caller', params: IdParam } }, async (req) => demands.detail(ctxOf(req), req.params.id));

  // ---- the loop ----
  const step = async (req: FastifyRequest, id: number, run: () => Promise<Parameters<typeof demands.view>[0]>) => {
    await run();
    return demands.detail(ctxOf(req), id);
  };
  app.post('/demands/:id/register', { schema: { tags, summary: '立案', params: IdParam, body: S.RegisterBody } }, async (req) => step(req, req.params.id, () => demands.register(ctxOf(req), req.params.id, req.body)));
  app.post('/demands/:id/decline', { schema: { tags, summary: '不予受理 (with the reason)', params: IdParam, body: S.ReasonBody } }, async (req) => step(req, req.params.id, () => demands.decline(ctxOf(req), req.params.id, req.body)));
  app.post('/demands/:id/merge', { schema: { tags, summary: 'Merge a duplicate into the demand it repeats', params: IdParam, body: S.MergeBody } }, async (req) => step(req, req.params.id, () => demands.merge(ctxOf(req), req.params.id, req.body)));
  app.post('/demands/:id/reroute', { schema: { tags, summary: 'Move a demand to another unit in scope', params: IdParam, body: S.RerouteBody } }, async (req) => step(req, req.params.id, () => demands.reroute(ctxOf(req), req.params.id, req.body)));
  app.post('/demands/:id/dispatch', { schema: { tags, summary: '派遣 to a unit, a party member, a linked organisation, a department or a council', params: IdParam, body: S.DispatchBody } }, async (req) => step(req, req.params.id, () => demands.dispatch(ctxOf(req), req.params.id, req.body)));
  app.post('/demands/bulk-dispatch', { schema: { tags, summary: 'Dispatch several demands to one handler (each answers for itself)', body: S.BulkDispatchBody } }, async (req) => demands.bulkDispatch(ctxOf(req), req.body));
  app.post('/demands/:id/claim', { schema: { tags, summary: '党员接单: claim an order from the pool (the first claim wins)', params: IdParam } }, async (req) => step(req, req.params.id, () => demands.claim(ctxOf(req), req.params.id)));
  app.post('/demands/:id/accept', { schema: { tags, summary: '签收', params: IdParam, body: S.NoteBody } }, async (req) => step(req, req.params.id, () => demands.accept(ctxOf(req), req.params.id, req.body)));
  app.post('/demands/:id/return', { schema: { tags, summary: '退回: not ours (beyondAuthority: escalate it)', params: IdParam, body: S.ReturnBody } }, async (req) => step(req, req.params.id, () => demands.returnCase(ctxOf(req), req.params.id, req.body)));
  app.post('/demands/:id/escalate', { schema: { tags, summary: 'Escalate one level up the tree', params: IdParam, body: S.ReasonBody } }, async (req) => step(req, req.params.id, () => demands.escalate(ctxOf(req), req.params.id, req.body)));
  app.post('/demands/:id/handle', { schema: { tags, summary: 'Report back what was done (with photos)', params: IdParam, body: S.HandleBody } }, async (req) => step(req, req.params.id, () => demands.handle(ctxOf(req), req.params.id, req.body)));
  app.post('/demands/:id/verify', { schema: { tags, summary: '核查: fixed → verified; not fixed → 返工', params: IdParam, body: S.VerifyBody } }, async (req) => step(req, req.params.id, () => demands.verify(ctxOf(req), req.params.id, req.body)));
  app.post('/demands/:id/close', { schema: { tags, summary: '结案', params: IdParam, body: S.CloseBody } }, async (req) => step(req, req.params.id, () => demands.close(ctxOf(req), req.params.id, req.body)));
  app.post('/demands/:id/rate', { schema: { tags, summary: "The reporter's rating; not fixed or not satisfied reopens it", params: IdParam, body: S.RateBody } }, async (req) => step(req, req.params.id, () => demands.rate(ctxOf(req), req.params.id, req.body)));

  // ---- photos ----
  const sendPhoto = (reply: FastifyReply, p: { format: string; path: string; thumb_path: string }, thumb: boolean) => {
    const file = photos.resolve(thumb ? p.thumb_path : p.path);
    const type = thumb ? (p.thumb_path.endsWith('.webp') ? 'image/webp' : 'image/jpeg') : (MIME[p.format] ?? 'application/octet-stream');
    return reply.type(type).header('cache-control', 'private, max-age=86400').header('x-content-type-options', 'nosniff').send(createReadStream(file));
  };
  app.get('/demands/:id/photos/:photoId', { schema: { tags, summary: 'A photo of a demand (thumb=true: the thumbnail)', params: S.PhotoParams, querystring: S.ThumbQuery } }, async (req, reply) =>
    sendPhoto(reply, await demands.photoFor(ctxOf(req), req.params.id, req.params.photoId), !!req.query.thumb),
  );
  const upload = async (ctx: RequestContext, req: FastifyRequest) => {
    const body = req.body as Readable | undefined;
    if (!body || typeof body.pipe !== 'function') {
      throw new ValidationError({ 'zh-CN': '请以图片内容作为请求体上传（image/jpeg、image/png 或 image/webp）', en: 'Send the image itself as the body (image/jpeg, image/png or image/webp)' }, undefined, 'raw_body_required');
    }
    const stored = await photos.save(body);
    try {
      return await demands.recordPhoto(ctx, stored);
    } catch (e) {
      await photos.remove(stored);
      throw e;
    }
  };
  await app.register(async (raw) => {
    // the body stays a stream: the photo store checks size and content as it arrives
    raw.addContentTypeParser(IMAGE_TYPES, (_req, payload, done) => done(null, payload));
    raw.post('/demands/photos', { schema: { tags, summary: 'Upload a photo (raw body: image/jpeg, image/png or image/webp; checked by content, at most 8 MB)' } }, async (req, reply) => {
      requirePermissionAnywhere(ctxOf(req).actor, 'demand.own');
      return reply.status(201).send(await upload(ctxOf(req), req));
    });
    raw.post('/public/photos', { config: { public: true }, schema: { tags, summary: 'Upload a photo without an account; answers a token to attach it with' } }, async (req, reply) => {
      limited(req);
      return reply.status(201).send(await upload(publicCtx(req), req));
    });
  });

  // ---- public: residents without an account ----
  app.post('/public/demands', { config: { public: true }, schema: { tags, summary: 'A resident reports without an account: answers the tracking code', body: S.PublicReportBody } }, async (req, reply) => {
    limited(req);
    const { demand, created } = await demands.report(publicCtx(req), { ...req.body, channel: req.body.channel ?? 'resident' });
    return reply.status(created ? 201 : 200).send({ caseNo: demand.case_no, trackingCode: demand.tracking_code, status: demand.status });
  });
  app.get('/public/demands/nearby', { config: { public: true }, schema: { tags, summary: 'Whether similar demands are open nearby (no details)', querystring: S.NearbyQuery } }, async (req) =>
    demands.nearby(null, { category: req.query.category, lng: req.query.lng, lat: req.query.lat, radiusMetres: req.query.radius }),
  );
  app.get('/public/demands/:code', { config: { public: true }, schema: { tags, summary: 'Track a demand by its code: every step, no names', params: S.CodeParam } }, async (req) => demands.track(req.params.code));
  app.post('/public/demands/:code/verify', { config: { public: true }, schema: { tags, summary: 'The reporter confirms the fix, or says it is not fixed (rework)', params: S.CodeParam, body: S.VerifyBody } }, async (req) => {
    limited(req);
    await demands.verify(publicCtx(req), 0, { fixed: req.body.fixed, note: req.body.note }, req.params.code);
    return demands.track(req.params.code);
  });
  app.post('/public/demands/:code/rate', { config: { public: true }, schema: { tags, summary: 'The reporter rates the closed demand', params: S.CodeParam, body: S.RateBody } }, async (req) => {
    limited(req);
    await demands.rate(publicCtx(req), 0, req.body, req.params.code);
    return demands.track(req.params.code);
  });
  app.get('/public/demands/:code/photos/:photoId', { config: { public: true }, schema: { tags, summary: 'A photo of a tracked demand', params: S.PublicPhotoParams, querystring: S.ThumbQuery } }, async (req, reply) =>
    sendPhoto(reply, await demands.photoFor(null, null, req.params.photoId, req.params.code), !!req.query.thumb),
  );
  app.get('/public/demand-categories', { config: { public: true }, schema: { tags, summary: 'The demand categories (two levels)' } }, async () => ({ items: (await settings.categories()).filter((c) => c.active).map(categoryView) }));
  app.get('/public/units', { config: { public: true }, schema: { tags, summary: 'Units a resident may pick when they have no location: the children of a unit (roots without parentId)', querystring: Obj({ parentId: Type.Optional(S.Id) }) } }, async (req) =>
    ({ items: await demands.publicUnits(req.query.parentId) }),
  );

  // ---- settings ----
  app.get('/demand-categories', { schema: { tags, summary: 'Categories with their deadlines (working minutes)' } }, async () => ({ items: (await settings.categories()).map(categoryView) }));
  app.patch('/demand-categories/:code', { schema: { tags, summary: "Change a category's deadlines, warning share, emergency flag or deciding levels", params: S.CategoryParam, body: S.CategoryPatch } }, async (req) =>
    categoryView(await settings.updateCategory(ctxOf(req), req.params.code, req.body)),
  );
  app.get('/demand-calendar', { schema: { tags, summary: 'Working days, hours, holidays and 调休 workdays' } }, async () => settings.calendar());
  app.put('/demand-calendar', { schema: { tags, summary: 'Replace the working calendar', body: S.CalendarBody } }, async (req) => settings.updateCalendar(ctxOf(req), req.body));

  // ---- the inbox ----
  app.get('/inbox', { schema: { tags, summary: "The caller's notifications (urgent ones and daily digests)", querystring: S.InboxQuery } }, async (req) => {
    const ctx = ctxOf(req);
    const [items, unread] = await Promise.all([inbox.list(ctx.actor.userId, { unreadOnly: !!req.query.unread, limit: req.query.limit ?? 50, beforeId: req.query.before }), inbox.unreadCount(ctx.actor.userId)]);
    return { unread, items: items.map((n) => ({ id: n.id, kind: n.kind, demandId: n.demand_id, title: n.title, body: n.body, urgent: n.urgent, createdAt: n.created_at, readAt: n.read_at })) };
  });
  app.post('/inbox/read', { schema: { tags, summary: 'Mark notifications read', body: S.ReadBody } }, async (req, reply) => {
    await inbox.markRead(ctxOf(req).actor.userId, req.body.ids, services.now());
    return reply.status(204).send();
  });
  app.get('/inbox/stream', { schema: { tags, summary: 'Live notifications as server-sent events', response: { 200: { description: 'An endless event stream: `hello` with the unread count, then `notification` events', content: { 'text/event-stream': { schema: Type.String() } } } } } }, async (req, reply) => {
    const ctx = ctxOf(req);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', connection: 'keep-alive' });
    res.write(`event: hello\ndata: ${JSON.stringify({ unread: await inbox.unreadCount(ctx.actor.userId) })}\n\n`);
    const unsubscribe = bus.subscribe(ctx.actor.userId, (payload) => res.write(`event: notification\ndata: ${JSON.stringify(payload)}\n\n`));
    // a comment now and then keeps proxies and phones from dropping an idle stream
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 25_000);
    req.raw.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
  });
}

function categoryView(c: Awaited<ReturnType<ReturnType<typeof demandsContext>['settings']['categories']>>[number]) {
  return { code: c.code, parentCode: c.parentCode, name: c.name, respondMinutes: c.respondMinutes, finishMinutes: c.finishMinutes, warnPercent: c.warnPercent, emergency: c.emergency, decideKinds: c.decideKinds, active: c.active };
}
