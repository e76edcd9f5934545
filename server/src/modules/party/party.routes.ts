// Party members, 1+10 contacts and 设岗定责 posts: thin routes — validate, call one service method, answer.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ctxOf, IdParam } from '../../platform/http.ts';
import type { AppServices } from '../../platform/module.ts';
import { requirePermissionAnywhere } from '../../platform/access.ts';
import { MembersService } from './members.service.ts';
import { MemberPostsService } from './member-posts.service.ts';
import { ContactsService } from './contacts.service.ts';
import * as S from './party.schema.ts';

export function partyRoutes(base: FastifyInstance, services: AppServices) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const members = new MembersService(services.db, services.now);
  const posts = new MemberPostsService(services.db, services.now);
  const contacts = new ContactsService(services.db, services.now);
  const tags = ['party'];

  // ---- members ----
  app.get('/party-members', { schema: { tags, summary: 'Party members in scope (by branch or 报到 community)', querystring: S.MemberQuery } }, async (req) => {
    requirePermissionAnywhere(ctxOf(req).actor, 'party_member.read');
    return members.search(ctxOf(req), req.query);
  });
  app.get('/party-members/:id', { schema: { tags, summary: 'A party member with their posts and number of linked households', params: IdParam } }, async (req) => members.detail(ctxOf(req), req.params.id));
  app.post('/party-members', { schema: { tags, summary: 'Register a resident as a party member of a branch', body: S.CreateMemberBody } }, async (req, reply) => reply.status(201).send(await members.create(ctxOf(req), req.body)));
  app.patch('/party-members/:id', { schema: { tags, summary: 'Edit a party member (leftOn: leaves, handing back households and posts)', params: IdParam, body: S.UpdateMemberBody } }, async (req) => members.update(ctxOf(req), req.params.id, req.body));
  app.post('/party-members/:id/registration', { schema: { tags, summary: '报到: an in-service member registers with their residential community', params: IdParam, body: S.RegistrationBody } }, async (req) =>
    members.register(ctxOf(req), req.params.id, req.body),
  );

  // ---- 设岗定责 ----
  app.get('/member-posts', { schema: { tags, summary: 'Posts for members without office, with holders and capacity', querystring: S.PostQuery } }, async (req) => {
    requirePermissionAnywhere(ctxOf(req).actor, 'member_post.read');
    return posts.search(ctxOf(req), req.query);
  });
  app.get('/member-posts/:id', { schema: { tags, summary: 'A post with its claims', params: IdParam } }, async (req) => posts.detail(ctxOf(req), req.params.id));
  app.post('/member-posts', { schema: { tags, summary: 'Define a post on a unit', body: S.CreatePostBody } }, async (req, reply) => reply.status(201).send(await posts.create(ctxOf(req), req.body)));
  app.patch('/member-posts/:id', { schema: { tags, summary: 'Edit or archive a post', params: IdParam, body: S.UpdatePostBody } }, async (req) => posts.update(ctxOf(req), req.params.id, req.body));
  app.post('/member-posts/:id/claims', { schema: { tags, summary: 'A member claims the post (capacity respected; one post per member)', params: IdParam, body: S.ClaimBody } }, async (req, reply) =>
    reply.status(201).send(await posts.claim(ctxOf(req), req.params.id, req.body)),
  );
  app.post('/member-post-claims/:id/end', { schema: { tags, summary: 'End a claim', params: IdParam, body: S.EndClaimBody } }, async (req) => posts.endClaim(ctxOf(req), req.params.id, req.body));

  // ---- 户联系 / 1+10 ----
  app.get('/contact-groups', { schema: { tags, summary: '户联系 groups in scope', querystring: S.GroupQuery } }, async (req) => {
    requirePermissionAnywhere(ctxOf(req).actor, 'contact.read');
    return contacts.groups(ctxOf(req), req.query);
  });
  app.get('/contact-groups/:id', { schema: { tags, summary: 'A group with its leader and members', params: IdParam } }, async (req) => contacts.groupDetail(ctxOf(req), req.params.id));
  app.post('/contact-groups', { schema: { tags, summary: 'Form a group (the leader joins it)', body: S.CreateGroupBody } }, async (req, reply) => reply.status(201).send(await contacts.createGroup(ctxOf(req), req.body)));
  app.patch('/contact-groups/:id', { schema: { tags, summary: 'Rename a group or name its leader (a member of it)', params: IdParam, body: S.UpdateGroupBody } }, async (req) => contacts.updateGroup(ctxOf(req), req.params.id, req.body));
  app.put('/contact-groups/:id/members/:memberId', { schema: { tags, summary: 'Add a member to a group', params: S.GroupMemberParams } }, async (req) => contacts.addGroupMember(ctxOf(req), req.params.id, req.params.memberId));
  app.delete('/contact-groups/:id/members/:memberId', { schema: { tags, summary: 'Remove a member from a group', params: S.GroupMemberParams } }, async (req) => contacts.removeGroupMember(ctxOf(req), req.params.id, req.params.memberId));

  app.get('/contact-links', { schema: { tags, summary: 'Household–member links in scope', querystring: S.LinkQuery } }, async (req) => {
    requirePermissionAnywhere(ctxOf(req).actor, 'contact.read');
    return contacts.links(ctxOf(req), req.query);
  });
  app.put('/households/:id/contact', { schema: { tags, summary: 'Link a household to a member (replaces any earlier link)', params: IdParam, body: S.LinkBody } }, async (req) => contacts.setLink(ctxOf(req), req.params.id, req.body.memberId));
  app.delete('/households/:id/contact', { schema: { tags, summary: 'Unlink a household', params: IdParam } }, async (req, reply) => {
    await contacts.removeLink(ctxOf(req), req.params.id);
    return reply.status(204).send();
  });
  app.post('/units/:id/contacts/auto-assign', { schema: { tags, summary: 'Link every unlinked household under the unit to a member: evenly, nearest first', params: IdParam, body: S.AutoAssignBody } }, async (req) =>
    contacts.autoAssign(ctxOf(req), req.params.id, req.body),
  );
  app.post('/households/:id/contact-visits', { schema: { tags, summary: 'Log a visit by the linked member', params: IdParam, body: S.VisitBody } }, async (req, reply) => reply.status(201).send(await contacts.logVisit(ctxOf(req), req.params.id, req.body)));
  app.get('/contact-visits', { schema: { tags, summary: 'Visits in scope', querystring: S.VisitQuery } }, async (req) => {
    requirePermissionAnywhere(ctxOf(req).actor, 'contact.read');
    return contacts.visits(ctxOf(req), req.query);
  });
  app.get('/my/contacts', { schema: { tags, summary: 'My own 1+10 households (a party member), masked' } }, async (req) => {
    requirePermissionAnywhere(ctxOf(req).actor, 'contact.read_own');
    return contacts.myContacts(ctxOf(req));
  });
  app.get('/units/:id/contact-coverage', { schema: { tags, summary: '1+10 coverage of a unit and its children: households linked, visited in the last N days, both (numerators and denominators)', params: IdParam, querystring: S.CoverageQuery } }, async (req) =>
    contacts.coverage(ctxOf(req), req.params.id, req.query.days),
  );
}
