// Builds the Fastify app from the registered module manifests.
import { existsSync } from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rawSecurityHeaders, { type HelmetOptions } from 'helmet';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import type { Config } from './config.ts';
import type { DbHandle } from './db/connection.ts';
import { migrate, readMigrations, PLATFORM_MIGRATIONS_DIR } from './db/migrator.ts';
import { MODULES } from './modules/index.ts';
import type { AppServices } from './platform/module.ts';
import { validatorCompiler } from './platform/validation.ts';
import { registerAuthHooks, registerErrorHandler } from './platform/http.ts';
import { AuthService } from './modules/auth/auth.service.ts';
import { AppError, NotFoundError, errorBody } from './platform/errors.ts';
import type { PiiCipher } from './platform/crypto/pii.ts';

declare module 'fastify' {
  interface FastifyInstance {
    registeredRoutes: { method: string; url: string }[];
    /** what the modules were built with: tests reach a module's shared objects (e.g. the demand clock) through it */
    services: AppServices;
  }
}

export interface BuildOptions {
  config: Config;
  database: DbHandle;
  pii: PiiCipher;
  now?: () => Date;
  logger?: boolean;
  /** run the modules' background work (the serving process does; tests drive it themselves) */
  background?: boolean;
}

export function allMigrations() {
  return readMigrations([PLATFORM_MIGRATIONS_DIR, ...MODULES.flatMap((m) => (m.migrationsDir ? [m.migrationsDir] : []))]);
}

export async function migrateDatabase(database: DbHandle) {
  return migrate(database.db, allMigrations());
}

export async function buildApp(options: BuildOptions): Promise<FastifyInstance> {
  const { config, database } = options;
  const services: AppServices = { db: database.db, config, pii: options.pii, now: options.now ?? (() => new Date()) };
  const helmetOptions = securityHeaderOptions(config);
  const app = Fastify({
    logger: options.logger === false ? false : { level: config.logLevel, redact: ['req.headers.cookie', 'req.headers["x-csrf-token"]'] },
    bodyLimit: config.bodyLimitBytes,
    // A slow or stalled client must not hold a connection for ever.
    connectionTimeout: 60_000,
    requestTimeout: 120_000,
    trustProxy: false,
    ajv: { customOptions: { removeAdditional: false } },
    // URLs the router refuses before any hook runs (broken percent-encoding, an over-long path parameter):
    // the same error format and the same security headers as every other answer.
    frameworkErrors: (error, request, reply) => {
      rawSecurityHeaders(helmetOptions)(request.raw, reply.raw, () => undefined);
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      (reply as unknown as FastifyReply).status(status).send(
        errorBody(new AppError(status, 'bad_url', { 'zh-CN': `请求地址无效（${error.code}）`, en: `Malformed request URL (${error.code})` })),
      );
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  // JSON only: a text/plain body is what a cross-site form can send without a preflight.
  app.removeContentTypeParser('text/plain');
  // Every route, as registered: the route-test matrix and the fuzz suite check they cover them all.
  const registeredRoutes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') registeredRoutes.push({ method, url: route.url });
  });
  app.decorate('registeredRoutes', registeredRoutes);
  app.decorate('services', services);

  await app.register(helmet, helmetOptions);
  await app.register(cookie);
  registerErrorHandler(app);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Tongxin (同心) API', version: '0.1.0', description: 'Party-building-led grassroots governance. Errors carry `code`, `message` (en) and `messages` (zh-CN, en).' },
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'tx_session' }, csrf: { type: 'apiKey', in: 'header', name: 'x-csrf-token' } } },
      tags: MODULES.flatMap((m) => (m.tag ? [m.tag] : [])),
    },
  });
  // The API description is public; its routes are marked so before the auth hook sees them.
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), public: true };
    });
    await docs.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' }, staticCSP: true });
  });

  const auth = new AuthService(database.db, config, services.now);
  registerAuthHooks(app, auth);

  app.get('/healthz', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => {
    try {
      await sql`select 1`.execute(database.db);
      return { status: 'ok' };
    } catch {
      return reply.status(503).send({ status: 'unavailable' });
    }
  });

  await app.register(
    async (api) => {
      for (const module of MODULES) if (module.routes) await module.routes(api, services);
    },
    { prefix: '/api' },
  );
  for (const module of MODULES) if (module.rootRoutes) await module.rootRoutes(app, services);
  if (options.background) {
    const stops = MODULES.flatMap((m) => (m.background ? [m.background(services, (message, detail) => app.log.info({ module: m.name, detail }, message))] : []));
    app.addHook('onClose', async () => stops.forEach((s) => s.stop()));
  }

  if (existsSync(path.join(config.webDistDir, 'index.html'))) {
    // The web client's files are public. The wildcard route looks files up on each request, so a rebuild
    // while the server runs is served too; a missing file falls through to the not-found handler below.
    let registeringStatic = true;
    app.addHook('onRoute', (route) => {
      if (registeringStatic) route.config = { ...(route.config ?? {}), public: true };
    });
    await app.register(fastifyStatic, { root: config.webDistDir, wildcard: true, index: false });
    app.get('/', { schema: { hide: true } }, (_request, reply) => reply.type('text/html; charset=utf-8').sendFile('index.html'));
    await app.after();
    registeringStatic = false;
  }
  app.setNotFoundHandler({}, async (request, reply) => {
    // A page path (no file extension) gets the app shell; a missing script or image stays a 404.
    const pathname = request.url.split('?')[0];
    const wantsPage = request.method === 'GET' && !pathname.startsWith('/api/') && !pathname.startsWith('/open311/') && !/\.[a-z0-9]+$/i.test(pathname);
    if (wantsPage && existsSync(path.join(config.webDistDir, 'index.html'))) {
      // Single-page app: every unknown page path serves the shell, which routes on the client.
      return reply.type('text/html; charset=utf-8').sendFile('index.html', config.webDistDir);
    }
    throw new NotFoundError({ 'zh-CN': '接口', en: 'Route' });
  });
  return app;
}

/** Helmet's settings: @fastify/helmet applies them in a hook; frameworkErrors applies them itself. */
function securityHeaderOptions(config: Config) {
  return {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:', ...(config.tileUrl ? [new URL(config.tileUrl.replace(/\{[a-z]\}/g, 'a')).origin] : [])],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
      },
    },
    frameguard: { action: 'deny' },
    crossOriginEmbedderPolicy: false,
    strictTransportSecurity: config.secureCookies,
  } satisfies HelmetOptions;
}
