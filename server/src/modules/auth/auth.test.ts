// Security basics on the real app: cookie flags, CSRF, session fixation, lockout, headers, password change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, call, login, type TestApp } from '../../../test/app.ts';
import { buildTinyLocality, TEST_PASSWORD, type TinyLocality } from '../../../test/fixtures.ts';

let h: TestApp;
let f: TinyLocality;
beforeAll(async () => {
  h = await createTestApp({ loginMaxFailures: 3, loginLockMinutes: 10 });
  f = await buildTinyLocality(h.database, h.clock.now);
});
afterAll(async () => h?.close());

describe('login and session', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie and answers a CSRF token', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'worker_a1', password: TEST_PASSWORD } });
    expect(res.statusCode).toBe(200);
    const cookie = res.cookies.find((c) => c.name === 'tx_session')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Strict');
    expect(cookie.path).toBe('/');
    expect(res.json().csrfToken).toMatch(/^[\w-]{20,}$/);
    expect(res.json().permissions).toContain('unit.read');
    expect(res.json().permissions).not.toContain('unit.create');
  });

  it('rejects writes without the CSRF header, or with another session\'s token', async () => {
    const a = await login(h.app, 'secretary_a', TEST_PASSWORD);
    const b = await login(h.app, 'secretary_b', TEST_PASSWORD);
    const body = { parentId: f.communityA, kind: 'grid', name: 'CSRF网格' };
    const none = await h.app.inject({ method: 'POST', url: '/api/units', headers: { cookie: a.cookie }, payload: body });
    expect(none.statusCode).toBe(403);
    expect(none.json().code).toBe('csrf_failed');
    const foreign = await h.app.inject({ method: 'POST', url: '/api/units', headers: { cookie: a.cookie, 'x-csrf-token': b.csrf }, payload: body });
    expect(foreign.statusCode).toBe(403);
    const ok = await call(h.app, a, 'POST', '/api/units', body);
    expect(ok.statusCode).toBe(201);
  });

  it('a cookie planted before login never becomes the logged-in session (fixation)', async () => {
    const planted = await login(h.app, 'resident_a1', TEST_PASSWORD);
    const res = await h.app.inject({ method: 'POST', url: '/api/auth/login', headers: { cookie: planted.cookie }, payload: { username: 'leader_a1', password: TEST_PASSWORD } });
    const fresh = res.cookies.find((c) => c.name === 'tx_session')!.value;
    expect(`tx_session=${fresh}`).not.toBe(planted.cookie);
    const old = await h.app.inject({ method: 'GET', url: '/api/auth/session', headers: { cookie: planted.cookie } });
    expect(old.statusCode).toBe(401);
  });

  it('logout ends the session', async () => {
    const s = await login(h.app, 'member_a1', TEST_PASSWORD);
    expect((await call(h.app, s, 'POST', '/api/auth/logout')).statusCode).toBe(204);
    expect((await call(h.app, s, 'GET', '/api/auth/session')).statusCode).toBe(401);
  });

  it('an expired session is refused', async () => {
    const s = await login(h.app, 'worker_b1', TEST_PASSWORD);
    h.clock.advance(13 * 3_600_000);
    expect((await call(h.app, s, 'GET', '/api/auth/session')).statusCode).toBe(401);
  });
});

describe('lockout', () => {
  it('locks an account after repeated failures, says so in both languages, and unlocks after the lock time', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await h.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'auditor_b', password: 'Wrong-Password-1' } });
      expect(r.statusCode).toBe(401);
    }
    const locked = await h.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'auditor_b', password: TEST_PASSWORD } });
    expect(locked.statusCode).toBe(429);
    expect(locked.json().messages['zh-CN']).toContain('锁定');
    expect(locked.headers['retry-after']).toBeDefined();
    h.clock.advance(11 * 60_000);
    const again = await h.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'auditor_b', password: TEST_PASSWORD } });
    expect(again.statusCode).toBe(200);
  });

  it('the same answer for an unknown user as for a wrong password', async () => {
    const unknown = await h.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'nobody_here', password: 'Wrong-Password-1' } });
    const wrong = await h.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'worker_a1', password: 'Wrong-Password-1' } });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toEqual(wrong.json());
  });

  it('rate-limits logins per client address', async () => {
    const limited = await createTestApp({ loginRateLimitPerMinute: 3 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await limited.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'x_user', password: 'y' } })).statusCode);
      expect(codes).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('public routes', () => {
  it('the OpenAPI description and /healthz need no login; the API does', async () => {
    const doc = await h.app.inject({ method: 'GET', url: '/docs/json' });
    expect(doc.statusCode).toBe(200);
    expect(Object.keys(doc.json().paths)).toContain('/api/units/{id}');
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: '/api/units/roots' })).statusCode).toBe(401);
  });
});

describe('headers', () => {
  it('sends CSP, frame, nosniff and referrer headers', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.json()).toEqual({ status: 'ok' });
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBeDefined();
  });
});

describe('one-time passwords', () => {
  it('a new account must change its one-time password before anything else, and the new password works', async () => {
    const admin = await login(h.app, 'district_admin', TEST_PASSWORD);
    const created = await call(h.app, admin, 'POST', '/api/users', { username: 'fresh_user', displayName: '新人', role: 'grid_worker', unitId: f.gridB1 });
    expect(created.statusCode).toBe(201);
    const otp = created.json().oneTimePassword as string;
    expect(otp).toHaveLength(16);
    const s = await login(h.app, 'fresh_user', otp);
    const blocked = await call(h.app, s, 'GET', `/api/units/${f.gridB1}`);
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json().code).toBe('password_change_required');
    expect((await call(h.app, s, 'POST', '/api/auth/password', { currentPassword: otp, newPassword: 'fresh_user-is-me-1' })).statusCode).toBe(400);
    expect((await call(h.app, s, 'POST', '/api/auth/password', { currentPassword: otp, newPassword: 'Brand-New-Pass-42' })).statusCode).toBe(204);
    expect((await call(h.app, s, 'GET', `/api/units/${f.gridB1}`)).statusCode).toBe(200);
    await expect(login(h.app, 'fresh_user', otp)).rejects.toThrow();
    await login(h.app, 'fresh_user', 'Brand-New-Pass-42');
  });

  it('an admin reset ends the user\'s sessions and forces a change', async () => {
    const admin = await login(h.app, 'street_admin', TEST_PASSWORD);
    const victim = await login(h.app, 'worker_b1', TEST_PASSWORD);
    const reset = await call(h.app, admin, 'POST', `/api/users/${f.users.worker_b1.id}/reset-password`);
    expect(reset.statusCode).toBe(200);
    expect((await call(h.app, victim, 'GET', '/api/auth/session')).statusCode).toBe(401);
    const s = await login(h.app, 'worker_b1', reset.json().oneTimePassword);
    expect((await call(h.app, s, 'GET', '/api/auth/session')).json().user.mustChangePassword).toBe(true);
  });

  it('stores argon2id hashes, never the password', async () => {
    const row = await h.database.db.selectFrom('app_user').select('password_hash').where('username', '=', 'worker_a1').executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
  });
});

describe("the app's clock", () => {
  it('a session is timed on the clock that checks it, even when the database clock differs by months', async () => {
    h.clock.advance(90 * 86_400_000);
    const s = await login(h.app, 'worker_a1', TEST_PASSWORD);
    expect((await call(h.app, s, 'GET', '/api/auth/session')).statusCode).toBe(200);
  });
});
