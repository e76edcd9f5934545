// 民呼我应 (the demand loop): intake (staff, residents with an account, anonymous residents), the
// dispatcher's queue, handlers' inboxes, the member pool, the case page and its actions, the public
// tracking page, metrics, settings, and the notification inbox (list + live stream).
import { ApiError, http, type Messages } from './http';
import { rawRequest } from './basedata';

import type { Channel, DemandAction, DemandStatus, DemandType, HandlerInput, HandlerType, Rating } from '@shared/demands';

export { CHANNELS, DEMAND_ACTIONS, DEMAND_STATUSES, DEMAND_TYPES, HANDLER_TYPES, OPEN_STATUSES, RATINGS } from '@shared/demands';
export type { Channel, DemandAction, DemandStatus, DemandType, HandlerType, Rating } from '@shared/demands';
export type Handler = HandlerInput;

/** A case as the server presents it (names and the reporter's masked phone only for staff in scope). */
export interface Demand {
  id: number;
  caseNo: string;
  channel: Channel;
  type: DemandType;
  categoryCode: string;
  title: string;
  description: string;
  lng: number | null;
  lat: number | null;
  address: string | null;
  houseId: number | null;
  homeUnitId: number;
  homeUnitName: string | null;
  unitId: number;
  unitName: string | null;
  routedBy: 'boundary' | 'dwelling' | 'chosen';
  status: DemandStatus;
  emergency: boolean;
  claimable: boolean;
  reporterName: string | null;
  reporterPhone: string | null;
  sourceRef: string | null;
  hazardId: number | null;
  mergedInto: number | null;
  declineReason: string | null;
  escalationLevel: number;
  reopenCount: number;
  reworkCount: number;
  reportedAt: string;
  registeredAt: string | null;
  respondedAt: string | null;
  handledAt: string | null;
  verifiedAt: string | null;
  closedAt: string | null;
  ratedAt: string | null;
  respondDueAt: string;
  finishDueAt: string;
  levelDueAt: string;
  warnedAt: string | null;
  overdueAt: string | null;
  rating: Rating | null;
  resolved: boolean | null;
}

export interface TimelineEvent {
  seq: number;
  action: string;
  /** the server's own label of the step, in both languages */
  label: Messages;
  fromStatus: DemandStatus | null;
  toStatus: DemandStatus;
  /** null on the public tracking page and for readers outside the case's scope */
  actorName: string | null;
  actorKind: 'staff' | 'reporter' | 'member' | 'system';
  unitId: number;
  note: string | null;
  data: unknown;
  at: string;
}

export interface Assignment {
  id: number;
  handlerType: HandlerType;
  handlerUnitId: number;
  memberId: number | null;
  linkedOrgId: number | null;
  handlerUserId: number | null;
  handlerName: string;
  status: 'pending' | 'accepted' | 'returned' | 'done' | 'cancelled';
  note: string | null;
  createdAt: string;
  acceptedAt: string | null;
  endedAt: string | null;
}

export interface DemandPhoto {
  id: string;
  stage: 'report' | 'handle' | 'verify' | null;
  width?: number;
  height?: number;
  url: string;
  thumbUrl: string;
}

export interface DemandDetail extends Demand {
  timeline: TimelineEvent[];
  assignments: Assignment[];
  activeAssignment: Assignment | null;
  photos: DemandPhoto[];
  /** what the caller may do now (the server checks again on each request) */
  actions: DemandAction[];
}

export interface ReportedDemand extends Demand {
  trackingCode: string;
}

export interface InboxCase extends Demand {
  assignment: { id: number; status: 'pending' | 'accepted'; handlerType: HandlerType; handlerName: string; assignedAt: string };
}

export interface TrackView {
  caseNo: string;
  status: DemandStatus;
  categoryCode: string;
  type: DemandType;
  title: string;
  reportedAt: string;
  finishDueAt: string;
  closedAt: string | null;
  rating: Rating | null;
  resolved: boolean | null;
  canVerify: boolean;
  canRate: boolean;
  timeline: TimelineEvent[];
  photos: DemandPhoto[];
}

export interface Category {
  code: string;
  parentCode: string | null;
  name: Messages;
  respondMinutes: number;
  finishMinutes: number;
  warnPercent: number;
  emergency: boolean;
  decideKinds: string[] | null;
  active: boolean;
}

export interface CategoryPatch {
  respondMinutes?: number;
  finishMinutes?: number;
  warnPercent?: number;
  emergency?: boolean;
  decideKinds?: string[] | null;
  active?: boolean;
}

