// Open311 GeoReport v2 through the API: every JSON answer validated against the public schemas
// (open311/schema-validation, copied into ./schemas so a clean clone carries them), XML well-formed with the spec's elements,
// keys (missing, wrong, revoked) refused with nothing written, requests landing in the dispatcher's queue,
// the open/closed mapping along the whole loop, and nothing personal in any public answer.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, call, type Session, type TestApp } from '../../../test/app.ts';
import { buildTinyLocality, loginAll, type TinyLocality } from '../../../test/fixtures.ts';
import { fingerprint } from '../../../test/fingerprint.ts';
import { GridService } from '../grid/grid.service.ts';
import { publicContext, systemContext } from '../../platform/context.ts';
import { ForbiddenError } from '../../platform/errors.ts';
import { demandsContext } from '../demands/demands.context.ts';
import { DEMAND_STATUSES, OPEN_STATUSES } from '../demands/demand.states.ts';
import { escapeXml } from './open311.format.ts';
import { POSTS_PER_KEY_PER_MINUTE } from './open311.routes.ts';
import { redact, requestView } from './open311.service.ts';
import type { PublicCaseRow } from './open311.repository.ts';

// ---- the public schemas ----
const SCHEMA_DIR = process.env.OPEN311_SCHEMA_DIR ?? path.join(import.meta.dirname, 'schemas');
const schema = (file: string) => JSON.parse(readFileSync(path.join(SCHEMA_DIR, file), 'utf8')) as Record<string, unknown>;
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats.default(ajv);
// Swagger's own formats (uid, uint, double) say nothing JSON Schema can check
for (const f of ['uid', 'uint', 'double']) ajv.addFormat(f, /^[\s\S]*$/);
for (const f of ['request.json', 'service.json']) ajv.addSchema(schema(f), f);
const swagger = schema('swagger.json') as { definitions: Record<string, Record<string, unknown>> };
const validators: Record<string, ValidateFunction> = {
  services: ajv.compile({ ...schema('services.json'), $id: 'services.json' }),
  serviceDefinition: ajv.compile({ ...schema('service-definition.json'), $id: 'service-definition.json' }),
  requests: ajv.compile({ ...schema('requests.json'), $id: 'requests.json' }),
  // the POST answer has no file of its own: Swagger's RequestResponse, with the id our answers always carry
  postResponse: ajv.compile({ type: 'array', minItems: 1, items: { ...swagger.definitions.RequestResponse, required: ['service_request_id'] } }),
  token: ajv.compile({ type: 'array', minItems: 1, items: { ...swagger.definitions.TokenResponse, required: ['service_request_id', 'token'] } }),
};
function expectValid(kind: keyof typeof validators, body: unknown) {
  const ok = validators[kind](body);
  expect(ok ? [] : validators[kind].errors, `${kind}: ${JSON.stringify(body).slice(0, 400)}`).toEqual([]);
}

// ---- a small XML check: declaration, balanced elements, known entities only; answers the tree ----
interface XNode {
  name: string;
  children: XNode[];
  text: string;
}
function parseXml(xml: string): XNode {
  const decl = '<?xml version="1.0" encoding="UTF-8"?>';
  expect(xml.startsWith(decl), xml.slice(0, 60)).toBe(true);
  const body = xml.slice(decl.length).trim();
  const top: XNode = { name: '#document', children: [], text: '' };
  const stack: XNode[] = [top];
  const token = /<(\/?)([A-Za-z_][\w.-]*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < body.length && (m = token.exec(body))) {
    at = token.lastIndex;
    const [, closing, name, selfClosing, text] = m;
    const current = stack[stack.length - 1];
    if (text !== undefined) {
      expect(text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi, ''), 'stray & or >').not.toMatch(/[&]/);
      current.text += text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
    } else if (closing) {
      expect(current.name, `</${name}> closes <${current.name}>`).toBe(name);
      stack.pop();
    } else {
      const node: XNode = { name, children: [], text: '' };
      current.children.push(node);
      if (!selfClosing) stack.push(node);
    }
  }
  expect(at, `unparsed from: ${body.slice(at, at + 80)}`).toBe(body.length);
  expect(stack.length, 'unclosed elements').toBe(1);
  expect(top.children.length, 'one root element').toBe(1);
  return top.children[0];
}
const child = (n: XNode, name: string) => n.children.find((c) => c.name === name);
const childText = (n: XNode, name: string) => child(n, name)?.text;

