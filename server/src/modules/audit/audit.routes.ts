import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ctxOf, Obj } from '../../platform/http.ts';
import type { AppServices } from '../../platform/module.ts';
import { AuditService } from './audit.service.ts';

const AuditQuery = Obj({
  actor: Type.Optional(Type.String({ maxLength: 100 })),
  action: Type.Optional(Type.String({ maxLength: 60, pattern: '^[a-z_.]+$' })),
  unitId: Type.Optional(Type.Integer({ minimum: 1, maximum: 9007199254740991 })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  before: Type.Optional(Type.Integer({ minimum: 1, maximum: 9007199254740991 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
});

export function auditRoutes(base: FastifyInstance, services: AppServices) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const audit = new AuditService(services.db);
  app.get('/audit', { schema: { tags: ['audit'], summary: 'The audit log in scope, newest first; filter by actor, action (or prefix "unit."), unit subtree, time', querystring: AuditQuery } }, async (req) =>
    audit.list(ctxOf(req), req.query),
  );
}
