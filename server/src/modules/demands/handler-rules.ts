// The category → handler table per unit: "garbage in this community goes to the property company, safety
// to the grid, disputes to the council". Dispatch suggests the rule of the nearest unit up the tree for the
// case's category (then its top-level class, then the unit's catch-all); without one, the case's own grid.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import type { RequestContext } from '../../platform/context.ts';
import type { AppServices } from '../../platform/module.ts';
import { recordAudit } from '../../platform/audit.ts';
import { authorizeAt, hasPermissionAt, requirePermissionAnywhere } from '../../platform/access.ts';
import { NotFoundError, ValidationError } from '../../platform/errors.ts';
import { ctxOf, IdParam, Obj } from '../../platform/http.ts';
import { GridRepository } from '../grid/grid.repository.ts';
import { demandsContext } from './demands.context.ts';
import type { HandlerInput } from './demands.service.ts';
import { Handler, Id } from './demands.schema.ts';
import type { DemandSettings } from './settings.service.ts';

const UNIT = { 'zh-CN': '单元', en: 'Unit' };
const RULE = { 'zh-CN': '派单规则', en: 'Dispatch rule' };

type RuleRow = Awaited<ReturnType<HandlerRulesRepository['forUnits']>>[number];

export class HandlerRulesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  forUnits(unitIds: number[]) {
    if (!unitIds.length) return Promise.resolve([]);
    return this.db
      .selectFrom('demand_handler_rule as r')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'r.district_id').onRef('u.id', '=', 'r.unit_id'))
      .select(['r.district_id', 'r.id', 'r.unit_id', 'u.name as unit_name', 'u.path as unit_path', 'r.category_code', 'r.handler_type', 'r.handler_unit_id', 'r.member_id', 'r.linked_org_id', 'r.handler_name'])
      .where('r.unit_id', 'in', unitIds)
      .orderBy('u.depth', 'desc')
      .orderBy('r.category_code')
      .execute();
  }

  byId(id: number) {
    return this.db
      .selectFrom('demand_handler_rule as r')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'r.district_id').onRef('u.id', '=', 'r.unit_id'))
      .selectAll('r')
      .select('u.path as unit_path')
      .where('r.id', '=', id)
      .executeTakeFirst();
  }
}

function toHandler(r: Pick<RuleRow, 'handler_type' | 'handler_unit_id' | 'member_id' | 'linked_org_id' | 'handler_name'>): HandlerInput {
  switch (r.handler_type) {
    case 'member':
      return { type: 'member', memberId: Number(r.member_id) };
    case 'linked_org':
      return { type: 'linked_org', linkedOrgId: Number(r.linked_org_id) };
    case 'department':
    case 'council':
      return { type: r.handler_type, name: r.handler_name ?? '' };
    default:
      return { type: 'unit', unitId: Number(r.handler_unit_id) };
  }
}

