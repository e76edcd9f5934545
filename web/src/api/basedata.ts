// Base data (四清): residents (masked numbers, audited reveals), ledger export (.xlsx) and bulk import.
import { ApiError, http, type Messages } from './http';
import { session } from '@/session';

export const SPECIAL_TAGS = ['elderly_alone', 'disabled', 'veteran', 'martyr_family', 'child', 'minimum_income'] as const;
export const SENSITIVE_TAGS = ['community_correction', 'released_prisoner', 'severe_mental_disorder', 'petitioner'] as const;
export const REGISTRATIONS = ['registered', 'non_registered', 'floating', 'overseas', 'other'] as const;
export const GENDERS = ['male', 'female', 'unknown'] as const;
export type SpecialTag = (typeof SPECIAL_TAGS)[number];
export type SensitiveTag = (typeof SENSITIVE_TAGS)[number];
export type Registration = (typeof REGISTRATIONS)[number];
export type Gender = (typeof GENDERS)[number];
export type PiiField = 'id_number' | 'phone';

export interface Resident {
  id: number;
  unitId: number;
  unitName: string;
  householdId: number | null;
  houseId: number | null;
  name: string;
  gender: Gender;
  birthDate: string | null;
  /** masked (110101********1234) unless revealed */
  idNumber: string | null;
  /** masked (138****8000) unless revealed */
  phone: string | null;
  /** field → ISO time the plaintext stops being shown */
  revealedUntil: Partial<Record<PiiField, string>>;
  registration: Registration;
  relationToHead: string | null;
  address: string | null;
  tags: SpecialTag[];
  /** only for roles that may see them */
  sensitiveTags?: SensitiveTag[];
  sources: Record<string, string>;
  archived: boolean;
}

export interface ResidentInput {
  name?: string;
  gender?: Gender;
  birthDate?: string | null;
  idNumber?: string | null;
  phone?: string | null;
  registration?: Registration;
  relationToHead?: string | null;
  address?: string | null;
  tags?: SpecialTag[];
  sensitiveTags?: SensitiveTag[];
}

export interface ResidentQuery {
  q?: string;
  unitId?: number;
  tag?: SpecialTag;
  sensitiveTag?: SensitiveTag;
  limit?: number;
  offset?: number;
}

export interface Reveal {
  field: PiiField;
  value: string;
  expiresAt: string;
}

const UNREADABLE: Messages = { 'zh-CN': '服务器返回了无法识别的内容', en: 'The server answered with something unreadable' };
const NETWORK: Messages = { 'zh-CN': '无法连接服务器，请检查网络后重试', en: 'Cannot reach the server; check the connection and try again' };

/** A file answer (a ledger, an error report): the body and the name the server suggests. */
export interface Download {
  blob: Blob;
  filename: string;
}

async function failure(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { code?: string; message?: string; messages?: Messages; details?: unknown };
    return new ApiError(response.status, body.code ?? 'http_error', body.messages ?? { 'zh-CN': body.message ?? '', en: body.message ?? '' }, body.details);
  } catch {
    return new ApiError(response.status, 'unreadable_response', UNREADABLE);
  }
}

function filenameOf(response: Response, fallback: string): string {
  const header = response.headers.get('content-disposition') ?? '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header)?.[1];
  if (star) {
    try {
      return decodeURIComponent(star);
    } catch {
      // a malformed name: use the plain one
    }
  }
  return /filename="([^"]+)"/i.exec(header)?.[1] ?? fallback;
}

