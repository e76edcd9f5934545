// Fuzz suite: property-based requests generated from EVERY API route's schema (read from the app's own
// OpenAPI document), plus malformed bodies, headers and parameters, sent in-process (app.inject) as several
// roles and anonymously. Pass: no 5xx, no request over the deadline, every 4xx answers {code, messages in
// zh-CN and en}, and nothing is written on a 4xx (checked by a table fingerprint whenever any transaction
// id was spent).
//
//   npx tsx reliability/fuzz.ts [--engine pglite|postgres|both] [--full] [--seed N] [--runs N]
import fc from 'fast-check';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import type { Db, Engine } from '../server/src/db/connection.ts';
import { hashPassword } from '../server/src/platform/auth/passwords.ts';
import { fingerprint } from '../server/test/fingerprint.ts';
import { createScratch } from './lib/databases.ts';
import { buildInProcessApp } from './lib/app.ts';
import { seedLocality, type Locality } from './lib/seed.ts';
import { fuzzFixtures } from './lib/hooks.ts';
import { Report, runFromCli } from './lib/report.ts';
import { intOption, parseSuiteArgs, type SuiteOptions } from './lib/options.ts';
import { isMain } from './lib/main.ts';
import { broken, rawBodies, valid, type FieldFixtures, type Schema } from './fuzz/arbitraries.ts';

export interface FuzzOptions extends SuiteOptions {
  /** generated requests; default 600 (CI) or 8000 (full) */
  runs?: number;
  /** deadline per request */
  timeoutMs?: number;
  /** test-only: change the app before it starts (planted faults) */
  prepare?: (app: FastifyInstance, db: Db) => void | Promise<void>;
  /** every request and its answer, one line each (--trace) */
  trace?: (line: string) => void;
  /** test-only: fuzz just these routes ("METHOD /url"), so a planted fault is reached within a small budget */
  onlyRoutes?: string[];
}

interface Param {
  name: string;
  schema: Schema;
  required: boolean;
}
interface Route {
  method: string;
  /** as registered: /api/units/:id */
  url: string;
  params: Param[];
  query: Param[];
  body?: Schema;
  /** answers an endless text/event-stream: opened over a socket, judged by its status and first bytes */
  stream: boolean;
}

interface OpenApiOperation {
  parameters?: { in: string; name: string; required?: boolean; schema: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, unknown> }>;
}
type OpenApiDoc = { paths: Record<string, Record<string, OpenApiOperation>> };

/** Every registered /api route with its schemas from the OpenAPI document; `undocumented` lists routes missing there. */
export function routesOf(app: FastifyInstance): { routes: Route[]; undocumented: string[] } {
  // @fastify/swagger's document, in the OpenAPI 3 shape it declares
  const doc = app.swagger() as unknown as OpenApiDoc;
  const routes: Route[] = [];
  const undocumented: string[] = [];
  for (const r of app.registeredRoutes.filter((x) => x.url.startsWith('/api/'))) {
    const op = doc.paths[r.url.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
    const pathParams = [...r.url.matchAll(/:(\w+)/g)].map((m) => m[1]);
    if (!op) undocumented.push(`${r.method} ${r.url}`);
    const parameters = op?.parameters ?? [];
    routes.push({
      method: r.method,
      url: r.url,
      params: pathParams.map((name) => ({ name, required: true, schema: parameters.find((p) => p.in === 'path' && p.name === name)?.schema ?? { type: 'string' } })),
      query: parameters.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema, required: !!p.required })),
      body: op?.requestBody?.content?.['application/json']?.schema,
      stream: !!op?.responses?.['200']?.content?.['text/event-stream'],
    });
  }
  return { routes, undocumented };
}

/** A path parameter sent as is, not percent-encoded: malformed escapes the router itself must refuse. */
class RawParam {
  constructor(readonly text: string) {}
  toString() {
    return this.text;
  }
}
const RAW_PARAMS = ['%', '%E0%A4%A', '%zz', '%00', 'a%2Fb', '..%2F..'].map((t) => new RawParam(t));
const JUNK_PARAMS = ['0', '-1', '1.5', 'abc', '1e3', '0x1f', '9007199254740992', '9007199254740993', '99999999999999999999', ' 1', '+1', '-0', 'NaN', 'Infinity', "1'", '1 or 1=1', '1;select pg_sleep(5)', '..', '%00', '😀', 'null', '[]', '{}', 'x'.repeat(3000)];
const CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=latin1', 'APPLICATION/JSON', 'application/vnd.api+json', 'application/json;;', 'application/jsonx', ''];
const HEADER_MODES = ['no-cookie', 'junk-cookie', 'long-cookie', 'two-cookies', 'no-csrf', 'wrong-csrf', 'huge-csrf', 'junk-headers', 'bad-length'] as const;
type HeaderMode = 'normal' | (typeof HEADER_MODES)[number];

