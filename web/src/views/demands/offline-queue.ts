// The offline queue of reports (随手报 on patrol, where the signal comes and goes). Every report is written
// to IndexedDB first — photos as blobs — with a client-generated key, then sent: photos first, then the
// report with the same key. The server answers a repeated key with the case it already made, so a retry
// after a lost answer never makes two cases. An item leaves the queue only when the server has answered
// 2xx, or a 4xx that will never succeed (kept, with the error, until the user removes it). Sending is
// retried when the browser comes back online, on a back-off timer, and whenever a page starts the queue.
import { reactive } from 'vue';
import { ApiError, type Messages } from '@/api/http';
import { demandsApi, publicDemandsApi, type ReportInput, type StaffReportInput } from '@/api/demands';

export type QueueMode = 'staff' | 'account' | 'public';

interface StoredPhoto {
  blob: Blob;
  name: string;
  /** set once the server stored it, so a retry does not upload it again */
  uploaded?: { id: string; token: string };
}

export interface SentResult {
  caseNo: string;
  trackingCode: string | null;
  id: number | null;
  status: string;
}

interface StoredReport {
  clientKey: string;
  /** whose report: 'user:<id>' or 'public'; a queue only sends its own owner's items */
  owner: string;
  mode: QueueMode;
  input: Omit<StaffReportInput, 'clientKey' | 'photoIds' | 'photoToken' | 'channel'> & { channel?: StaffReportInput['channel'] };
  photos: StoredPhoto[];
  createdAt: number;
  attempts: number;
  /** the last failure; `permanent` ones are not retried */
  error: { status: number; code: string; messages: Messages; permanent: boolean } | null;
}

/** What the pages show of a queued report (no blobs). */
export interface QueuedView {
  clientKey: string;
  title: string;
  category: string;
  createdAt: number;
  photoCount: number;
  attempts: number;
  error: StoredReport['error'];
}

const DB_NAME = 'tongxin-offline';
const STORE = 'reports';
const FIRST_RETRY_MS = 4000;
const MAX_RETRY_MS = 60_000;

// ------------------------------------------------------------------ storage

let dbPromise: Promise<IDBDatabase | null> | null = null;
/** When IndexedDB is unavailable (some private modes) the queue lives in memory for this page. */
const memory = new Map<string, StoredReport>();

function openDb(): Promise<IDBDatabase | null> {
  if (!dbPromise) {
    dbPromise = new Promise((resolve) => {
      try {
        const request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = () => {
          const db = request.result;
          if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: 'clientKey' });
        };
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => resolve(null);
        request.onblocked = () => resolve(null);
      } catch {
        resolve(null);
      }
    });
  }
  return dbPromise;
}

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

async function store(mode: IDBTransactionMode): Promise<IDBObjectStore | null> {
  const db = await openDb();
  return db ? db.transaction(STORE, mode).objectStore(STORE) : null;
}

async function putItem(item: StoredReport) {
  const s = await store('readwrite');
  if (s) await done(s.put(item));
  else memory.set(item.clientKey, item);
}

async function deleteItem(clientKey: string) {
  const s = await store('readwrite');
  if (s) await done(s.delete(clientKey));
  else memory.delete(clientKey);
}

async function allItems(): Promise<StoredReport[]> {
  const s = await store('readonly');
  const items = s ? ((await done(s.getAll())) as StoredReport[]) : [...memory.values()];
  return items.sort((a, b) => a.createdAt - b.createdAt);
}

// ------------------------------------------------------------------ state the pages watch

export const offlineQueue = reactive({
  owner: null as string | null,
  items: [] as QueuedView[],
  sending: false,
  online: typeof navigator === 'undefined' ? true : navigator.onLine,
  /** bumps whenever a queued report reached the server (pages reload their lists) */
  sentVersion: 0,
  lastSent: null as (SentResult & { clientKey: string }) | null,
});

function view(item: StoredReport): QueuedView {
  return {
    clientKey: item.clientKey,
    title: item.input.title?.trim() || item.input.description.slice(0, 30),
    category: item.input.category,
    createdAt: item.createdAt,
    photoCount: item.photos.length,
    attempts: item.attempts,
    error: item.error,
  };
}

async function reload() {
  const owner = offlineQueue.owner;
  offlineQueue.items = owner ? (await allItems()).filter((i) => i.owner === owner).map(view) : [];
}

// ------------------------------------------------------------------ sending

/** Failures worth retrying: no network, the server busy or down, a session to be renewed, "please retry". */
function transient(error: unknown): boolean {
  if (!(error instanceof ApiError)) return true;
  if (error.status === 0 || error.status >= 500 || error.status === 408 || error.status === 429) return true;
  if (error.status === 401 || error.code === 'csrf_failed' || error.code === 'password_change_required' || error.code === 'retry') return true;
  return false;
}

function errorOf(error: unknown, permanent: boolean): NonNullable<StoredReport['error']> {
  if (error instanceof ApiError) return { status: error.status, code: error.code, messages: error.messages, permanent };
  return { status: 0, code: 'unexpected', messages: { 'zh-CN': '发送失败', en: 'Sending failed' }, permanent };
}

async function sendOne(item: StoredReport): Promise<SentResult> {
  const api = item.mode === 'public' ? publicDemandsApi : demandsApi;
  for (const photo of item.photos) {
    if (photo.uploaded) continue;
    const up = await api.uploadPhoto(photo.blob);
    photo.uploaded = { id: up.id, token: up.token };
    await putItem(item);
  }
  const photoIds = item.photos.map((p) => p.uploaded!.id);
  const base: ReportInput = { ...item.input, clientKey: item.clientKey, photoIds: photoIds.length ? photoIds : undefined };
  if (item.mode === 'public') {
    const answer = await publicDemandsApi.report({ ...base, photoToken: item.photos[0]?.uploaded?.token });
    return { caseNo: answer.caseNo, trackingCode: answer.trackingCode, id: null, status: answer.status };
  }
  const channel = item.input.channel ?? (item.mode === 'staff' ? 'patrol' : 'resident');
  const answer = await demandsApi.report({ ...base, channel });
  return { caseNo: answer.caseNo, trackingCode: answer.trackingCode, id: answer.id, status: answer.status };
}

