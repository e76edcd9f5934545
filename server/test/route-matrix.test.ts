// For every route: unauthenticated → 401; outside the caller's scope → 404 (403 for deployment-wide
// settings, which have no scope); bad input → 4xx with a message in both languages and nothing written;
// success in scope, where every write leaves exactly one audit row (or the count a case states, with the
// reason beside it). A last test checks that every registered route has a row here.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GridService } from '../src/modules/grid/grid.service.ts';
import { ResidentsService } from '../src/modules/basedata/residents.service.ts';
import { systemContext } from '../src/platform/context.ts';
import { createTestApp, call, login, type TestApp, type Session } from './app.ts';
import { buildTinyLocality, loginAll, TEST_PASSWORD, type TinyLocality } from './fixtures.ts';
import { fingerprint } from './fingerprint.ts';
import { IMPORT_CASES } from './route-cases/import.cases.ts';
import { STRUCTURE_CASES } from './route-cases/basedata-structures.cases.ts';
import { EXPORT_CASES } from './route-cases/export.cases.ts';
import { DEMAND_CASES } from './route-cases/demands.cases.ts';
import { OPEN311_CASES } from './route-cases/open311.cases.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Ids = TinyLocality & Record<string, number>;

/** A raw (non-JSON) request body, e.g. an uploaded photo. */
export interface RawBody {
  contentType: string;
  payload: (ids: Ids) => Buffer;
}

export interface RouteCase {
  method: Method;
  route: string;
  /** creates the objects this case acts on; returns their ids. `app` reaches the modules' shared objects (app.services). */
  prepare?: (h: { grid: GridService; residents: ResidentsService; f: TinyLocality; app: FastifyInstance }) => Promise<Record<string, number>>;
  url: (ids: Ids) => string;
  body?: (ids: Ids) => unknown;
  /** sent instead of `body` */
  raw?: RawBody;
  as: string;
  status: number;
  /**
   * Audit rows the successful request leaves. Default for a write (non-GET): exactly 1. A case stating
   * another number says why beside it; route-wide exceptions are in AUDIT_COUNTS below.
   */
  auditRows?: number;
  /** more checks on the successful answer */
  check?: (body: unknown, ids: Ids) => void;
  /** the success run uses a fresh login of `as` rather than the shared session (the route ends the session it is called with) */
  ownSession?: boolean;
  /**
   * A server-sent-event stream: `app.inject` would wait for it to end, so the success run opens it on a
   * listening server, reads events until one named `until` arrives (calling `trigger` once the first event
   * is in, to make the server push one) and hangs up.
   */
  stream?: { until: string; trigger?: (h: { app: FastifyInstance; f: TinyLocality }, ids: Ids) => Promise<void> };
  /** another caller (or target) outside the scope; status 404 unless the route is deployment-wide. A 2xx status means the route answers but changes nothing (bulk answers, one's own rows). */
  outside?: { as: string; url?: (ids: Ids) => string; body?: (ids: Ids) => unknown; raw?: RawBody; status?: number; check?: (body: unknown, ids: Ids) => void };
  /** recordsAttempt: a failed login is itself recorded (failure count, audit row), by design */
  bad?: { url?: (ids: Ids) => string; body?: (ids: Ids) => unknown; raw?: RawBody; status?: number; recordsAttempt?: boolean }[];
  public?: boolean;
}

/**
 * Writes whose audit rows are not exactly one, route by route, each with the reason. Every other write (non-GET)
 * leaves exactly one, or the `auditRows` its case states (when the count depends on the case, e.g. a rating
 * that reopens). `rows` may be computed from the answer when the count is one per item done.
 */
const AUDIT_COUNTS: Record<string, { rows: number | ((answer: unknown) => number); why: string }> = {
  'POST /api/inbox/read': { rows: 0, why: 'marks the caller’s own notifications read: per-user display state like a session’s last-seen time, not governed data; a row per glance at the inbox would drown the log' },
  'POST /api/units/:id/contacts/auto-assign': { rows: (a) => (a as { assigned: number }).assigned + 1, why: 'one row per household linked (each is a change to that household’s record) and one for the run' },
};