// ---- the locality ----
let h: TestApp;
let f: TinyLocality;
let s: Record<string, Session>;
let key = '';
let clientId = 0;
const rect = (x0: number, y0: number, x1: number, y1: number) => ({ type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] });
const IN_A1 = { lat: 23.105, long: 113.205 };
const NOWHERE = { lat: 30.5, long: 114.3 };
const NAME = { first_name: '三', last_name: '张' };
const PHONE = '13912345678';
const EMAIL = 'zhangsan@example.com';

const form = (fields: Record<string, string | number>) => new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString();
const get = (url: string, headers: Record<string, string> = {}) => h.app.inject({ method: 'GET', url, headers });
const postForm = (url: string, fields: Record<string, string | number>) =>
  h.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form(fields) });
const postJson = (url: string, body: unknown) => h.app.inject({ method: 'POST', url, payload: body as object });

async function unchanged(run: () => Promise<LightMyRequestResponse>, status: number, format: 'json' | 'xml' = 'json') {
  const before = await fingerprint(h.database.db);
  const res = await run();
  expect(res.statusCode, res.body).toBe(status);
  expectOpen311Error(res, status, format);
  expect(await fingerprint(h.database.db)).toEqual(before);
  return res;
}
function expectOpen311Error(res: LightMyRequestResponse, status: number, format: 'json' | 'xml') {
  if (format === 'json') {
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json();
    expect(body).toEqual([{ code: status, description: expect.stringMatching(/\S/) }]);
    expect(body[0]).not.toHaveProperty('statusCode');
  } else {
    expect(res.headers['content-type']).toMatch(/^text\/xml/);
    const root = parseXml(res.body);
    expect(root.name).toBe('errors');
    expect(root.children.map((c) => c.name)).toEqual(['error']);
    expect(childText(root.children[0], 'code')).toBe(String(status));
    expect(childText(root.children[0], 'description')).toMatch(/\S/);
  }
}

async function submit(fields: Record<string, string | number>, format: 'json' | 'xml' = 'json') {
  const res = await postForm(`/open311/v2/requests.${format}`, { api_key: key, ...fields });
  expect(res.statusCode, res.body).toBe(200);
  return res;
}
async function submitId(fields: Record<string, string | number>) {
  const body = (await submit(fields)).json();
  expectValid('postResponse', body);
  return body[0].service_request_id as string;
}
const demandOf = (caseNo: string) => h.database.db.selectFrom('demand').selectAll().where('case_no', '=', caseNo).executeTakeFirstOrThrow();
const act = async (who: string, id: number, step: string, body: unknown = {}) => {
  const res = await call(h.app, s[who], 'POST', `/api/demands/${id}/${step}`, body);
  expect(res.statusCode, res.body).toBe(200);
};
const one = async (caseNo: string) => {
  const res = await get(`/open311/v2/requests/${caseNo}.json`);
  expect(res.statusCode, res.body).toBe(200);
  expectValid('requests', res.json());
  expect(res.json()).toHaveLength(1);
  return res.json()[0];
};

beforeAll(async () => {
  h = await createTestApp();
  f = await buildTinyLocality(h.database, h.clock.now);
  const grid = new GridService(h.database.db, h.clock.now);
  const sys = systemContext('t');
  await grid.setBoundary(sys, f.street, rect(113.2, 23.1, 113.24, 23.12));
  await grid.setBoundary(sys, f.communityA, rect(113.2, 23.1, 113.22, 23.12));
  await grid.setBoundary(sys, f.communityB, rect(113.22, 23.1, 113.24, 23.12));
  await grid.setBoundary(sys, f.gridA1, rect(113.2, 23.1, 113.21, 23.11));
  await grid.setBoundary(sys, f.gridA2, rect(113.21, 23.1, 113.22, 23.11));
  await grid.setBoundary(sys, f.gridB1, rect(113.22, 23.1, 113.23, 23.11));
  // a Monday morning in the locality: 2026-11-23 09:00 +08:00
  h.clock.current = new Date('2026-11-23T01:00:00Z');
  s = await loginAll(h.app, f);
  const res = await call(h.app, s.district_admin, 'POST', '/api/open311/clients', { name: '12345 热线', unitId: f.communityA });
  expect(res.statusCode, res.body).toBe(201);
  key = res.json().key;
  clientId = res.json().id;
});
afterAll(async () => h?.close());

