// Access-leak suite: an account of every built-in role at every level of the tree (district, street,
// community, grid, building) asks every read route for objects inside and outside its scope — the routes and
// objects come from the modules' `reliability.leakProbes` / `leakListProbes`. Expectations come from an
// oracle independent of the server's scope code: the role's permissions (shared/permissions.ts) and the
// unit ancestry walked through parent ids, not paths.
//   inside + permission → 200; outside → never 2xx, and (unless the caller may know the object exists)
//   exactly the answer a non-existent object gets; lists → only items in scope. Every GET route needs a probe
//   or a stated exemption, so a new module cannot slip through. Restricted fields (sensitive tags) appear only
//   for callers holding their permission at the object's unit.
//
//   npx tsx reliability/leaks.ts [--engine pglite|postgres|both] [--full] [--seed N]
import type { FastifyInstance } from 'fastify';
import type { Db, Engine } from '../server/src/db/connection.ts';
import type { ModuleManifest } from '../server/src/platform/module.ts';
import { MODULES } from '../server/src/modules/index.ts';
import { ROLES, ROLE_PERMISSIONS, type Permission, type RoleCode } from '../shared/permissions.ts';
import { Random } from '../server/src/platform/random.ts';
import { createScratch } from './lib/databases.ts';
import { buildInProcessApp } from './lib/app.ts';
import { LEVELS, seedLocality, type AccountSpec } from './lib/seed.ts';
import { collect } from './lib/hooks.ts';
import { Report, runFromCli } from './lib/report.ts';
import { parseSuiteArgs, type SuiteOptions } from './lib/options.ts';
import { isMain } from './lib/main.ts';

export interface LeakOptions extends SuiteOptions {
  /** the modules whose probes to use (a test removes one to show the completeness check fails) */
  modules?: ModuleManifest[];
  /** test-only: change the app before it starts (planted faults) */
  prepare?: (app: FastifyInstance, db: Db) => void | Promise<void>;
}

/** GET /api routes with neither a probe nor a stated exemption in any module's manifest. */
export function unprobedRoutes(routes: { method: string; url: string }[], modules: ModuleManifest[] = MODULES): string[] {
  const covered = new Set([...collect('leakProbes', modules), ...collect('leakListProbes', modules), ...collect('leakExempt', modules)].map((p) => p.route));
  return routes.filter((r) => r.method === 'GET' && r.url.startsWith('/api/') && !covered.has(r.url)).map((r) => `GET ${r.url}: no leakProbes / leakListProbes entry and no leakExempt reason`);
}

/** Scope from first principles: role permissions × ancestry by parent id. */
class Oracle {
  private parent = new Map<number, number | null>();
  private grants = new Map<number, { role: RoleCode; unitId: number }[]>();

  async load(db: Db) {
    this.parent = new Map((await db.selectFrom('org_unit').select(['id', 'parent_id']).execute()).map((u) => [Number(u.id), u.parent_id === null ? null : Number(u.parent_id)]));
    this.grants.clear();
    for (const g of await db.selectFrom('role_grant').select(['user_id', 'role_code', 'unit_id']).execute()) {
      const list = this.grants.get(Number(g.user_id)) ?? [];
      // role codes in role_grant are the built-in ones (the service only writes those)
      list.push({ role: g.role_code as RoleCode, unitId: Number(g.unit_id) });
      this.grants.set(Number(g.user_id), list);
    }
  }

  private within(unitId: number, top: number) {
    for (let u: number | null | undefined = unitId, hops = 0; u !== null && u !== undefined && hops < 100; u = this.parent.get(u), hops++) if (u === top) return true;
    return false;
  }

  /** The user holds `permission` at one of the units (given by paths: the unit is the last id). */
  allowed(userId: number, permission: Permission, unitPath: string | string[]) {
    const units = [unitPath].flat().map((p) => Number(p.split('/').filter(Boolean).pop()));
    return (this.grants.get(userId) ?? []).some((g) => ROLE_PERMISSIONS[g.role].includes(permission) && units.some((u) => this.within(u, g.unitId)));
  }

  anywhere(userId: number, permission: Permission) {
    return (this.grants.get(userId) ?? []).some((g) => ROLE_PERMISSIONS[g.role].includes(permission));
  }
}

