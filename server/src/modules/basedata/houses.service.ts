// Houses (dwellings) placed in the tree: a grid or a unit inside one; one live house per address in a
// district; the exclusive floor area owners' votes are weighted by; owners with shares summing to at most 1.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import type { RequestContext } from '../../platform/context.ts';
import { recordAudit } from '../../platform/audit.ts';
import { authorizeAt, scopePaths } from '../../platform/access.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.ts';
import { maskName } from '../../platform/crypto/mask.ts';
import { GridRepository } from '../grid/grid.repository.ts';
import { HousesRepository, type HouseValues } from './houses.repository.ts';
import { assertAtOrBelowGrid, filterUnit, inTransaction, unknownReference, visibleAt, writableUnit, type Tx } from './structures.shared.ts';

export const HOUSE_USAGES = ['residential', 'commercial', 'office', 'mixed', 'other'] as const;
const HOUSE = { 'zh-CN': '房屋', en: 'House' };
const RESIDENT = { 'zh-CN': '居民', en: 'Resident' };
/** Shares are stored with six decimals; sums are checked in millionths so 1/3 + 1/3 + 1/3 is never "1.0000001". */
const SHARE_SCALE = 1_000_000;

export interface HouseInput {
  unitId: number;
  address: string;
  building?: string | null;
  unitNo?: string | null;
  room?: string | null;
  exclusiveArea?: number | null;
  usage?: (typeof HOUSE_USAGES)[number];
  lng?: number | null;
  lat?: number | null;
}

type Row = NonNullable<Awaited<ReturnType<HousesRepository['byId']>>>;

export function houseView(r: Row) {
  return {
    id: r.id,
    unitId: r.unit_id,
    unitName: r.unit_name,
    address: r.address,
    building: r.building,
    unitNo: r.unit_no,
    room: r.room,
    exclusiveArea: r.exclusive_area,
    usage: r.usage,
    lng: r.lng,
    lat: r.lat,
    sources: r.sources,
    archived: r.archived_at !== null,
  };
}

/** '0.333333' → 333333; refuses more than six decimals rather than rounding someone's share. */
export function shareMillionths(share: number): number | null {
  if (!Number.isFinite(share) || share <= 0 || share > 1) return null;
  const scaled = Math.round(share * SHARE_SCALE);
  return Math.abs(scaled - share * SHARE_SCALE) < 1e-6 ? scaled : null;
}
const shareText = (millionths: number) => (millionths / SHARE_SCALE).toFixed(6);