describe('API keys (/api/open311/clients)', () => {
  it('shows the key once; keeps only its hash; lists without it; audits the creation', async () => {
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const row = await h.database.db.selectFrom('open311_client').selectAll().where('id', '=', clientId).executeTakeFirstOrThrow();
    expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.key_hash).not.toContain(key);
    expect(row.key_last4).toBe(key.slice(-4));
    expect(Number(row.unit_id)).toBe(f.communityA);
    const list = await call(h.app, s.district_admin, 'GET', '/api/open311/clients');
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((c: { id: number }) => c.id)).toContain(clientId);
    expect(list.body).not.toContain(key);
    expect(list.body).not.toContain(row.key_hash);
    const audit = await h.database.db.selectFrom('audit_log').selectAll().where('action', '=', 'open311_client.create').where('target_id', '=', String(clientId)).executeTakeFirstOrThrow();
    expect(JSON.stringify(audit)).not.toContain(key);
  });

  it('needs demand.config; a client outside the caller’s scope does not exist for them', async () => {
    expect((await call(h.app, s.street_admin, 'GET', '/api/open311/clients')).statusCode).toBe(403);
    const before = await fingerprint(h.database.db);
    expect((await call(h.app, s.secretary_a, 'POST', '/api/open311/clients', { name: 'x', unitId: f.communityA })).statusCode).toBe(403);
    expect((await call(h.app, s.street_admin, 'POST', `/api/open311/clients/${clientId}/revoke`)).statusCode).toBe(404);
    expect((await call(h.app, s.district_admin, 'POST', '/api/open311/clients', { name: 'x', unitId: 999_999_999 })).statusCode).toBe(404);
    expect((await call(h.app, s.district_admin, 'POST', '/api/open311/clients', { name: '  ', unitId: f.communityA })).statusCode).toBe(400);
    expect(await fingerprint(h.database.db)).toEqual(before);
  });

  it('a revoked key is refused at once; revoking twice is a conflict', async () => {
    const created = (await call(h.app, s.district_admin, 'POST', '/api/open311/clients', { name: '城市 App', unitId: f.communityB })).json();
    const revoked = await call(h.app, s.district_admin, 'POST', `/api/open311/clients/${created.id}/revoke`);
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect(revoked.json().revokedAt).toBeTruthy();
    expect((await call(h.app, s.district_admin, 'POST', `/api/open311/clients/${created.id}/revoke`)).statusCode).toBe(409);
    await unchanged(() => postForm('/open311/v2/requests.json', { api_key: created.key, service_code: 'exposed_garbage', ...IN_A1 }), 403);
    const listed = (await call(h.app, s.district_admin, 'GET', '/api/open311/clients')).json().items.map((c: { id: number }) => c.id);
    expect(listed).not.toContain(created.id);
    const all = (await call(h.app, s.district_admin, 'GET', '/api/open311/clients?includeRevoked=true')).json().items.map((c: { id: number }) => c.id);
    expect(all).toContain(created.id);
  });
});

