// Open311 GeoReport v2 over the demand loop (民呼我应). Services are the active leaf demand categories; a
// POSTed request is a demand on the 'open311' channel, reported by the client its api_key names (no
// grants: the verified key is its whole authority) and routed like any other report: by grid boundary,
// else to the client's own unit. The public GET routes show what any passer-by could see on the street —
// what, where, how far along and who holds it — and nothing of who reported it.
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import type { RequestContext } from '../../platform/context.ts';
import { recordAudit } from '../../platform/audit.ts';
import { hasPermissionAt, requirePermissionAnywhere, scopePaths } from '../../platform/access.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, type Messages } from '../../platform/errors.ts';
import { validatePhone } from '../../platform/crypto/phone.ts';
import { GridRepository, type UnitRow } from '../grid/grid.repository.ts';
import type { DemandsService } from '../demands/demands.service.ts';
import type { Category, DemandSettings } from '../demands/settings.service.ts';
import { DEMAND_TYPES, OPEN_STATUSES, STATUS_LABELS, TYPE_LABELS, isDemandStatus, type DemandType } from '../demands/demand.states.ts';
import { Open311Repository, type ClientRow, type PublicCaseRow } from './open311.repository.ts';
import type { PostRequestBody, RequestsQuery } from './open311.schema.ts';

export const SPECIFICATION = 'http://wiki.open311.org/GeoReport_v2';
/** When the shape of these documents last changed (discovery's changeset). */
export const CHANGESET = '2026-11-01T00:00:00Z';
/** The spec's longest date range for GET requests, and its default window. */
const MAX_RANGE_MS = 90 * 24 * 3600_000;
/** The spec's default ceiling for one GET requests answer; we keep it as the hard limit (newest first). */
export const MAX_REQUESTS = 1000;
/** How many service_request_id values one GET requests may name. */
const MAX_IDS = 100;
/** A request without attribute[type]: most Open311 reports ask for something to be fixed (求助). */
const DEFAULT_TYPE: DemandType = 'help';

const CLIENT: Messages = { 'zh-CN': 'Open311 客户端', en: 'Open311 client' };
const UNIT: Messages = { 'zh-CN': '单元', en: 'Unit' };
const JURISDICTION: Messages = { 'zh-CN': '辖区（jurisdiction_id）', en: 'Jurisdiction (jurisdiction_id)' };

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const iso = (d: Date | string) => new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z');
const both = (m: Messages) => `${m['zh-CN']} / ${m.en}`;
const bad = (m: Messages, code: string, details?: unknown) => new ValidationError(m, details, code);

/** The context a verified client reports in: no grants; audited as the client, shown on the timeline by name. */
export function clientContext(client: Pick<ClientRow, 'id' | 'name'>, clientIp: string | null): RequestContext {
  return { actor: { userId: -1, username: `open311:client/${client.id}`, displayName: `open311:${client.name}`, grants: [], mustChangePassword: false }, clientIp };
}

/** Working minutes as people read deadlines. */
function workingTime(minutes: number): Messages {
  return minutes % 60 === 0 ? { 'zh-CN': `${minutes / 60} 个工作小时`, en: `${minutes / 60} working hours` } : { 'zh-CN': `${minutes} 个工作分钟`, en: `${minutes} working minutes` };
}

function serviceNotice(respondMinutes: number, finishMinutes: number): string {
  const r = workingTime(respondMinutes);
  const f = workingTime(finishMinutes);
  return `${r['zh-CN']}内响应，${f['zh-CN']}内办结 / Response within ${r.en}, resolution within ${f.en}`;
}

/**
 * What may be published of free text staff or reporters wrote: runs of seven or more digits (phone, ID and
 * bank numbers, with or without spaces and dashes) and the reporter's own name are struck out. Reporters
 * type their number and name into the text often enough that a public feed must not trust it.
 */
export function redact(text: string, reporterName: string | null | undefined): string {
  let out = text.replace(/\d(?:[\s-]?\d){6,}[Xx]?/g, '***');
  const name = reporterName?.trim();
  if (name && name.length >= 2) out = out.split(name).join('**');
  return out;
}

