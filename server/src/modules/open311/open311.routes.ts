// HTTP side of Open311 GeoReport v2, mounted at /open311/v2 outside /api: every route in `.json` and `.xml`,
// public (no session, no CSRF: a POST proves itself with its api_key), form-encoded and JSON bodies, and
// every error — ours, a schema's, an unknown format or path — in the spec's error format with its status.
// Also the key management under /api/open311 (session, demand.config, audited).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ErrorObject } from 'ajv';
import { ctxOf } from '../../platform/http.ts';
import type { AppServices } from '../../platform/module.ts';
import { RateLimiter } from '../../platform/auth/rate-limit.ts';
import { AppError, ConflictError, NotFoundError, TooManyRequestsError, ValidationError } from '../../platform/errors.ts';
import { validationErrorFrom } from '../../platform/validation.ts';
import { demandsContext } from '../demands/demands.context.ts';
import { CONTENT_TYPES, formatOfUrl, renderErrors, toXml, type Format, type XmlValue } from './open311.format.ts';
import { Open311ClientsService, Open311Service } from './open311.service.ts';
import type { ClientRow } from './open311.repository.ts';
import * as S from './open311.schema.ts';

export const OPEN311_PREFIX = '/open311/v2';
/** POSTs one key may send a minute: a hotline system's bursts pass, a runaway client is stopped. */
export const POSTS_PER_KEY_PER_MINUTE = 120;
/** A service request is a few fields of text; nothing near the app-wide 1 MB. */
const BODY_LIMIT = 64 * 1024;

const bilingual = (e: AppError) => `${e.messages['zh-CN']} / ${e.messages.en}`;

/** An error as Open311 answers it: the app's own errors keep their status; the framework's are mapped like the app maps them. */
function asAppError(raw: FastifyError & { validationContext?: string }): AppError | null {
  if (raw instanceof AppError) return raw;
  // Fastify hands over Ajv's own error objects (our validator compiler is Ajv), typed loosely as its own
  if (raw.validation) return validationErrorFrom(raw.validation as unknown as ErrorObject[], raw.validationContext ?? 'body');
  const msg = (zh: string, en: string) => ({ 'zh-CN': zh, en });
  switch (raw.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError(413, 'body_too_large', msg('请求内容过大', 'Request body too large'));
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ValidationError(msg('请以 application/x-www-form-urlencoded 或 application/json 提交', 'Send application/x-www-form-urlencoded or application/json'), undefined, 'unsupported_media_type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ValidationError(msg('请求内容不是合法的 JSON', 'The body is not valid JSON'), undefined, 'malformed_json');
  }
  if (raw instanceof SyntaxError) return new ValidationError(msg('请求内容不是合法的 JSON', 'The body is not valid JSON'), undefined, 'malformed_json');
  // PostgreSQL's data exceptions and integrity violations: input the checks above should have caught
  if (typeof raw.code === 'string' && /^22[0-9A-Z]{3}$/.test(raw.code)) return new ValidationError(msg('数据格式错误', 'Malformed value'));
  if (typeof raw.code === 'string' && /^23[0-9A-Z]{3}$/.test(raw.code)) return new ConflictError(msg('与已有记录冲突，请重试', 'Conflicts with an existing record; try again'));
  const status = raw.statusCode ?? 500;
  if (status >= 400 && status < 500) return new AppError(status, 'bad_request', msg(`请求无效：${raw.message}`, `Bad request: ${raw.message}`));
  return null;
}

/** The format an error is answered in: the URL's, else what the client accepts (XML, the spec's required format, by default). */
function errorFormat(request: FastifyRequest): Format {
  const fromUrl = formatOfUrl(request.url);
  if (fromUrl) return fromUrl;
  return /application\/json/i.test(request.headers.accept ?? '') ? 'json' : 'xml';
}

function sendError(request: FastifyRequest, reply: FastifyReply, err: AppError) {
  const format = errorFormat(request);
  if (err instanceof TooManyRequestsError) reply.header('retry-after', String(err.retryAfterSeconds));
  return reply.status(err.statusCode).type(CONTENT_TYPES[format]).send(renderErrors(format, [{ code: err.statusCode, description: bilingual(err) }]));
}

/** `requests.yaml` names a document we do not have. */
function formatOf(raw: string): Format {
  if (raw === 'json' || raw === 'xml') return raw;
  throw new NotFoundError({ 'zh-CN': `格式“${raw}”（仅支持 .json 与 .xml）`, en: `Format "${raw}" (only .json and .xml exist)` });
}

/**
 * A form body: each field once (a repeated field stays a list, which the schema refuses). Built through
 * fromEntries so a field named __proto__ is just a field.
 */
function parseForm(text: string): Record<string, string | string[]> {
  const fields = new Map<string, string | string[]>();
  for (const [k, v] of new URLSearchParams(text)) {
    const seen = fields.get(k);
    fields.set(k, seen === undefined ? v : [...[seen].flat(), v]);
  }
  return Object.fromEntries(fields);
}

/**
 * Open311 writes attributes as `attribute[type]=help` (forms and many JSON clients alike); they become
 * `attribute: { type: 'help' }`. Empty fields, which forms send for every blank input, count as absent.
 */
function normaliseBody(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const plain: [string, unknown][] = [];
  const attributes: [string, unknown][] = [];
  for (const [k, v] of Object.entries(body)) {
    if (v === '') continue;
    const attr = /^attribute\[([^\]]*)\]$/.exec(k);
    if (attr) attributes.push([attr[1], v]);
    else if (k === 'attribute' && v && typeof v === 'object' && !Array.isArray(v)) attributes.push(...Object.entries(v).filter(([, x]) => x !== ''));
    else plain.push([k, v]);
  }
  return Object.fromEntries(attributes.length ? [...plain, ['attribute', Object.fromEntries(attributes)]] : plain);
}

