// A small API client for real servers: keeps the session cookie and CSRF token like the web client does;
// every request has a deadline; a dropped connection is an answer with status 0, not an exception.
export interface ApiAnswer {
  status: number;
  body: unknown;
  text: string;
  headers: Headers;
  /** the transport error when there was no HTTP answer (status 0) */
  error?: string;
}

export class ApiClient {
  cookie: string | null = null;
  csrf: string | null = null;
  constructor(public base: string) {}

  async request(method: string, url: string, body?: unknown, options: { headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<ApiAnswer> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookie) headers.cookie = this.cookie;
    if (this.csrf && method !== 'GET') headers['x-csrf-token'] = this.csrf;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await fetch(this.base + url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) });
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = text;
      }
      return { status: res.status, body: parsed, text, headers: res.headers };
    } catch (e) {
      const err = e as { message?: string; cause?: { code?: string; message?: string } };
      return { status: 0, body: null, text: '', headers: new Headers(), error: err.cause?.code ?? err.cause?.message ?? err.message ?? String(e) };
    }
  }

  async login(username: string, password: string): Promise<ApiAnswer> {
    const res = await this.request('POST', '/api/auth/login', { username, password });
    if (res.status === 200) {
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('tx_session='));
      this.cookie = cookie ? cookie.split(';')[0] : null;
      this.csrf = (res.body as { csrfToken: string }).csrfToken;
    }
    return res;
  }
}

/** Logs in or throws: for the suites' own accounts, which must work. */
export async function loggedIn(base: string, username: string, password: string): Promise<ApiClient> {
  const client = new ApiClient(base);
  const res = await client.login(username, password);
  if (res.status !== 200) throw new Error(`login ${username} failed: ${res.status} ${res.text || res.error}`);
  return client;
}
