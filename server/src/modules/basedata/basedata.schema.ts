import { Type } from 'typebox';
import { Obj, PatchObj } from '../../platform/http.ts';
import { PII_FIELDS, REGISTRATIONS, SENSITIVE_TAGS, SPECIAL_TAGS } from './residents.service.ts';

const Id = Type.Integer({ minimum: 1, maximum: 9007199254740991 });
const Name = Type.String({ minLength: 1, maxLength: 60, pattern: '\\S' });
const DateString = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' });
const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const lit = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));

const residentFields = {
  name: Name,
  gender: Type.Optional(lit(['male', 'female', 'unknown'] as const)),
  birthDate: Nullable(DateString),
  idNumber: Nullable(Type.String({ minLength: 1, maxLength: 40 })),
  phone: Nullable(Type.String({ minLength: 1, maxLength: 30 })),
  householdId: Nullable(Id),
  houseId: Nullable(Id),
  registration: Type.Optional(lit(REGISTRATIONS)),
  relationToHead: Nullable(Type.String({ maxLength: 30 })),
  address: Nullable(Type.String({ maxLength: 200 })),
  tags: Type.Optional(Type.Array(lit(SPECIAL_TAGS), { maxItems: SPECIAL_TAGS.length })),
  sensitiveTags: Type.Optional(Type.Array(lit(SENSITIVE_TAGS), { maxItems: SENSITIVE_TAGS.length })),
};

export const CreateResidentBody = Obj({ unitId: Id, ...residentFields });
export const UpdateResidentBody = PatchObj({ ...residentFields, name: Type.Optional(Name) });
export const ResidentQuery = Obj({
  q: Type.Optional(Type.String({ maxLength: 60, description: 'name, pinyin initials (zs), exact ID or phone number, or address' })),
  unitId: Type.Optional(Id),
  tag: Type.Optional(lit(SPECIAL_TAGS)),
  sensitiveTag: Type.Optional(lit(SENSITIVE_TAGS)),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
});
export const RevealBody = Obj({ field: lit(PII_FIELDS), purpose: Type.String({ minLength: 4, maxLength: 200, pattern: '\\S' }) });
