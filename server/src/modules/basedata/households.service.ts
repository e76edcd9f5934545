// Households of the four kinds (户籍家庭户, 非户籍家庭户, 工商企业户, 社会组织), their members (residents)
// and their head, who must be one of the members.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import type { RequestContext } from '../../platform/context.ts';
import { recordAudit } from '../../platform/audit.ts';
import { authorizeAt, scopePaths } from '../../platform/access.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.ts';
import { maskFromParts, maskName } from '../../platform/crypto/mask.ts';
import { GridRepository } from '../grid/grid.repository.ts';
import { HouseholdsRepository, type HouseholdValues } from './households.repository.ts';
import { assertAtOrBelowGrid, filterUnit, inTransaction, unknownReference, visibleAt, writableUnit, type Tx } from './structures.shared.ts';

export const HOUSEHOLD_KINDS = ['registered_family', 'non_registered_family', 'business', 'social_org'] as const;
const HOUSEHOLD = { 'zh-CN': '住户', en: 'Household' };
const HOUSE = { 'zh-CN': '房屋', en: 'House' };
const RESIDENT = { 'zh-CN': '居民', en: 'Resident' };

export interface HouseholdInput {
  unitId: number;
  kind: (typeof HOUSEHOLD_KINDS)[number];
  name: string;
  code?: string | null;
  houseId?: number | null;
  address?: string | null;
}

type Row = NonNullable<Awaited<ReturnType<HouseholdsRepository['byId']>>>;

export function householdView(r: Row) {
  return {
    id: r.id,
    unitId: r.unit_id,
    unitName: r.unit_name,
    kind: r.kind,
    code: r.code,
    name: r.name,
    houseId: r.house_id,
    headResidentId: r.head_resident_id,
    address: r.address,
    sources: r.sources,
    archived: r.archived_at !== null,
  };
}