export class HandlerRulesService {
  private readonly repo: HandlerRulesRepository;
  private readonly grid: GridRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly settings: DemandSettings,
  ) {
    this.repo = new HandlerRulesRepository(db);
    this.grid = new GridRepository(db);
  }

  /** The rules that apply at a unit: its own and its ancestors', nearest first. */
  async list(ctx: RequestContext, unitId: number) {
    const unit = await this.grid.unit(unitId);
    if (!unit || !hasPermissionAt(ctx.actor, 'demand.read', unit.path)) throw new NotFoundError(UNIT);
    const ids = unit.path.split('/').filter(Boolean).map(Number);
    const rows = await this.repo.forUnits(ids);
    return { items: rows.map((r) => ({ id: r.id, unitId: r.unit_id, unitName: r.unit_name, categoryCode: r.category_code, handler: toHandler(r), handlerName: r.handler_name, inherited: Number(r.unit_id) !== Number(unit.id) })) };
  }

  /** Sets the unit's rule for a category (null: its catch-all), replacing the one it had. */
  async set(ctx: RequestContext, input: { unitId: number; categoryCode: string | null; handler: HandlerInput }) {
    const unit = await this.grid.unit(input.unitId);
    if (!unit) throw new NotFoundError(UNIT);
    authorizeAt(ctx.actor, 'demand.dispatch', unit.path, UNIT, 'demand.read');
    if (input.categoryCode && !(await this.settings.category(input.categoryCode))) {
      throw new ValidationError({ 'zh-CN': `诉求类别“${input.categoryCode}”不存在`, en: `Demand category "${input.categoryCode}" does not exist` }, undefined, 'unknown_category');
    }
    const target = await this.resolveTarget(ctx, unit.district_id, unit.id, input.handler);
    return this.db.transaction().execute(async (trx) => {
      const before = await trx
        .selectFrom('demand_handler_rule')
        .selectAll()
        .where('district_id', '=', unit.district_id)
        .where('unit_id', '=', unit.id)
        .where((eb) => (input.categoryCode ? eb('category_code', '=', input.categoryCode) : eb('category_code', 'is', null)))
        .forUpdate()
        .executeTakeFirst();
      if (before) await trx.deleteFrom('demand_handler_rule').where('district_id', '=', before.district_id).where('id', '=', before.id).execute();
      const row = await trx
        .insertInto('demand_handler_rule')
        .values({ district_id: unit.district_id, unit_id: unit.id, category_code: input.categoryCode, ...target })
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, ctx, { action: 'demand_handler_rule.set', targetType: 'demand_handler_rule', targetId: row.id, unit: { district_id: unit.district_id, id: unit.id, path: unit.path }, before: before ?? null, after: row });
      return { id: row.id, unitId: row.unit_id, categoryCode: row.category_code, handler: toHandler(row), handlerName: row.handler_name };
    });
  }

  async remove(ctx: RequestContext, id: number) {
    const rule = await this.repo.byId(id);
    if (!rule) throw new NotFoundError(RULE);
    authorizeAt(ctx.actor, 'demand.dispatch', rule.unit_path, RULE, 'demand.read');
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('demand_handler_rule').where('district_id', '=', rule.district_id).where('id', '=', rule.id).execute();
      await recordAudit(trx, ctx, { action: 'demand_handler_rule.delete', targetType: 'demand_handler_rule', targetId: id, unit: { district_id: rule.district_id, id: rule.unit_id, path: rule.unit_path }, before: rule });
    });
  }

  /** The handler a dispatcher is offered for a case: the nearest rule for its category, class or catch-all. */
  async suggest(unitPath: string, homeUnitId: number, categoryCode: string): Promise<{ handler: HandlerInput; handlerName: string | null; ruleId: number | null; fromUnitId: number | null }> {
    const category = await this.settings.category(categoryCode);
    const wanted = [categoryCode, category?.parentCode ?? null, null];
    const ids = unitPath.split('/').filter(Boolean).map(Number);
    const rules = await this.repo.forUnits(ids);
    for (const unitId of [...ids].reverse()) {
      for (const code of wanted) {
        if (code === undefined) continue;
        const r = rules.find((x) => Number(x.unit_id) === unitId && x.category_code === code);
        if (r) return { handler: toHandler(r), handlerName: r.handler_name, ruleId: r.id, fromUnitId: r.unit_id };
      }
    }
    return { handler: { type: 'unit', unitId: homeUnitId }, handlerName: null, ruleId: null, fromUnitId: null };
  }

  /** A rule's target must exist and lie in the caller's dispatch scope, as a dispatch to it would. */
  private async resolveTarget(ctx: RequestContext, districtId: number, ruleUnitId: number, h: HandlerInput) {
    const unknown = (id: number) => new ValidationError({ 'zh-CN': `承办对象 ${id} 不存在`, en: `Handler ${id} does not exist` }, { id }, 'unknown_reference');
    switch (h.type) {
      case 'unit': {
        const u = await this.grid.unit(h.unitId);
        if (!u || u.district_id !== districtId || !hasPermissionAt(ctx.actor, 'demand.dispatch', u.path)) throw unknown(h.unitId);
        return { handler_type: 'unit', handler_unit_id: u.id, member_id: null, linked_org_id: null, handler_name: u.name };
      }
      case 'member': {
        const m = await this.db.selectFrom('party_member as m').innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'm.district_id').onRef('u.id', '=', 'm.unit_id')).select(['m.id', 'm.unit_id', 'u.path']).where('m.id', '=', h.memberId).where('m.district_id', '=', districtId).executeTakeFirst();
        if (!m || !hasPermissionAt(ctx.actor, 'demand.dispatch', m.path)) throw unknown(h.memberId);
        return { handler_type: 'member', handler_unit_id: m.unit_id, member_id: m.id, linked_org_id: null, handler_name: null };
      }
      case 'linked_org': {
        const o = await this.db.selectFrom('linked_org as o').innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'o.district_id').onRef('u.id', '=', 'o.unit_id')).select(['o.id', 'o.unit_id', 'o.name', 'u.path']).where('o.id', '=', h.linkedOrgId).where('o.district_id', '=', districtId).executeTakeFirst();
        if (!o || !hasPermissionAt(ctx.actor, 'demand.dispatch', o.path)) throw unknown(h.linkedOrgId);
        return { handler_type: 'linked_org', handler_unit_id: o.unit_id, member_id: null, linked_org_id: o.id, handler_name: o.name };
      }
      default: {
        const name = h.name.trim();
        if (!name) throw new ValidationError({ 'zh-CN': '请填写承办部门或议事会名称', en: 'Name the department or council' }, undefined, 'handler_name_required');
        // an outside department or council is recorded on the rule's own unit, whose dispatchers act for it
        return { handler_type: h.type, handler_unit_id: ruleUnitId, member_id: null, linked_org_id: null, handler_name: name };
      }
    }
  }
}

export function handlerRulesRoutes(base: FastifyInstance, services: AppServices) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { demands, settings } = demandsContext(services);
  const rules = new HandlerRulesService(services.db, settings);
  const tags = ['demands'];
  app.get('/demand-handler-rules', { schema: { tags, summary: 'The category → handler rules that apply at a unit (its own and inherited)', querystring: Obj({ unitId: Id }) } }, async (req) => {
    requirePermissionAnywhere(ctxOf(req).actor, 'demand.read');
    return rules.list(ctxOf(req), req.query.unitId);
  });
  app.put('/demand-handler-rules', { schema: { tags, summary: "Set a unit's handler for a category (categoryCode null: for every category without a rule)", body: Obj({ unitId: Id, categoryCode: Type.Union([Type.String({ pattern: '^[a-z][a-z0-9_]{1,39}$' }), Type.Null()]), handler: Handler }) } }, async (req) =>
    rules.set(ctxOf(req), req.body),
  );
  app.delete('/demand-handler-rules/:id', { schema: { tags, summary: 'Remove a rule', params: IdParam } }, async (req, reply) => {
    await rules.remove(ctxOf(req), req.params.id);
    return reply.status(204).send();
  });
  app.get('/demands/:id/suggested-handler', { schema: { tags, summary: 'The handler the rules suggest for a demand', params: IdParam } }, async (req) => {
    const d = await demands.caseFor(ctxOf(req), req.params.id);
    return rules.suggest(d.unit_path, d.home_unit_id, d.category_code);
  });
}
