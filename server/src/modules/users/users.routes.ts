import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ctxOf, IdParam } from '../../platform/http.ts';
import type { AppServices } from '../../platform/module.ts';
import { requirePermissionAnywhere } from '../../platform/access.ts';
import { ROLES, ROLE_LABELS, ROLE_PERMISSIONS } from '../../../../shared/permissions.ts';
import { UsersService } from './users.service.ts';
import * as S from './users.schema.ts';

export function usersRoutes(base: FastifyInstance, services: AppServices) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const users = new UsersService(services.db);
  const tags = ['users'];

  app.get('/roles', { schema: { tags, summary: 'Built-in roles and their permissions' } }, async () => ({
    items: ROLES.map((code) => ({ code, name: ROLE_LABELS[code], permissions: ROLE_PERMISSIONS[code] })),
  }));
  app.get('/users', { schema: { tags, summary: 'Accounts with a grant in scope', querystring: S.UserListQuery } }, async (req) => {
    requirePermissionAnywhere(ctxOf(req).actor, 'user.read');
    return users.list(ctxOf(req), req.query);
  });
  app.get('/users/:id', { schema: { tags, summary: 'An account and its grants', params: IdParam } }, async (req) => {
    requirePermissionAnywhere(ctxOf(req).actor, 'user.read');
    return users.detail(ctxOf(req), req.params.id);
  });
  app.post('/users', { schema: { tags, summary: 'Create an account with its first grant; answers a one-time password', body: S.CreateUserBody } }, async (req, reply) =>
    reply.status(201).send(await users.create(ctxOf(req), req.body)),
  );
  app.patch('/users/:id', { schema: { tags, summary: 'Rename or disable an account', params: IdParam, body: S.UpdateUserBody } }, async (req) =>
    users.update(ctxOf(req), req.params.id, req.body),
  );
  app.post('/users/:id/reset-password', { schema: { tags, summary: 'Admin reset: a new one-time password, all sessions ended', params: IdParam } }, async (req) =>
    users.resetPassword(ctxOf(req), req.params.id),
  );
  app.post('/users/:id/grants', { schema: { tags, summary: 'Grant a role on a unit (reaches its subtree)', params: IdParam, body: S.GrantBody } }, async (req, reply) =>
    reply.status(201).send(await users.addGrant(ctxOf(req), req.params.id, req.body)),
  );
  app.delete('/grants/:id', { schema: { tags, summary: 'Revoke a grant', params: IdParam } }, async (req, reply) => {
    await users.revokeGrant(ctxOf(req), req.params.id);
    return reply.status(204).send();
  });
}
