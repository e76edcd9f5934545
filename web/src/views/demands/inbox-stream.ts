// The user's notifications, live: the unread count for the header badge, kept current by the server's
// event stream (/api/inbox/stream) and re-read from /api/inbox when something arrives. Pages watch
// `version` to refresh their lists when a notice about a case comes in.
import { reactive } from 'vue';
import { demandsApi } from '@/api/demands';

export const inboxStream = reactive({
  unread: 0,
  /** bumps on every notification pushed by the server */
  version: 0,
  lastDemandId: null as number | null,
  connected: false,
});

let source: EventSource | null = null;

function parse(data: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export async function refreshUnread() {
  try {
    inboxStream.unread = (await demandsApi.notifications({ limit: 1 })).unread;
  } catch {
    // offline or logged out: the badge keeps its last count
  }
}

/** Opens the stream (once per page); EventSource reconnects by itself after a drop. */
export function startInboxStream() {
  if (source || typeof EventSource === 'undefined') return;
  source = new EventSource('/api/inbox/stream');
  source.addEventListener('open', () => (inboxStream.connected = true));
  source.addEventListener('error', () => (inboxStream.connected = false));
  source.addEventListener('hello', (event) => {
    const unread = parse((event as MessageEvent<string>).data).unread;
    if (typeof unread === 'number') inboxStream.unread = unread;
  });
  source.addEventListener('notification', (event) => {
    const demandId = parse((event as MessageEvent<string>).data).demandId;
    inboxStream.lastDemandId = typeof demandId === 'number' ? demandId : null;
    inboxStream.version++;
    void refreshUnread();
  });
  void refreshUnread();
}

export function stopInboxStream() {
  source?.close();
  source = null;
  inboxStream.connected = false;
}