const fieldOf = (value: unknown, field: string): string | undefined => {
  if (!value || typeof value !== 'object') return undefined;
  const v = (value as Record<string, unknown>)[field];
  return typeof v === 'string' ? v : undefined;
};

export async function open311Routes(root: FastifyInstance, services: AppServices) {
  await root.register(
    async (base) => {
      const app = base.withTypeProvider<TypeBoxTypeProvider>();
      const { demands, settings } = demandsContext(services);
      const open311 = new Open311Service(services.db, demands, settings, services.now);
      const limiter = new RateLimiter(POSTS_PER_KEY_PER_MINUTE, 60_000, () => services.now().getTime());
      const clients = new WeakMap<FastifyRequest, ClientRow>();
      const tags = ['open311'];
      const config = { public: true };

      // The spec's own encoding; only here, where no session cookie gives a cross-site form any power.
      app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, parseForm(String(body))));
      app.setErrorHandler((raw: FastifyError & { validationContext?: string }, request, reply) => {
        let err = asAppError(raw);
        if (!err) {
          request.log.error({ err: raw }, 'unhandled error (open311)');
          err = new AppError(500, 'internal_error', { 'zh-CN': '服务器内部错误，请稍后再试', en: 'Internal server error; please try again later' });
        }
        return sendError(request, reply, err);
      });
      app.setNotFoundHandler((request, reply) => sendError(request, reply, new NotFoundError({ 'zh-CN': `接口 ${request.url.split('?')[0]} `, en: `Resource ${request.url.split('?')[0]}` })));

      // What GET answers is public and needs no credentials, so browser apps on other origins may read it
      // (no cookie is ever honoured here). Submitting stays server-to-server: a key does not belong in a page.
      app.addHook('onSend', async (request, reply) => {
        if (request.method === 'GET' || request.method === 'HEAD') {
          reply.header('access-control-allow-origin', '*');
          reply.header('cross-origin-resource-policy', 'cross-origin');
        }
      });

      const send = (reply: FastifyReply, format: Format, root: string, value: XmlValue) =>
        reply.type(CONTENT_TYPES[format]).send(format === 'json' ? JSON.stringify(value) : toXml(root, value));

      app.get('/discovery.:format', { config, schema: { tags, summary: 'Open311 service discovery', params: S.FormatParams, querystring: S.CommonQuery } }, async (req, reply) => {
        const format = formatOf(req.params.format);
        return send(reply, format, 'discovery', { ...open311.discovery(`${req.protocol}://${req.host}${OPEN311_PREFIX}/`) });
      });
      app.get('/services.:format', { config, schema: { tags, summary: 'Services: the active demand categories', params: S.FormatParams, querystring: S.CommonQuery } }, async (req, reply) => {
        const format = formatOf(req.params.format);
        await open311.jurisdiction(req.query.jurisdiction_id);
        return send(reply, format, 'services', (await open311.services()).map((s) => ({ ...s })));
      });
      app.get('/services/:service_code.:format', { config, schema: { tags, summary: "A service's definition: its attributes", params: S.ServiceParams, querystring: S.CommonQuery } }, async (req, reply) => {
        const format = formatOf(req.params.format);
        await open311.jurisdiction(req.query.jurisdiction_id);
        return send(reply, format, 'service_definition', await open311.serviceDefinition(req.params.service_code));
      });
      app.post(
        '/requests.:format',
        {
          config,
          bodyLimit: BODY_LIMIT,
          schema: { tags, summary: 'Submit a service request (api_key required): a demand on the open311 channel', params: S.FormatParams, querystring: S.CommonQuery, body: S.PostRequestBody },
          // the key first: a caller without one learns nothing, not even what is wrong with the body
          preValidation: async (req) => {
            req.body = normaliseBody(req.body) as typeof req.body;
            const client = await open311.authenticate(fieldOf(req.query, 'api_key') ?? fieldOf(req.body, 'api_key'));
            const wait = limiter.hit(`client:${client.id}`);
            if (wait) throw new TooManyRequestsError({ 'zh-CN': `提交过于频繁，请 ${wait} 秒后再试`, en: `Too many requests; try again in ${wait} s` }, wait);
            clients.set(req, client);
          },
        },
        async (req, reply) => {
          const format = formatOf(req.params.format);
          const client = clients.get(req);
          if (!client) throw new AppError(500, 'internal_error', { 'zh-CN': '服务器内部错误', en: 'Internal server error' });
          const answer = await open311.createRequest(client, { ...req.body, jurisdiction_id: req.body.jurisdiction_id ?? req.query.jurisdiction_id }, req.ip ?? null);
          // 200, as the spec's Swagger description answers a created request
          return send(reply, format, 'service_requests', answer);
        },
      );
      app.get('/requests.:format', { config, schema: { tags, summary: 'Service requests (public fields only; at most 1000, newest first, 90 days at most)', params: S.FormatParams, querystring: S.RequestsQuery } }, async (req, reply) => {
        const format = formatOf(req.params.format);
        return send(reply, format, 'service_requests', (await open311.requests(req.query)).map((r) => ({ ...r })));
      });
      app.get('/requests/:service_request_id.:format', { config, schema: { tags, summary: 'One service request, as a list of one', params: S.RequestParams, querystring: S.CommonQuery } }, async (req, reply) => {
        const format = formatOf(req.params.format);
        return send(reply, format, 'service_requests', (await open311.request(req.params.service_request_id, req.query.jurisdiction_id)).map((r) => ({ ...r })));
      });
      app.get('/tokens/:token.:format', { config, schema: { tags, summary: 'The service_request_id of a token (our tokens are the ids themselves)', params: S.TokenParams, querystring: S.CommonQuery } }, async (req, reply) => {
        const format = formatOf(req.params.format);
        return send(reply, format, 'service_requests', await open311.token(req.params.token, req.query.jurisdiction_id));
      });
    },
    { prefix: OPEN311_PREFIX },
  );
}

/** Key management under /api: who may submit requests, and where their requests land without a location. */
export function open311ClientRoutes(base: FastifyInstance, services: AppServices) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const clients = new Open311ClientsService(services.db, services.now);
  const tags = ['open311'];
  app.get('/open311/clients', { schema: { tags, summary: 'Open311 clients in scope (never their keys)', querystring: S.ClientListQuery } }, async (req) =>
    clients.list(ctxOf(req), { includeRevoked: !!req.query.includeRevoked }),
  );
  app.post('/open311/clients', { schema: { tags, summary: 'Create an Open311 client; answers its api_key once (only its hash is kept)', body: S.CreateClientBody } }, async (req, reply) =>
    reply.status(201).send(await clients.create(ctxOf(req), req.body)),
  );
  app.post('/open311/clients/:id/revoke', { schema: { tags, summary: "Revoke a client's key at once", params: S.ClientIdParam } }, async (req) => clients.revoke(ctxOf(req), req.params.id));
}
