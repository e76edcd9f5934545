// Residents: scoped reads with personal numbers masked by default, plaintext only through an expiring,
// audited reveal with a stated purpose, sensitive tags only for the roles allowed to see them.
import type { Kysely, Transaction } from 'kysely';
import { pinyin } from 'pinyin-pro';
import type { Database } from '../../db/types.ts';
import type { RequestContext } from '../../platform/context.ts';
import { recordAudit } from '../../platform/audit.ts';
import { authorizeAt, hasPermissionAt, scopePaths } from '../../platform/access.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.ts';
import { businessDate, isCalendarDate } from '../../platform/clock.ts';
import type { PiiCipher } from '../../platform/crypto/pii.ts';
import type { PiiTableSpec } from '../../platform/crypto/rotate.ts';
import { validateIdNumber } from '../../platform/crypto/id-number.ts';
import { validatePhone } from '../../platform/crypto/phone.ts';
import { maskFromParts } from '../../platform/crypto/mask.ts';
import { GridRepository } from '../grid/grid.repository.ts';
import { ResidentsRepository, type ResidentValues } from './residents.repository.ts';

export const SPECIAL_TAGS = ['elderly_alone', 'disabled', 'veteran', 'martyr_family', 'child', 'minimum_income'] as const;
export const SENSITIVE_TAGS = ['community_correction', 'released_prisoner', 'severe_mental_disorder', 'petitioner'] as const;
export const REGISTRATIONS = ['registered', 'non_registered', 'floating', 'overseas', 'other'] as const;
export const PII_FIELDS = ['id_number', 'phone'] as const;

/** Where residents' sealed numbers live, for `keys rotate` / `keys status` (re-encryption under a new key). */
export const RESIDENT_PII_TABLE: PiiTableSpec = {
  table: 'resident',
  idColumns: ['district_id', 'id'],
  fields: [
    { cipherColumn: 'id_cipher', hashColumn: 'id_hash', field: 'resident.id_number', kind: 'id_number' },
    { cipherColumn: 'phone_cipher', hashColumn: 'phone_hash', field: 'resident.phone', kind: 'phone' },
  ],
};
export type PiiField = (typeof PII_FIELDS)[number];

const RESIDENT = { 'zh-CN': '居民', en: 'Resident' };
const UNIT = { 'zh-CN': '单元', en: 'Unit' };
/** How long a reveal lets its holder see the plaintext. */
export const REVEAL_MINUTES = 10;

// Names repeat a lot across a district; the cache keeps pinyin conversion off the import's hot path.
const initialsCache = new Map<string, string>();
export function nameInitials(name: string): string {
  let v = initialsCache.get(name);
  if (v === undefined) {
    v = pinyin(name, { pattern: 'first', toneType: 'none', type: 'array', nonZh: 'consecutive' })
      .join('')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '');
    if (initialsCache.size > 200_000) initialsCache.clear();
    initialsCache.set(name, v);
  }
  return v;
}

export interface ResidentInput {
  unitId: number;
  name: string;
  gender?: 'male' | 'female' | 'unknown';
  birthDate?: string | null;
  idNumber?: string | null;
  phone?: string | null;
  householdId?: number | null;
  houseId?: number | null;
  registration?: (typeof REGISTRATIONS)[number];
  relationToHead?: string | null;
  address?: string | null;
  tags?: string[];
  sensitiveTags?: string[];
}

type Row = NonNullable<Awaited<ReturnType<ResidentsRepository['byId']>>>;

