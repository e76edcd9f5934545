// Request schemas of Open311 GeoReport v2 (/open311/v2) and of the key management under /api/open311.
// Open311 names its fields in snake_case and sends form-encoded bodies, so the POST body takes numbers as
// text too (lat=23.1); the service parses them. Unknown fields are refused, as everywhere in the API; the
// parameters every Open311 client may send anywhere (api_key, jurisdiction_id) are accepted everywhere.
import { Type, type Static } from 'typebox';
import { Obj } from '../../platform/http.ts';
import { DEMAND_TYPES } from '../demands/demand.states.ts';

const Id = Type.Integer({ minimum: 1, maximum: 9007199254740991 });
const lit = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));

/** The path's `.{format}` suffix is checked by the routes (an unknown format is a 404 in the Open311 format). */
const Format = Type.String({ maxLength: 10 });
export const ServiceCode = Type.String({ pattern: '^[a-z][a-z0-9_]{1,39}$' });
/** Case numbers (`2026-000123`): per district, so a deployment of several districts needs jurisdiction_id to tell them apart. */
export const ServiceRequestId = Type.String({ pattern: '^\\d{4}-\\d{6,12}$' });
/** A district: the id of its unit. */
const JurisdictionId = Type.String({ pattern: '^[1-9]\\d{0,15}$' });
const ApiKey = Type.String({ maxLength: 200 });
/** A number as JSON sends it, or as a form sends it (text). */
const Coordinate = Type.Union([Type.Number(), Type.String({ pattern: '^\\s*-?\\d{1,3}(\\.\\d{1,15})?\\s*$' })]);
/** Comma-separated lists (`status=open,closed`), as the spec writes them. */
const CommaList = (item: string, max: number) => Type.String({ maxLength: max, pattern: `^${item}(,${item})*$` });

const common = { jurisdiction_id: Type.Optional(JurisdictionId), api_key: Type.Optional(ApiKey) };

export const FormatParams = Obj({ format: Format });
export const ServiceParams = Obj({ service_code: ServiceCode, format: Format });
export const RequestParams = Obj({ service_request_id: ServiceRequestId, format: Format });
export const TokenParams = Obj({ token: ServiceRequestId, format: Format });

export const CommonQuery = Obj(common);

export const RequestsQuery = Obj({
  ...common,
  service_request_id: Type.Optional(CommaList('\\d{4}-\\d{6,12}', 2000)),
  service_code: Type.Optional(CommaList('[a-z][a-z0-9_]{1,39}', 2000)),
  start_date: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601 with a time zone' })),
  end_date: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601 with a time zone' })),
  status: Type.Optional(CommaList('(open|closed)', 20)),
});
export type RequestsQuery = Static<typeof RequestsQuery>;

/** POST requests.{format}, after `attribute[type]=…` has been folded into `attribute: { type }` and empty fields dropped. */
export const PostRequestBody = Obj({
  ...common,
  service_code: ServiceCode,
  lat: Type.Optional(Coordinate),
  long: Type.Optional(Coordinate),
  address_string: Type.Optional(Type.String({ maxLength: 200 })),
  address_id: Type.Optional(Type.String({ maxLength: 100 })),
  email: Type.Optional(Type.String({ maxLength: 254 })),
  device_id: Type.Optional(Type.String({ maxLength: 200 })),
  account_id: Type.Optional(Type.String({ maxLength: 200 })),
  first_name: Type.Optional(Type.String({ maxLength: 40 })),
  last_name: Type.Optional(Type.String({ maxLength: 40 })),
  phone: Type.Optional(Type.String({ maxLength: 30 })),
  description: Type.Optional(Type.String({ maxLength: 4000 })),
  media_url: Type.Optional(Type.String({ maxLength: 1000, format: 'uri', pattern: '^https?://' })),
  attribute: Type.Optional(Obj({ type: Type.Optional(lit(DEMAND_TYPES)) })),
});
export type PostRequestBody = Static<typeof PostRequestBody>;

// ---- key management (/api/open311/clients) ----
export const CreateClientBody = Obj({
  name: Type.String({ minLength: 1, maxLength: 60, pattern: '\\S', description: 'who uses the key, e.g. "12345 热线"' }),
  unitId: Type.Integer({ minimum: 1, maximum: 9007199254740991, description: 'where requests land that carry no location inside a grid' }),
});
export const ClientListQuery = Obj({ includeRevoked: Type.Optional(Type.Boolean()) });
export const ClientIdParam = Obj({ id: Id });