/** A coordinate as JSON (number) or a form (text) sends it, in range. */
function coordinate(value: number | string | undefined, field: 'lat' | 'long'): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : Number(value.trim());
  const limit = field === 'lat' ? 90 : 180;
  if (!Number.isFinite(n) || Math.abs(n) > limit) throw bad({ 'zh-CN': `${field} 应在 -${limit} 到 ${limit} 之间`, en: `${field} must lie between -${limit} and ${limit}` }, 'invalid_location', { field });
  return n;
}

/** "张三": family name first when both halves are Chinese; "Jane Doe" otherwise. */
function fullName(first?: string, last?: string): string | undefined {
  const f = first?.trim() ?? '';
  const l = last?.trim() ?? '';
  if (!f && !l) return undefined;
  const han = /^[\u3400-\u9fff·]+$/u;
  const name = han.test(f || 'x') && han.test(l || 'x') ? `${l}${f}` : [f, l].filter(Boolean).join(' ');
  return name.slice(0, 40);
}

const splitList = (s: string | undefined) => (s ? [...new Set(s.split(',').filter(Boolean))] : []);

export interface ServiceView {
  service_code: string;
  service_name: string;
  description: string;
  metadata: boolean;
  type: 'realtime';
  keywords: string;
  group: string | null;
}

export interface RequestView {
  service_request_id: string;
  status: 'open' | 'closed';
  status_notes: string;
  service_name: string;
  service_code: string;
  description: string | null;
  agency_responsible: string;
  service_notice: string;
  requested_datetime: string;
  updated_datetime: string;
  expected_datetime: string;
  address: string | null;
  lat: number | null;
  long: number | null;
  media_url: null;
}

export class Open311Service {
  private readonly repo: Open311Repository;

  constructor(
    db: Kysely<Database>,
    private readonly demands: DemandsService,
    private readonly settings: DemandSettings,
    private readonly now: () => Date,
  ) {
    this.repo = new Open311Repository(db);
  }

  /** The district a jurisdiction_id names (404 when it names none); undefined: every district. */
  async jurisdiction(id: string | undefined): Promise<number | undefined> {
    if (id === undefined) return undefined;
    if (!(await this.repo.isDistrict(Number(id)))) throw new NotFoundError(JURISDICTION);
    return Number(id);
  }

  discovery(endpointUrl: string) {
    return {
      changeset: CHANGESET,
      contact: '请联系本区“民呼我应”平台管理员 / Contact the district’s Tongxin (民呼我应) administrator',
      key_service: '提交请求需要 API 密钥：由区级管理员在平台“Open311 客户端”中创建 / Submitting requests needs an API key: the district administrator creates one under Open311 clients',
      endpoints: [{ specification: SPECIFICATION, url: endpointUrl, changeset: CHANGESET, type: 'production', formats: ['text/xml', 'application/json'] }],
    };
  }

  /** Active leaf categories: sub-categories, and top-level ones without active sub-categories. */
  private async leafCategories(): Promise<{ category: Category; parent: Category | undefined }[]> {
    const all = await this.settings.categories();
    const byCode = new Map(all.map((c) => [c.code, c]));
    const withActiveChildren = new Set(all.filter((c) => c.active && c.parentCode).map((c) => c.parentCode));
    return all
      .filter((c) => c.active && (c.parentCode !== null || !withActiveChildren.has(c.code)))
      .map((c) => ({ category: c, parent: c.parentCode ? byCode.get(c.parentCode) : undefined }));
  }

  async services(): Promise<ServiceView[]> {
    const clean = (s: string) => s.replace(/[,，]/g, ' ').trim();
    return (await this.leafCategories()).map(({ category: c, parent: p }) => ({
      service_code: c.code,
      service_name: c.name['zh-CN'],
      description: `${both(c.name)}${p ? `（${both(p.name)}）` : ''}。${serviceNotice(c.respondMinutes, c.finishMinutes)}`,
      metadata: true,
      type: 'realtime' as const,
      keywords: [c.name['zh-CN'], c.name.en, ...(p ? [p.name['zh-CN'], p.name.en] : [])].map(clean).join(','),
      group: p ? p.name['zh-CN'] : null,
    }));
  }

  private async service(code: string) {
    const found = (await this.leafCategories()).find((s) => s.category.code === code);
    return found?.category;
  }