/** The value of `field` anywhere in a JSON body, when it is there and not empty. */
function findField(value: unknown, field: string, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const empty = inner === undefined || inner === null || inner === '' || (Array.isArray(inner) && inner.length === 0);
    if (key === field && !empty) return inner;
    const found = findField(inner, field, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

const sample = <T>(rng: Random, items: T[], n: number): T[] => {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, n);
};

export async function runLeaks(o: LeakOptions): Promise<Report> {
  const report = new Report('leaks', o.engine, o.full ? 'full' : 'ci', o.seed);
  const modules = o.modules ?? MODULES;
  const rng = new Random(o.seed);
  const scratch = await createScratch(o.engine, { pgUrl: o.pgUrl, inMemory: true });
  let app: FastifyInstance | null = null;
  try {
    const database = await scratch.open();
    const db = database.db;
    const locality = await seedLocality(
      database,
      { streets: 2, communitiesPerStreet: 2, gridsPerCommunity: 2, buildingsPerGrid: 1, secondDistrict: true },
      (l) => {
        const specs: AccountSpec[] = LEVELS.flatMap((level) => ROLES.map((role) => ({ username: `${role}.${level}`, role, unitId: l.firstBranch[level] })));
        // one account with grants in two districts: visible wherever either grant is
        const otherGrid = l.units.find((u) => u.kind === 'grid' && u.districtId === l.districts[0] && !u.path.includes(`/${l.firstBranch.community}/`))!.id;
        const farGrid = l.units.find((u) => u.kind === 'grid' && u.districtId === l.districts[1])!.id;
        specs.push({ username: 'two_districts', role: 'grid_worker', unitId: otherGrid, extra: [{ role: 'auditor', unitId: farGrid }] });
        return specs;
      },
      o.seed,
    );
    app = await buildInProcessApp(database, scratch.dataDir);
    await o.prepare?.(app, db);
    await app.ready();
    const live = app;

    report.check('every GET route has a leak probe or a stated exemption', unprobedRoutes(live.registeredRoutes, modules));

    const cookies = new Map<number, string>();
    for (const a of locality.accounts) {
      const res = await live.inject({ method: 'POST', url: '/api/auth/login', payload: { username: a.username, password: locality.password } });
      if (res.statusCode !== 200) throw new Error(`login ${a.username}: ${res.statusCode} ${res.body}`);
      cookies.set(a.id, `tx_session=${res.cookies.find((c) => c.name === 'tx_session')!.value}`);
    }
    const oracle = new Oracle();
    await oracle.load(db);
    let requests = 0;
    const get = async (userId: number, url: string) => {
      requests++;
      const res = await live.inject({ method: 'GET', url, headers: { cookie: cookies.get(userId)! } });
      let body: unknown = null;
      try {
        body = res.json();
      } catch {
        body = res.body;
      }
      const code = typeof body === 'object' && body !== null && 'code' in body ? String(body.code) : '';
      return { status: res.statusCode, code, body };
    };

    const leaks: string[] = [];
    const listLeaks: string[] = [];
    const refused: string[] = [];
    const serverErrors: string[] = [];
    const fieldLeaks: string[] = [];
    let fieldChecks = 0;
    let objectChecks = 0;
    let listChecks = 0;
    // the short version aims at the accounts' own branch (inside for some, outside for others), a sibling
    // street, a sibling grid and the other district: inside and outside for an account at every level
    const siblingGrid = locality.units.find((u) => u.kind === 'grid' && u.parentId === locality.firstBranch.community && u.id !== locality.firstBranch.grid);
    const siblingStreet = locality.units.find((u) => u.kind === 'street' && u.districtId === locality.districts[0] && u.id !== locality.firstBranch.street);
    const aimed = new Set(
      locality.units.filter((u) => Object.values(locality.firstBranch).includes(u.id) || u.id === siblingGrid?.id || u.id === siblingStreet?.id || u.id === locality.districts[1]).map((u) => u.path),
    );

    for (const probe of collect('leakProbes', modules)) {
      let objects = await probe.objects(db);
      if (!o.full) {
        const unitObjects = objects.filter((x) => typeof x.unitPath === 'string' && aimed.has(x.unitPath));
        objects = unitObjects.length >= 6 ? unitObjects : sample(rng, objects, 8);
      }
      for (const a of locality.accounts) {
        const missing = probe.missing ? await get(a.id, probe.missing) : null;
        for (const obj of objects) {
          objectChecks++;
          const res = await get(a.id, obj.url);
          const who = `${a.username} GET ${obj.url}`;
          if (res.status >= 500) {
            serverErrors.push(`${who} → ${res.status}`);
            continue;
          }
          if (oracle.allowed(a.id, probe.permission, obj.unitPath)) {
            if (res.status !== 200) refused.push(`${who} → ${res.status} ${res.code} (inside scope, holds ${probe.permission})`);
            for (const r of probe.restrictedFields ?? []) {
              fieldChecks++;
              const shown = findField(res.body, r.field);
              if (shown !== undefined && !oracle.allowed(a.id, r.permission, obj.unitPath)) fieldLeaks.push(`${who}: shows ${r.field}=${JSON.stringify(shown)} without ${r.permission} [${probe.module}]`);
            }
            continue;
          }
          if (res.status < 300) {
            leaks.push(`${who} → ${res.status}: outside the caller's ${probe.permission} scope [${probe.module}]`);
            continue;
          }
          if (oracle.allowed(a.id, probe.visibleWith ?? probe.permission, obj.unitPath)) {
            if (res.status !== 403 && res.status !== 404) leaks.push(`${who} → ${res.status} ${res.code}: expected 403 or 404`);
            continue;
          }
          if (missing) {
            if (res.status !== missing.status || res.code !== missing.code) {
              leaks.push(`${who} → ${res.status} ${res.code}, but a missing object → ${missing.status} ${missing.code}: the answer tells the object exists [${probe.module}]`);
            }
          } else if (!(res.status === 404 || (res.status === 403 && !oracle.anywhere(a.id, probe.permission)))) {
            leaks.push(`${who} → ${res.status} ${res.code}: expected 404 (or 403 when ${probe.permission} is held nowhere)`);
          }
        }
      }
    }

    for (const probe of collect('leakListProbes', modules)) {
      let urls = await probe.urls(db);
      if (!o.full) urls = [...urls.slice(0, 2), ...sample(rng, urls.slice(2), 3)];
      for (const a of locality.accounts) {
        for (const url of urls) {
          listChecks++;
          const res = await get(a.id, url);
          const who = `${a.username} GET ${url}`;
          if (res.status >= 500) serverErrors.push(`${who} → ${res.status}`);
          if (res.status !== 200) continue;
          const paths = await probe.itemUnitPaths(res.body, db);
          const outside = paths.filter((p) => !oracle.allowed(a.id, probe.permission, p));
          const items = (res.body as { items?: unknown[] }).items ?? [];
          for (const r of probe.restrictedFields ?? []) {
            items.forEach((item, i) => {
              fieldChecks++;
              const shown = findField(item, r.field);
              if (shown !== undefined && paths[i] !== undefined && !oracle.allowed(a.id, r.permission, paths[i])) {
                fieldLeaks.push(`${who}: item ${i} shows ${r.field}=${JSON.stringify(shown)} without ${r.permission} [${probe.module}]`);
              }
            });
          }
          if (outside.length) listLeaks.push(`${who}: ${outside.length} of ${paths.length} items outside the caller's ${probe.permission} scope, e.g. ${JSON.stringify(outside[0])} [${probe.module}]`);
        }
      }
    }

    report.check("zero leaks: outside the caller's scope, objects answer as if they did not exist", leaks);
    report.check("zero leaks: lists hold only items inside the caller's scope", listLeaks);
    report.check('zero leaks: restricted fields (sensitive tags, …) only for callers holding their permission', fieldLeaks);
    report.check('inside the scope, with the permission, the object is served (200)', refused);
    report.check('no 5xx', serverErrors);
    report.figure('accounts (roles × levels + 1)', `${locality.accounts.length} (${ROLES.length} × ${LEVELS.length} + 1)`);
    report.figure('object checks', objectChecks);
    report.figure('list checks', listChecks);
    report.figure('restricted-field checks', fieldChecks);
    report.figure('requests', requests);
  } finally {
    await app?.close();
    await scratch.drop();
  }
  return report;
}

if (isMain(import.meta.url)) {
  const { engines, options } = parseSuiteArgs();
  await runFromCli(engines, (engine) => runLeaks({ ...options, engine: engine as Engine }));
}