export class HousesService {
  readonly repo: HousesRepository;
  private readonly grid: GridRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date,
  ) {
    this.repo = new HousesRepository(db);
    this.grid = new GridRepository(db);
  }

  private async houseFor(ctx: RequestContext, id: number, permission: 'house.read' | 'house.write', q: Kysely<Database> | Tx = this.db) {
    if (q !== this.db) await this.repo.lock(id, q);
    const r = await this.repo.byId(id, q);
    if (!r) throw new NotFoundError(HOUSE);
    authorizeAt(ctx.actor, permission, r.unit_path, HOUSE, 'house.read');
    return r;
  }

  private async withOwners(ctx: RequestContext, r: Row, q: Kysely<Database> | Tx = this.db) {
    const owners = await this.repo.owners(r.district_id, r.id, q);
    const total = owners.reduce((s, o) => s + Math.round(Number(o.share) * SHARE_SCALE), 0);
    return {
      ...houseView(r),
      // names in full for those who may read the owner's resident record, masked otherwise
      owners: owners.map((o) => ({ residentId: o.resident_id, name: visibleAt(ctx, 'resident.read', o.resident_unit_path) ? o.name : maskName(o.name), share: o.share })),
      ownerShareTotal: shareText(total),
    };
  }

  async detail(ctx: RequestContext, id: number) {
    return this.withOwners(ctx, await this.houseFor(ctx, id, 'house.read'));
  }

  async search(ctx: RequestContext, f: { q?: string; unitId?: number; usage?: string; includeArchived?: boolean; limit?: number; offset?: number }) {
    const unit = await filterUnit(this.grid, ctx, f.unitId, 'house.read');
    const rows = await this.repo.search({ paths: scopePaths(ctx.actor, 'house.read'), unitPath: unit?.path, q: f.q?.trim() || undefined, usage: f.usage, includeArchived: f.includeArchived, limit: f.limit ?? 50, offset: f.offset ?? 0 });
    return { items: rows.map(houseView) };
  }

  private values(input: Partial<HouseInput>, source: string): Partial<HouseValues> {
    const v: Partial<HouseValues> = {};
    const sources: Record<string, string> = {};
    const set = <K extends keyof HouseValues>(k: K, value: HouseValues[K], field: string) => {
      v[k] = value;
      sources[field] = source;
    };
    if (input.address !== undefined) set('address', input.address.trim(), 'address');
    if (input.building !== undefined) set('building', input.building?.trim() || null, 'building');
    if (input.unitNo !== undefined) set('unit_no', input.unitNo?.trim() || null, 'unitNo');
    if (input.room !== undefined) set('room', input.room?.trim() || null, 'room');
    if (input.exclusiveArea !== undefined) {
      const area = input.exclusiveArea;
      if (area !== null && !(Number.isFinite(area) && area > 0 && area < 1e8 && Math.abs(Math.round(area * 100) - area * 100) < 1e-6)) {
        throw new ValidationError({ 'zh-CN': '专有部分面积须为正数，最多两位小数', en: 'The exclusive floor area must be positive, with at most two decimals' }, undefined, 'invalid_area');
      }
      set('exclusive_area', input.exclusiveArea === null ? null : input.exclusiveArea.toFixed(2), 'exclusiveArea');
    }
    if (input.usage !== undefined) set('usage', input.usage, 'usage');
    if (input.lng !== undefined || input.lat !== undefined) {
      if ((input.lng ?? null) === null !== ((input.lat ?? null) === null)) {
        throw new ValidationError({ 'zh-CN': '经度与纬度须同时给出或同时为空', en: 'Give longitude and latitude together, or neither' }, undefined, 'invalid_location');
      }
      set('lng', input.lng ?? null, 'location');
      set('lat', input.lat ?? null, 'location');
    }
    v.sources = sources;
    return v;
  }

  private async assertAddressFree(districtId: number, address: string, exceptId: number | null, trx: Tx) {
    const other = await this.repo.byAddress(districtId, address, trx);
    if (other && other.id !== exceptId) throw new ConflictError({ 'zh-CN': `地址“${address}”已登记房屋`, en: `A house is already registered at "${address}"` }, 'duplicate_address');
  }

  async create(ctx: RequestContext, input: HouseInput, outer?: Tx) {
    return inTransaction(this.db, outer, async (trx) => {
      const unit = await writableUnit(this.grid, ctx, input.unitId, 'house.write', 'house.read', trx);
      await assertAtOrBelowGrid(trx, unit);
      const v = this.values(input, `manual:${ctx.actor.username}`);
      await this.assertAddressFree(unit.district_id, v.address!, null, trx);
      const { id } = await this.repo.insert(
        unit.district_id,
        { unit_id: unit.id, address: v.address!, building: v.building ?? null, unit_no: v.unit_no ?? null, room: v.room ?? null, exclusive_area: v.exclusive_area ?? null, usage: v.usage ?? 'residential', lng: v.lng ?? null, lat: v.lat ?? null, sources: v.sources ?? {} },
        trx,
      );
      const view = houseView((await this.repo.byId(id, trx))!);
      await recordAudit(trx, ctx, { action: 'house.create', targetType: 'house', targetId: id, unit, after: view });
      return view;
    });
  }

  async update(ctx: RequestContext, id: number, patch: Partial<HouseInput>) {
    return this.db.transaction().execute(async (trx) => {
      const before = await this.houseFor(ctx, id, 'house.write', trx);
      if (before.archived_at) throw new ConflictError({ 'zh-CN': '房屋已注销', en: 'The house is archived' }, 'archived');
      const v = this.values(patch, `manual:${ctx.actor.username}`);
      if (patch.unitId !== undefined && patch.unitId !== before.unit_id) {
        const unit = await writableUnit(this.grid, ctx, patch.unitId, 'house.write', 'house.read', trx);
        if (unit.district_id !== before.district_id) throw unknownReference({ 'zh-CN': '单元', en: 'Unit' }, patch.unitId);
        await assertAtOrBelowGrid(trx, unit);
        v.unit_id = unit.id;
      }
      if (v.address !== undefined && v.address !== before.address) await this.assertAddressFree(before.district_id, v.address, id, trx);
      v.sources = { ...before.sources, ...(v.sources ?? {}) };
      await this.repo.update(before.district_id, id, v, this.now(), trx);
      const after = houseView((await this.repo.byId(id, trx))!);
      await recordAudit(trx, ctx, { action: 'house.update', targetType: 'house', targetId: id, unit: { district_id: before.district_id, id: before.unit_id, path: before.unit_path }, before: houseView(before), after });
      return after;
    });
  }

  /** Houses are archived, not deleted: owners, residents and households keep pointing at them. */
  async archive(ctx: RequestContext, id: number) {
    return this.db.transaction().execute(async (trx) => {
      const before = await this.houseFor(ctx, id, 'house.write', trx);
      if (before.archived_at) return houseView(before);
      if ((await this.repo.activeHouseholds(before.district_id, id, trx)) > 0) {
        throw new ConflictError({ 'zh-CN': '仍有住户登记在此房屋，不能注销', en: 'Households are still registered at this house' }, 'house_in_use');
      }
      await this.repo.update(before.district_id, id, { archived_at: this.now() }, this.now(), trx);
      const after = houseView((await this.repo.byId(id, trx))!);
      await recordAudit(trx, ctx, { action: 'house.archive', targetType: 'house', targetId: id, unit: { district_id: before.district_id, id: before.unit_id, path: before.unit_path }, before: houseView(before), after });
      return after;
    });
  }

  /** Replaces the owner list. Shares are fractions of the dwelling and together at most 1 (part may be unregistered). */
  async setOwners(ctx: RequestContext, id: number, owners: { residentId: number; share: number }[], outer?: Tx) {
    return inTransaction(this.db, outer, async (trx) => {
      const house = await this.houseFor(ctx, id, 'house.write', trx);
      if (house.archived_at) throw new ConflictError({ 'zh-CN': '房屋已注销', en: 'The house is archived' }, 'archived');
      const seen = new Set<number>();
      let total = 0;
      const rows: { residentId: number; share: string }[] = [];
      for (const o of owners) {
        if (seen.has(o.residentId)) throw new ValidationError({ 'zh-CN': `业主 ${o.residentId} 重复`, en: `Owner ${o.residentId} is listed twice` }, undefined, 'duplicate_owner');
        seen.add(o.residentId);
        const m = shareMillionths(o.share);
        if (m === null) throw new ValidationError({ 'zh-CN': '份额须大于 0、不超过 1，最多六位小数', en: 'A share must be above 0 and at most 1, with at most six decimals' }, undefined, 'invalid_share');
        total += m;
        rows.push({ residentId: o.residentId, share: shareText(m) });
      }
      if (total > SHARE_SCALE) throw new ValidationError({ 'zh-CN': `份额合计 ${shareText(total)} 超过 1`, en: `The shares add up to ${shareText(total)}, more than 1` }, undefined, 'shares_exceed_one');
      const residents = new Map((await this.repo.residentsByIds([...seen], trx)).map((r) => [r.id, r]));
      for (const residentId of seen) {
        const r = residents.get(residentId);
        if (!r || r.district_id !== house.district_id || r.archived_at || !visibleAt(ctx, 'resident.read', r.unit_path)) throw unknownReference(RESIDENT, residentId);
      }
      const before = await this.withOwners(ctx, house, trx);
      await this.repo.replaceOwners(house.district_id, id, rows, trx);
      const after = await this.withOwners(ctx, house, trx);
      await recordAudit(trx, ctx, {
        action: 'house.owners',
        targetType: 'house',
        targetId: id,
        unit: { district_id: house.district_id, id: house.unit_id, path: house.unit_path },
        before: before.owners.map((o) => ({ residentId: o.residentId, share: o.share })),
        after: after.owners.map((o) => ({ residentId: o.residentId, share: o.share })),
      });
      return after;
    });
  }
}
