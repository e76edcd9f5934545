// fast-check arbitraries from the routes' JSON schemas (as the OpenAPI document states them): values that
// respect the schema, so requests reach the services where the rules live, and values that break it in the
// ways clients and attackers do — wrong types, missing and unknown fields, hostile strings and numbers.
import fc from 'fast-check';

/** The subset of JSON Schema (OpenAPI 3.0 flavour) the routes use. */
export interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  nullable?: boolean;
}

/** Values worth aiming at, by field name (existing ids, kind codes): the schema alone rarely finds them. */
export type FieldFixtures = Record<string, (string | number)[]>;

const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';

/** Strings that have broken servers before. */
export const HOSTILE_STRINGS: string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '😀',
  '👨‍👩‍👧‍👦'.repeat(30),
  '\u202e\u0645\u0631\u062d\u0628\u0627',
  'ǅ̸̡̢̛̗̘̙̜̝̞̟̠̤̥̦̩̪̫̬̭̮̯̰̱̲̳̹̺̻̼͇͈͉͍͎̀́̂̃̄̅̆̇̈̉̊̋̌̍̎̏̐̑̒̓̔̽̾̿̀́͂̓̈́͆͊͋͌̕̚ͅ͏͓͔͕͖͙͚͐͑͒͗͛ͣͤͥͦͧͨͩͪͫͬͭͮͯ͘͜͟͢͝͞͠͡',
  "' or '1'='1",
  "1; drop table org_unit; --",
  '%',
  '_',
  '\\',
  '%_\\%',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '${jndi:ldap://127.0.0.1/x}',
  '{{7*7}}',
  'null',
  'undefined',
  'NaN',
  '-0',
  '1e309',
  '9007199254740993',
  '0x10',
  '2026-02-30',
  '9999-12-31',
  '0000-00-00',
  '2026-11-20T25:61:00Z',
  'x'.repeat(101),
  'x'.repeat(2001),
  '长'.repeat(5000),
  'x'.repeat(200_000),
];

/** Numbers that have broken servers before (JSON can carry all of these). */
export const HOSTILE_NUMBERS: number[] = [0, -0, -1, 1.5, 2 ** 31, 2 ** 31 - 1, 2 ** 53, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e308, -1e308, 5e-324];

/** Raw JSON texts a JSON.stringify of a JS value cannot produce. */
export const HOSTILE_NUMBER_TEXTS = ['1e309', '-1e309', '9007199254740993', '-0', '1E400', '0.1e-400', '123456789012345678901234567890', '1.0', '01'];

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, [], {}, [[[[[]]]]], { __proto__: null, x: 1 }),
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.constantFrom(...HOSTILE_NUMBERS),
  fc.jsonValue({ maxDepth: 3 }),
);

function text(schema: Schema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 200, 5000);
  if (schema.format === 'date-time') return fc.oneof(fc.date({ min: new Date('1900-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom('2026-11-20T02:00:00+08:00', '2026-13-01T00:00:00Z', 'yesterday'));
  if (schema.pattern === DATE_PATTERN) {
    return fc.oneof(fc.date({ min: new Date('1950-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)), fc.stringMatching(new RegExp(DATE_PATTERN)));
  }
  if (schema.pattern && schema.pattern !== '\\S') {
    // cut to the longest allowed rather than filtered: a filter that rarely passes makes fast-check spin
    return fc.stringMatching(new RegExp(schema.pattern)).map((s) => (s.length > max ? s.slice(0, max) : s)).filter((s) => s.length >= min);
  }
  const fits = (s: string) => s.length >= min && s.length <= max && (schema.pattern !== '\\S' || /\S/.test(s));
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ minLength: Math.max(min, 1), maxLength: Math.min(max, 30), unit: 'grapheme' }) },
    { weight: 1, arbitrary: fc.string({ minLength: min, maxLength: max, unit: 'binary' }) },
    { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  ).filter(fits);
}

function integer(schema: Schema): fc.Arbitrary<number> {
  const min = Math.max(schema.minimum ?? -Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER);
  const max = Math.min(schema.maximum ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const small = fc.integer({ min, max: Math.min(max, min + 1000) });
  // The whole range, not maxSafeInteger() filtered down to it: for a narrow range (a weekday, 1–7) such a
  // filter almost never passes, and fast-check retries it for ever.
  return fc.oneof({ weight: 3, arbitrary: small }, { weight: 1, arbitrary: fc.integer({ min, max }) }, { weight: 1, arbitrary: fc.constantFrom(min, max) });
}

/** Values that respect `schema` (with field fixtures mixed in where the field has some). */
export function valid(schema: Schema, fixtures: FieldFixtures, field?: string, depth = 0): fc.Arbitrary<unknown> {
  const base = validBare(schema, fixtures, depth);
  const fix = field ? fixtures[field] : undefined;
  const withFixtures = fix?.length && schema.type !== 'array' && schema.type !== 'object' ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom<unknown>(...fix) }, { weight: 1, arbitrary: base }) : base;
  return schema.nullable ? fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 4, arbitrary: withFixtures }) : withFixtures;
}

function validBare(schema: Schema, fixtures: FieldFixtures, depth: number): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return fc.oneof(...union.map((s) => valid(s, fixtures, undefined, depth)));
  switch (schema.type) {
    case 'string':
      return text(schema);
    case 'integer':
      return integer(schema);
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(schema.items ? valid(schema.items, fixtures, undefined, depth + 1) : fc.jsonValue({ maxDepth: 2 }), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 5, 6) });
    case 'object': {
      const props = schema.properties ?? {};
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, s] of Object.entries(props)) model[k] = valid(s, fixtures, k, depth + 1);
      return fc.record(model, { requiredKeys: (schema.required ?? []).filter((k) => k in props) });
    }
    default:
      // no type: anything (a GeoJSON boundary is declared as unknown)
      return depth === 0 ? fc.oneof(geoJson, fc.jsonValue({ maxDepth: 4 })) : fc.oneof(geoJson, fc.jsonValue({ maxDepth: 3 }));
  }
}