  /** The one attribute every service takes: the demand's type (咨询、求助、投诉、举报、建议). */
  async serviceDefinition(code: string) {
    if (!(await this.service(code))) throw new NotFoundError({ 'zh-CN': `服务 ${code} `, en: `Service ${code}` });
    return {
      service_code: code,
      attributes: [
        {
          variable: true,
          code: 'type',
          datatype: 'singlevaluelist',
          required: false,
          datatype_description: `取值：${DEMAND_TYPES.join('、')}；不填为 ${DEFAULT_TYPE} / One of ${DEMAND_TYPES.join(', ')}; ${DEFAULT_TYPE} when not given`,
          order: 1,
          description: '诉求类型 / Type of demand',
          values: DEMAND_TYPES.map((key) => ({ key, name: TYPE_LABELS[key]['zh-CN'] })),
        },
      ],
    };
  }

  /** The client an api_key belongs to; a missing, unknown or revoked key is a 403 and nothing else is looked at. */
  async authenticate(apiKey: string | undefined): Promise<ClientRow> {
    const key = apiKey?.trim();
    if (!key) throw new ForbiddenError({ 'zh-CN': '缺少 api_key', en: 'api_key was not provided' }, 'api_key_missing');
    const client = await this.repo.activeClientByKeyHash(sha256(key));
    if (!client) throw new ForbiddenError({ 'zh-CN': 'api_key 无效或已吊销', en: 'api_key is invalid or revoked' }, 'api_key_invalid');
    return client;
  }

  /**
   * POST requests: a demand on the 'open311' channel. The location is lat+long (routed to the grid holding
   * it, else to the client's unit) or address_string (the client's unit). email, device_id and address_id
   * are accepted and not stored: the loop calls reporters back by phone only, sealed like every phone
   * number; account_id is only echoed back, as the spec's response carries it.
   */
  async createRequest(client: ClientRow, body: PostRequestBody, clientIp: string | null) {
    if (body.jurisdiction_id !== undefined && Number(body.jurisdiction_id) !== Number(client.district_id)) {
      throw bad({ 'zh-CN': '该 api_key 不属于此辖区', en: 'This api_key belongs to another jurisdiction' }, 'jurisdiction_mismatch');
    }
    const category = await this.service(body.service_code);
    if (!category) {
      throw bad({ 'zh-CN': `service_code“${body.service_code}”不是本平台提供的服务`, en: `service_code "${body.service_code}" is not a service offered here` }, 'unknown_service_code', { service_code: body.service_code });
    }
    const lat = coordinate(body.lat, 'lat');
    const lng = coordinate(body.long, 'long');
    if ((lat === undefined) !== (lng === undefined)) throw bad({ 'zh-CN': 'lat 与 long 须同时提供', en: 'lat and long go together' }, 'incomplete_location');
    const address = body.address_string?.trim() || undefined;
    if (lat === undefined && !address) {
      throw bad({ 'zh-CN': '请提供位置：lat 与 long，或 address_string', en: 'Give the location: lat and long, or address_string' }, 'location_required');
    }
    const phone = body.phone?.trim() || undefined;
    if (phone) {
      const checked = validatePhone(phone);
      if (!checked.ok) throw bad({ 'zh-CN': `phone：${checked.messages['zh-CN']}`, en: `phone: ${checked.messages.en}` }, 'invalid_phone', { field: 'phone' });
    }
    const { demand } = await this.demands.report(
      clientContext(client, clientIp),
      {
        channel: 'open311',
        type: body.attribute?.type ?? DEFAULT_TYPE,
        category: category.code,
        description: body.description?.trim() || category.name['zh-CN'],
        lng,
        lat,
        address,
        unitId: client.unit_id,
        reporterName: fullName(body.first_name, body.last_name),
        reporterPhone: phone,
        // the client's photo stays where it is: staff open the link themselves, the server never fetches it
        sourceRef: body.media_url?.trim() || undefined,
      },
      { open311Client: true },
    );
    const accountId = body.account_id?.trim();
    return [{ service_request_id: demand.case_no, service_notice: serviceNotice(category.respondMinutes, category.finishMinutes), ...(accountId ? { account_id: accountId } : {}) }];
  }

