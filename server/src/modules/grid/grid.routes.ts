// Thin routes: validate (schemas) → authorise and act (one service call) → present.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ctxOf, IdParam } from '../../platform/http.ts';
import type { AppServices } from '../../platform/module.ts';
import { requirePermissionAnywhere } from '../../platform/access.ts';
import { GridService } from './grid.service.ts';
import { KindsService } from './kinds.service.ts';
import { CoverageService } from './coverage.service.ts';
import * as S from './grid.schema.ts';

export function gridRoutes(base: FastifyInstance, services: AppServices) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const grid = new GridService(services.db, services.now);
  const kinds = new KindsService(services.db);
  const coverage = new CoverageService(services.db, grid, services.now);
  const tags = ['grid'];

  // ----- kinds and roles (the preset's grammar) -----
  app.get('/unit-kinds', { schema: { tags, summary: 'Unit kinds, allowed children and staff roles' } }, async (req) => {
    requirePermissionAnywhere(ctxOf(req).actor, 'preset.read');
    const deployment = await kinds.deployment();
    return { presetId: deployment?.presetId ?? null, presetName: deployment?.preset.name ?? null, kinds: await kinds.list() };
  });
  app.post('/unit-kinds', { schema: { tags, summary: 'Add a unit kind under existing kinds', body: S.CreateKindBody } }, async (req, reply) => {
    return reply.status(201).send(await kinds.createKind(ctxOf(req), req.body));
  });
  app.patch('/unit-kinds/:code', { schema: { tags, summary: 'Rename a kind, change what it may hold', params: S.KindParam, body: S.UpdateKindBody } }, async (req) =>
    kinds.updateKind(ctxOf(req), req.params.code, req.body),
  );
  app.put('/unit-kinds/:code/roles/:role', { schema: { tags, summary: 'Create or edit a staff role of a kind', params: S.KindRoleParam, body: S.RoleBody } }, async (req) =>
    kinds.upsertRole(ctxOf(req), req.params.code, { code: req.params.role, ...req.body }),
  );
  app.delete('/unit-kinds/:code/roles/:role', { schema: { tags, summary: 'Delete an unused staff role', params: S.KindRoleParam } }, async (req, reply) => {
    await kinds.deleteRole(ctxOf(req), req.params.code, req.params.role);
    return reply.status(204).send();
  });

  // ----- units -----
  app.get('/units/roots', { schema: { tags, summary: "The tops of the caller's scope", querystring: S.ChildrenQuery } }, async (req) => {
    const ctx = ctxOf(req);
    const units = await grid.roots(ctx);
    return { items: req.query.coverage ? await withBadges(ctx, units) : units };
  });
  app.get('/units', { schema: { tags, summary: 'Search units in scope', querystring: S.UnitSearchQuery } }, async (req) => ({ items: await grid.search(ctxOf(req), req.query) }));
  app.get('/units/:id', { schema: { tags, summary: 'A unit with its party organisation, posts, linked organisations and boundary', params: IdParam } }, async (req) =>
    grid.detail(ctxOf(req), req.params.id),
  );
  app.get('/units/:id/children', { schema: { tags, summary: 'Child units, optionally with coverage badges', params: IdParam, querystring: S.ChildrenQuery } }, async (req) => {
    const ctx = ctxOf(req);
    const children = await grid.children(ctx, req.params.id);
    return { items: req.query.coverage ? await withBadges(ctx, children) : children };
  });
  app.post('/units', { schema: { tags, summary: 'Create a unit under a parent', body: S.CreateUnitBody } }, async (req, reply) => {
    const unit = await grid.createChild(ctxOf(req), req.body);
    return reply.status(201).send({ id: unit.id, districtId: unit.district_id, parentId: unit.parent_id, kind: unit.kind_code, name: unit.name, code: unit.code, path: unit.path, depth: unit.depth, archived: false });
  });
  app.patch('/units/:id', { schema: { tags, summary: 'Rename a unit or change its code', params: IdParam, body: S.UpdateUnitBody } }, async (req) => grid.update(ctxOf(req), req.params.id, req.body));
  app.post('/units/:id/move', { schema: { tags, summary: 'Move a unit (and its subtree) under another parent', params: IdParam, body: S.MoveUnitBody } }, async (req) =>
    grid.move(ctxOf(req), req.params.id, req.body.parentId),
  );
  app.post('/units/:id/archive', { schema: { tags, summary: 'Archive a unit with no active children', params: IdParam } }, async (req) => grid.archive(ctxOf(req), req.params.id));
  app.put('/units/:id/boundary', { schema: { tags, summary: 'Set the GeoJSON boundary (validated, inside the parent)', params: IdParam, body: S.BoundaryBody } }, async (req) => ({
    boundary: await grid.setBoundary(ctxOf(req), req.params.id, req.body.geometry),
  }));
  app.delete('/units/:id/boundary', { schema: { tags, summary: 'Remove the boundary', params: IdParam } }, async (req, reply) => {
    await grid.clearBoundary(ctxOf(req), req.params.id);
    return reply.status(204).send();
  });
  app.get('/units/:id/coverage', { schema: { tags, summary: 'Coverage report: gaps in the subtree, rolled up per child', params: IdParam, querystring: S.CoverageQuery } }, async (req) =>
    coverage.report(ctxOf(req), req.params.id, req.query.gapLimit),
  );

  // ----- party organisations -----
  app.post('/units/:id/party-org', { schema: { tags, summary: 'Bind a party organisation to a unit (at most one)', params: IdParam, body: S.BindPartyOrgBody } }, async (req, reply) =>
    reply.status(201).send(await grid.bindPartyOrg(ctxOf(req), req.params.id, req.body)),
  );
  app.patch('/party-orgs/:id', { schema: { tags, summary: 'Edit a party organisation', params: IdParam, body: S.UpdatePartyOrgBody } }, async (req) =>
    grid.updatePartyOrg(ctxOf(req), req.params.id, req.body),
  );
  app.delete('/party-orgs/:id', { schema: { tags, summary: 'Dissolve a party organisation', params: IdParam } }, async (req, reply) => {
    await grid.dissolvePartyOrg(ctxOf(req), req.params.id);
    return reply.status(204).send();
  });

  // ----- people and posts -----
  app.get('/people', { schema: { tags, summary: 'People in scope', querystring: S.PeopleQuery } }, async (req) => ({ items: await grid.listPeople(ctxOf(req), req.query) }));
  app.post('/people', { schema: { tags, summary: 'Record a person who can hold posts', body: S.CreatePersonBody } }, async (req, reply) =>
    reply.status(201).send(await grid.createPerson(ctxOf(req), req.body)),
  );
  app.patch('/people/:id', { schema: { tags, summary: 'Edit a person', params: IdParam, body: S.UpdatePersonBody } }, async (req) => grid.updatePerson(ctxOf(req), req.params.id, req.body));
  app.post('/units/:id/posts', { schema: { tags, summary: "Appoint a person to one of the unit kind's roles", params: IdParam, body: S.AppointPostBody } }, async (req, reply) =>
    reply.status(201).send(await grid.appointPost(ctxOf(req), req.params.id, req.body)),
  );
  app.patch('/posts/:id', { schema: { tags, summary: 'Change the dates of a post (end it)', params: IdParam, body: S.UpdatePostBody } }, async (req) => grid.updatePost(ctxOf(req), req.params.id, req.body));
  app.delete('/posts/:id', { schema: { tags, summary: 'Delete a post recorded by mistake', params: IdParam } }, async (req, reply) => {
    await grid.deletePost(ctxOf(req), req.params.id);
    return reply.status(204).send();
  });

  // ----- linked organisations -----
  app.post('/units/:id/linked-orgs', { schema: { tags, summary: 'Link a co-building unit, property company, owners committee, social organisation or 大党委 member', params: IdParam, body: S.LinkedOrgBody } }, async (req, reply) =>
    reply.status(201).send(await grid.addLinkedOrg(ctxOf(req), req.params.id, req.body)),
  );
  app.patch('/linked-orgs/:id', { schema: { tags, summary: 'Edit a linked organisation', params: IdParam, body: S.UpdateLinkedOrgBody } }, async (req) =>
    grid.updateLinkedOrg(ctxOf(req), req.params.id, req.body),
  );
  app.delete('/linked-orgs/:id', { schema: { tags, summary: 'Remove a linked organisation', params: IdParam } }, async (req, reply) => {
    await grid.removeLinkedOrg(ctxOf(req), req.params.id);
    return reply.status(204).send();
  });

  async function withBadges<T extends { id: number; path: string }>(ctx: ReturnType<typeof ctxOf>, units: T[]) {
    const badges = await coverage.badges(ctx, units);
    return units.map((u) => ({ ...u, coverage: badges.get(u.id) ?? null }));
  }
}