describe('discovery and services', () => {
  it('discovery names the spec, the endpoint and both formats', async () => {
    const res = await get('/open311/v2/discovery.json');
    expect(res.statusCode).toBe(200);
    // public, credential-free data: readable by browser apps on other origins
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
    const d = res.json();
    expect(d).toMatchObject({ changeset: expect.any(String), contact: expect.any(String), key_service: expect.any(String) });
    expect(d.endpoints).toEqual([{ specification: 'http://wiki.open311.org/GeoReport_v2', url: expect.stringMatching(/^https?:\/\/.+\/open311\/v2\/$/), changeset: d.changeset, type: 'production', formats: ['text/xml', 'application/json'] }]);
    const x = parseXml((await get('/open311/v2/discovery.xml')).body);
    expect(x.name).toBe('discovery');
    const endpoint = child(child(x, 'endpoints')!, 'endpoint')!;
    expect(childText(endpoint, 'specification')).toBe('http://wiki.open311.org/GeoReport_v2');
    expect(child(endpoint, 'formats')!.children.map((c) => [c.name, c.text])).toEqual([['format', 'text/xml'], ['format', 'application/json']]);
  });

  it('services are the active leaf categories, codes as strings, grouped by their parent', async () => {
    const res = await get('/open311/v2/services.json');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json; charset=utf-8/);
    const list = res.json();
    expectValid('services', list);
    const garbage = list.find((x: { service_code: string }) => x.service_code === 'exposed_garbage');
    expect(garbage).toMatchObject({ service_name: '暴露垃圾', metadata: true, type: 'realtime', group: '市容环境' });
    expect(garbage.description).toContain('Exposed');
    expect(garbage.keywords.split(',')).toEqual(expect.arrayContaining(['暴露垃圾', '市容环境']));
    // a top-level class with sub-categories is a group, not a service
    expect(list.map((x: { service_code: string }) => x.service_code)).not.toContain('city_appearance');
    for (const x of list) expect(typeof x.service_code).toBe('string');
    const categories = await h.database.db.selectFrom('demand_category').select(['code', 'parent_code']).where('active', '=', true).execute();
    const parents = new Set(categories.map((c) => c.parent_code).filter(Boolean));
    expect(list.map((x: { service_code: string }) => x.service_code).sort()).toEqual(categories.filter((c) => c.parent_code || !parents.has(c.code)).map((c) => c.code).sort());

    const xml = await get('/open311/v2/services.xml');
    expect(xml.headers['content-type']).toMatch(/^text\/xml; charset=utf-8/);
    const root = parseXml(xml.body);
    expect(root.name).toBe('services');
    expect(root.children.length).toBe(list.length);
    expect(new Set(root.children.map((c) => c.name))).toEqual(new Set(['service']));
    const first = root.children[0];
    expect(first.children.map((c) => c.name)).toEqual(['service_code', 'service_name', 'description', 'metadata', 'type', 'keywords', 'group']);
    expect(childText(first, 'metadata')).toBe('true');
  });

  it('a service definition has the demand type as its one attribute; an unknown code is a 404', async () => {
    const res = await get('/open311/v2/services/exposed_garbage.json');
    expect(res.statusCode).toBe(200);
    const def = res.json();
    expectValid('serviceDefinition', def);
    expect(def.service_code).toBe('exposed_garbage');
    expect(def.attributes).toHaveLength(1);
    expect(def.attributes[0]).toMatchObject({ code: 'type', datatype: 'singlevaluelist', required: false, variable: true, order: 1, description: expect.any(String) });
    expect(def.attributes[0].values).toEqual([
      { key: 'consult', name: '咨询' },
      { key: 'help', name: '求助' },
      { key: 'complaint', name: '投诉' },
      { key: 'report', name: '举报' },
      { key: 'suggestion', name: '建议' },
    ]);
    const root = parseXml((await get('/open311/v2/services/exposed_garbage.xml')).body);
    expect(root.name).toBe('service_definition');
    const attribute = child(child(root, 'attributes')!, 'attribute')!;
    expect(childText(attribute, 'code')).toBe('type');
    expect(child(attribute, 'values')!.children.map((v) => [v.name, childText(v, 'key')])).toEqual(['consult', 'help', 'complaint', 'report', 'suggestion'].map((k) => ['value', k]));

    await unchanged(() => get('/open311/v2/services/no_such_service.json'), 404);
    await unchanged(() => get('/open311/v2/services/no_such_service.xml'), 404, 'xml');
    await unchanged(() => get('/open311/v2/services/city_appearance.json'), 404);
  });
});

describe('errors are always in the Open311 format', () => {
  it('unknown format, unknown path, bad query, bad jurisdiction', async () => {
    await unchanged(() => get('/open311/v2/services.yaml'), 404, 'xml');
    await unchanged(() => get('/open311/v2/services.yaml', { accept: 'application/json' }), 404, 'json');
    await unchanged(() => get('/open311/v2/services'), 404, 'xml');
    await unchanged(() => get('/open311/v2/nothing.json'), 404, 'json');
    await unchanged(() => get('/open311/v2/requests.json?start_date=yesterday'), 400);
    await unchanged(() => get('/open311/v2/requests.xml?status=pending'), 400, 'xml');
    await unchanged(() => get('/open311/v2/requests.json?bogus=1'), 400);
    await unchanged(() => get('/open311/v2/services.json?jurisdiction_id=999999999'), 404);
    await unchanged(() => get('/open311/v2/requests/not-a-number.json'), 400);
    const ok = await get(`/open311/v2/services.json?jurisdiction_id=${f.district}&api_key=anything`);
    expect(ok.statusCode).toBe(200);
  });
});

