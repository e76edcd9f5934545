// Unit kinds and staff roles: copied from the preset at `init`, editable by a district admin afterwards.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/types.ts';
import type { RequestContext } from '../../platform/context.ts';
import { recordAudit } from '../../platform/audit.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.ts';
import { requirePermissionAnywhere } from '../../platform/access.ts';
import { PARTY_ORG_KINDS, type Label, type Preset } from './preset.ts';
import { GridRepository } from './grid.repository.ts';

const KIND = { 'zh-CN': '单元类型', en: 'Unit kind' };
const ROLE = { 'zh-CN': '岗位', en: 'Role' };

export interface KindView {
  code: string;
  name: Label;
  isRoot: boolean;
  isDistrict: boolean;
  isGrid: boolean;
  requiresPartyOrg: boolean;
  partyOrgKinds: string[];
  children: string[];
  roles: { code: string; name: Label; required: boolean; leader: boolean; maxHolders: number | null }[];
}

export class KindsService {
  private readonly repo: GridRepository;
  constructor(private readonly db: Kysely<Database>) {
    this.repo = new GridRepository(db);
  }

  /** Writes a preset's grammar into an empty deployment. */
  async applyPreset(trx: Transaction<Database>, ctx: RequestContext, preset: Preset) {
    const existing = await trx.selectFrom('deployment').select('preset_id').executeTakeFirst();
    if (existing) throw new ConflictError({ 'zh-CN': `已经用预设“${existing.preset_id}”初始化过`, en: `Already initialised with preset "${existing.preset_id}"` }, 'already_initialised');
    await trx.insertInto('deployment').values({ preset_id: preset.id, preset: JSON.stringify(preset) }).execute();
    let order = 0;
    for (const kind of preset.unitKinds) {
      await this.repo.insertKind(
        {
          code: kind.code,
          name_zh: kind.name['zh-CN'],
          name_en: kind.name.en,
          is_root: preset.rootKinds.includes(kind.code),
          is_district: kind.code === preset.districtKind,
          is_grid: kind.isGrid ?? false,
          requires_party_org: kind.requiresPartyOrg ?? true,
          party_org_kinds: kind.partyOrgKinds ?? [...PARTY_ORG_KINDS],
          sort_order: order++,
        },
        trx,
      );
    }
    for (const kind of preset.unitKinds) {
      await this.repo.replaceKindChildren(kind.code, kind.children, trx);
      let roleOrder = 0;
      for (const role of kind.roles) {
        await this.repo.upsertRole(
          { kind_code: kind.code, code: role.code, name_zh: role.name['zh-CN'], name_en: role.name.en, required: role.required ?? false, leader: role.leader ?? false, max_holders: role.maxHolders ?? null, sort_order: roleOrder++ },
          trx,
        );
      }
    }
    await recordAudit(trx, ctx, { action: 'preset.apply', targetType: 'deployment', targetId: preset.id, after: { preset: preset.id, kinds: preset.unitKinds.length } });
  }

  async deployment() {
    const row = await this.db.selectFrom('deployment').select(['preset_id', 'preset']).executeTakeFirst();
    return row ? { presetId: row.preset_id, preset: row.preset as Preset } : null;
  }

  async districtKind(q: Kysely<Database> | Transaction<Database> = this.db): Promise<string> {
    const row = await q.selectFrom('unit_kind').select('code').where('is_district', '=', true).executeTakeFirst();
    return row?.code ?? '';
  }

  async list(): Promise<KindView[]> {
    const [kinds, children, roles] = await Promise.all([this.repo.kinds(), this.repo.kindChildren(), this.repo.roles()]);
    return kinds.map((k) => ({
      code: k.code,
      name: { 'zh-CN': k.name_zh, en: k.name_en },
      isRoot: k.is_root,
      isDistrict: k.is_district,
      isGrid: k.is_grid,
      requiresPartyOrg: k.requires_party_org,
      partyOrgKinds: k.party_org_kinds,
      children: children.filter((c) => c.parent_code === k.code).map((c) => c.child_code),
      roles: roles
        .filter((r) => r.kind_code === k.code)
        .map((r) => ({ code: r.code, name: { 'zh-CN': r.name_zh, en: r.name_en }, required: r.required, leader: r.leader, maxHolders: r.max_holders })),
    }));
  }