/**
 * Known gaps, reported and not yet fixed: writes that leave no audit row although they should. The count
 * asserted is today's, so fixing the service makes its test fail until its entry here is removed.
 */
const AUDIT_GAPS: Record<string, { rows: number; bug: string }> = {
};

const sq = { type: 'Polygon', coordinates: [[[113.2, 23.1], [113.3, 23.1], [113.3, 23.2], [113.2, 23.2], [113.2, 23.1]]] };

const CASES: RouteCase[] = [
  // ---- auth ----
  { method: 'POST', route: '/api/auth/login', public: true, url: () => '/api/auth/login', body: () => ({ username: 'worker_a1', password: 'Correct-Horse-9' }), as: 'anonymous', status: 200,
    bad: [{ body: () => ({ username: 'worker_a1' }) }, { body: () => ({ username: 'worker_a1', password: 'wrong-password' }), status: 401, recordsAttempt: true }, { body: () => ({ username: 1, password: 2 }) }] },
  { method: 'GET', route: '/api/auth/session', url: () => '/api/auth/session', as: 'worker_a1', status: 200 },
  { method: 'POST', route: '/api/auth/password', url: () => '/api/auth/password', body: () => ({ currentPassword: 'Correct-Horse-9', newPassword: 'Another-Horse-77' }), as: 'member_a1', status: 204,
    bad: [{ body: () => ({ currentPassword: 'nope-nope-1', newPassword: 'Another-Horse-77' }) }, { body: () => ({ currentPassword: 'Correct-Horse-9', newPassword: 'short' }) }, { body: () => ({ currentPassword: 'Correct-Horse-9' }) }] },
  // ends the session it is called with: its own, so resident_a1's shared session still works for later rows
  { method: 'POST', route: '/api/auth/logout', url: () => '/api/auth/logout', as: 'resident_a1', status: 204, ownSession: true },

  // ---- kinds (deployment-wide configuration) ----
  { method: 'GET', route: '/api/unit-kinds', url: () => '/api/unit-kinds', as: 'worker_a1', status: 200 },
  { method: 'POST', route: '/api/unit-kinds', url: () => '/api/unit-kinds', body: () => ({ code: 'courtyard', name: { 'zh-CN': '院落', en: 'Courtyard' }, parents: ['grid'] }), as: 'district_admin', status: 201,
    outside: { as: 'street_admin', status: 403 },
    bad: [{ body: () => ({ code: 'Bad Code', name: { 'zh-CN': '院', en: 'C' }, parents: ['grid'] }) }, { body: () => ({ code: 'yard2', name: { 'zh-CN': '院', en: 'C' }, parents: ['nope'] }) }, { body: () => ({ code: 'grid', name: { 'zh-CN': '院', en: 'C' }, parents: ['grid'] }), status: 409 }] },
  { method: 'PATCH', route: '/api/unit-kinds/:code', url: () => '/api/unit-kinds/building', body: () => ({ name: { 'zh-CN': '楼栋', en: 'Building' } }), as: 'district_admin', status: 200,
    outside: { as: 'secretary_a', status: 403 },
    bad: [{ body: () => ({ children: ['nope'] }) }, { body: () => ({ color: 'red' }) }, { url: () => '/api/unit-kinds/nope', body: () => ({ isGrid: true }), status: 404 },
      { url: () => '/api/unit-kinds/community', body: () => ({ children: [] }), status: 409 }] },
  { method: 'PUT', route: '/api/unit-kinds/:code/roles/:role', url: () => '/api/unit-kinds/grid/roles/safety_officer', body: () => ({ name: { 'zh-CN': '安全监督员', en: 'Safety officer' }, required: false }), as: 'district_admin', status: 200,
    outside: { as: 'street_admin', status: 403 },
    bad: [{ body: () => ({ name: { 'zh-CN': '' , en: 'x' } }) }, { url: () => '/api/unit-kinds/nope/roles/x1', body: () => ({ name: { 'zh-CN': '甲', en: 'A' } }), status: 404 }] },
  { method: 'DELETE', route: '/api/unit-kinds/:code/roles/:role', url: () => '/api/unit-kinds/grid/roles/stationed_cadre', as: 'district_admin', status: 204,
    outside: { as: 'street_admin', status: 403 },
    bad: [{ url: () => '/api/unit-kinds/grid/roles/grid_leader', body: () => undefined, status: 409 }, { url: () => '/api/unit-kinds/grid/roles/nope', body: () => undefined, status: 404 }],
    prepare: async ({ grid, f }) => {
      await grid.appointPost(systemContext('t'), f.gridA1, { role: 'grid_leader', personName: '王五', startedOn: '2024-01-01' });
      return {};
    } },

  // ---- units ----
  { method: 'GET', route: '/api/units/roots', url: () => '/api/units/roots?coverage=true', as: 'worker_a1', status: 200, bad: [{ url: () => '/api/units/roots?coverage=maybe', body: () => undefined }] },
  { method: 'GET', route: '/api/units', url: () => '/api/units?search=网格', as: 'worker_a1', status: 200, bad: [{ url: () => '/api/units?limit=0', body: () => undefined }, { url: () => '/api/units?bogus=1', body: () => undefined }] },
  { method: 'GET', route: '/api/units/:id', url: (i) => `/api/units/${i.gridA1}`, as: 'worker_a1', status: 200, outside: { as: 'worker_b1' },
    bad: [{ url: () => '/api/units/abc', body: () => undefined }, { url: () => '/api/units/0', body: () => undefined }, { url: () => '/api/units/99999999999999999999', body: () => undefined }] },
  { method: 'GET', route: '/api/units/:id/children', url: (i) => `/api/units/${i.communityA}/children?coverage=true`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ url: () => '/api/units/-1/children', body: () => undefined }] },
  { method: 'POST', route: '/api/units', url: () => '/api/units', body: (i) => ({ parentId: i.communityA, kind: 'grid', name: '甲三网格' }), as: 'secretary_a', status: 201, outside: { as: 'secretary_b' },
    bad: [{ body: (i) => ({ parentId: i.communityA, kind: 'building', name: '错层' }) }, { body: (i) => ({ parentId: i.communityA, kind: 'grid', name: '' }) }, { body: (i) => ({ parentId: i.communityA, kind: 'grid', name: '甲一网格' }), status: 409 },
      { body: (i) => ({ parentId: String(i.communityA), kind: 'grid', name: 'x' }) }, { body: (i) => ({ parentId: i.communityA, kind: 'grid', name: 'x', extra: true }) }] },
  { method: 'PATCH', route: '/api/units/:id', url: (i) => `/api/units/${i.gridA2}`, body: () => ({ name: '甲二网格（新）' }), as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ name: 42 }) }, { body: () => ({ name: '甲一网格' }), status: 409 }] },
  { method: 'POST', route: '/api/units/:id/move', prepare: async ({ grid, f }) => ({ moving: (await grid.createChild(systemContext('t'), { parentId: f.gridA1, kind: 'building', name: '9号楼' })).id }),
    url: (i) => `/api/units/${i.moving}/move`, body: (i) => ({ parentId: i.gridA2 }), as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ url: (i) => `/api/units/${i.communityA}/move`, body: (i) => ({ parentId: i.gridA1 }) }, { body: (i) => ({ parentId: i.communityA }) }, { url: (i) => `/api/units/${i.gridA1}/move`, body: (i) => ({ parentId: i.gridA1 }) }, { body: () => ({}) }] },
  { method: 'POST', route: '/api/units/:id/archive', prepare: async ({ grid, f }) => ({ leaf: (await grid.createChild(systemContext('t'), { parentId: f.gridA2, kind: 'building', name: '拆除楼' })).id }),
    url: (i) => `/api/units/${i.leaf}/archive`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ url: (i) => `/api/units/${i.communityA}/archive`, body: () => undefined, status: 409 }] },
  { method: 'PUT', route: '/api/units/:id/boundary', url: (i) => `/api/units/${i.communityA}/boundary`, body: () => ({ geometry: sq }), as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ geometry: { type: 'Polygon', coordinates: [[[113.2, 23.1], [113.3, 23.1], [113.3, 23.2]]] } }) }, { body: () => ({ geometry: { type: 'Point', coordinates: [1, 2] } }) }, { body: () => ({}) }] },
  { method: 'DELETE', route: '/api/units/:id/boundary', prepare: async ({ grid, f }) => {
      await grid.setBoundary(systemContext('t'), f.gridA2, sq);
      return {};
    }, url: (i) => `/api/units/${i.gridA2}/boundary`, as: 'secretary_a', status: 204, outside: { as: 'secretary_b' },
    bad: [{ url: (i) => `/api/units/${i.gridB1}/boundary`, body: () => undefined, status: 404 }] },
  { method: 'GET', route: '/api/units/:id/coverage', url: (i) => `/api/units/${i.communityA}/coverage`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ url: (i) => `/api/units/${i.communityA}/coverage?gapLimit=-5`, body: () => undefined }] },

  // ---- party organisations ----
  { method: 'POST', route: '/api/units/:id/party-org', url: (i) => `/api/units/${i.gridA1}/party-org`, body: () => ({ kind: 'branch', name: '甲一网格党支部', foundedOn: '2020-07-01' }), as: 'secretary_a', status: 201, outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ kind: 'group', name: '错类党小组' }) }, { body: () => ({ kind: 'branch', name: 'x', foundedOn: '2020-02-30' }) }, { body: () => ({ kind: 'club', name: 'x' }) }] },
  { method: 'PATCH', route: '/api/party-orgs/:id', prepare: async ({ grid, f }) => ({ org: (await grid.bindPartyOrg(systemContext('t'), f.communityA, { kind: 'committee', name: '甲社区党委' })).id }),
    url: (i) => `/api/party-orgs/${i.org}`, body: () => ({ name: '中共甲社区委员会' }), as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ kind: 'group' }) }, { body: () => ({ secretaryPersonId: 999999 }) }] },
  { method: 'DELETE', route: '/api/party-orgs/:id', prepare: async ({ grid, f }) => ({ org2: (await grid.bindPartyOrg(systemContext('t'), f.gridA2, { kind: 'branch', name: '甲二网格党支部' })).id }),
    url: (i) => `/api/party-orgs/${i.org2}`, as: 'secretary_a', status: 204, outside: { as: 'secretary_b' }, bad: [{ url: () => '/api/party-orgs/987654', body: () => undefined, status: 404 }] },

  // ---- people and posts ----
  { method: 'GET', route: '/api/people', url: (i) => `/api/people?unitId=${i.communityA}`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' }, bad: [{ url: () => '/api/people?limit=100000', body: () => undefined }] },
  { method: 'POST', route: '/api/people', url: () => '/api/people', body: (i) => ({ unitId: i.communityA, name: '赵六' }), as: 'secretary_a', status: 201, outside: { as: 'secretary_b' },
    bad: [{ body: (i) => ({ unitId: i.communityA, name: '   ' }) }, { body: (i) => ({ unitId: i.communityA }) }] },
  { method: 'PATCH', route: '/api/people/:id', prepare: async ({ grid, f }) => ({ person: (await grid.createPerson(systemContext('t'), { unitId: f.communityA, name: '孙七' })).id }),
    url: (i) => `/api/people/${i.person}`, body: () => ({ note: '楼长候选' }), as: 'secretary_a', status: 200, outside: { as: 'secretary_b' }, bad: [{ body: () => ({ name: '' }) }] },
  // a post for a new person (personName) creates the person too: a row for each
  { method: 'POST', route: '/api/units/:id/posts', url: (i) => `/api/units/${i.gridA2}/posts`, body: () => ({ role: 'grid_worker', personName: '周八', startedOn: '2025-01-01' }), as: 'secretary_a', status: 201, auditRows: 2, outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ role: 'community_secretary', personName: '周八', startedOn: '2025-01-01' }) }, { body: () => ({ role: 'grid_worker', personName: '周八', startedOn: '2025-01-01', endedOn: '2024-01-01' }) },
      { body: () => ({ role: 'grid_worker', startedOn: '2025-01-01' }) }, { body: () => ({ role: 'grid_worker', personName: 'x', startedOn: '2025-13-01' }) }] },
  { method: 'PATCH', route: '/api/posts/:id', prepare: async ({ grid, f }) => ({ post: (await grid.appointPost(systemContext('t'), f.gridA2, { role: 'grid_leader', personName: '吴九', startedOn: '2023-05-01' })).id }),
    url: (i) => `/api/posts/${i.post}`, body: () => ({ endedOn: '2026-06-30' }), as: 'secretary_a', status: 200, outside: { as: 'secretary_b' }, bad: [{ body: () => ({ endedOn: '2020-01-01' }) }] },
  { method: 'DELETE', route: '/api/posts/:id', prepare: async ({ grid, f }) => ({ post2: (await grid.appointPost(systemContext('t'), f.buildingA1, { role: 'building_leader', personName: '郑十', startedOn: '2023-05-01' })).id }),
    url: (i) => `/api/posts/${i.post2}`, as: 'secretary_a', status: 204, outside: { as: 'secretary_b' }, bad: [{ url: () => '/api/posts/99999999', body: () => undefined, status: 404 }] },

  // ---- linked organisations ----
  { method: 'POST', route: '/api/units/:id/linked-orgs', url: (i) => `/api/units/${i.communityA}/linked-orgs`, body: () => ({ kind: 'property_company', name: '甲物业' }), as: 'secretary_a', status: 201, outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ kind: 'bank', name: 'x' }) }, { body: () => ({ kind: 'co_building', name: 'x', startedOn: '2024-05-01', endedOn: '2024-01-01' }) }] },
  { method: 'PATCH', route: '/api/linked-orgs/:id', prepare: async ({ grid, f }) => ({ lo: (await grid.addLinkedOrg(systemContext('t'), f.communityA, { kind: 'social_org', name: '甲志愿队' })).id }),
    url: (i) => `/api/linked-orgs/${i.lo}`, body: () => ({ contactName: '钱一' }), as: 'secretary_a', status: 200, outside: { as: 'secretary_b' }, bad: [{ body: () => ({ kind: 'x' }) }] },
  { method: 'DELETE', route: '/api/linked-orgs/:id', prepare: async ({ grid, f }) => ({ lo2: (await grid.addLinkedOrg(systemContext('t'), f.communityA, { kind: 'owners_committee', name: '甲业委会' })).id }),
    url: (i) => `/api/linked-orgs/${i.lo2}`, as: 'secretary_a', status: 204, outside: { as: 'secretary_b' }, bad: [{ url: () => '/api/linked-orgs/0', body: () => undefined }] },

  // ---- users and grants ----
  { method: 'GET', route: '/api/roles', url: () => '/api/roles', as: 'leader_a1', status: 200 },
  { method: 'GET', route: '/api/users', url: () => '/api/users', as: 'street_admin', status: 200, outside: { as: 'worker_a1', status: 403 }, bad: [{ url: () => '/api/users?offset=-1', body: () => undefined }] },
  { method: 'GET', route: '/api/users/:id', url: (i) => `/api/users/${i.users.leader_a1.id}`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' }, bad: [{ url: () => '/api/users/x', body: () => undefined }] },
  { method: 'POST', route: '/api/users', url: () => '/api/users', body: (i) => ({ username: 'newworker', displayName: '新网格员', role: 'grid_worker', unitId: i.gridA1 }), as: 'street_admin', status: 201,
    outside: { as: 'street_admin', body: (i) => ({ username: 'outsider', displayName: '区外', role: 'grid_worker', unitId: i.district }) },
    bad: [{ body: (i) => ({ username: 'x', displayName: 'x', role: 'grid_worker', unitId: i.gridA1 }) }, { body: (i) => ({ username: 'newworker2', displayName: 'x', role: 'emperor', unitId: i.gridA1 }) },
      { body: (i) => ({ username: 'worker_a1', displayName: 'x', role: 'grid_worker', unitId: i.gridA1 }), status: 409 }, { body: (i) => ({ username: 'sneaky', displayName: 'x', role: 'district_admin', unitId: i.street }), status: 403 }] },
  { method: 'PATCH', route: '/api/users/:id', url: (i) => `/api/users/${i.users.worker_b1.id}`, body: () => ({ displayName: '乙一网格员' }), as: 'street_admin', status: 200,
    outside: { as: 'street_admin', url: (i) => `/api/users/${i.users.district_admin.id}` }, bad: [{ body: () => ({ displayName: '' }) }, { body: () => ({ password: 'x' }) }] },
  { method: 'POST', route: '/api/users/:id/reset-password', url: (i) => `/api/users/${i.users.worker_b1.id}/reset-password`, as: 'street_admin', status: 200,
    outside: { as: 'street_admin', url: (i) => `/api/users/${i.users.auditor.id}/reset-password` }, bad: [{ url: () => '/api/users/0/reset-password', body: () => undefined }] },
  { method: 'POST', route: '/api/users/:id/grants', url: (i) => `/api/users/${i.users.worker_b1.id}/grants`, body: (i) => ({ role: 'grid_leader', unitId: i.gridB1 }), as: 'street_admin', status: 201,
    outside: { as: 'street_admin', body: (i) => ({ role: 'grid_leader', unitId: i.district }) }, bad: [{ body: (i) => ({ role: 'grid_leader' }) }, { body: (i) => ({ role: 'auditor', unitId: i.gridB1 }), status: 403 }] },
  { method: 'DELETE', route: '/api/grants/:id', prepare: async () => ({}), url: (i) => `/api/grants/${i.grantToRevoke}`, as: 'street_admin', status: 204,
    outside: { as: 'secretary_b' }, bad: [{ url: () => '/api/grants/424242', body: () => undefined, status: 404 }] },

  // ---- residents ----
  { method: 'GET', route: '/api/residents', url: () => '/api/residents?q=zs', as: 'worker_a1', status: 200, outside: { as: 'member_a1', status: 403 },
    bad: [{ url: () => '/api/residents?limit=0', body: () => undefined }, { url: () => '/api/residents?tag=vip', body: () => undefined }] },
  { method: 'GET', route: '/api/residents/:id', prepare: async ({ residents, f }) => ({ resident: (await residents.create(systemContext('t'), { unitId: f.gridA1, name: '钱多多', phone: '13700137000' })).id }),
    url: (i) => `/api/residents/${i.resident}`, as: 'worker_a1', status: 200, outside: { as: 'secretary_b' }, bad: [{ url: () => '/api/residents/abc', body: () => undefined }] },
  { method: 'POST', route: '/api/residents', url: () => '/api/residents', body: (i) => ({ unitId: i.gridA1, name: '赵六', phone: '13600136000' }), as: 'worker_a1', status: 201, outside: { as: 'secretary_b' },
    bad: [{ body: (i) => ({ unitId: i.gridA1, name: '赵六', idNumber: '440103198005120031' }) }, { body: (i) => ({ unitId: i.gridA1, name: '赵六', ssn: '1' }) }, { body: (i) => ({ unitId: i.gridA1, name: '赵六', birthDate: '2990-01-01' }) }] },
  { method: 'PATCH', route: '/api/residents/:id', prepare: async ({ residents, f }) => ({ resident2: (await residents.create(systemContext('t'), { unitId: f.gridA1, name: '孙小美' })).id }),
    url: (i) => `/api/residents/${i.resident2}`, body: () => ({ address: '龙津西路1号' }), as: 'worker_a1', status: 200, outside: { as: 'secretary_b' }, bad: [{ body: () => ({ phone: '1' }) }, { body: () => ({ tags: ['vip'] }) }] },
  { method: 'POST', route: '/api/residents/:id/reveal', prepare: async ({ residents, f }) => ({ resident3: (await residents.create(systemContext('t'), { unitId: f.gridA1, name: '周大福', phone: '13500135000' })).id }),
    url: (i) => `/api/residents/${i.resident3}/reveal`, body: () => ({ field: 'phone', purpose: '回访核实诉求' }), as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ body: () => ({ field: 'phone' }) }, { body: () => ({ field: 'id_number', purpose: '回访核实诉求' }), status: 404 }] },

  // ---- audit ----
  { method: 'GET', route: '/api/audit', url: () => '/api/audit?action=unit.', as: 'auditor', status: 200,
    outside: { as: 'auditor_b', url: (i) => `/api/audit?unitId=${i.communityA}` }, bad: [{ url: () => '/api/audit?from=yesterday', body: () => undefined }, { url: () => '/api/audit?limit=9999', body: () => undefined }] },
  ...EXPORT_CASES,
  ...STRUCTURE_CASES,
  ...DEMAND_CASES,
  ...OPEN311_CASES,
  // last: starting an import lets a job run on
  ...IMPORT_CASES,
];