interface FuzzCase {
  route: Route;
  role: string;
  params: Record<string, unknown>;
  query: [string, unknown][];
  body: { kind: 'none' | 'valid' | 'broken' | 'raw'; text?: string };
  contentType: string;
  headerMode: HeaderMode;
}

export function caseArb(route: Route, roles: string[], fixtures: { params: Record<string, Record<string, (string | number)[]>>; fields: FieldFixtures }): fc.Arbitrary<FuzzCase> {
  // the fixture entry whose route is this route or a prefix of it (/api/units/:id serves /api/units/:id/children)
  const routeFixtures = Object.entries(fixtures.params)
    .filter(([r]) => route.url === r || route.url.startsWith(`${r}/`))
    .sort((a, b) => b[0].length - a[0].length)[0]?.[1];
  const params: Record<string, fc.Arbitrary<unknown>> = {};
  for (const p of route.params) {
    const fix = routeFixtures?.[p.name];
    params[p.name] = fc.oneof(
      ...(fix?.length ? [{ weight: 6, arbitrary: fc.constantFrom<unknown>(...fix) }] : []),
      { weight: 2, arbitrary: valid(p.schema, fixtures.fields, p.name) },
      { weight: 1, arbitrary: fc.constantFrom<unknown>(...JUNK_PARAMS, ...RAW_PARAMS) },
    );
  }
  const query = fc
    .tuple(
      ...route.query.map((q) =>
        fc.oneof(
          { weight: 3, arbitrary: fc.constant<[string, unknown] | null>(null) },
          { weight: 3, arbitrary: valid(q.schema, fixtures.fields, q.name).map((v): [string, unknown] => [q.name, v]) },
          { weight: 1, arbitrary: fc.constantFrom<unknown>(...JUNK_PARAMS, '', 'true', 'false').map((v): [string, unknown] => [q.name, v]) },
        ),
      ),
      fc.oneof({ weight: 8, arbitrary: fc.constant<[string, unknown] | null>(null) }, { weight: 1, arbitrary: fc.constantFrom<[string, unknown]>(['bogus', '1'], ['limit', '1'], ['__proto__', 'x'], ['coverage', 'yes']) }),
    )
    .map((pairs) => pairs.filter((p): p is [string, unknown] => p !== null));
  const bodyArb: fc.Arbitrary<FuzzCase['body']> = route.body
    ? fc.oneof(
        { weight: 7, arbitrary: valid(route.body, fixtures.fields).map((v) => ({ kind: 'valid' as const, text: JSON.stringify(v) })) },
        { weight: 2, arbitrary: broken(route.body, fixtures.fields).map((v) => ({ kind: 'broken' as const, text: JSON.stringify(v) ?? 'null' })) },
        { weight: 1, arbitrary: valid(route.body, fixtures.fields).chain((v) => rawBodies(v)).map((t) => ({ kind: 'raw' as const, text: t })) },
      )
    : fc.oneof({ weight: 12, arbitrary: fc.constant({ kind: 'none' as const }) }, { weight: 1, arbitrary: rawBodies({}).map((t) => ({ kind: 'raw' as const, text: t })) });
  return fc.record({
    route: fc.constant(route),
    // anonymous requests stop at the door; the roles get further
    role: fc.oneof({ weight: 1, arbitrary: fc.constant('anonymous') }, { weight: 6, arbitrary: fc.constantFrom(...roles.filter((r) => r !== 'anonymous')) }),
    params: fc.record(params),
    query,
    body: bodyArb,
    contentType: fc.oneof({ weight: 15, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) }),
    headerMode: fc.oneof({ weight: 12, arbitrary: fc.constant<HeaderMode>('normal') }, { weight: 1, arbitrary: fc.constantFrom<HeaderMode>(...HEADER_MODES) }),
  });
}

interface Session {
  cookie: string;
  csrf: string;
}

