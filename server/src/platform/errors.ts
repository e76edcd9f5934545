// One error type per kind, each with a stable code and a message in zh-CN and en.
// Services throw these; the app's error handler turns them into the HTTP answer.

export type Messages = { 'zh-CN': string; en: string };

export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    readonly messages: Messages,
    readonly details?: unknown,
  ) {
    super(messages.en);
  }
}

export class ValidationError extends AppError {
  constructor(messages: Messages, details?: unknown, code = 'validation_failed') {
    super(400, code, messages, details);
  }
}

export class UnauthenticatedError extends AppError {
  constructor(messages: Messages = { 'zh-CN': '请先登录', en: 'Please log in first' }, code = 'unauthenticated') {
    super(401, code, messages);
  }
}

export class ForbiddenError extends AppError {
  constructor(messages: Messages = { 'zh-CN': '没有权限执行此操作', en: 'You are not allowed to do this' }, code = 'forbidden') {
    super(403, code, messages);
  }
}

/** Also what a denial outside one's scope looks like: the object "does not exist" for that caller. */
export class NotFoundError extends AppError {
  constructor(what: Messages = { 'zh-CN': '对象', en: 'Object' }) {
    super(404, 'not_found', { 'zh-CN': `${what['zh-CN']}不存在`, en: `${what.en} not found` });
  }
}

export class ConflictError extends AppError {
  constructor(messages: Messages, code = 'conflict', details?: unknown) {
    super(409, code, messages, details);
  }
}

export class TooManyRequestsError extends AppError {
  constructor(messages: Messages, readonly retryAfterSeconds: number) {
    super(429, 'too_many_requests', messages);
  }
}

export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  messages: Messages;
  details?: unknown;
}

export function errorBody(err: AppError): ErrorBody {
  const body: ErrorBody = { statusCode: err.statusCode, code: err.code, message: err.messages.en, messages: err.messages };
  if (err.details !== undefined) body.details = err.details;
  return body;
}
