// Request validation: Ajv compiled from each route's JSON schema. Bodies are taken exactly as sent
// (no type coercion, unknown fields rejected); query strings and path parameters are text by nature,
// so there numbers and booleans are coerced from their text form.
import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchema } from 'fastify';
import { ValidationError, type Messages } from './errors.ts';

function makeAjv(coerce: boolean) {
  const ajv = new Ajv({
    allErrors: false,
    removeAdditional: false,
    useDefaults: true,
    coerceTypes: coerce ? 'array' : false,
    strict: false,
  });
  addFormats.default(ajv);
  return ajv;
}

const bodyAjv = makeAjv(false);
const textAjv = makeAjv(true);

export function validatorCompiler({ schema, httpPart }: { schema: FastifySchema; httpPart?: string }) {
  const ajv = httpPart === 'body' ? bodyAjv : textAjv;
  return ajv.compile(schema as object);
}

const PART_LABELS: Record<string, Messages> = {
  body: { 'zh-CN': '请求内容', en: 'Request body' },
  querystring: { 'zh-CN': '查询参数', en: 'Query string' },
  params: { 'zh-CN': '路径参数', en: 'Path parameter' },
  headers: { 'zh-CN': '请求头', en: 'Header' },
};

function fieldName(error: ErrorObject): string {
  const base = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (error.keyword === 'required') return [base, (error.params as { missingProperty: string }).missingProperty].filter(Boolean).join('.');
  if (error.keyword === 'additionalProperties') {
    return [base, (error.params as { additionalProperty: string }).additionalProperty].filter(Boolean).join('.');
  }
  return base;
}

/** Turns one Ajv error into a sentence in both languages, naming the field. */
export function describeAjvError(error: ErrorObject, part: string): Messages {
  const field = fieldName(error);
  const where = PART_LABELS[part] ?? PART_LABELS.body;
  const zhField = field ? `字段“${field}”` : '内容';
  const enField = field ? `field "${field}"` : 'value';
  const p = error.params as Record<string, unknown>;
  let zh: string;
  let en: string;
  switch (error.keyword) {
    case 'required':
      zh = `缺少必填${zhField}`;
      en = `missing required ${enField}`;
      break;
    case 'additionalProperties':
      zh = `不允许的${zhField}`;
      en = `unknown ${enField} is not allowed`;
      break;
    case 'type':
      zh = `${zhField}类型错误，应为 ${p.type}`;
      en = `${enField} must be of type ${p.type}`;
      break;
    case 'minLength':
      zh = `${zhField}长度至少为 ${p.limit}`;
      en = `${enField} must be at least ${p.limit} characters long`;
      break;
    case 'maxLength':
      zh = `${zhField}长度不能超过 ${p.limit}`;
      en = `${enField} must be at most ${p.limit} characters long`;
      break;
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum':
    case 'exclusiveMaximum':
      zh = `${zhField}应 ${p.comparison} ${p.limit}`;
      en = `${enField} must be ${p.comparison} ${p.limit}`;
      break;
    case 'minProperties':
      zh = `${zhField}至少需要包含 ${p.limit} 个要修改的字段`;
      en = `${enField} must name at least ${p.limit} field(s) to change`;
      break;
    case 'minItems':
      zh = `${zhField}至少需要 ${p.limit} 项`;
      en = `${enField} must have at least ${p.limit} items`;
      break;
    case 'maxItems':
      zh = `${zhField}最多 ${p.limit} 项`;
      en = `${enField} must have at most ${p.limit} items`;
      break;
    case 'enum':
      zh = `${zhField}取值无效，应为：${(p.allowedValues as unknown[]).join('、')}`;
      en = `${enField} must be one of: ${(p.allowedValues as unknown[]).join(', ')}`;
      break;
    case 'const':
      zh = `${zhField}取值无效`;
      en = `${enField} has an invalid value`;
      break;
    case 'format':
      zh = `${zhField}格式错误，应为 ${p.format}`;
      en = `${enField} must be a valid ${p.format}`;
      break;
    case 'pattern':
      zh = `${zhField}格式错误`;
      en = `${enField} has an invalid format`;
      break;
    default:
      zh = `${zhField}无效（${error.message ?? error.keyword}）`;
      en = `${enField} is invalid (${error.message ?? error.keyword})`;
  }
  return { 'zh-CN': `${where['zh-CN']}：${zh}`, en: `${where.en}: ${en}` };
}

export function validationErrorFrom(errors: ErrorObject[], part: string): ValidationError {
  const first = describeAjvError(errors[0], part);
  const details = errors.slice(0, 20).map((e) => ({ part, field: fieldName(e), keyword: e.keyword, message: describeAjvError(e, part) }));
  return new ValidationError(first, details);
}
