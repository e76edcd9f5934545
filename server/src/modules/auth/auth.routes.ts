import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ctxOf, Obj, SESSION_COOKIE } from '../../platform/http.ts';
import type { AppServices } from '../../platform/module.ts';
import { permissionsAnywhere } from '../../platform/access.ts';
import { ROLE_LABELS } from '../../../../shared/permissions.ts';
import { MODULES } from '../index.ts';
import { AuthService } from './auth.service.ts';

const LoginBody = Obj({ username: Type.String({ minLength: 1, maxLength: 100 }), password: Type.String({ minLength: 1, maxLength: 200 }) });
const PasswordBody = Obj({ currentPassword: Type.String({ minLength: 1, maxLength: 200 }), newPassword: Type.String({ minLength: 1, maxLength: 200 }) });

export function authRoutes(base: FastifyInstance, services: AppServices) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const auth = new AuthService(services.db, services.config, services.now);
  const tags = ['auth'];

  const setCookie = (reply: FastifyReply, token: string) =>
    reply.setCookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: services.config.secureCookies,
      path: '/',
      maxAge: services.config.sessionMaxDays * 86_400,
    });

  app.post('/auth/login', { config: { public: true }, schema: { tags, summary: 'Log in; sets the session cookie and answers the CSRF token', body: LoginBody } }, async (req, reply) => {
    // A session presented before login is discarded: a planted cookie never becomes a logged-in session (fixation).
    if (req.session) await auth.logout(ctxOf(req), req.session.tokenHash);
    const { token, csrfToken, actor } = await auth.login(req.body.username, req.body.password, req.ip ?? null, req.headers['user-agent'] ?? null);
    setCookie(reply, token);
    return { csrfToken, ...describe(actor) };
  });

  app.post('/auth/logout', { config: { duringPasswordChange: true }, schema: { tags, summary: 'End the session' } }, async (req, reply) => {
    await auth.logout(ctxOf(req), req.session!.tokenHash);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.status(204).send();
  });

  app.get('/auth/session', { config: { duringPasswordChange: true }, schema: { tags, summary: 'Who is logged in: user, grants, permissions, menu, CSRF token' } }, async (req) => ({
    csrfToken: req.session!.csrfToken,
    ...describe(req.session!.actor),
  }));

  app.post('/auth/password', { config: { duringPasswordChange: true }, schema: { tags, summary: 'Change one\'s own password (ends other sessions)', body: PasswordBody } }, async (req, reply) => {
    await auth.changePassword(ctxOf(req), req.session!.tokenHash, req.body.currentPassword, req.body.newPassword);
    return reply.status(204).send();
  });
}

function describe(actor: ReturnType<typeof ctxOf>['actor']) {
  const permissions = permissionsAnywhere(actor);
  return {
    user: { id: actor.userId, username: actor.username, displayName: actor.displayName, mustChangePassword: actor.mustChangePassword },
    grants: actor.grants.map((g) => ({ id: g.grantId, role: g.role, roleName: ROLE_LABELS[g.role], unitId: g.unitId })),
    permissions,
    menu: MODULES.flatMap((m) => m.menu ?? [])
      .filter((item) => permissions.includes(item.permission))
      .sort((a, b) => a.order - b.order)
      .map(({ path, title, icon }) => ({ path, title, icon: icon ?? null })),
  };
}
