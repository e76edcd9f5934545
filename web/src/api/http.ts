// The one fetch wrapper: same-origin cookies, JSON in and out, the CSRF header on writes, and every
// failure turned into an ApiError that carries the server's message in both languages.

export type Messages = { 'zh-CN': string; en: string };
export type Locale = keyof Messages;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly messages: Messages,
    readonly details?: unknown,
  ) {
    super(messages.en);
    this.name = 'ApiError';
  }

  text(locale: Locale): string {
    return this.messages[locale] || this.messages.en;
  }
}

interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  messages?: Messages;
  details?: unknown;
}

const NETWORK: Messages = { 'zh-CN': '无法连接服务器，请检查网络后重试', en: 'Cannot reach the server; check the connection and try again' };
const UNREADABLE: Messages = { 'zh-CN': '服务器返回了无法识别的内容', en: 'The server answered with something unreadable' };

let csrfToken: string | null = null;
export function setCsrfToken(token: string | null) {
  csrfToken = token;
}

/** Called for 401 (session gone) and 403 password_change_required, so the app can route to the right page. */
type AuthProblemHandler = (error: ApiError) => void;
let onAuthProblem: AuthProblemHandler | null = null;
export function setAuthProblemHandler(handler: AuthProblemHandler) {
  onAuthProblem = handler;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

function isErrorBody(value: unknown): value is ErrorBody {
  return typeof value === 'object' && value !== null && 'statusCode' in value && 'code' in value;
}

interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** do not call the auth-problem handler (the login and session calls handle 401 themselves) */
  quiet?: boolean;
}

async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(withQuery(`/api${path}`, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(0, 'network_error', NETWORK);
  }
  // Only routes typed `void` answer 204 (no content).
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let payload: unknown = null;
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      throw new ApiError(response.status, 'unreadable_response', UNREADABLE);
    }
  }
  if (!response.ok) {
    const error = isErrorBody(payload)
      ? new ApiError(response.status, payload.code, payload.messages ?? { 'zh-CN': payload.message, en: payload.message }, payload.details)
      : new ApiError(response.status, 'http_error', { 'zh-CN': `请求失败（${response.status}）`, en: `Request failed (${response.status})` });
    if (!options.quiet && onAuthProblem && (error.status === 401 || error.code === 'password_change_required')) onAuthProblem(error);
    throw error;
  }
  // The server's response schemas are the contract for T; they are not re-validated here.
  return payload as T;
}

export const http = {
  get: <T>(path: string, query?: Query, quiet = false) => request<T>('GET', path, { query, quiet }),
  post: <T>(path: string, body?: unknown, quiet = false) => request<T>('POST', path, { body: body ?? {}, quiet }),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, { body }),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, { body }),
  delete: (path: string) => request<void>('DELETE', path),
};
