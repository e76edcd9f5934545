// HTTP plumbing shared by every module: request context, the auth and CSRF hooks, error answers.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TSchema } from 'typebox';
import type { RequestContext } from './context.ts';
import { AppError, ConflictError, ForbiddenError, UnauthenticatedError, ValidationError, errorBody, type Messages } from './errors.ts';
import { validationErrorFrom } from './validation.ts';
import type { AuthService, SessionInfo } from '../modules/auth/auth.service.ts';

export const SESSION_COOKIE = 'tx_session';

declare module 'fastify' {
  interface FastifyRequest {
    session: SessionInfo | null;
  }
  interface FastifyContextConfig {
    /** reachable without logging in */
    public?: boolean;
    /** reachable while the user still has to replace a one-time password */
    duringPasswordChange?: boolean;
  }
}

/** The caller's context; routes that are not public can rely on it (the auth hook has answered 401 otherwise). */
export function ctxOf(request: FastifyRequest): RequestContext {
  if (!request.session) throw new UnauthenticatedError();
  return { actor: request.session.actor, clientIp: request.ip ?? null };
}

/** An object schema that rejects unknown fields. */
export function Obj<T extends Record<string, TSchema>>(properties: T, options: { description?: string } = {}) {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

/** A PATCH body: an object of optional fields that must change at least one (an empty body is a 400, not a no-op write). */
export function PatchObj<T extends Record<string, TSchema>>(properties: T, options: { description?: string } = {}) {
  return Type.Object(properties, { additionalProperties: false, minProperties: 1, ...options });
}

export const IdParam = Obj({ id: Type.Integer({ minimum: 1, maximum: 9007199254740991 }) });

export const ErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  message: Type.String(),
  messages: Type.Object({ 'zh-CN': Type.String(), en: Type.String() }),
  details: Type.Optional(Type.Unknown()),
});

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function registerAuthHooks(app: FastifyInstance, auth: AuthService) {
  app.decorateRequest('session', null);
  app.addHook('onRequest', async (request) => {
    const token = request.cookies?.[SESSION_COOKIE];
    if (token && token.length <= 200) request.session = await auth.resolve(token);
    const config = request.routeOptions.config;
    if (!request.routeOptions.url || config.public) return;
    if (!request.session) throw new UnauthenticatedError();
    if (MUTATING.has(request.method)) {
      // Double-submit: the token lives in the session and must come back in a header a foreign page cannot set.
      const sent = request.headers['x-csrf-token'];
      if (typeof sent !== 'string' || sent !== request.session.csrfToken) {
        throw new ForbiddenError({ 'zh-CN': '请求校验失败（CSRF），请刷新页面后重试', en: 'Request check failed (CSRF); reload the page and try again' }, 'csrf_failed');
      }
    }
    if (request.session.actor.mustChangePassword && !config.duringPasswordChange) {
      throw new ForbiddenError({ 'zh-CN': '请先修改一次性密码', en: 'Change your one-time password first' }, 'password_change_required');
    }
  });
}

const PG_ERRORS: Record<string, (detail: string) => AppError> = {
  // A client should never reach these (services validate first); they are the last line so no 500 escapes.
  '23505': () => new ConflictError({ 'zh-CN': '数据重复，与已有记录冲突', en: 'Duplicate: conflicts with an existing record' }, 'duplicate'),
  '23503': () => new ConflictError({ 'zh-CN': '引用的对象不存在或仍被引用', en: 'A referenced object is missing or still referenced' }, 'reference'),
  '23514': () => new ValidationError({ 'zh-CN': '数据不符合约束', en: 'The data breaks a rule' }),
  '22P02': () => new ValidationError({ 'zh-CN': '数据格式错误', en: 'Malformed value' }),
  '22003': () => new ValidationError({ 'zh-CN': '数值超出范围', en: 'Number out of range' }),
  '22007': () => new ValidationError({ 'zh-CN': '日期格式错误', en: 'Malformed date' }),
  '22008': () => new ValidationError({ 'zh-CN': '日期超出范围', en: 'Date out of range' }),
  '22001': () => new ValidationError({ 'zh-CN': '文本过长', en: 'Text too long' }),
  '22021': () => new ValidationError({ 'zh-CN': '文本编码无效', en: 'Invalid text encoding' }),
  '54000': () => new ValidationError({ 'zh-CN': '数据过大', en: 'Value too large' }),
};

function fastifyClientError(err: FastifyError): AppError | null {
  const status = err.statusCode ?? 500;
  const msg = (zh: string, en: string): Messages => ({ 'zh-CN': zh, en });
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError(413, 'body_too_large', msg('请求内容超过 1 MB 上限', 'Request body exceeds the 1 MB limit'));
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(415, 'unsupported_media_type', msg('不支持的内容类型，请使用 application/json', 'Unsupported content type; send application/json'));
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ValidationError(msg('请求内容为空', 'The JSON body is empty'), undefined, 'malformed_json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ValidationError(msg('请求内容不是合法的 JSON', 'The body is not valid JSON'), undefined, 'malformed_json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ValidationError(msg('Content-Length 与实际内容不符', 'Content-Length does not match the body'), undefined, 'bad_content_length');
  }
  if (err instanceof SyntaxError || (err.name === 'SyntaxError' && status === 400)) {
    return new ValidationError(msg('请求内容不是合法的 JSON', 'The body is not valid JSON'), undefined, 'malformed_json');
  }
  if (status >= 400 && status < 500) {
    return new AppError(status, 'bad_request', msg(`请求无效：${err.message}`, `Bad request: ${err.message}`));
  }
  return null;
}

export function registerErrorHandler(app: FastifyInstance) {
  app.setErrorHandler((raw: FastifyError & { validationContext?: string; code?: string }, request: FastifyRequest, reply: FastifyReply) => {
    let err: AppError | null = null;
    if (raw instanceof AppError) err = raw;
    else if (raw.validation) err = validationErrorFrom(raw.validation as never, raw.validationContext ?? 'body');
    else if (typeof raw.code === 'string' && PG_ERRORS[raw.code]) err = PG_ERRORS[raw.code]((raw as { detail?: string }).detail ?? '');
    else err = fastifyClientError(raw);
    if (!err) {
      request.log.error({ err: raw }, 'unhandled error');
      err = new AppError(500, 'internal_error', { 'zh-CN': '服务器内部错误，请稍后再试', en: 'Internal server error; please try again later' });
    } else if (err.statusCode >= 500) {
      request.log.error({ err: raw }, 'server error');
    }
    if (err.statusCode === 429 && 'retryAfterSeconds' in err) reply.header('retry-after', String((err as { retryAfterSeconds: number }).retryAfterSeconds));
    return reply.status(err.statusCode).send(errorBody(err));
  });
}