export class ResidentsService {
  private readonly repo: ResidentsRepository;
  private readonly grid: GridRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly pii: PiiCipher,
    private readonly now: () => Date,
  ) {
    this.repo = new ResidentsRepository(db);
    this.grid = new GridRepository(db);
  }

  private view(ctx: RequestContext, r: Row, revealed: Map<string, Date> = new Map()) {
    const canSensitive = hasPermissionAt(ctx.actor, 'resident.sensitive', r.unit_path);
    const show = (field: PiiField, cipher: string | null, head: string | null, tail: string | null) => {
      if (!cipher) return null;
      if (revealed.has(field)) return this.pii.decrypt(cipher, `resident.${field}`);
      return maskFromParts(field, { head: head ?? '', tail: tail ?? '' });
    };
    return {
      id: r.id,
      unitId: r.unit_id,
      unitName: r.unit_name,
      householdId: r.household_id,
      houseId: r.house_id,
      name: r.name,
      gender: r.gender,
      birthDate: r.birth_date,
      idNumber: show('id_number', r.id_cipher, r.id_head, r.id_last4),
      phone: show('phone', r.phone_cipher, r.phone_head, r.phone_last4),
      revealedUntil: Object.fromEntries([...revealed].map(([f, until]) => [f, until.toISOString()])),
      registration: r.registration,
      relationToHead: r.relation_to_head,
      address: r.address,
      tags: r.tags,
      sensitiveTags: canSensitive ? r.sensitive_tags : undefined,
      sources: r.sources,
      archived: r.archived_at !== null,
    };
  }

  private async residentFor(ctx: RequestContext, id: number, permission: 'resident.read' | 'resident.write' | 'resident.reveal', q: Kysely<Database> | Transaction<Database> = this.db) {
    const r = await this.repo.byId(id, q);
    if (!r) throw new NotFoundError(RESIDENT);
    authorizeAt(ctx.actor, permission, r.unit_path, RESIDENT, 'resident.read');
    return r;
  }

  async detail(ctx: RequestContext, id: number) {
    const r = await this.residentFor(ctx, id, 'resident.read');
    const now = this.now();
    const reveals = await this.repo.liveReveals(ctx.actor.userId, r.id, now);
    const revealed = new Map(reveals.map((v) => [v.field, v.expires_at]));
    const view = this.view(ctx, r, revealed);
    // Reads of sensitive data are audited, not only writes.
    const sensitiveShown = (view.sensitiveTags?.length ?? 0) > 0;
    if (sensitiveShown || revealed.size) {
      await this.db.transaction().execute((trx) =>
        recordAudit(trx, ctx, {
          action: revealed.size ? 'resident.pii_read' : 'resident.sensitive_read',
          targetType: 'resident',
          targetId: r.id,
          unit: { district_id: r.district_id, id: r.unit_id, path: r.unit_path },
          after: { fields: [...revealed.keys()], sensitiveTags: sensitiveShown },
        }),
      );
    }
    return view;
  }

  async search(ctx: RequestContext, filter: { q?: string; unitId?: number; tag?: string; sensitiveTag?: string; limit?: number; offset?: number }) {
    let unitPath: string | undefined;
    if (filter.unitId) {
      const unit = await this.grid.unit(filter.unitId);
      if (!unit) throw new NotFoundError(UNIT);
      authorizeAt(ctx.actor, 'resident.read', unit.path, UNIT);
      unitPath = unit.path;
    }
    const paths = scopePaths(ctx.actor, filter.sensitiveTag ? 'resident.sensitive' : 'resident.read');
    const query = { paths, unitPath, tag: filter.tag, sensitiveTag: filter.sensitiveTag, limit: filter.limit ?? 50, offset: filter.offset ?? 0 } as Parameters<ResidentsRepository['search']>[0];
    const q = filter.q?.trim();
    if (q) {
      const compact = q.replace(/[\s-]/g, '');
      if (/^\d{17}[\dxX]$/.test(compact)) query.idHashes = this.pii.lookupHashes('id_number', compact);
      else if (/^(\+?86)?1\d{10}$/.test(compact)) query.phoneHashes = this.pii.lookupHashes('phone', compact);
      else if (/^[a-zA-Z]{1,10}$/.test(q)) query.initials = q.toLowerCase();
      else if (/[路街巷号栋楼室弄村]/.test(q) || /\d/.test(q)) query.address = q;
      else query.name = q;
    }
    const rows = await this.repo.search(query);
    if (filter.sensitiveTag && rows.length) {
      await this.db.transaction().execute((trx) =>
        recordAudit(trx, ctx, { action: 'resident.sensitive_search', targetType: 'resident', after: { sensitiveTag: filter.sensitiveTag, results: rows.length } }),
      );
    }
    return { items: rows.map((r) => this.view(ctx, r)) };
  }

  /** Checks and seals the input; returns the row values and the fields it sets. */
  private prepare(input: Partial<ResidentInput>, source: string): Partial<ResidentValues> {
    const values: Partial<ResidentValues> = {};
    const sources: Record<string, string> = {};
    const set = <K extends keyof ResidentValues>(key: K, value: ResidentValues[K], field = key as string) => {
      values[key] = value;
      sources[field] = source;
    };
    if (input.name !== undefined) {
      set('name', input.name.trim());
      values.name_initials = nameInitials(input.name.trim());
    }
    if (input.birthDate !== undefined) {
      if (input.birthDate !== null && (!isCalendarDate(input.birthDate) || input.birthDate > businessDate(this.now()))) {
        throw new ValidationError({ 'zh-CN': '出生日期无效', en: 'The birth date is not a real past date' }, undefined, 'invalid_birth_date');
      }
      set('birth_date', input.birthDate);
    }
    if (input.gender !== undefined) set('gender', input.gender);
    if (input.idNumber !== undefined) {
      if (input.idNumber === null) {
        Object.assign(values, { id_cipher: null, id_hash: null, id_head: null, id_last4: null });
      } else {
        const check = validateIdNumber(input.idNumber, { today: businessDate(this.now()) });
        if (!check.ok) throw new ValidationError(check.messages, { field: 'idNumber', reason: check.reason }, 'invalid_id_number');
        const sealed = this.pii.seal('id_number', 'resident.id_number', check.value);
        Object.assign(values, { id_cipher: sealed.ciphertext, id_hash: sealed.lookupHash, id_head: sealed.head, id_last4: sealed.tail });
        sources.idNumber = source;
        // The ID number carries the birth date and gender; a form that says otherwise is wrong somewhere.
        if (values.birth_date && values.birth_date !== check.birthDate) {
          throw new ValidationError({ 'zh-CN': '出生日期与公民身份号码不符', en: 'The birth date does not match the ID number' }, undefined, 'inconsistent_birth_date');
        }
        if (values.gender && values.gender !== 'unknown' && values.gender !== check.gender) {
          throw new ValidationError({ 'zh-CN': '性别与公民身份号码不符', en: 'The gender does not match the ID number' }, undefined, 'inconsistent_gender');
        }
        set('birth_date', check.birthDate);
        set('gender', check.gender);
      }
    }
    if (input.phone !== undefined) {
      if (input.phone === null) {
        Object.assign(values, { phone_cipher: null, phone_hash: null, phone_head: null, phone_last4: null });
      } else {
        const check = validatePhone(input.phone);
        if (!check.ok) throw new ValidationError(check.messages, { field: 'phone', reason: check.reason }, 'invalid_phone');
        const sealed = this.pii.seal('phone', 'resident.phone', check.value);
        Object.assign(values, { phone_cipher: sealed.ciphertext, phone_hash: sealed.lookupHash, phone_head: sealed.head, phone_last4: sealed.tail });
        sources.phone = source;
      }
    }
    if (input.registration !== undefined) set('registration', input.registration);
    if (input.relationToHead !== undefined) set('relation_to_head', input.relationToHead);
    if (input.address !== undefined) set('address', input.address);
    if (input.tags !== undefined) set('tags', [...new Set(input.tags)].sort());
    if (input.sensitiveTags !== undefined) set('sensitive_tags', [...new Set(input.sensitiveTags)].sort());
    values.sources = sources;
    return values;
  }

  private async checkLinks(ctx: RequestContext, districtId: number, input: Partial<ResidentInput>, trx: Transaction<Database>) {
    for (const [key, load] of [
      ['householdId', (id: number) => this.repo.household(id, trx)],
      ['houseId', (id: number) => this.repo.house(id, trx)],
    ] as const) {
      const id = input[key];
      if (!id) continue;
      const target = await load(id);
      const unit = target ? await this.grid.unit(target.unit_id, trx) : undefined;
      if (!target || target.district_id !== districtId || !unit || !hasPermissionAt(ctx.actor, 'resident.read', unit.path)) {
        throw new ValidationError({ 'zh-CN': `${key === 'householdId' ? '户' : '房屋'} ${id} 不存在`, en: `${key === 'householdId' ? 'Household' : 'House'} ${id} does not exist` }, undefined, 'unknown_reference');
      }
    }
  }

  private assertMaySetSensitive(ctx: RequestContext, unitPath: string, input: Partial<ResidentInput>) {
    if (input.sensitiveTags !== undefined && !hasPermissionAt(ctx.actor, 'resident.sensitive', unitPath)) {
      throw new ValidationError({ 'zh-CN': '无权设置敏感标签', en: 'You may not set sensitive tags' }, undefined, 'sensitive_not_allowed');
    }
  }

  async create(ctx: RequestContext, input: ResidentInput) {
    return this.db.transaction().execute(async (trx) => {
      const unit = await this.grid.unitForUpdate(input.unitId, trx);
      if (!unit) throw new NotFoundError(UNIT);
      authorizeAt(ctx.actor, 'resident.write', unit.path, UNIT, 'resident.read');
      if (unit.archived_at) throw new ConflictError({ 'zh-CN': '单元已归档', en: 'The unit is archived' }, 'archived');
      this.assertMaySetSensitive(ctx, unit.path, input);
      await this.checkLinks(ctx, unit.district_id, input, trx);
      const values = this.prepare(input, `manual:${ctx.actor.username}`);
      if (values.id_hash) {
        const existing = await this.repo.byIdHash(unit.district_id, this.pii.lookupHashes('id_number', this.pii.decrypt(values.id_cipher!, 'resident.id_number')), trx);
        if (existing) {
          const visible = hasPermissionAt(ctx.actor, 'resident.read', existing.unit_path);
          throw new ConflictError(
            { 'zh-CN': '该公民身份号码已登记', en: 'A resident with this ID number is already registered' },
            'duplicate_resident',
            visible ? { existingId: existing.id } : undefined,
          );
        }
      }
      const row = await this.repo.insert(
        unit.district_id,
        {
          unit_id: unit.id,
          household_id: input.householdId ?? null,
          house_id: input.houseId ?? null,
          name: values.name!,
          name_initials: values.name_initials!,
          gender: values.gender ?? 'unknown',
          birth_date: values.birth_date ?? null,
          id_cipher: values.id_cipher ?? null,
          id_hash: values.id_hash ?? null,
          id_head: values.id_head ?? null,
          id_last4: values.id_last4 ?? null,
          phone_cipher: values.phone_cipher ?? null,
          phone_hash: values.phone_hash ?? null,
          phone_head: values.phone_head ?? null,
          phone_last4: values.phone_last4 ?? null,
          registration: values.registration ?? 'registered',
          relation_to_head: values.relation_to_head ?? null,
          address: values.address ?? null,
          tags: values.tags ?? [],
          sensitive_tags: values.sensitive_tags ?? [],
          sources: values.sources ?? {},
        },
        trx,
      );
      const created = (await this.repo.byId(row.id, trx))!;
      // The audit row keeps masks only: the log must not become a second copy of the numbers.
      const view = this.view(ctx, created);
      await recordAudit(trx, ctx, { action: 'resident.create', targetType: 'resident', targetId: row.id, unit, after: { ...view, sensitiveTags: created.sensitive_tags } });
      return view;
    });
  }

  async update(ctx: RequestContext, id: number, patch: Partial<Omit<ResidentInput, 'unitId'>>) {
    return this.db.transaction().execute(async (trx) => {
      const before = await this.residentFor(ctx, id, 'resident.write', trx);
      this.assertMaySetSensitive(ctx, before.unit_path, patch);
      await this.checkLinks(ctx, before.district_id, patch, trx);
      const values = this.prepare(patch, `manual:${ctx.actor.username}`);
      if (values.id_hash) {
        const existing = await this.repo.byIdHash(before.district_id, this.pii.lookupHashes('id_number', this.pii.decrypt(values.id_cipher!, 'resident.id_number')), trx);
        if (existing && existing.id !== id) throw new ConflictError({ 'zh-CN': '该公民身份号码已登记', en: 'A resident with this ID number is already registered' }, 'duplicate_resident');
      }
      if (patch.householdId !== undefined) values.household_id = patch.householdId;
      if (patch.houseId !== undefined) values.house_id = patch.houseId;
      values.sources = { ...before.sources, ...(values.sources ?? {}) };
      await this.repo.update(before.district_id, id, values, this.now(), trx);
      const after = (await this.repo.byId(id, trx))!;
      const unit = { district_id: before.district_id, id: before.unit_id, path: before.unit_path };
      await recordAudit(trx, ctx, { action: 'resident.update', targetType: 'resident', targetId: id, unit, before: this.view(ctx, before), after: this.view(ctx, after) });
      return this.view(ctx, after);
    });
  }

  /** Shows one personal number in the clear to a role that needs it, for a stated purpose, for a few minutes. */
  async reveal(ctx: RequestContext, id: number, field: PiiField, purpose: string) {
    return this.db.transaction().execute(async (trx) => {
      const r = await this.residentFor(ctx, id, 'resident.reveal', trx);
      const cipher = field === 'id_number' ? r.id_cipher : r.phone_cipher;
      if (!cipher) throw new NotFoundError(field === 'id_number' ? { 'zh-CN': '公民身份号码', en: 'ID number' } : { 'zh-CN': '联系电话', en: 'Phone number' });
      const expiresAt = new Date(this.now().getTime() + REVEAL_MINUTES * 60_000);
      await this.repo.insertReveal({ district_id: r.district_id, resident_id: r.id, user_id: ctx.actor.userId, field, purpose, expires_at: expiresAt }, trx);
      await recordAudit(trx, ctx, {
        action: 'resident.reveal',
        targetType: 'resident',
        targetId: r.id,
        unit: { district_id: r.district_id, id: r.unit_id, path: r.unit_path },
        after: { field, purpose, expiresAt: expiresAt.toISOString() },
      });
      return { field, value: this.pii.decrypt(cipher, `resident.${field}`), expiresAt: expiresAt.toISOString() };
    });
  }
}
