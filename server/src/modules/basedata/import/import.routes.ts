// HTTP API of bulk import. Registered as an encapsulated plugin, so the raw-body parsers it adds (uploads are
// the file's bytes, not multipart) apply to these routes only.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { PassThrough, type Readable } from 'node:stream';
import { Type } from 'typebox';
import { ctxOf, IdParam, Obj } from '../../../platform/http.ts';
import type { AppServices } from '../../../platform/module.ts';
import { requirePermissionAnywhere } from '../../../platform/access.ts';
import { ValidationError } from '../../../platform/errors.ts';
import { IMPORT_KINDS } from './mapping.ts';
import { IMPORT_MODES, loadJob } from './import.engine.ts';
import { ImportService } from './import.service.ts';

const lit = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));
const Kind = lit(IMPORT_KINDS);
const Encoding = lit(['auto', 'utf8', 'gb18030'] as const);
const Mapping = Type.Record(Type.String({ minLength: 1, maxLength: 100 }), Type.String({ maxLength: 40 }), { maxProperties: 200 });
const UploadId = Obj({ id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) });

const START_WAIT_MS = 2000;
const RAW_TYPES = ['application/octet-stream', 'text/csv', 'application/csv', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'application/vnd.ms-excel'];

export function importPlugin(services: AppServices): FastifyPluginAsync {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const imports = new ImportService(services.db, services.pii, services.now, services.config.dataDir);
    const tags = ['basedata'];
    // the body stays a stream: the upload is written to disk as it arrives, under its own size limit
    app.addContentTypeParser(RAW_TYPES, (_req, payload, done) => done(null, payload));
    // a file sent with no Content-Type (or an odd one) is still the file; the JSON routes here reject a
    // stream body in their schema validation (400)
    app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

    app.post('/imports/uploads', {
      schema: { tags, summary: 'Upload a ledger (.xlsx or .csv) as the raw request body (Content-Type application/octet-stream, ?filename=)', querystring: Obj({ filename: Type.String({ minLength: 1, maxLength: 255 }) }) },
    }, async (req, reply) => {
      const ctx = ctxOf(req);
      requirePermissionAnywhere(ctx.actor, 'resident.import');
      const body = req.body as Readable | undefined;
      if (!body || typeof (body as Readable).pipe !== 'function') {
        throw new ValidationError({ 'zh-CN': '请以 application/octet-stream 上传文件内容', en: 'Send the file itself as the body (Content-Type application/octet-stream)' }, undefined, 'raw_body_required');
      }
      return reply.status(201).send(await imports.upload(ctx, body, req.query.filename));
    });

    app.get('/imports/uploads/:id/preview', {
      schema: { tags, summary: 'Headers, first rows (ID and phone numbers masked) and the suggested column mapping', params: UploadId, querystring: Obj({ kind: Type.Optional(Kind), encoding: Type.Optional(Encoding) }) },
    }, async (req) => imports.preview(ctxOf(req), req.params.id, req.query.kind ?? 'resident', req.query.encoding ?? 'auto'));

    app.get('/imports/templates', { schema: { tags, summary: 'Saved column mappings of the districts in scope', querystring: Obj({ kind: Type.Optional(Kind) }) } }, async (req) => {
      requirePermissionAnywhere(ctxOf(req).actor, 'resident.import');
      return imports.listTemplates(ctxOf(req), req.query.kind);
    });
    app.post('/imports/templates', {
      schema: { tags, summary: 'Save a column mapping (per district, by name)', body: Obj({ unitId: Type.Integer({ minimum: 1 }), kind: Kind, name: Type.String({ minLength: 1, maxLength: 60, pattern: '\\S' }), mapping: Mapping }) },
    }, async (req, reply) => reply.status(201).send(await imports.saveTemplate(ctxOf(req), req.body)));

    app.get('/imports', { schema: { tags, summary: 'Import jobs in scope, newest first', querystring: Obj({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) }) } }, async (req) => {
      requirePermissionAnywhere(ctxOf(req).actor, 'resident.import');
      return imports.list(ctxOf(req), req.query.limit);
    });
    app.post('/imports', {
      schema: {
        tags,
        summary: 'Start a dry run or an import of an uploaded file (answers at once; poll the job or listen to its events)',
        body: Obj({
          uploadId: Type.String({ pattern: '^[0-9a-f-]{36}$' }),
          kind: Kind,
          unitId: Type.Integer({ minimum: 1 }),
          mode: lit(IMPORT_MODES),
          source: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
          mapping: Type.Optional(Mapping),
          templateId: Type.Optional(Type.Integer({ minimum: 1 })),
          encoding: Type.Optional(Encoding),
        }),
      },
    }, async (req, reply) => {
      const ctx = ctxOf(req);
      const job = await imports.createJob(ctx, req.body);
      // a small file is done within the wait: the answer then carries the final counts
      const finished = await imports.startAndWait(job.id, START_WAIT_MS);
      return reply.status(202).send(imports.view(finished ?? job));
    });
    app.get('/imports/:id', { schema: { tags, summary: 'A job: status, progress, counts', params: IdParam } }, async (req) => imports.view(await imports.jobFor(ctxOf(req), req.params.id)));
    app.get('/imports/:id/errors', { schema: { tags, summary: 'Rejected rows with their reasons (masked)', params: IdParam, querystring: Obj({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }) } }, async (req) =>
      imports.errors(ctxOf(req), req.params.id, req.query.limit),
    );
    app.get('/imports/:id/error-report', { schema: { tags, summary: 'The rejected rows as .xlsx with an error column (ID and phone numbers masked)', params: IdParam } }, async (req, reply) => {
      const ctx = ctxOf(req);
      await imports.jobFor(ctx, req.params.id);
      const out = new PassThrough();
      imports.errorReport(ctx, req.params.id, out).catch((e: unknown) => out.destroy(e instanceof Error ? e : new Error('report failed')));
      return reply
        .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        .header('content-disposition', `attachment; filename="import-${req.params.id}-errors.xlsx"`)
        .send(out);
    });
    app.get('/imports/:id/events', { schema: { tags, summary: 'Live progress as server-sent events (ends when the job ends)', params: IdParam } }, async (req, reply) => {
      const ctx = ctxOf(req);
      const job = await imports.jobFor(ctx, req.params.id);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', connection: 'keep-alive' });
      const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      send('progress', imports.view(job));
      const ended = (s: string) => ['done', 'failed', 'rolled_back', 'interrupted'].includes(s);
      if (ended(job.status) && !imports.isRunning(job.id)) {
        send('end', imports.view(job));
        res.end();
        return;
      }
      const key = `job:${job.id}`;
      let closed = false;
      const finish = async () => {
        if (closed) return;
        closed = true;
        imports.events.off(key, onEvent);
        clearInterval(timer);
        const last = await loadJob(services.db, job.id);
        if (last) send('end', imports.view(last));
        res.end();
      };
      const onEvent = (p: unknown) => {
        if (p === 'end') void finish();
        else send('progress', p);
      };
      imports.events.on(key, onEvent);
      // a job run by another process (the CLI) reports through its row
      const timer = setInterval(async () => {
        const cur = await loadJob(services.db, job.id).catch(() => undefined);
        if (!cur) return;
        if (!imports.isRunning(job.id)) {
          send('progress', imports.view(cur));
          if (ended(cur.status)) void finish();
        }
      }, 1000);
      req.raw.on('close', () => {
        closed = true;
        imports.events.off(key, onEvent);
        clearInterval(timer);
      });
    });
    app.post('/imports/:id/resume', { schema: { tags, summary: 'Resume an interrupted job from its checkpoint', params: IdParam } }, async (req, reply) => {
      await imports.resume(ctxOf(req), req.params.id);
      const finished = await imports.startAndWait(req.params.id, START_WAIT_MS);
      return reply.status(202).send(imports.view(finished ?? (await imports.jobFor(ctxOf(req), req.params.id))));
    });
    app.post('/imports/:id/rollback', { schema: { tags, summary: 'Remove exactly the rows the job created', params: IdParam } }, async (req) => imports.rollback(ctxOf(req), req.params.id));
  };
}