/** fetch for the routes that answer files or take raw bodies (the JSON wrapper handles neither). */
export async function rawRequest(method: string, path: string, init: { body?: BodyInit; contentType?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (init.contentType) headers['content-type'] = init.contentType;
  if (method !== 'GET' && session.info?.csrfToken) headers['x-csrf-token'] = session.info.csrfToken;
  let response: Response;
  try {
    response = await fetch(`/api${path}`, { method, headers, credentials: 'same-origin', body: init.body });
  } catch {
    throw new ApiError(0, 'network_error', NETWORK);
  }
  if (!response.ok) throw await failure(response);
  return response;
}

export async function download(method: string, path: string, fallbackName: string, json?: unknown): Promise<Download> {
  const response = await rawRequest(method, path, json === undefined ? {} : { body: JSON.stringify(json), contentType: 'application/json' });
  return { blob: await response.blob(), filename: filenameOf(response, fallbackName) };
}

/** Hands a downloaded file to the browser as a save. */
export function saveDownload(file: Download) {
  const url = URL.createObjectURL(file.blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = file.filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export const residentsApi = {
  list: (query: ResidentQuery) => http.get<{ items: Resident[] }>('/residents', { ...query }),
  get: (id: number) => http.get<Resident>(`/residents/${id}`),
  create: (unitId: number, input: ResidentInput) => http.post<Resident>('/residents', { unitId, ...input }),
  update: (id: number, patch: ResidentInput) => http.patch<Resident>(`/residents/${id}`, patch),
  reveal: (id: number, field: PiiField, purpose: string) => http.post<Reveal>(`/residents/${id}/reveal`, { field, purpose }),
  /** the de-identified ledger: masked numbers, no sensitive tags */
  exportLedger: (unitId: number) => download('GET', `/residents/export?unitId=${unitId}`, 'residents.xlsx'),
  /** plaintext numbers: needs resident.export and a purpose (audited) */
  exportFullLedger: (unitId: number, purpose: string) => download('POST', '/residents/export', 'residents.xlsx', { unitId, full: true, purpose }),
};

// ---- bulk import (/api/imports): upload the raw file, preview + suggested mapping, dry run, import ----

export type ImportKind = 'resident' | 'house';
export type ImportMode = 'dry_run' | 'all_or_nothing' | 'skip_bad_rows';
export type ImportEncoding = 'auto' | 'utf8' | 'gb18030';
export type ImportStatus = 'pending' | 'running' | 'interrupted' | 'done' | 'failed' | 'rolled_back';
/** header → field ('' = ignore the column) */
export type ImportMapping = Record<string, string>;
export type ServerText = Messages & { code: string };

export interface ImportUpload {
  id: string;
  fileName: string;
  format: 'csv' | 'xlsx';
  sizeBytes: number;
}

export interface ImportPreview {
  uploadId: string;
  fileName: string;
  format: 'csv' | 'xlsx';
  encoding: string;
  headers: string[];
  /** the first rows, ID and phone numbers masked */
  rows: string[][];
  suggestedMapping: ImportMapping;
  fields: { field: string; label: Messages; required: boolean }[];
  warnings: ServerText[];
}

export interface ImportTemplate {
  id: number | string;
  kind: ImportKind;
  name: string;
  mapping: ImportMapping;
}

export interface ImportJob {
  id: number;
  kind: ImportKind;
  unitId: number;
  fileName: string;
  source: string;
  mode: ImportMode;
  status: ImportStatus;
  mapping: ImportMapping;
  progress: { rowsDone: number; totalRows: number | null; percent: number | null };
  counts: { inserted: number; updated: number; unchanged: number; bad: number; householdsCreated: number };
  error: ServerText | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  actor: string;
}

export interface ImportErrorRow {
  rowNo: number;
  reasons: (Messages & { field: string | null; code: string })[];
  /** the row as read (header → value), personal numbers masked */
  cells: Record<string, string> | string[];
}

/** what the engine reports while a job runs (the events after the first) */
interface EngineProgress {
  jobId: number;
  status: ImportStatus;
  rowsDone: number;
  totalRows: number | null;
  inserted: number;
  updated: number;
  unchanged: number;
  bad: number;
}

export const IMPORT_ENDED: readonly ImportStatus[] = ['done', 'failed', 'rolled_back', 'interrupted'];

export interface StartImport {
  uploadId: string;
  kind: ImportKind;
  unitId: number;
  mode: ImportMode;
  source: string;
  mapping: ImportMapping;
  encoding?: ImportEncoding;
}

export const importApi = {
  async upload(file: File): Promise<ImportUpload> {
    const response = await rawRequest('POST', `/imports/uploads?filename=${encodeURIComponent(file.name)}`, { body: file, contentType: 'application/octet-stream' });
    return (await response.json()) as ImportUpload;
  },
  preview: (uploadId: string, kind: ImportKind, encoding: ImportEncoding) => http.get<ImportPreview>(`/imports/uploads/${uploadId}/preview`, { kind, encoding }),
  templates: (kind: ImportKind) => http.get<{ items: ImportTemplate[] }>('/imports/templates', { kind }),
  saveTemplate: (input: { unitId: number; kind: ImportKind; name: string; mapping: ImportMapping }) => http.post<ImportTemplate>('/imports/templates', input),
  start: (input: StartImport) => http.post<ImportJob>('/imports', input),
  job: (id: number) => http.get<ImportJob>(`/imports/${id}`),
  list: () => http.get<{ items: ImportJob[] }>('/imports'),
  errors: (id: number, limit = 200) => http.get<{ items: ImportErrorRow[] }>(`/imports/${id}/errors`, { limit }),
  errorReport: (id: number) => download('GET', `/imports/${id}/error-report`, `import-${id}-errors.xlsx`),
  resume: (id: number) => http.post<ImportJob>(`/imports/${id}/resume`),
  rollback: (id: number) => http.post<ImportJob & { removed: unknown }>(`/imports/${id}/rollback`),
};

/**
 * Follows a job until it ends: server-sent events (/events), falling back to polling the job every second
 * when the stream cannot be opened or breaks. Returns a function that stops following.
 */
export function followImport(id: number, onUpdate: (job: ImportJob) => void, onEnd: (job: ImportJob) => void, onError: (error: unknown) => void, onPolling?: () => void): () => void {
  let stopped = false;
  let source: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const stop = () => {
    stopped = true;
    source?.close();
    if (timer) clearTimeout(timer);
  };
  const finish = (job: ImportJob) => {
    if (stopped) return;
    stop();
    onEnd(job);
  };
  const poll = async () => {
    if (stopped) return;
    onPolling?.();
    try {
      const job = await importApi.job(id);
      if (stopped) return;
      onUpdate(job);
      if (IMPORT_ENDED.includes(job.status) && job.finishedAt !== null) return finish(job);
    } catch (error) {
      if (error instanceof ApiError && error.status !== 0) {
        stop();
        return onError(error);
      }
    }
    timer = setTimeout(() => void poll(), 1000);
  };
  if (typeof EventSource === 'undefined') {
    void poll();
    return stop;
  }
  source = new EventSource(`/api/imports/${id}/events`, { withCredentials: true });
  const read = (event: MessageEvent<string>): ImportJob | null => {
    try {
      return JSON.parse(event.data) as ImportJob;
    } catch {
      return null;
    }
  };
  let last: ImportJob | null = null;
  source.addEventListener('progress', (event) => {
    const data = read(event as MessageEvent<string>) as (ImportJob | EngineProgress) | null;
    if (!data) return;
    // the first event is the job itself; the engine's own events after it carry the status and counts only
    if ('progress' in data) last = data;
    else if (last) {
      const percent = data.totalRows ? Math.min(100, Math.round((data.rowsDone / Math.max(1, data.totalRows)) * 1000) / 10) : null;
      last = { ...last, status: data.status, progress: { rowsDone: data.rowsDone, totalRows: data.totalRows, percent }, counts: { ...last.counts, inserted: data.inserted, updated: data.updated, unchanged: data.unchanged, bad: data.bad } };
    } else return;
    onUpdate(last);
  });
  source.addEventListener('end', (event) => {
    const job = read(event as MessageEvent<string>);
    if (job) finish(job);
    else {
      source?.close();
      void poll();
    }
  });
  source.onerror = () => {
    if (stopped) return;
    // the stream broke (a proxy that buffers, a restart): ask the job itself
    source?.close();
    source = null;
    void poll();
  };
  return stop;
}