  /** GET requests: newest first, at most MAX_REQUESTS, within 90 days (the last 90 by default). */
  async requests(q: RequestsQuery): Promise<RequestView[]> {
    const districtId = await this.jurisdiction(q.jurisdiction_id);
    const ids = splitList(q.service_request_id);
    if (ids.length > MAX_IDS) throw bad({ 'zh-CN': `service_request_id 最多 ${MAX_IDS} 个`, en: `At most ${MAX_IDS} service_request_id values` }, 'too_many_ids');
    if (ids.length) return this.present(await this.repo.publicCases({ districtId, caseNos: ids, limit: MAX_REQUESTS }));

    const start = q.start_date ? new Date(q.start_date) : undefined;
    const end = q.end_date ? new Date(q.end_date) : undefined;
    const to = end ?? (start ? new Date(start.getTime() + MAX_RANGE_MS) : this.now());
    const from = start ?? new Date(to.getTime() - MAX_RANGE_MS);
    if (to < from) throw bad({ 'zh-CN': 'end_date 早于 start_date', en: 'end_date is before start_date' }, 'invalid_range');
    if (to.getTime() - from.getTime() > MAX_RANGE_MS) throw bad({ 'zh-CN': '查询时间跨度不能超过 90 天', en: 'The date range may not span more than 90 days' }, 'range_too_long');

    const wanted = new Set(splitList(q.status));
    const statuses = wanted.size === 1 ? (wanted.has('open') ? [...OPEN_STATUSES] : STATUS_KEYS.filter((s) => !OPEN_STATUSES.includes(s))) : undefined;
    const rows = await this.repo.publicCases({ districtId, categoryCodes: splitList(q.service_code), statuses, from, to, limit: MAX_REQUESTS });
    return this.present(rows);
  }

  /** GET requests/{id}: an array, as the spec has it (more than one only when districts share a case number). */
  async request(id: string, jurisdictionId: string | undefined): Promise<RequestView[]> {
    const districtId = await this.jurisdiction(jurisdictionId);
    const rows = await this.repo.publicCases({ districtId, caseNos: [id], limit: MAX_IDS });
    if (!rows.length) throw new NotFoundError({ 'zh-CN': `服务请求 ${id} `, en: `Service request ${id}` });
    return this.present(rows);
  }

  /** GET tokens/{token}: POST answers the service_request_id at once, so a token is that id. */
  async token(token: string, jurisdictionId: string | undefined) {
    const districtId = await this.jurisdiction(jurisdictionId);
    const rows = await this.repo.publicCases({ districtId, caseNos: [token], limit: MAX_IDS });
    if (!rows.length) throw new NotFoundError({ 'zh-CN': `令牌 ${token} `, en: `Token ${token}` });
    return rows.map((r) => ({ service_request_id: r.case_no, token }));
  }

  private async present(rows: PublicCaseRow[]): Promise<RequestView[]> {
    const names = await this.repo.reporterNames(rows);
    return rows.map((r) => requestView(r, names.get(Number(r.id))));
  }
}

const STATUS_KEYS = Object.keys(STATUS_LABELS).filter(isDemandStatus);

/**
 * One case as Open311 shows it. `description` is the case's title, never its full text: the title is the
 * short summary the public tracking page shows too, while the full text is where reporters write their
 * room number, family circumstances or phone number. A 举报 (report of wrongdoing) shows neither title nor
 * place, to protect whoever reported it; a case routed by a dwelling shows no place, as that is someone's
 * home. Names, phone numbers, tracking codes and handlers' names are never selected at all.
 */
export function requestView(r: PublicCaseRow, reporterName: string | undefined): RequestView {
  const status = isDemandStatus(r.status) ? r.status : 'reported';
  const open = OPEN_STATUSES.includes(status);
  const label = STATUS_LABELS[status];
  const notes =
    status === 'declined' && r.decline_reason
      ? `${label['zh-CN']} / ${label.en}: ${redact(r.decline_reason, reporterName)}`
      : status === 'merged' && r.merged_into_case_no
        ? `已合并至 ${r.merged_into_case_no} / Merged into ${r.merged_into_case_no}`
        : both(label);
  const whistleblowing = r.type === 'report';
  const hidePlace = whistleblowing || r.house_id !== null;
  return {
    service_request_id: r.case_no,
    status: open ? 'open' : 'closed',
    status_notes: notes,
    service_name: r.category_name_zh,
    service_code: r.category_code,
    description: whistleblowing ? null : redact(r.title, reporterName),
    agency_responsible: r.unit_name,
    service_notice: serviceNotice(r.respond_minutes, r.finish_minutes),
    requested_datetime: iso(r.reported_at),
    // for closed requests the spec wants the closing time; otherwise the last step on the timeline
    updated_datetime: iso(!open && r.closed_at ? r.closed_at : r.last_event_at),
    expected_datetime: iso(r.finish_due_at),
    address: hidePlace ? null : r.address,
    lat: hidePlace ? null : r.lat,
    long: hidePlace ? null : r.lng,
    // photos sit behind the reporter's tracking code; none is published here
    media_url: null,
  };
}

