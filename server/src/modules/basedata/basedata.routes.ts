import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ctxOf, IdParam } from '../../platform/http.ts';
import type { AppServices } from '../../platform/module.ts';
import { requirePermissionAnywhere } from '../../platform/access.ts';
import { ResidentsService } from './residents.service.ts';
import * as S from './basedata.schema.ts';
import { structuresRoutes } from './structures.routes.ts';
import { exportRoutes } from './export/export.routes.ts';
import { importPlugin } from './import/import.routes.ts';

export function basedataRoutes(base: FastifyInstance, services: AppServices) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const residents = new ResidentsService(services.db, services.pii, services.now);
  const tags = ['basedata'];
  exportRoutes(base, services);
  void base.register(importPlugin(services));

  app.get('/residents', { schema: { tags, summary: 'Residents in scope: by name, pinyin initials, exact ID or phone number, address, tag', querystring: S.ResidentQuery } }, async (req) => {
    requirePermissionAnywhere(ctxOf(req).actor, req.query.sensitiveTag ? 'resident.sensitive' : 'resident.read');
    return residents.search(ctxOf(req), req.query);
  });
  app.get('/residents/:id', { schema: { tags, summary: 'A resident; ID and phone numbers masked unless revealed', params: IdParam } }, async (req) => residents.detail(ctxOf(req), req.params.id));
  app.post('/residents', { schema: { tags, summary: 'Register a resident', body: S.CreateResidentBody } }, async (req, reply) => reply.status(201).send(await residents.create(ctxOf(req), req.body)));
  app.patch('/residents/:id', { schema: { tags, summary: 'Edit a resident', params: IdParam, body: S.UpdateResidentBody } }, async (req) => residents.update(ctxOf(req), req.params.id, req.body));
  app.post('/residents/:id/reveal', { schema: { tags, summary: 'Show an ID or phone number in the clear for a stated purpose (audited, expires)', params: IdParam, body: S.RevealBody } }, async (req) =>
    residents.reveal(ctxOf(req), req.params.id, req.body.field, req.body.purpose),
  );
  structuresRoutes(base, services);
}
