// Houses, households, facilities and hazards: thin routes — validate, call one service method, answer.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ctxOf, IdParam } from '../../platform/http.ts';
import type { AppServices } from '../../platform/module.ts';
import { requirePermissionAnywhere } from '../../platform/access.ts';
import { HousesService } from './houses.service.ts';
import { HouseholdsService } from './households.service.ts';
import { FacilitiesService } from './facilities.service.ts';
import { HazardsService } from './hazards.service.ts';
import * as S from './structures.schema.ts';

export function structuresRoutes(base: FastifyInstance, services: AppServices) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const houses = new HousesService(services.db, services.now);
  const households = new HouseholdsService(services.db, services.now);
  const facilities = new FacilitiesService(services.db, services.now);
  const hazards = new HazardsService(services.db, services.now);
  const tags = ['basedata'];

  // ---- houses ----
  app.get('/houses', { schema: { tags, summary: 'Houses in scope, by address or unit', querystring: S.HouseQuery } }, async (req) => {
    requirePermissionAnywhere(ctxOf(req).actor, 'house.read');
    return houses.search(ctxOf(req), req.query);
  });
  app.get('/houses/:id', { schema: { tags, summary: 'A house with its owners and their shares', params: IdParam } }, async (req) => houses.detail(ctxOf(req), req.params.id));
  app.post('/houses', { schema: { tags, summary: 'Register a house in a grid or a unit inside one', body: S.CreateHouseBody } }, async (req, reply) => reply.status(201).send(await houses.create(ctxOf(req), req.body)));
  app.patch('/houses/:id', { schema: { tags, summary: 'Edit or move a house', params: IdParam, body: S.UpdateHouseBody } }, async (req) => houses.update(ctxOf(req), req.params.id, req.body));
  app.post('/houses/:id/archive', { schema: { tags, summary: 'Archive a house no household lives in', params: IdParam } }, async (req) => houses.archive(ctxOf(req), req.params.id));
  app.put('/houses/:id/owners', { schema: { tags, summary: 'Replace the owners (shares add up to at most 1)', params: IdParam, body: S.OwnersBody } }, async (req) => houses.setOwners(ctxOf(req), req.params.id, req.body.owners));

  // ---- households ----
  app.get('/households', { schema: { tags, summary: 'Households in scope, by name, code, address, kind, unit or house', querystring: S.HouseholdQuery } }, async (req) => {
    requirePermissionAnywhere(ctxOf(req).actor, 'household.read');
    return households.search(ctxOf(req), req.query);
  });
  app.get('/households/:id', { schema: { tags, summary: 'A household with its members and head', params: IdParam } }, async (req) => households.detail(ctxOf(req), req.params.id));
  app.post('/households', { schema: { tags, summary: 'Register a household', body: S.CreateHouseholdBody } }, async (req, reply) => reply.status(201).send(await households.create(ctxOf(req), req.body)));
  app.patch('/households/:id', { schema: { tags, summary: 'Edit a household', params: IdParam, body: S.UpdateHouseholdBody } }, async (req) => households.update(ctxOf(req), req.params.id, req.body));
  app.post('/households/:id/archive', { schema: { tags, summary: 'Archive an empty household (its 1+10 link ends)', params: IdParam } }, async (req) => households.archive(ctxOf(req), req.params.id));
  app.post('/households/:id/members', { schema: { tags, summary: 'Add a resident to the household', params: IdParam, body: S.AddMemberBody } }, async (req, reply) => reply.status(201).send(await households.addMember(ctxOf(req), req.params.id, req.body)));
  app.delete('/households/:id/members/:residentId', { schema: { tags, summary: 'Remove a resident from the household', params: S.MemberParams } }, async (req) => households.removeMember(ctxOf(req), req.params.id, req.params.residentId));
  app.put('/households/:id/head', { schema: { tags, summary: 'Name the head (a member) or clear it', params: IdParam, body: S.HeadBody } }, async (req) => households.setHead(ctxOf(req), req.params.id, req.body.residentId));

  // ---- facilities ----
  app.get('/facilities', { schema: { tags, summary: 'Facilities in scope', querystring: S.FacilityQuery } }, async (req) => {
    requirePermissionAnywhere(ctxOf(req).actor, 'facility.read');
    return facilities.search(ctxOf(req), req.query);
  });
  app.get('/facilities/:id', { schema: { tags, summary: 'A facility', params: IdParam } }, async (req) => facilities.detail(ctxOf(req), req.params.id));
  app.post('/facilities', { schema: { tags, summary: 'Register a facility', body: S.CreateFacilityBody } }, async (req, reply) => reply.status(201).send(await facilities.create(ctxOf(req), req.body)));
  app.patch('/facilities/:id', { schema: { tags, summary: 'Edit a facility', params: IdParam, body: S.UpdateFacilityBody } }, async (req) => facilities.update(ctxOf(req), req.params.id, req.body));

  // ---- hazards ----
  app.get('/hazards', { schema: { tags, summary: 'Hazards (安全隐患) in scope, by status, severity, facility or unit', querystring: S.HazardQuery } }, async (req) => {
    requirePermissionAnywhere(ctxOf(req).actor, 'hazard.read');
    return hazards.search(ctxOf(req), req.query);
  });
  app.get('/hazards/:id', { schema: { tags, summary: 'A hazard with its timeline', params: IdParam } }, async (req) => hazards.detail(ctxOf(req), req.params.id));
  app.post('/hazards', { schema: { tags, summary: 'Report a hazard found on patrol', body: S.CreateHazardBody } }, async (req, reply) => reply.status(201).send(await hazards.create(ctxOf(req), req.body)));
  app.patch('/hazards/:id', { schema: { tags, summary: 'Edit a hazard (not its status)', params: IdParam, body: S.UpdateHazardBody } }, async (req) => hazards.update(ctxOf(req), req.params.id, req.body));
  app.post('/hazards/:id/transition', { schema: { tags, summary: 'Move a hazard: open → rectifying → resolved → closed (resolved → rectifying when the fix did not hold)', params: IdParam, body: S.HazardTransitionBody } }, async (req) =>
    hazards.transition(ctxOf(req), req.params.id, req.body),
  );
}