// ---------------------------------------------------------------------------------------------- keys

export interface ClientView {
  id: number;
  name: string;
  unitId: number;
  unitName: string;
  keyLast4: string;
  createdAt: Date;
  revokedAt: Date | null;
}

const clientView = (c: Pick<ClientRow, 'id' | 'name' | 'unit_id' | 'key_last4' | 'created_at' | 'revoked_at'>, unitName: string): ClientView => ({
  id: Number(c.id),
  name: c.name,
  unitId: Number(c.unit_id),
  unitName,
  keyLast4: c.key_last4,
  createdAt: c.created_at,
  revokedAt: c.revoked_at,
});

/** API keys for Open311 clients (demand.config, within the caller's scope). Keys are stored as SHA-256 only. */
export class Open311ClientsService {
  private readonly repo: Open311Repository;
  private readonly grid: GridRepository;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date,
  ) {
    this.repo = new Open311Repository(db);
    this.grid = new GridRepository(db);
  }

  /** A new client and its key: the plaintext key is in this answer and nowhere else, ever. */
  async create(ctx: RequestContext, input: { name: string; unitId: number }): Promise<ClientView & { key: string }> {
    requirePermissionAnywhere(ctx.actor, 'demand.config');
    const name = input.name.trim();
    if (!name) throw bad({ 'zh-CN': '请填写客户端名称', en: 'Name the client' }, 'name_required');
    const key = randomBytes(32).toString('base64url');
    return this.db.transaction().execute(async (trx) => {
      const unit: UnitRow | undefined = await this.grid.unit(input.unitId, trx);
      if (!unit || !hasPermissionAt(ctx.actor, 'demand.config', unit.path)) throw new NotFoundError(UNIT);
      if (unit.archived_at) throw new ConflictError({ 'zh-CN': '单元已归档', en: 'The unit is archived' }, 'archived');
      const row = await this.repo.insertClient(trx, {
        district_id: unit.district_id,
        unit_id: unit.id,
        name,
        key_hash: sha256(key),
        key_last4: key.slice(-4),
        created_by_user_id: ctx.actor.userId > 0 ? ctx.actor.userId : null,
        created_at: this.now(),
      });
      await recordAudit(trx, ctx, { action: 'open311_client.create', targetType: 'open311_client', targetId: row.id, unit, after: { name, unitId: unit.id, keyLast4: row.key_last4 } });
      return { ...clientView(row, unit.name), key };
    });
  }

  async list(ctx: RequestContext, opts: { includeRevoked: boolean }) {
    requirePermissionAnywhere(ctx.actor, 'demand.config');
    const rows = await this.repo.clientsIn(scopePaths(ctx.actor, 'demand.config'), opts.includeRevoked);
    return { items: rows.map((r) => clientView(r, r.unit_name)) };
  }

  /** Revoked at once: the next request with the key is a 403. A client outside the caller's scope does not exist for them. */
  async revoke(ctx: RequestContext, id: number): Promise<ClientView> {
    return this.db.transaction().execute(async (trx) => {
      const c = await this.repo.clientForUpdate(id, trx);
      if (!c || !hasPermissionAt(ctx.actor, 'demand.config', c.unit_path)) throw new NotFoundError(CLIENT);
      if (c.revoked_at) throw new ConflictError({ 'zh-CN': '该密钥已吊销', en: 'This key is already revoked' }, 'already_revoked');
      const after = await this.repo.revokeClient(trx, c, this.now());
      await recordAudit(trx, ctx, {
        action: 'open311_client.revoke',
        targetType: 'open311_client',
        targetId: c.id,
        unit: { district_id: c.district_id, id: c.unit_id, path: c.unit_path },
        before: { revokedAt: null },
        after: { revokedAt: after.revoked_at, name: c.name, keyLast4: c.key_last4 },
      });
      return clientView(after, c.unit_name);
    });
  }
}