export interface WorkCalendar {
  /** ISO weekdays: 1 = Monday … 7 = Sunday */
  weekdays: number[];
  periods: { start: string; end: string }[];
  /** YYYY-MM-DD → a holiday on a working day, or a 调休 working day on a rest day */
  overrides: Record<string, 'holiday' | 'workday'>;
}

export interface NearbyItem {
  /** null for cases the caller may not read (strangers learn only that one is open nearby) */
  id: number | null;
  caseNo: string | null;
  title: string | null;
  status: DemandStatus;
  categoryCode: string;
  metres: number;
  reportedAt: string;
}

export interface PublicUnit {
  id: number;
  name: string;
  kind: string;
  kindName: Messages;
  isGrid: boolean;
}

export interface UploadedPhoto {
  id: string;
  width: number;
  height: number;
  bytes: number;
  /** an anonymous uploader's proof of ownership, sent with the report */
  token: string;
}

export interface ReportInput {
  type: DemandType;
  category: string;
  title?: string;
  description: string;
  lng?: number;
  lat?: number;
  address?: string;
  houseId?: number;
  unitId?: number;
  reporterName?: string;
  reporterPhone?: string;
  /** the device's idempotency key: the same report sent twice makes one case */
  clientKey?: string;
  photoIds?: string[];
  photoToken?: string;
}

export interface StaffReportInput extends ReportInput {
  channel: Exclude<Channel, 'open311'>;
  emergency?: boolean;
  sourceRef?: string;
  hazardId?: number;
}

export interface QueueQuery {
  unitId?: number;
  status?: DemandStatus[];
  category?: string;
  channel?: Channel;
  overdue?: boolean;
  emergency?: boolean;
  q?: string;
  limit?: number;
  offset?: number;
}

export type CountKey =
  | 'reported'
  | 'registered'
  | 'declined'
  | 'responded_on_time'
  | 'handled'
  | 'reworked'
  | 'completed'
  | 'on_time'
  | 'resolved'
  | 'closed_ever'
  | 'reopened'
  | 'rated'
  | 'satisfied'
  | 'open'
  | 'overdue';
export type Counts = Record<CountKey, number>;

export interface RateDefinition {
  key: string;
  name: Messages;
  numerator: CountKey;
  denominator: CountKey;
  definition: Messages;
}

export interface RateFigure {
  key: string;
  numerator: number;
  denominator: number;
  /** "98.69" (two decimals, rounded half up from the exact fraction), or null when the denominator is 0 */
  percent: string | null;
}

export interface Metrics {
  unit: { id: number; name: string };
  period: { from: string; to: string };
  category: string | null;
  definitions: RateDefinition[];
  counts: Counts;
  rates: RateFigure[];
  children: { unitId: number; name: string; kind: string; counts: Counts; rates: RateFigure[] }[];
  categories: { category: string; name: Messages; counts: Counts; rates: RateFigure[] }[];
}

export interface Notification {
  id: number;
  kind: string;
  demandId: number | null;
  /** zh-CN text */
  title: string;
  /** the English text of the same notice */
  body: string;
  urgent: boolean;
  createdAt: string;
  readAt: string | null;
}

export interface BulkResult {
  id: number;
  ok: boolean;
  status?: DemandStatus;
  code?: string;
  message?: Messages;
}

type Items<T> = { items: T[] };

/** Query strings with repeated keys (status=a&status=b), which the JSON wrapper's query does not build. */
function queryString(query: Record<string, string | number | boolean | readonly string[] | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const v of value) params.append(key, String(v));
    else params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `?${qs}` : '';
}

/** Sends the image itself as the body, with its own Content-Type (the server checks the bytes). */
async function uploadPhoto(path: string, file: Blob): Promise<UploadedPhoto> {
  const type = ['image/jpeg', 'image/png', 'image/webp'].includes(file.type) ? file.type : 'application/octet-stream';
  const response = await rawRequest('POST', path, { body: file, contentType: type });
  try {
    return (await response.json()) as UploadedPhoto;
  } catch {
    throw new ApiError(response.status, 'unreadable_response', { 'zh-CN': '服务器返回了无法识别的内容', en: 'The server answered with something unreadable' });
  }
}