let h: TestApp;
let f: TinyLocality;
let sessions: Record<string, Session>;
let grid: GridService;
let residents: ResidentsService;

beforeAll(async () => {
  h = await createTestApp();
  f = await buildTinyLocality(h.database, h.clock.now);
  sessions = await loginAll(h.app, f);
  grid = new GridService(h.database.db, h.clock.now);
  residents = new ResidentsService(h.database.db, h.pii, h.clock.now);
});
afterAll(async () => h?.close());

/** One request of a case: JSON through the client helper, or a raw body with its content type. */
function send(session: Session | null, method: Method, url: string, body: unknown, raw: RawBody | undefined, ids: Ids): Promise<LightMyRequestResponse> {
  if (!raw) return call(h.app, session, method, url, body);
  const headers: Record<string, string> = { 'content-type': raw.contentType };
  if (session) {
    headers.cookie = session.cookie;
    if (method !== 'GET') headers['x-csrf-token'] = session.csrf;
  }
  return h.app.inject({ method, url, headers, payload: raw.payload(ids) });
}

async function auditCount(): Promise<number> {
  const r = await h.database.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Opens an event stream on a listening server, reads until the named event, then hangs up. */
async function readStream(url: string, session: Session, until: string, onFirstEvent: () => Promise<void>): Promise<{ status: number; contentType: string; events: { event: string; data: unknown }[] }> {
  if (!h.app.server.listening) await h.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = h.app.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const events: { event: string; data: unknown }[] = [];
    let buffered = '';
    let settled = false;
    const finish = (err: Error | null, value?: Awaited<ReturnType<typeof readStream>>) => {
      if (settled) return;
      settled = true;
      req.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    const req = http.get({ host: '127.0.0.1', port, path: url, headers: { cookie: session.cookie, accept: 'text/event-stream' } }, (res) => {
      const done = () => finish(null, { status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), events });
      if (res.statusCode !== 200) return done();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (!event) continue; // a keep-alive comment
          events.push({ event, data: data === undefined ? null : JSON.parse(data) });
          if (event === until) return done();
          if (events.length === 1) onFirstEvent().catch((e: Error) => finish(e));
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', (e) => finish(e));
    req.setTimeout(5_000, () => finish(new Error(`no "${until}" event within 5 s; got ${JSON.stringify(events)}`)));
  });
}

async function expectNothingWritten(run: () => Promise<{ statusCode: number; body: string }>, status: number, recordsAttempt = false, check?: (body: unknown) => void) {
  const before = await fingerprint(h.database.db);
  const res = await run();
  expect(res.statusCode, res.body).toBe(status);
  if (status >= 400) {
    const body = JSON.parse(res.body);
    expect(body.messages['zh-CN']).toMatch(/\S/);
    expect(body.messages.en).toMatch(/\S/);
    expect(typeof body.code).toBe('string');
  }
  if (check) check(res.body ? JSON.parse(res.body) : null);
  const after = await fingerprint(h.database.db);
  if (recordsAttempt) {
    // only the user row (failure count) and the audit log may change
    for (const t of Object.keys(before)) if (t !== 'app_user' && t !== 'audit_log') expect(after[t], t).toBe(before[t]);
  } else {
    expect(after).toEqual(before);
  }
}

describe.each(CASES)('$method $route', (c) => {
  let ids: Ids;
  let own: Session | null = null;
  beforeAll(async () => {
    const extra = c.prepare ? await c.prepare({ grid, residents, f, app: h.app }) : {};
    if (c.route === '/api/grants/:id') {
      const r = await call(h.app, sessions.street_admin, 'POST', `/api/users/${f.users.worker_a1.id}/grants`, { role: 'grid_worker', unitId: f.gridA2 });
      extra.grantToRevoke = r.json().id;
    }
    if (c.ownSession) own = await login(h.app, c.as, TEST_PASSWORD);
    ids = { ...f, ...extra } as Ids;
  });

  if (!c.public) {
    it('unauthenticated → 401, nothing written', async () => {
      await expectNothingWritten(() => send(null, c.method, c.url(ids), c.body?.(ids), c.raw, ids), 401);
    });
  }
  if (c.outside) {
    it(`outside the caller's scope → ${c.outside.status ?? 404}, nothing written`, async () => {
      const o = c.outside!;
      await expectNothingWritten(() => send(sessions[o.as], c.method, (o.url ?? c.url)(ids), (o.body ?? c.body)?.(ids), o.raw ?? c.raw, ids), o.status ?? 404, false, o.check && ((b) => o.check!(b, ids)));
    });
  }
  for (const [n, bad] of (c.bad ?? []).entries()) {
    it(`bad input #${n + 1} → ${bad.status ?? 400} with a clear message, nothing written`, async () => {
      const session = c.public ? null : sessions[c.as];
      await expectNothingWritten(() => send(session, c.method, (bad.url ?? c.url)(ids), bad.body?.(ids), bad.raw, ids), bad.status ?? 400, bad.recordsAttempt);
    });
  }
  const key = `${c.method} ${c.route}`;
  const audited: number | ((answer: unknown) => number) | undefined =
    c.auditRows ?? (key in AUDIT_GAPS ? AUDIT_GAPS[key].rows : key in AUDIT_COUNTS ? AUDIT_COUNTS[key].rows : c.method === 'GET' ? undefined : 1);
  const auditLabel = audited === undefined ? '' : typeof audited === 'number' ? `, ${audited} audit row${audited === 1 ? '' : 's'}${key in AUDIT_GAPS ? ' (known gap)' : ''}` : ', one audit row per item done';
  it(`success in scope → ${c.status}${auditLabel}`, async () => {
    const session = c.public ? null : (own ?? sessions[c.as]);
    if (c.stream) {
      const s = c.stream;
      const res = await readStream(c.url(ids), session!, s.until, () => s.trigger?.({ app: h.app, f }, ids) ?? Promise.resolve());
      expect(res.status).toBe(c.status);
      expect(res.contentType).toMatch(/^text\/event-stream/);
      c.check?.(res.events, ids);
      return;
    }
    const before = await auditCount();
    const res = await send(session, c.method, c.url(ids), c.body?.(ids), c.raw, ids);
    expect(res.statusCode, res.body).toBe(c.status);
    if (audited !== undefined) {
      const expected = typeof audited === 'number' ? audited : audited(res.json());
      expect(await auditCount(), `audit rows written${key in AUDIT_GAPS ? ` — known gap: ${AUDIT_GAPS[key].bug}` : ''}`).toBe(before + expected);
    }
    if (c.check) c.check(res.body ? JSON.parse(res.body) : null, ids);
  });
});

describe('the matrix', () => {
  it('covers every registered API route', () => {
    const covered = new Set(CASES.map((c) => `${c.method} ${c.route}`));
    const api = h.app.registeredRoutes.filter((r) => r.url.startsWith('/api/')).map((r) => `${r.method} ${r.url}`);
    expect(api.filter((r) => !covered.has(r))).toEqual([]);
  });

  it('states reasons for audit counts other than one only for routes that exist', () => {
    const routes = new Set(h.app.registeredRoutes.map((r) => `${r.method} ${r.url}`));
    for (const [route, { why }] of Object.entries(AUDIT_COUNTS)) {
      expect(routes.has(route), route).toBe(true);
      expect(why, route).toMatch(/\S/);
    }
    for (const route of Object.keys(AUDIT_GAPS)) expect(routes.has(route), route).toBe(true);
  });
});