function requestOf(c: FuzzCase, sessions: Record<string, Session>) {
  const path = c.route.url.replace(/:(\w+)/g, (_, name: string) => (c.params[name] instanceof RawParam ? String(c.params[name]) : encodeURIComponent(String(c.params[name]))));
  const search = new URLSearchParams();
  for (const [k, v] of c.query) for (const item of [v].flat()) search.append(k, typeof item === 'object' ? JSON.stringify(item) : String(item));
  const url = search.size ? `${path}?${search}` : path;
  const headers: Record<string, string> = {};
  const s = sessions[c.role];
  if (s) {
    headers.cookie = s.cookie;
    if (c.route.method !== 'GET') headers['x-csrf-token'] = s.csrf;
  }
  switch (c.headerMode) {
    case 'no-cookie':
      delete headers.cookie;
      break;
    case 'junk-cookie':
      headers.cookie = 'tx_session=%00%ff; ;;=;a==b; tx_session';
      break;
    case 'long-cookie':
      headers.cookie = `tx_session=${'A'.repeat(5000)}`;
      break;
    case 'two-cookies':
      headers.cookie = `tx_session=forged; ${headers.cookie ?? ''}`;
      break;
    case 'no-csrf':
      delete headers['x-csrf-token'];
      break;
    case 'wrong-csrf':
      headers['x-csrf-token'] = sessions.admin?.csrf === headers['x-csrf-token'] ? 'wrong' : (sessions.admin?.csrf ?? 'wrong');
      break;
    case 'huge-csrf':
      headers['x-csrf-token'] = 'x'.repeat(20_000);
      break;
    case 'junk-headers':
      Object.assign(headers, { 'x-forwarded-for': '1.2.3.4, <script>', 'accept-language': '😀;q=2', 'user-agent': 'x'.repeat(10_000), host: 'evil.example:99999' });
      break;
    case 'bad-length':
      headers['content-length'] = '3';
      break;
    default:
      break;
  }
  if (c.body.kind !== 'none' && c.contentType) headers['content-type'] = c.contentType;
  return { method: c.route.method, url, headers, payload: c.body.kind === 'none' ? undefined : (c.body.text ?? '') };
}

/** Headers fetch() will not send as given (it computes them itself). */
const FETCH_MANAGED = new Set(['content-length', 'host', 'connection', 'transfer-encoding']);

/**
 * An event-stream route over a socket: the status, and the body of an error answer or the stream's first
 * event (then the connection is dropped, as a closed page drops it).
 */
async function openStream(baseUrl: string, req: ReturnType<typeof requestOf>, timeoutMs: number): Promise<{ status: number; body: string } | null> {
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => ((timedOut = true), abort.abort()), timeoutMs);
  try {
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !FETCH_MANAGED.has(k.toLowerCase())));
    // fetch() sends no body with a GET (light-my-request would): the stream routes are GETs
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : req.payload;
    const res = await fetch(`${baseUrl}${req.url}`, { method: req.method, headers, body, signal: abort.signal });
    if (!res.headers.get('content-type')?.startsWith('text/event-stream')) return { status: res.status, body: await res.text() };
    const first = await res.body!.getReader().read();
    return { status: res.status, body: new TextDecoder().decode(first.value) };
  } catch (err) {
    if (timedOut) return null;
    throw err;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

/** The next transaction id not yet handed out: it moves whenever anything (in the cluster) wrote. */
async function nextXid(db: Db): Promise<string> {
  return (await sql<{ x: string }>`select txid_snapshot_xmax(txid_current_snapshot())::text as x`.execute(db)).rows[0].x;
}

/** Writes that may end, lock, disable or un-grant the suite's own accounts (they are repaired afterwards). */
const SESSION_AFFECTING = /^(POST|PUT|PATCH|DELETE) \/api\/(auth\/|users|grants|units\/:id\/(archive|move))/;

/** Requests that record the attempt by design (a failed login counts against the account, and ends the caller's old session). */
const RECORDS_ATTEMPT: Record<string, Set<string>> = { 'POST /api/auth/login': new Set(['app_user', 'audit_log']) };

const truncate = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s);