export const demandsApi = {
  // ---- intake ----
  report: (input: StaffReportInput) => http.post<ReportedDemand>('/demands', input),
  uploadPhoto: (file: Blob) => uploadPhoto('/demands/photos', file),
  nearby: (query: { category: string; lng: number; lat: number; radius?: number; excludeId?: number }) => http.get<Items<NearbyItem>>('/demands/nearby', { ...query }).then((r) => r.items),

  // ---- reading ----
  queue: (query: QueueQuery) => http.get<Items<Demand>>(`/demands${queryString({ ...query })}`).then((r) => r.items),
  handlerInbox: () => http.get<Items<InboxCase>>('/demands/inbox').then((r) => r.items),
  pool: () => http.get<Items<Demand>>('/demands/pool').then((r) => r.items),
  mine: () => http.get<Items<ReportedDemand>>('/demands/mine').then((r) => r.items),
  detail: (id: number) => http.get<DemandDetail>(`/demands/${id}`),
  metrics: (query: { unitId: number; from: string; to: string; category?: string }) => http.get<Metrics>('/demands/metrics', { ...query }),

  // ---- the loop (each answers the case page again) ----
  register: (id: number, input: { note?: string; claimable?: boolean }) => http.post<DemandDetail>(`/demands/${id}/register`, input),
  decline: (id: number, reason: string) => http.post<DemandDetail>(`/demands/${id}/decline`, { reason }),
  merge: (id: number, intoId: number, note?: string) => http.post<DemandDetail>(`/demands/${id}/merge`, { intoId, note }),
  reroute: (id: number, unitId: number, note?: string) => http.post<DemandDetail>(`/demands/${id}/reroute`, { unitId, note }),
  dispatch: (id: number, handler: Handler, note?: string) => http.post<DemandDetail>(`/demands/${id}/dispatch`, { handler, note }),
  bulkDispatch: (ids: number[], handler: Handler, note?: string) => http.post<{ results: BulkResult[] }>('/demands/bulk-dispatch', { ids, handler, note }).then((r) => r.results),
  claim: (id: number) => http.post<DemandDetail>(`/demands/${id}/claim`, {}),
  accept: (id: number, note?: string) => http.post<DemandDetail>(`/demands/${id}/accept`, { note }),
  returnCase: (id: number, reason: string, beyondAuthority: boolean) => http.post<DemandDetail>(`/demands/${id}/return`, { reason, beyondAuthority }),
  escalate: (id: number, reason: string) => http.post<DemandDetail>(`/demands/${id}/escalate`, { reason }),
  handle: (id: number, result: string, photoIds: string[]) => http.post<DemandDetail>(`/demands/${id}/handle`, { result, photoIds }),
  verify: (id: number, input: { fixed: boolean; note?: string; photoIds?: string[] }) => http.post<DemandDetail>(`/demands/${id}/verify`, input),
  close: (id: number, input: { note?: string; resolved?: boolean }) => http.post<DemandDetail>(`/demands/${id}/close`, input),
  rate: (id: number, input: { rating: Rating; resolved: boolean; comment?: string }) => http.post<DemandDetail>(`/demands/${id}/rate`, input),

  // ---- settings ----
  categories: () => http.get<Items<Category>>('/demand-categories').then((r) => r.items),
  updateCategory: (code: string, patch: CategoryPatch) => http.patch<Category>(`/demand-categories/${code}`, patch),
  calendar: () => http.get<WorkCalendar>('/demand-calendar'),
  updateCalendar: (calendar: WorkCalendar) => http.put<WorkCalendar>('/demand-calendar', calendar),

  // ---- notifications ----
  notifications: (query: { unread?: boolean; limit?: number; before?: number } = {}) => http.get<{ unread: number; items: Notification[] }>('/inbox', { ...query }),
  markRead: (ids: number[] | 'all') => http.post<void>('/inbox/read', { ids }),
};

/** Residents without an account: report, track, verify and rate by the tracking code. */
export const publicDemandsApi = {
  categories: () => http.get<Items<Category>>('/public/demand-categories', undefined, true).then((r) => r.items),
  units: (parentId?: number) => http.get<Items<PublicUnit>>('/public/units', { parentId }, true).then((r) => r.items),
  uploadPhoto: (file: Blob) => uploadPhoto('/public/photos', file),
  report: (input: ReportInput & { channel?: 'resident' | 'member_order' }) => http.post<{ caseNo: string; trackingCode: string; status: DemandStatus }>('/public/demands', input, true),
  nearby: (query: { category: string; lng: number; lat: number; radius?: number }) => http.get<Items<NearbyItem>>('/public/demands/nearby', { ...query }, true).then((r) => r.items),
  track: (code: string) => http.get<TrackView>(`/public/demands/${encodeURIComponent(code)}`, undefined, true),
  verify: (code: string, input: { fixed: boolean; note?: string }) => http.post<TrackView>(`/public/demands/${encodeURIComponent(code)}/verify`, input, true),
  rate: (code: string, input: { rating: Rating; resolved: boolean; comment?: string }) => http.post<TrackView>(`/public/demands/${encodeURIComponent(code)}/rate`, input, true),
};

/** The tracking code's alphabet (no I, O, 0, 1), 10 characters. */
export const TRACKING_CODE = /^[A-HJ-NP-Z2-9]{10}$/;