export class HouseholdsService {
  readonly repo: HouseholdsRepository;
  private readonly grid: GridRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date,
  ) {
    this.repo = new HouseholdsRepository(db);
    this.grid = new GridRepository(db);
  }

  private async householdFor(ctx: RequestContext, id: number, permission: 'household.read' | 'household.write', q: Kysely<Database> | Tx = this.db) {
    if (q !== this.db) await this.repo.lock(id, q);
    const r = await this.repo.byId(id, q);
    if (!r) throw new NotFoundError(HOUSEHOLD);
    authorizeAt(ctx.actor, permission, r.unit_path, HOUSEHOLD, 'household.read');
    return r;
  }

  private assertActive(r: Row) {
    if (r.archived_at) throw new ConflictError({ 'zh-CN': '住户已注销', en: 'The household is archived' }, 'archived');
  }

  /** The household with its members: names and masked phones for callers who may read those residents, masked names otherwise. */
  private async full(ctx: RequestContext, r: Row, q: Kysely<Database> | Tx = this.db) {
    const members = await this.repo.members(r.district_id, r.id, q);
    return {
      ...householdView(r),
      members: members.map((m) => {
        const readable = visibleAt(ctx, 'resident.read', m.unit_path);
        return {
          residentId: m.id,
          name: readable ? m.name : maskName(m.name),
          relationToHead: m.relation_to_head,
          isHead: m.id === r.head_resident_id,
          phone: readable && m.phone_cipher ? maskFromParts('phone', { head: m.phone_head ?? '', tail: m.phone_last4 ?? '' }) : null,
        };
      }),
    };
  }

  async detail(ctx: RequestContext, id: number) {
    return this.full(ctx, await this.householdFor(ctx, id, 'household.read'));
  }

  async search(ctx: RequestContext, f: { q?: string; unitId?: number; kind?: string; houseId?: number; includeArchived?: boolean; limit?: number; offset?: number }) {
    const unit = await filterUnit(this.grid, ctx, f.unitId, 'household.read');
    const rows = await this.repo.search({ paths: scopePaths(ctx.actor, 'household.read'), unitPath: unit?.path, q: f.q?.trim() || undefined, kind: f.kind, houseId: f.houseId, includeArchived: f.includeArchived, limit: f.limit ?? 50, offset: f.offset ?? 0 });
    return { items: rows.map(householdView) };
  }

  private async checkHouse(ctx: RequestContext, districtId: number, houseId: number | null | undefined, trx: Tx) {
    if (!houseId) return;
    const house = await this.repo.house(houseId, trx);
    if (!house || house.district_id !== districtId || house.archived_at || !visibleAt(ctx, 'house.read', house.unit_path)) throw unknownReference(HOUSE, houseId);
  }

  private async checkCode(districtId: number, code: string | null | undefined, exceptId: number | null, trx: Tx) {
    if (!code) return;
    const other = await this.repo.byCode(districtId, code, trx);
    if (other && other.id !== exceptId) throw new ConflictError({ 'zh-CN': `户编号“${code}”已存在`, en: `Household code "${code}" is already in use` }, 'duplicate_code');
  }

  async create(ctx: RequestContext, input: HouseholdInput, outer?: Tx) {
    return inTransaction(this.db, outer, async (trx) => {
      const unit = await writableUnit(this.grid, ctx, input.unitId, 'household.write', 'household.read', trx);
      await assertAtOrBelowGrid(trx, unit);
      const code = input.code?.trim() || null;
      await this.checkHouse(ctx, unit.district_id, input.houseId, trx);
      await this.checkCode(unit.district_id, code, null, trx);
      const source = `manual:${ctx.actor.username}`;
      const values: HouseholdValues = {
        unit_id: unit.id,
        kind: input.kind,
        code,
        name: input.name.trim(),
        house_id: input.houseId ?? null,
        head_resident_id: null,
        address: input.address?.trim() || null,
        sources: Object.fromEntries(Object.keys(input).filter((k) => k !== 'unitId').map((k) => [k, source])),
      };
      const { id } = await this.repo.insert(unit.district_id, values, trx);
      const view = householdView((await this.repo.byId(id, trx))!);
      await recordAudit(trx, ctx, { action: 'household.create', targetType: 'household', targetId: id, unit, after: view });
      return view;
    });
  }

  async update(ctx: RequestContext, id: number, patch: Partial<HouseholdInput>) {
    return this.db.transaction().execute(async (trx) => {
      const before = await this.householdFor(ctx, id, 'household.write', trx);
      this.assertActive(before);
      const source = `manual:${ctx.actor.username}`;
      const v: Partial<HouseholdValues> = {};
      if (patch.unitId !== undefined && patch.unitId !== before.unit_id) {
        const unit = await writableUnit(this.grid, ctx, patch.unitId, 'household.write', 'household.read', trx);
        if (unit.district_id !== before.district_id) throw unknownReference({ 'zh-CN': '单元', en: 'Unit' }, patch.unitId);
        await assertAtOrBelowGrid(trx, unit);
        v.unit_id = unit.id;
      }
      if (patch.kind !== undefined) v.kind = patch.kind;
      if (patch.name !== undefined) v.name = patch.name.trim();
      if (patch.code !== undefined) {
        v.code = patch.code?.trim() || null;
        await this.checkCode(before.district_id, v.code, id, trx);
      }
      if (patch.houseId !== undefined) {
        await this.checkHouse(ctx, before.district_id, patch.houseId, trx);
        v.house_id = patch.houseId;
      }
      if (patch.address !== undefined) v.address = patch.address?.trim() || null;
      v.sources = { ...before.sources, ...Object.fromEntries(Object.keys(patch).map((k) => [k, source])) };
      await this.repo.update(before.district_id, id, v, this.now(), trx);
      const after = householdView((await this.repo.byId(id, trx))!);
      await recordAudit(trx, ctx, { action: 'household.update', targetType: 'household', targetId: id, unit: { district_id: before.district_id, id: before.unit_id, path: before.unit_path }, before: householdView(before), after });
      return after;
    });
  }

  /** Archives an empty household; its 1+10 link ends with it. */
  async archive(ctx: RequestContext, id: number) {
    return this.db.transaction().execute(async (trx) => {
      const before = await this.householdFor(ctx, id, 'household.write', trx);
      if (before.archived_at) return householdView(before);
      if ((await this.repo.members(before.district_id, id, trx)).length) {
        throw new ConflictError({ 'zh-CN': '住户仍有成员，请先移出成员', en: 'The household still has members; remove them first' }, 'household_not_empty');
      }
      const unit = { district_id: before.district_id, id: before.unit_id, path: before.unit_path };
      const link = await this.repo.removeContactLink(before.district_id, id, trx);
      if (link) await recordAudit(trx, ctx, { action: 'contact.unlink', targetType: 'household', targetId: id, unit, before: { memberId: link.member_id }, after: { reason: 'household.archive' } });
      await this.repo.update(before.district_id, id, { archived_at: this.now(), head_resident_id: null }, this.now(), trx);
      const after = householdView((await this.repo.byId(id, trx))!);
      await recordAudit(trx, ctx, { action: 'household.archive', targetType: 'household', targetId: id, unit, before: householdView(before), after });
      return after;
    });
  }

  async addMember(ctx: RequestContext, id: number, input: { residentId: number; relationToHead?: string | null; head?: boolean }, outer?: Tx) {
    return inTransaction(this.db, outer, async (trx) => {
      const h = await this.householdFor(ctx, id, 'household.write', trx);
      this.assertActive(h);
      const r = await this.repo.resident(input.residentId, trx);
      if (!r || r.district_id !== h.district_id || r.archived_at || !visibleAt(ctx, 'resident.read', r.unit_path)) throw unknownReference(RESIDENT, input.residentId);
      if (r.household_id !== null && r.household_id !== id) {
        throw new ConflictError({ 'zh-CN': '该居民已属于另一住户，请先从原住户移出', en: 'The resident belongs to another household; remove them there first' }, 'in_other_household');
      }
      await this.repo.setResidentHousehold(h.district_id, r.id, id, input.relationToHead, this.now(), trx);
      if (input.head) await this.repo.update(h.district_id, id, { head_resident_id: r.id }, this.now(), trx);
      const unit = { district_id: h.district_id, id: h.unit_id, path: h.unit_path };
      await recordAudit(trx, ctx, { action: 'household.add_member', targetType: 'household', targetId: id, unit, after: { residentId: r.id, relationToHead: input.relationToHead ?? null, head: !!input.head } });
      return this.full(ctx, (await this.repo.byId(id, trx))!, trx);
    });
  }

  /** Removing the head leaves the household without one until another member is named. */
  async removeMember(ctx: RequestContext, id: number, residentId: number) {
    return this.db.transaction().execute(async (trx) => {
      const h = await this.householdFor(ctx, id, 'household.write', trx);
      this.assertActive(h);
      const r = await this.repo.resident(residentId, trx);
      if (!r || r.household_id !== id) throw new NotFoundError({ 'zh-CN': '住户成员', en: 'Household member' });
      await this.repo.setResidentHousehold(h.district_id, residentId, null, undefined, this.now(), trx);
      const wasHead = h.head_resident_id === residentId;
      if (wasHead) await this.repo.update(h.district_id, id, { head_resident_id: null }, this.now(), trx);
      await recordAudit(trx, ctx, { action: 'household.remove_member', targetType: 'household', targetId: id, unit: { district_id: h.district_id, id: h.unit_id, path: h.unit_path }, before: { residentId, head: wasHead } });
      return this.full(ctx, (await this.repo.byId(id, trx))!, trx);
    });
  }

  async setHead(ctx: RequestContext, id: number, residentId: number | null) {
    return this.db.transaction().execute(async (trx) => {
      const h = await this.householdFor(ctx, id, 'household.write', trx);
      this.assertActive(h);
      if (residentId !== null) {
        const r = await this.repo.resident(residentId, trx);
        if (!r || r.household_id !== id || r.archived_at) {
          throw new ValidationError({ 'zh-CN': '户主须是本户成员', en: 'The head must be a member of the household' }, { residentId }, 'head_not_member');
        }
      }
      await this.repo.update(h.district_id, id, { head_resident_id: residentId }, this.now(), trx);
      await recordAudit(trx, ctx, { action: 'household.set_head', targetType: 'household', targetId: id, unit: { district_id: h.district_id, id: h.unit_id, path: h.unit_path }, before: { headResidentId: h.head_resident_id }, after: { headResidentId: residentId } });
      return this.full(ctx, (await this.repo.byId(id, trx))!, trx);
    });
  }
}
