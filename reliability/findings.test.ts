// Server bugs the reliability suites found, as failing tests until fixed (see docs/reliability.md, "Findings").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createScratch, type Scratch } from './lib/databases.ts';
import { seedLocality, type Locality } from './lib/seed.ts';
import { buildInProcessApp } from './lib/app.ts';
import { testOptions } from './lib/test-env.ts';

let scratch: Scratch;
let app: FastifyInstance;
let locality: Locality;
let cookie: string;
beforeAll(async () => {
  scratch = await createScratch(testOptions.engine, { pgUrl: testOptions.pgUrl, inMemory: true });
  const database = await scratch.open();
  locality = await seedLocality(database, { streets: 1, communitiesPerStreet: 2, gridsPerCommunity: 1, buildingsPerGrid: 1, staffed: 1 }, (l) => [
    { username: 'auditor_c', role: 'auditor', unitId: l.firstBranch.community },
    { username: 'admin_d', role: 'district_admin', unitId: l.districts[0] },
  ]);
  app = await buildInProcessApp(database, scratch.dataDir);
  await app.ready();
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'auditor_c', password: locality.password } });
  cookie = `tx_session=${res.cookies.find((c) => c.name === 'tx_session')!.value}`;
});
afterAll(async () => {
  await app?.close();
  await scratch?.drop();
});

describe('the audit log filter by unit', () => {
  it('answers a unit outside the caller\'s scope exactly as a unit that does not exist (no existence oracle)', async () => {
    const outside = locality.units.find((u) => u.kind === 'community' && u.id !== locality.firstBranch.community)!;
    const a = await app.inject({ method: 'GET', url: `/api/audit?unitId=${outside.id}`, headers: { cookie } });
    const b = await app.inject({ method: 'GET', url: '/api/audit?unitId=9007199254740991', headers: { cookie } });
    expect(a.statusCode).toBe(404);
    expect([b.statusCode, b.json().code]).toEqual([a.statusCode, a.json().code]);
  });
});

describe('URLs Fastify rejects before any hook runs', () => {
  for (const [what, url, status] of [
    ['an over-long path parameter', `/api/units/${'1'.repeat(150)}`, 414],
    ['broken percent-encoding', '/api/units/%E0%A4%A', 400],
  ] as const) {
    it(`${what}: the app's error format and the security headers`, async () => {
      const res = await app.inject({ method: 'GET', url, headers: { cookie } });
      expect(res.statusCode).toBe(status);
      expect(res.json()).toMatchObject({ code: expect.any(String), messages: { 'zh-CN': expect.any(String), en: expect.any(String) } });
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(String(res.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    });
  }
});

describe('an empty PATCH body', () => {
  it('is refused or accepted, never a 500 (PATCH people, posts, linked organisations, party organisations, units, users, unit kinds)', async () => {
    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin_d', password: locality.password } });
    const admin = { cookie: `tx_session=${login.cookies.find((c) => c.name === 'tx_session')!.value}`, 'x-csrf-token': login.json().csrfToken as string };
    const db = (await scratch.open()).db;
    const first = async (table: 'person' | 'staff_post' | 'linked_org' | 'party_org') => Number((await db.selectFrom(table).select('id').orderBy('id').executeTakeFirstOrThrow()).id);
    const urls = [
      `/api/people/${await first('person')}`,
      `/api/posts/${await first('staff_post')}`,
      `/api/linked-orgs/${await first('linked_org')}`,
      `/api/party-orgs/${await first('party_org')}`,
      `/api/units/${locality.firstBranch.grid}`,
      `/api/users/${locality.accounts[0].id}`,
      '/api/unit-kinds/grid',
    ];
    const answers: string[] = [];
    for (const url of urls) {
      const res = await app.inject({ method: 'PATCH', url, headers: admin, payload: {} });
      answers.push(`${url} → ${res.statusCode}`);
    }
    expect(answers.filter((a) => / → 5\d\d$/.test(a))).toEqual([]);
  });
});