const outcomes = new Map<string, (outcome: Outcome) => void>();
export type Outcome = { state: 'sent'; result: SentResult } | { state: 'queued' } | { state: 'failed'; error: NonNullable<StoredReport['error']> };

let flushing: Promise<void> | null = null;
let timer: ReturnType<typeof setTimeout> | null = null;
let retryDelay = FIRST_RETRY_MS;

function schedule(ms: number) {
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => {
    timer = null;
    void flush();
  }, ms);
}

async function flushOnce() {
  const owner = offlineQueue.owner;
  if (!owner) return;
  // the browser knows it has no network: do not try (the 'online' event or the timer comes back)
  let blocked = typeof navigator !== 'undefined' && !navigator.onLine;
  for (const item of (await allItems()).filter((i) => i.owner === owner)) {
    if (item.error?.permanent) continue;
    if (blocked) {
      outcomes.get(item.clientKey)?.({ state: 'queued' });
      outcomes.delete(item.clientKey);
      continue;
    }
    offlineQueue.sending = true;
    item.attempts += 1;
    try {
      const result = await sendOne(item);
      await deleteItem(item.clientKey);
      offlineQueue.lastSent = { ...result, clientKey: item.clientKey };
      offlineQueue.sentVersion++;
      outcomes.get(item.clientKey)?.({ state: 'sent', result });
    } catch (error) {
      const permanent = !transient(error);
      item.error = errorOf(error, permanent);
      await putItem(item);
      if (permanent) outcomes.get(item.clientKey)?.({ state: 'failed', error: item.error });
      else {
        // keep the order: nothing after a report that could not go yet is sent before it
        blocked = true;
        outcomes.get(item.clientKey)?.({ state: 'queued' });
      }
    }
    outcomes.delete(item.clientKey);
  }
  offlineQueue.sending = false;
  await reload();
  const waiting = offlineQueue.items.some((i) => !i.error?.permanent);
  if (waiting) {
    schedule(retryDelay);
    retryDelay = Math.min(retryDelay * 2, MAX_RETRY_MS);
  } else {
    retryDelay = FIRST_RETRY_MS;
  }
}

/** Sends what is queued, in order; one run at a time in this page (and across tabs where Web Locks exist). */
export function flush(): Promise<void> {
  if (!flushing) {
    const run = (): Promise<void> => flushOnce().catch(() => undefined);
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    const started: Promise<void> = locks ? locks.request('tongxin-offline-queue', run).then(() => undefined) : run();
    flushing = started.finally(() => {
      flushing = null;
      offlineQueue.sending = false;
    });
  }
  return flushing;
}

// ------------------------------------------------------------------ what pages call

let listening = false;

/** Starts (or switches) the queue for an owner and sends whatever it holds. */
export async function startQueue(owner: string) {
  if (offlineQueue.owner !== owner) {
    offlineQueue.owner = owner;
    retryDelay = FIRST_RETRY_MS;
  }
  if (!listening && typeof window !== 'undefined') {
    listening = true;
    window.addEventListener('online', () => {
      offlineQueue.online = true;
      retryDelay = FIRST_RETRY_MS;
      void flush();
    });
    window.addEventListener('offline', () => (offlineQueue.online = false));
  }
  await reload();
  void flush();
}

export function newClientKey(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // older browsers: 32 random hex digits (the server accepts [A-Za-z0-9_-]{16,64})
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Queues a report and tries to send it at once. Resolves with what happened to it now: sent (the
 * server's answer), queued (no network: it goes when the network returns), or failed (a 4xx that will
 * never succeed; the report stays visible with the error).
 */
export async function submitReport(mode: QueueMode, input: StoredReport['input'], photos: { blob: Blob; name: string }[]): Promise<Outcome & { clientKey: string }> {
  const owner = offlineQueue.owner;
  if (!owner) throw new Error('the offline queue was not started');
  const item: StoredReport = { clientKey: newClientKey(), owner, mode, input, photos: photos.map((p) => ({ blob: p.blob, name: p.name })), createdAt: Date.now(), attempts: 0, error: null };
  await putItem(item);
  await reload();
  const outcome = new Promise<Outcome>((resolve) => outcomes.set(item.clientKey, resolve));
  if (typeof navigator !== 'undefined' && !navigator.onLine) {
    outcomes.delete(item.clientKey);
    schedule(retryDelay);
    return { state: 'queued', clientKey: item.clientKey };
  }
  // a flush already under way may have read the queue before this item: run another after it
  await flush();
  if (outcomes.has(item.clientKey)) await flush();
  if (outcomes.has(item.clientKey)) {
    outcomes.delete(item.clientKey);
    return { state: 'queued', clientKey: item.clientKey };
  }
  return { ...(await outcome), clientKey: item.clientKey };
}

export async function removeQueued(clientKey: string) {
  await deleteItem(clientKey);
  await reload();
}

/** Sends now (the user's "retry"); a permanently refused item is tried once more too. */
export async function retryNow(clientKey?: string) {
  if (clientKey) {
    const item = (await allItems()).find((i) => i.clientKey === clientKey);
    if (item?.error) {
      item.error = null;
      await putItem(item);
    }
  }
  retryDelay = FIRST_RETRY_MS;
  await flush();
}
