// Facilities (设施) found and kept on patrol: hydrants, lifts, cameras, gas points… placed on any unit in scope.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import type { RequestContext } from '../../platform/context.ts';
import { recordAudit } from '../../platform/audit.ts';
import { authorizeAt, scopePaths } from '../../platform/access.ts';
import { NotFoundError, ValidationError } from '../../platform/errors.ts';
import { GridRepository } from '../grid/grid.repository.ts';
import { FacilitiesRepository, type FacilityValues } from './facilities.repository.ts';
import { filterUnit, inTransaction, unknownReference, writableUnit, type Tx } from './structures.shared.ts';

export const FACILITY_STATUSES = ['in_use', 'out_of_service', 'removed'] as const;
const FACILITY = { 'zh-CN': '设施', en: 'Facility' };

export interface FacilityInput {
  unitId: number;
  kind: string;
  name: string;
  address?: string | null;
  lng?: number | null;
  lat?: number | null;
  status?: (typeof FACILITY_STATUSES)[number];
  note?: string | null;
}

type Row = NonNullable<Awaited<ReturnType<FacilitiesRepository['byId']>>>;

export const facilityView = (r: Row) => ({
  id: r.id,
  unitId: r.unit_id,
  unitName: r.unit_name,
  kind: r.kind,
  name: r.name,
  address: r.address,
  lng: r.lng,
  lat: r.lat,
  status: r.status,
  note: r.note,
});

export function checkLocation(lng: number | null | undefined, lat: number | null | undefined) {
  if ((lng ?? null) === null !== ((lat ?? null) === null)) {
    throw new ValidationError({ 'zh-CN': '经度与纬度须同时给出或同时为空', en: 'Give longitude and latitude together, or neither' }, undefined, 'invalid_location');
  }
}

export class FacilitiesService {
  readonly repo: FacilitiesRepository;
  private readonly grid: GridRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date,
  ) {
    this.repo = new FacilitiesRepository(db);
    this.grid = new GridRepository(db);
  }

  async facilityFor(ctx: RequestContext, id: number, permission: 'facility.read' | 'facility.write', q: Kysely<Database> | Tx = this.db) {
    if (q !== this.db) await this.repo.lock(id, q);
    const r = await this.repo.byId(id, q);
    if (!r) throw new NotFoundError(FACILITY);
    authorizeAt(ctx.actor, permission, r.unit_path, FACILITY, 'facility.read');
    return r;
  }

  async detail(ctx: RequestContext, id: number) {
    return facilityView(await this.facilityFor(ctx, id, 'facility.read'));
  }

  async search(ctx: RequestContext, f: { q?: string; unitId?: number; kind?: string; status?: string; limit?: number; offset?: number }) {
    const unit = await filterUnit(this.grid, ctx, f.unitId, 'facility.read');
    const rows = await this.repo.search({ paths: scopePaths(ctx.actor, 'facility.read'), unitPath: unit?.path, q: f.q?.trim() || undefined, kind: f.kind, status: f.status, limit: f.limit ?? 50, offset: f.offset ?? 0 });
    return { items: rows.map(facilityView) };
  }

  async create(ctx: RequestContext, input: FacilityInput, outer?: Tx) {
    return inTransaction(this.db, outer, async (trx) => {
      const unit = await writableUnit(this.grid, ctx, input.unitId, 'facility.write', 'facility.read', trx);
      checkLocation(input.lng, input.lat);
      const values: FacilityValues = {
        unit_id: unit.id,
        kind: input.kind,
        name: input.name.trim(),
        address: input.address?.trim() || null,
        lng: input.lng ?? null,
        lat: input.lat ?? null,
        status: input.status ?? 'in_use',
        note: input.note ?? null,
      };
      const { id } = await this.repo.insert(unit.district_id, values, trx);
      const view = facilityView((await this.repo.byId(id, trx))!);
      await recordAudit(trx, ctx, { action: 'facility.create', targetType: 'facility', targetId: id, unit, after: view });
      return view;
    });
  }

  async update(ctx: RequestContext, id: number, patch: Partial<FacilityInput>) {
    return this.db.transaction().execute(async (trx) => {
      const before = await this.facilityFor(ctx, id, 'facility.write', trx);
      const v: Partial<FacilityValues> = {};
      if (patch.unitId !== undefined && patch.unitId !== before.unit_id) {
        const unit = await writableUnit(this.grid, ctx, patch.unitId, 'facility.write', 'facility.read', trx);
        if (unit.district_id !== before.district_id) throw unknownReference({ 'zh-CN': '单元', en: 'Unit' }, patch.unitId);
        v.unit_id = unit.id;
      }
      if (patch.lng !== undefined || patch.lat !== undefined) {
        const lng = patch.lng !== undefined ? patch.lng : before.lng;
        const lat = patch.lat !== undefined ? patch.lat : before.lat;
        checkLocation(lng, lat);
        v.lng = lng;
        v.lat = lat;
      }
      if (patch.kind !== undefined) v.kind = patch.kind;
      if (patch.name !== undefined) v.name = patch.name.trim();
      if (patch.address !== undefined) v.address = patch.address?.trim() || null;
      if (patch.status !== undefined) v.status = patch.status;
      if (patch.note !== undefined) v.note = patch.note;
      await this.repo.update(before.district_id, id, v, this.now(), trx);
      const after = facilityView((await this.repo.byId(id, trx))!);
      await recordAudit(trx, ctx, { action: 'facility.update', targetType: 'facility', targetId: id, unit: { district_id: before.district_id, id: before.unit_id, path: before.unit_path }, before: facilityView(before), after });
      return after;
    });
  }
}