export async function runFuzz(o: FuzzOptions): Promise<Report> {
  const report = new Report('fuzz', o.engine, o.full ? 'full' : 'ci', o.seed);
  const runs = o.runs ?? (o.full ? 8000 : 600);
  const timeoutMs = o.timeoutMs ?? 15_000;
  const scratch = await createScratch(o.engine, { pgUrl: o.pgUrl, inMemory: true });
  let app: FastifyInstance | null = null;
  try {
    const database = await scratch.open();
    const db = database.db;
    const accounts: [string, 'district_admin' | 'street_admin' | 'community_secretary' | 'grid_worker' | 'resident' | 'auditor', keyof Locality['firstBranch']][] = [
      ['admin', 'district_admin', 'district'],
      ['street', 'street_admin', 'street'],
      ['secretary', 'community_secretary', 'community'],
      ['worker', 'grid_worker', 'grid'],
      ['resident', 'resident', 'grid'],
      ['auditor', 'auditor', 'district'],
    ];
    const locality = await seedLocality(database, { streets: 1, communitiesPerStreet: 2, gridsPerCommunity: 2, buildingsPerGrid: 1, secondDistrict: true }, (l) =>
      accounts.map(([username, role, level]) => ({ username, role, unitId: l.firstBranch[level] })),
      o.seed,
    );
    const knownHash = await hashPassword(locality.password);
    app = await buildInProcessApp(database, scratch.dataDir);
    await o.prepare?.(app, db);
    await app.ready();
    const live = app;
    // event streams never end, so an in-process request to one never answers: they go over a real socket

    const { routes: allRoutes, undocumented } = routesOf(live);
    const baseUrl = allRoutes.some((r) => r.stream) ? await live.listen({ host: '127.0.0.1', port: 0 }) : '';
    const routes = o.onlyRoutes ? allRoutes.filter((r) => o.onlyRoutes!.includes(`${r.method} ${r.url}`)) : allRoutes;
    report.check('every API route is described in the OpenAPI document (the fuzz generates from it)', undocumented);

    // sessions for every role; repaired when a fuzz case disables, resets, logs out or un-grants one of them
    const sessions: Record<string, Session> = {};
    const login = async (username: string) => {
      const res = await live.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: locality.password } });
      if (res.statusCode !== 200) throw new Error(`login ${username}: ${res.statusCode} ${res.body}`);
      sessions[username] = { cookie: `tx_session=${res.cookies.find((c) => c.name === 'tx_session')!.value}`, csrf: res.json<{ csrfToken: string }>().csrfToken };
    };
    const repair = async () => {
      let repaired = false;
      for (const a of locality.accounts) {
        const s = sessions[a.username];
        const res = await live.inject({ method: 'GET', url: '/api/auth/session', headers: { cookie: s.cookie } });
        const grants = res.statusCode === 200 ? res.json<{ grants: { role: string; unitId: number }[] }>().grants : [];
        if (res.statusCode === 200 && !res.json<{ user: { mustChangePassword: boolean } }>().user.mustChangePassword && grants.some((g) => g.role === a.role && g.unitId === a.unitId)) continue;
        repaired = true;
        await db.updateTable('app_user').set({ disabled: false, failed_logins: 0, locked_until: null, password_hash: knownHash, must_change_password: false }).where('id', '=', a.id).execute();
        const unit = await db.selectFrom('org_unit').select(['district_id', 'archived_at']).where('id', '=', a.unitId).executeTakeFirstOrThrow();
        if (unit.archived_at) await db.updateTable('org_unit').set({ archived_at: null }).where('id', '=', a.unitId).execute();
        await db.insertInto('role_grant').values({ user_id: a.id, role_code: a.role, district_id: unit.district_id, unit_id: a.unitId, granted_by: null }).onConflict((oc) => oc.columns(['user_id', 'role_code', 'unit_id']).doNothing()).execute();
        await login(a.username);
      }
      return repaired;
    };
    for (const a of locality.accounts) await login(a.username);
    const roles = [...locality.accounts.map((a) => a.username), 'anonymous'];

    let baseline = await fingerprint(db);
    let fixtures = await fuzzFixtures(db);
    const perRoute = new Map<string, number>();
    const statuses = new Map<number, number>();
    const flavours = new Map<string, number>();
    const serverErrors: string[] = [];
    const hangs: string[] = [];
    const writes: string[] = [];
    const badErrorBodies: string[] = [];
    let fingerprinted = 0;
    const batch = 50;
    // First one case per route, so every route is fuzzed however small the budget (the budget grows to the
    // number of routes if it is smaller); then random routes, batch by batch.
    const total = Math.max(runs, routes.length);
    for (let done = 0; done < total; ) {
      let cases;
      o.trace?.(`sampling the next ${batch} cases`);
      if (done < routes.length) {
        cases = routes.slice(done, done + batch).map((r, i) => (o.trace?.(`sampling ${r.method} ${r.url}`), fc.sample(caseArb(r, roles, fixtures), { numRuns: 1, seed: o.seed + done + i })[0]));
      } else {
        // writes carry more rules than reads: twice the share
        const arb = fc.oneof(...routes.map((r) => ({ weight: r.body ? 2 : 1, arbitrary: caseArb(r, roles, fixtures) })));
        cases = fc.sample(arb, { numRuns: Math.min(batch, total - done), seed: o.seed + done });
      }
      done += cases.length;
      for (const c of cases) {
        const req = requestOf(c, sessions);
        const key = `${c.route.method} ${c.route.url}`;
        const label = `${req.method} ${truncate(req.url, 160)} as ${c.role} [body ${c.body.kind}${c.headerMode !== 'normal' ? `, ${c.headerMode}` : ''}${c.contentType !== 'application/json' ? `, content-type "${c.contentType}"` : ''}]`;
        perRoute.set(key, (perRoute.get(key) ?? 0) + 1);
        flavours.set(c.body.kind, (flavours.get(c.body.kind) ?? 0) + 1);
        const xid = await nextXid(db);
        let timer: NodeJS.Timeout | undefined;
        const answer = await Promise.race([
          c.route.stream
            ? openStream(baseUrl, req, timeoutMs)
            : live.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, payload: req.payload }).then((r) => ({ status: r.statusCode, body: r.body })),
          new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs))),
        ]);
        clearTimeout(timer);
        if (!answer) {
          hangs.push(`${label}: no answer within ${timeoutMs} ms (body: ${truncate(req.payload ?? '', 200)})`);
          continue;
        }
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        o.trace?.(`${label} → ${answer.status} ${truncate(answer.body, 120)}`);
        if (answer.status >= 500) serverErrors.push(`${label} → ${answer.status} ${truncate(answer.body, 200)} (body sent: ${truncate(req.payload ?? '', 300)})`);
        if (answer.status >= 400 && answer.status < 500) {
          let body: { code?: unknown; messages?: Record<string, unknown> } = {};
          try {
            body = JSON.parse(answer.body);
          } catch {
            // not JSON: reported below
          }
          if (typeof body.code !== 'string' || typeof body.messages?.['zh-CN'] !== 'string' || typeof body.messages?.en !== 'string') badErrorBodies.push(`${label} → ${answer.status} ${truncate(answer.body, 200)}`);
        }
        if ((await nextXid(db)) !== xid) {
          // some transaction id was spent: compare every table (cheap enough at this size, and only now)
          const now = await fingerprint(db);
          fingerprinted++;
          if (answer.status >= 400 && answer.status < 500) {
            const allowed = RECORDS_ATTEMPT[key] ?? new Set<string>();
            const changed = Object.keys(now).filter((t) => now[t] !== baseline[t] && !allowed.has(t));
            if (changed.length) writes.push(`${label} → ${answer.status}, yet wrote to ${changed.join(', ')} (body sent: ${truncate(req.payload ?? '', 300)})`);
          }
          baseline = now;
        }
        if ((answer.status < 300 && SESSION_AFFECTING.test(key)) || key === 'POST /api/auth/login') {
          try {
            if (await repair()) baseline = await fingerprint(db);
          } catch (e) {
            report.note(`could not repair the fuzz accounts after ${label}: ${(e as Error).message}`);
            baseline = await fingerprint(db);
          }
        }
      }
      o.trace?.('batch done; reading fixtures');
      fixtures = await fuzzFixtures(db);
      o.trace?.('fixtures read');
    }
    report.check('no 5xx for anything a client can send', serverErrors);
    report.check(`every request answered within ${timeoutMs / 1000} s`, hangs);
    report.check('nothing written on a 4xx', writes);
    report.check('every 4xx answers a code and messages in zh-CN and en', badErrorBodies);
    report.check('every API route was fuzzed', routes.filter((r) => !perRoute.has(`${r.method} ${r.url}`)).map((r) => `${r.method} ${r.url}: no case generated`));
    report.figure('requests', total);
    report.figure('routes fuzzed', `${perRoute.size}/${routes.length}`);
    report.figure('bodies: valid / broken / raw / none', ['valid', 'broken', 'raw', 'none'].map((k) => flavours.get(k) ?? 0).join(' / '));
    report.figure('answers by status', [...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' '));
    report.figure('states fingerprinted', fingerprinted);
  } finally {
    await app?.close();
    await scratch.drop();
  }
  return report;
}

/** FUZZ_TRACE=1: every request, its answer and how long it took, on stderr (to find a slow or hanging route). */
function traceLine() {
  let last = performance.now();
  return (line: string) => {
    const now = performance.now();
    console.error(`${(now - last).toFixed(0).padStart(6)} ms  ${line}`);
    last = now;
  };
}

if (isMain(import.meta.url)) {
  const { engines, options, rest } = parseSuiteArgs();
  await runFromCli(engines, (engine) => runFuzz({ ...options, engine: engine as Engine, runs: rest.runs ? intOption(rest.runs, 400) : undefined, trace: process.env.FUZZ_TRACE ? traceLine() : undefined }));
}