  async updateKind(
    ctx: RequestContext,
    code: string,
    patch: { name?: Label; isGrid?: boolean; requiresPartyOrg?: boolean; partyOrgKinds?: string[]; children?: string[] },
  ): Promise<KindView> {
    requirePermissionAnywhere(ctx.actor, 'preset.write');
    await this.db.transaction().execute(async (trx) => {
      const before = await this.repo.kind(code, trx);
      if (!before) throw new NotFoundError(KIND);
      const beforeChildren = (await this.repo.kindChildren(trx)).filter((c) => c.parent_code === code).map((c) => c.child_code);
      if (patch.children) {
        const known = new Set((await this.repo.kinds(trx)).map((k) => k.code));
        const unknown = patch.children.filter((c) => !known.has(c));
        if (unknown.length) throw new ValidationError({ 'zh-CN': `未知的下级类型：${unknown.join('、')}`, en: `Unknown child kinds: ${unknown.join(', ')}` });
        for (const removed of beforeChildren.filter((c) => !patch.children!.includes(c))) {
          const n = await this.repo.countPlacements(code, removed, trx);
          if (n > 0) {
            throw new ConflictError(
              { 'zh-CN': `已有 ${n} 个“${removed}”单元位于“${code}”之下，不能取消此层级关系`, en: `${n} unit(s) of kind "${removed}" sit under "${code}"; the rule cannot be removed` },
              'kind_in_use',
            );
          }
        }
        await this.repo.replaceKindChildren(code, [...new Set(patch.children)], trx);
      }
      const values: Parameters<GridRepository['updateKind']>[1] = {};
      if (patch.name) Object.assign(values, { name_zh: patch.name['zh-CN'], name_en: patch.name.en });
      if (patch.isGrid !== undefined) values.is_grid = patch.isGrid;
      if (patch.requiresPartyOrg !== undefined) values.requires_party_org = patch.requiresPartyOrg;
      if (patch.partyOrgKinds) values.party_org_kinds = [...new Set(patch.partyOrgKinds)];
      const after = Object.keys(values).length ? await this.repo.updateKind(code, values, trx) : before;
      await recordAudit(trx, ctx, {
        action: 'unit_kind.update',
        targetType: 'unit_kind',
        targetId: code,
        before: { ...before, children: beforeChildren },
        after: { ...after, children: patch.children ?? beforeChildren },
      });
    });
    return (await this.list()).find((k) => k.code === code)!;
  }

  async createKind(ctx: RequestContext, input: { code: string; name: Label; parents: string[]; isGrid?: boolean; requiresPartyOrg?: boolean; partyOrgKinds?: string[] }): Promise<KindView> {
    requirePermissionAnywhere(ctx.actor, 'preset.write');
    await this.db.transaction().execute(async (trx) => {
      if (await this.repo.kind(input.code, trx)) throw new ConflictError({ 'zh-CN': `单元类型代码“${input.code}”已存在`, en: `Unit kind code "${input.code}" already exists` }, 'duplicate');
      const kinds = await this.repo.kinds(trx);
      const unknown = input.parents.filter((p) => !kinds.some((k) => k.code === p));
      if (unknown.length) throw new ValidationError({ 'zh-CN': `未知的上级类型：${unknown.join('、')}`, en: `Unknown parent kinds: ${unknown.join(', ')}` });
      await this.repo.insertKind(
        {
          code: input.code,
          name_zh: input.name['zh-CN'],
          name_en: input.name.en,
          is_root: false,
          is_district: false,
          is_grid: input.isGrid ?? false,
          requires_party_org: input.requiresPartyOrg ?? true,
          party_org_kinds: input.partyOrgKinds ?? [...PARTY_ORG_KINDS],
          sort_order: kinds.length,
        },
        trx,
      );
      const allChildren = await this.repo.kindChildren(trx);
      for (const parent of input.parents) {
        const current = allChildren.filter((c) => c.parent_code === parent).map((c) => c.child_code);
        await this.repo.replaceKindChildren(parent, [...current, input.code], trx);
      }
      await recordAudit(trx, ctx, { action: 'unit_kind.create', targetType: 'unit_kind', targetId: input.code, after: input });
    });
    return (await this.list()).find((k) => k.code === input.code)!;
  }

  async upsertRole(ctx: RequestContext, kindCode: string, input: { code: string; name: Label; required?: boolean; leader?: boolean; maxHolders?: number | null }) {
    requirePermissionAnywhere(ctx.actor, 'preset.write');
    return this.db.transaction().execute(async (trx) => {
      if (!(await this.repo.kind(kindCode, trx))) throw new NotFoundError(KIND);
      const before = await this.repo.role(kindCode, input.code, trx);
      // A kind has one leader post; naming a new leader demotes the old one.
      if (input.leader) await this.repo.clearLeader(kindCode, input.code, trx);
      const after = await this.repo.upsertRole(
        {
          kind_code: kindCode,
          code: input.code,
          name_zh: input.name['zh-CN'],
          name_en: input.name.en,
          required: input.required ?? before?.required ?? false,
          leader: input.leader ?? before?.leader ?? false,
          max_holders: input.maxHolders === undefined ? (before?.max_holders ?? null) : input.maxHolders,
          sort_order: before?.sort_order ?? (await this.repo.rolesOfKind(kindCode, trx)).length,
        },
        trx,
      );
      await recordAudit(trx, ctx, { action: before ? 'staff_role.update' : 'staff_role.create', targetType: 'staff_role', targetId: `${kindCode}.${input.code}`, before, after });
      return { code: after.code, name: { 'zh-CN': after.name_zh, en: after.name_en }, required: after.required, leader: after.leader, maxHolders: after.max_holders };
    });
  }

  async deleteRole(ctx: RequestContext, kindCode: string, code: string) {
    requirePermissionAnywhere(ctx.actor, 'preset.write');
    await this.db.transaction().execute(async (trx) => {
      const before = await this.repo.role(kindCode, code, trx);
      if (!before) throw new NotFoundError(ROLE);
      const posts = await this.repo.countPostsOfRole(kindCode, code, trx);
      if (posts > 0) {
        throw new ConflictError({ 'zh-CN': `该岗位有 ${posts} 条任职记录，不能删除；可改为非必设`, en: `${posts} post record(s) use this role; it cannot be deleted (make it optional instead)` }, 'role_in_use');
      }
      await this.repo.deleteRole(kindCode, code, trx);
      await recordAudit(trx, ctx, { action: 'staff_role.delete', targetType: 'staff_role', targetId: `${kindCode}.${code}`, before });
    });
  }
}