describe('POST requests', () => {
  it('without a key, or with a wrong one: 403 in the Open311 format, nothing written', async () => {
    const fields = { service_code: 'exposed_garbage', description: '垃圾', ...IN_A1 };
    await unchanged(() => postForm('/open311/v2/requests.json', fields), 403);
    await unchanged(() => postForm('/open311/v2/requests.xml', { ...fields, api_key: 'not-a-key' }), 403, 'xml');
    await unchanged(() => postJson('/open311/v2/requests.json', { ...fields, api_key: `${key}x` }), 403);
    // the key is checked before the body: a caller without one learns nothing about the body
    await unchanged(() => postJson('/open311/v2/requests.json', { nonsense: true }), 403);
    await unchanged(() => h.app.inject({ method: 'POST', url: '/open311/v2/requests.json', headers: { 'content-type': 'application/json' }, payload: '{"broken' }), 400);
  });

  it('bad input: 400 in the Open311 format, nothing written', async () => {
    const base = { api_key: key, description: '垃圾', ...IN_A1 };
    await unchanged(() => postForm('/open311/v2/requests.json', { ...base, service_code: 'no_such_service' }), 400);
    await unchanged(() => postForm('/open311/v2/requests.xml', { ...base, service_code: 'no_such_service' }), 400, 'xml');
    await unchanged(() => postForm('/open311/v2/requests.json', { ...base, service_code: 'city_appearance' }), 400);
    await unchanged(() => postForm('/open311/v2/requests.json', { ...base, service_code: 'NOT A CODE' }), 400);
    await unchanged(() => postForm('/open311/v2/requests.json', { api_key: key, service_code: 'exposed_garbage', description: '没有位置' }), 400);
    await unchanged(() => postForm('/open311/v2/requests.json', { api_key: key, service_code: 'exposed_garbage', lat: 23.1 }), 400);
    await unchanged(() => postForm('/open311/v2/requests.json', { ...base, service_code: 'exposed_garbage', lat: 'north' }), 400);
    await unchanged(() => postForm('/open311/v2/requests.json', { ...base, service_code: 'exposed_garbage', lat: 95 }), 400);
    await unchanged(() => postForm('/open311/v2/requests.json', { ...base, service_code: 'exposed_garbage', phone: '12345' }), 400);
    await unchanged(() => postForm('/open311/v2/requests.json', { ...base, service_code: 'exposed_garbage', 'attribute[type]': 'rant' }), 400);
    await unchanged(() => postForm('/open311/v2/requests.json', { ...base, service_code: 'exposed_garbage', 'attribute[colour]': 'red' }), 400);
    await unchanged(() => postForm('/open311/v2/requests.json', { ...base, service_code: 'exposed_garbage', media_url: 'javascript:alert(1)' }), 400);
    await unchanged(() => postForm('/open311/v2/requests.json', { ...base, service_code: 'exposed_garbage', nickname: 'x' }), 400);
    await unchanged(() => postForm('/open311/v2/requests.json', { ...base, service_code: 'exposed_garbage', jurisdiction_id: 999_999 }), 400);
    await unchanged(() => postForm(`/open311/v2/requests.json?service_code=x`, { ...base, service_code: 'exposed_garbage' }), 400);
    // a body in neither of the two encodings cannot even be read (so not for its key either)
    await unchanged(() => h.app.inject({ method: 'POST', url: '/open311/v2/requests.json', headers: { 'content-type': 'text/plain' }, payload: `api_key=${key}` }), 400);
    await unchanged(() => postForm('/open311/v2/requests.yaml', { ...base, service_code: 'exposed_garbage' }), 404, 'xml');
    await unchanged(() => postForm('/open311/v2/requests.json', { ...base, service_code: 'exposed_garbage', description: 'x'.repeat(70_000) }), 413);
  });

  it('a form-encoded request with a location in a grid: a demand on the open311 channel, routed by boundary, in the dispatcher’s queue', async () => {
    const res = await submit({ service_code: 'exposed_garbage', ...IN_A1, description: '路口垃圾堆了三天', 'attribute[type]': 'complaint', ...NAME, phone: PHONE, email: EMAIL, media_url: 'https://img.example.com/a.jpg', account_id: 'acct-42', device_id: 'dev-1' });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const body = res.json();
    expectValid('postResponse', body);
    expect(body).toEqual([{ service_request_id: expect.stringMatching(/^\d{4}-\d{6}$/), service_notice: expect.stringMatching(/\S/), account_id: 'acct-42' }]);
    const d = await demandOf(body[0].service_request_id);
    expect(d).toMatchObject({ channel: 'open311', type: 'complaint', category_code: 'exposed_garbage', routed_by: 'boundary', reporter_name: '张三', source_ref: 'https://img.example.com/a.jpg', reporter_user_id: null });
    expect(Number(d.unit_id)).toBe(f.gridA1);
    expect(d.reporter_phone_last4).toBe('5678');
    expect(d.reporter_phone_cipher).not.toContain(PHONE);
    expect(JSON.stringify(d)).not.toContain(EMAIL);

    const queue = await call(h.app, s.secretary_a, 'GET', '/api/demands?channel=open311');
    expect(queue.statusCode).toBe(200);
    const item = queue.json().items.find((i: { caseNo: string }) => i.caseNo === d.case_no);
    expect(item).toMatchObject({ channel: 'open311', unitId: f.gridA1, status: 'reported' });
    const detail = (await call(h.app, s.secretary_a, 'GET', `/api/demands/${d.id}`)).json();
    expect(detail.timeline[0]).toMatchObject({ action: 'report', actorName: 'open311:12345 热线', actorKind: 'reporter' });
    const audit = await h.database.db.selectFrom('audit_log').select(['actor_name', 'actor_user_id']).where('action', '=', 'demand.report').where('target_id', '=', String(d.id)).executeTakeFirstOrThrow();
    expect(audit).toEqual({ actor_name: `open311:client/${clientId}`, actor_user_id: null });
  });

  it('JSON bodies, the key in the query, an address only or a location outside every grid: the client’s own unit', async () => {
    const byAddress = await postJson(`/open311/v2/requests.json?api_key=${encodeURIComponent(key)}`, { service_code: 'illegal_car_parking', address_string: '甲社区东门', description: '消防通道被堵', attribute: { type: 'report' } });
    expect(byAddress.statusCode, byAddress.body).toBe(200);
    expectValid('postResponse', byAddress.json());
    expect(byAddress.json()[0]).not.toHaveProperty('account_id');
    const a = await demandOf(byAddress.json()[0].service_request_id);
    expect(a).toMatchObject({ routed_by: 'chosen', address: '甲社区东门', type: 'report', lat: null });
    expect(Number(a.unit_id)).toBe(f.communityA);

    const far = await postJson('/open311/v2/requests.json', { api_key: key, service_code: 'exposed_garbage', lat: String(NOWHERE.lat), long: NOWHERE.long, 'attribute[type]': 'help' });
    expect(far.statusCode, far.body).toBe(200);
    const b = await demandOf(far.json()[0].service_request_id);
    expect(b).toMatchObject({ routed_by: 'chosen', type: 'help', description: '暴露垃圾' });
    expect(Number(b.unit_id)).toBe(f.communityA);
    expect(b.lat).toBeCloseTo(NOWHERE.lat);

    const xml = await submit({ service_code: 'unclean_road', ...IN_A1 }, 'xml');
    const root = parseXml(xml.body);
    expect(root.name).toBe('service_requests');
    const request = child(root, 'request')!;
    expect(childText(request, 'service_request_id')).toMatch(/^\d{4}-\d{6}$/);
    expect(childText(request, 'service_notice')).toMatch(/\S/);
  });

  it('the staff API and the service keep the open311 channel to verified clients', async () => {
    const { demands } = demandsContext(h.app.services);
    const input = { channel: 'open311' as const, type: 'help' as const, category: 'exposed_garbage', description: 'x', unitId: f.gridA1 };
    await expect(demands.report(systemContext('t'), input)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(demands.report(publicContext('public', null), { ...input, channel: 'resident' }, { open311Client: true })).rejects.toBeInstanceOf(ForbiddenError);
    const res = await call(h.app, s.worker_a1, 'POST', '/api/demands', { ...input, category: 'exposed_garbage', channel: 'open311' });
    expect(res.statusCode).toBe(400);
  });
});

describe('GET requests', () => {
  it('lists requests with public fields only, valid against the schema, codes as strings, nothing personal', async () => {
    const id = await submitId({ service_code: 'exposed_garbage', ...IN_A1, description: `我是张三，电话 ${PHONE}，楼下垃圾没人管`, ...NAME, phone: PHONE, email: EMAIL });
    for (const url of ['/open311/v2/requests.json', `/open311/v2/requests/${id}.json`, `/open311/v2/requests.json?service_request_id=${id}`]) {
      const res = await get(url);
      expect(res.statusCode, res.body).toBe(200);
      expectValid('requests', res.json());
      for (const r of res.json()) {
        expect(typeof r.service_request_id).toBe('string');
        expect(typeof r.service_code).toBe('string');
      }
      for (const secret of [PHONE, '5678', EMAIL, '张三', 'acct-42', 'dev-1']) expect(res.body, `${url} shows ${secret}`).not.toContain(secret);
      const xml = await get(url.replace('.json', '.xml'));
      expect(xml.statusCode).toBe(200);
      for (const secret of [PHONE, EMAIL, '张三']) expect(xml.body).not.toContain(secret);
    }
    const trackingCodes = (await h.database.db.selectFrom('demand').select('tracking_code').execute()).map((r) => r.tracking_code);
    const all = (await get('/open311/v2/requests.json')).body;
    for (const code of trackingCodes) expect(all).not.toContain(code);

    const r = await one(id);
    expect(r).toMatchObject({ service_request_id: id, status: 'open', status_notes: '已上报 / Reported', service_code: 'exposed_garbage', service_name: '暴露垃圾', agency_responsible: '甲一网格', lat: IN_A1.lat, long: IN_A1.long, media_url: null });
    // the title, with the number and the name struck out; never the full text
    expect(r.description).toBe('我是**，电话 ***，楼下垃圾没人管');
    expect(r.requested_datetime).toBe('2026-11-23T01:00:00Z');
    expect(Date.parse(r.expected_datetime)).toBeGreaterThan(Date.parse(r.requested_datetime));

    const root = parseXml((await get(`/open311/v2/requests/${id}.xml`)).body);
    expect(root.name).toBe('service_requests');
    expect(root.children.map((c) => c.name)).toEqual(['request']);
    expect(childText(root.children[0], 'service_request_id')).toBe(id);
    expect(childText(root.children[0], 'status')).toBe('open');
    expect(childText(root.children[0], 'media_url')).toBe('');
  });

  it('a report of wrongdoing (举报) shows neither its title nor its place', async () => {
    const id = await submitId({ service_code: 'illegal_structure', ...IN_A1, description: '3号楼顶违建', 'attribute[type]': 'report' });
    const r = await one(id);
    expect(r).toMatchObject({ description: null, address: null, lat: null, long: null, status: 'open' });
  });

  it('maps every state to open or closed, with our state in status_notes, along the whole loop', async () => {
    const id = await submitId({ service_code: 'exposed_garbage', ...IN_A1, description: '走完全程的诉求' });
    const d = await demandOf(id);
    expect((await one(id)).status).toBe('open');
    await act('secretary_a', d.id, 'register');
    await act('secretary_a', d.id, 'dispatch', { handler: { type: 'unit', unitId: f.gridA1 } });
    expect(await one(id)).toMatchObject({ status: 'open', status_notes: '已派遣 / Dispatched', agency_responsible: '甲一网格' });
    h.clock.advance(3600_000);
    await act('worker_a1', d.id, 'accept');
    await act('worker_a1', d.id, 'handle', { result: '已清理' });
    await act('worker_a1', d.id, 'verify', { fixed: true });
    expect(await one(id)).toMatchObject({ status: 'open', status_notes: '已核查 / Verified' });
    h.clock.advance(3600_000);
    await act('secretary_a', d.id, 'close');
    const closed = await one(id);
    expect(closed).toMatchObject({ status: 'closed', status_notes: '已结案 / Closed', updated_datetime: '2026-11-23T03:00:00Z' });
    expect((await get(`/open311/v2/requests.json?status=closed`)).json().map((x: { service_request_id: string }) => x.service_request_id)).toContain(id);
    expect((await get(`/open311/v2/requests.json?status=open`)).json().map((x: { service_request_id: string }) => x.service_request_id)).not.toContain(id);
    expect((await get(`/open311/v2/requests.json?status=open,closed`)).json().map((x: { service_request_id: string }) => x.service_request_id)).toContain(id);

    const declinedId = await submitId({ service_code: 'exposed_garbage', ...IN_A1, description: '重复提交' });
    await act('secretary_a', (await demandOf(declinedId)).id, 'decline', { reason: '非本平台受理范围' });
    expect(await one(declinedId)).toMatchObject({ status: 'closed', status_notes: '不予受理 / Declined: 非本平台受理范围' });

    const mergedId = await submitId({ service_code: 'exposed_garbage', ...IN_A1, description: '同一处垃圾' });
    const keptId = await submitId({ service_code: 'exposed_garbage', ...IN_A1, description: '同一处垃圾（先报）' });
    await act('secretary_a', (await demandOf(mergedId)).id, 'merge', { intoId: (await demandOf(keptId)).id });
    expect(await one(mergedId)).toMatchObject({ status: 'closed', status_notes: `已合并至 ${keptId} / Merged into ${keptId}` });
  });

  it('every internal state has its Open311 status', () => {
    const base = { district_id: 1, id: 1, case_no: '2026-000001', type: 'help', category_code: 'x', category_name_zh: 'x', respond_minutes: 60, finish_minutes: 120, title: 't', decline_reason: null, merged_into_case_no: null, lng: null, lat: null, address: null, house_id: null, unit_name: 'u', reported_at: new Date(), closed_at: null, finish_due_at: new Date(), last_event_at: new Date() };
    for (const status of DEMAND_STATUSES) {
      const v = requestView({ ...base, status } as PublicCaseRow, undefined);
      expect(v.status, status).toBe(OPEN_STATUSES.includes(status) ? 'open' : 'closed');
      expectValid('requests', [v]);
    }
    // a case routed by a dwelling shows no place: it is someone's home
    expect(requestView({ ...base, status: 'reported', house_id: 7, address: '1号楼101', lat: 23.1, lng: 113.2 } as PublicCaseRow, undefined)).toMatchObject({ address: null, lat: null, long: null });
  });

  it('filters by service_code, dates (90 days at most) and jurisdiction; unknown ids are 404s; tokens are the ids', async () => {
    const id = await submitId({ service_code: 'unclean_water', ...IN_A1, description: '河面漂浮物' });
    const codes = (url: string) => get(url).then((r) => r.json().map((x: { service_request_id: string }) => x.service_request_id));
    expect(await codes('/open311/v2/requests.json?service_code=unclean_water')).toEqual([id]);
    expect(await codes('/open311/v2/requests.json?service_code=abandoned_vehicle')).toEqual([]);
    expect(await codes('/open311/v2/requests.json?start_date=2026-11-22T00:00:00%2B08:00&end_date=2026-11-24T00:00:00%2B08:00')).toContain(id);
    expect(await codes('/open311/v2/requests.json?end_date=2026-11-01T00:00:00Z')).toEqual([]);
    expect(await codes(`/open311/v2/requests.json?jurisdiction_id=${f.district}&service_code=unclean_water`)).toEqual([id]);
    await unchanged(() => get('/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-11-01T00:00:00Z'), 400);
    await unchanged(() => get('/open311/v2/requests.json?start_date=2026-11-01T00:00:00Z&end_date=2026-10-01T00:00:00Z'), 400);
    await unchanged(() => get('/open311/v2/requests/1999-000001.json'), 404);
    await unchanged(() => get('/open311/v2/requests/1999-000001.xml'), 404, 'xml');

    const token = await get(`/open311/v2/tokens/${id}.json`);
    expect(token.statusCode).toBe(200);
    expectValid('token', token.json());
    expect(token.json()).toEqual([{ service_request_id: id, token: id }]);
    const root = parseXml((await get(`/open311/v2/tokens/${id}.xml`)).body);
    expect([root.name, root.children[0].name, childText(root.children[0], 'token')]).toEqual(['service_requests', 'request', id]);
    await unchanged(() => get('/open311/v2/tokens/1999-000001.json'), 404);
  });
});

describe('limits and formats', () => {
  it('rate-limits POSTs per key', async () => {
    const other = (await call(h.app, s.district_admin, 'POST', '/api/open311/clients', { name: '压测客户端', unitId: f.communityA })).json();
    for (let i = 0; i < POSTS_PER_KEY_PER_MINUTE; i++) {
      const res = await postForm('/open311/v2/requests.json', { api_key: other.key });
      expect(res.statusCode).toBe(400);
    }
    const limited = await unchanged(() => postForm('/open311/v2/requests.json', { api_key: other.key, service_code: 'exposed_garbage', ...IN_A1 }), 429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // other keys are not held back
    await submitId({ service_code: 'exposed_garbage', ...IN_A1 });
  });

  it('escapes XML text and drops what XML cannot carry; strikes numbers and names from published text', () => {
    expect(escapeXml('a<b>&"\'\u0001\uFFFEc')).toBe('a&lt;b&gt;&amp;&quot;&apos;c');
    expect(redact('电话 139 1234 5678，身份证 44010619900101123X，3号楼502', '李四')).toBe('电话 ***，身份证 ***，3号楼502');
    expect(redact('李四说楼道灯坏了', '李四')).toBe('**说楼道灯坏了');
  });

  it('XML survives text full of markup', async () => {
    const id = await submitId({ service_code: 'exposed_garbage', ...IN_A1, description: '<b>垃圾</b> & "杂物" \u0007' });
    const root = parseXml((await get(`/open311/v2/requests/${id}.xml`)).body);
    expect(childText(child(root, 'request')!, 'description')).toBe('<b>垃圾</b> & "杂物" ');
  });
});