const coordinate = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.double({ min: 113.2, max: 113.3, noNaN: true }), fc.double({ min: 23.1, max: 23.2, noNaN: true })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom<unknown>(1e308, -1e308, 0, -0, 180, -180, 91, 'x', null), fc.constantFrom<unknown>(1e308, 0, 90, -90, 'y', null, [])) },
);
/** GeoJSON-shaped values: polygons, open rings, bowties, junk coordinates, features, huge rings. */
export const geoJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.array(coordinate, { minLength: 0, maxLength: 8 }).map((ring) => ({ type: 'Polygon', coordinates: [ring.length ? [...ring, ring[0]] : ring] })),
  fc.array(coordinate, { minLength: 3, maxLength: 8 }).map((ring) => ({ type: 'Polygon', coordinates: [ring] })),
  fc.array(fc.array(coordinate, { minLength: 3, maxLength: 6 }).map((r) => [[...r, r[0]]]), { minLength: 1, maxLength: 3 }).map((polys) => ({ type: 'MultiPolygon', coordinates: polys })),
  fc.constantFrom<unknown>(
    { type: 'Feature', geometry: { type: 'Polygon', coordinates: [[[113.2, 23.1], [113.3, 23.1], [113.3, 23.2], [113.2, 23.1]]] } },
    { type: 'Polygon', coordinates: [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]] },
    { type: 'Polygon', coordinates: 'nope' },
    { type: 'Polygon' },
    { type: 'GeometryCollection', geometries: [] },
    { type: 'Point', coordinates: [1, 2] },
    { type: 'Polygon', coordinates: [Array.from({ length: 6000 }, (_, i) => [113.2 + Math.cos(i) / 100, 23.1 + Math.sin(i) / 100])] },
    { type: 'Polygon', coordinates: [[[113.2, 23.1], [113.3, 23.1], [113.3, 23.2], [113.2, 23.2], [113.2, 23.1]], [[113.21, 23.11], [113.29, 23.11], [113.25, 23.19], [113.21, 23.11]]] },
  ),
);

const UNKNOWN_FIELDS = ['extra', '__proto__', 'constructor', 'id', 'district_id', 'path', 'isAdmin'];

/** A value that breaks `schema`: a dropped required field, an unknown field, or a hostile value in some field. */
export function broken(schema: Schema, fixtures: FieldFixtures): fc.Arbitrary<unknown> {
  if (schema.type !== 'object' || !schema.properties) return hostileValue;
  const keys = Object.keys(schema.properties);
  return fc.tuple(valid(schema, fixtures), fc.nat(), fc.constantFrom('drop', 'unknown', 'hostile', 'hostile', 'hostile', 'not-object'), hostileValue).map(([v, n, how, hostile]) => {
    const obj = { ...(v as Record<string, unknown>) };
    if (how === 'not-object') return hostile;
    if (how === 'unknown') return { ...obj, [UNKNOWN_FIELDS[n % UNKNOWN_FIELDS.length]]: hostile };
    const required = schema.required ?? [];
    if (how === 'drop' && required.length) {
      delete obj[required[n % required.length]];
      return obj;
    }
    if (keys.length) obj[keys[n % keys.length]] = hostile;
    return obj;
  });
}

/** Bodies no JSON.stringify makes: broken syntax, deep nesting, numbers beyond doubles, byte-order marks. */
export function rawBodies(validExample: unknown): fc.Arbitrary<string> {
  const json = JSON.stringify(validExample ?? {});
  const firstNumber = /(":\s*)(-?\d+)/;
  return fc.oneof(
    fc.constantFrom('', '{', '{"a":', '}', '[]', '"text"', 'null', 'true', '0', '{"a":1}garbage', '\ufeff{}', '{"a":1,"a":2}', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}'),
    fc.constantFrom(...HOSTILE_NUMBER_TEXTS).map((n) => (firstNumber.test(json) ? json.replace(firstNumber, `$1${n}`) : `{"x":${n}}`)),
    fc.constantFrom(...HOSTILE_NUMBER_TEXTS),
    fc.constantFrom(1_000, 100_000, 400_000).map((n) => '['.repeat(n) + ']'.repeat(n)),
    fc.constantFrom(1_000, 50_000).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
    fc.constantFrom(100_000).map((n) => '['.repeat(n)),
    fc.constant(json.replace(/"$/, '"\\u0000"').replace(/:"([^"]*)"/, ':"$1\\u0000"')),
    fc.constant(json.replace(/:"([^"]*)"/, ':"\\ud800"')),
    fc.constant(json.slice(0, Math.max(1, Math.floor(json.length / 2)))),
    fc.constant(`{${Array.from({ length: 20_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`),
  );
}
