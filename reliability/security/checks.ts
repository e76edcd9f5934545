// The security basics as checks that run over any transport: real HTTP against a server process (the
// security suite) or app.inject (so route tests can run the very same checks in-process).
import http from 'node:http';
import type { FastifyInstance } from 'fastify';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  setCookies: string[];
  body: string;
}
export interface Sent {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
}
export type Transport = (req: Sent) => Promise<Answer>;

/** Plain node:http, so headers go out exactly as given (no client-side normalising or refusing). */
export function httpTransport(base: string, timeoutMs = 30_000): Transport {
  const target = new URL(base);
  return (req) =>
    new Promise((resolve, reject) => {
      const r = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, ...(req.body !== undefined ? { 'content-length': String(Buffer.byteLength(req.body)) } : {}) }, agent: false, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const setCookie = res.headers['set-cookie'] ?? [];
          resolve({ status: res.statusCode ?? 0, headers: res.headers, setCookies: setCookie, body: Buffer.concat(chunks).toString() });
        });
      });
      r.on('timeout', () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      r.on('error', reject);
      if (req.body !== undefined) r.write(req.body);
      r.end();
    });
}

export function injectTransport(app: FastifyInstance): Transport {
  return async (req) => {
    const res = await app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, payload: req.body });
    const raw = res.headers['set-cookie'];
    const headers: Answer['headers'] = {};
    for (const [k, v] of Object.entries(res.headers)) headers[k] = v === undefined ? undefined : Array.isArray(v) ? v.map(String) : String(v);
    return { status: res.statusCode, headers, setCookies: raw === undefined ? [] : [raw].flat().map(String), body: res.body };
  };
}

export interface SecurityContext {
  send: Transport;
  password: string;
  /** two community secretaries (person.write in their own community) and the unit each may write under */
  writerA: { username: string; unitId: number };
  writerB: { username: string };
  /** an account the lockout check may lock */
  victim: { username: string };
  /** an account with user.write over `grantUnitId`, to create a one-time-password account */
  admin: { username: string; grantUnitId: number };
  /** the server's LOGIN_MAX_FAILURES and LOGIN_RATE_LIMIT_PER_MINUTE */
  maxFailures: number;
  rateLimitPerMinute: number;
}

export interface SecurityCheck {
  name: string;
  run(ctx: SecurityContext): Promise<string[]>;
}

const json = (a: Answer): Record<string, unknown> => {
  try {
    const v: unknown = JSON.parse(a.body);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};
const header = (a: Answer, name: string) => [a.headers[name]].flat()[0];

async function login(ctx: SecurityContext, username: string, password = ctx.password, cookie?: string) {
  const res = await ctx.send({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: JSON.stringify({ username, password }) });
  const set = res.setCookies.find((c) => c.startsWith('tx_session='));
  return { res, setCookie: set ?? null, cookie: set ? set.split(';')[0] : null, csrf: typeof json(res).csrfToken === 'string' ? String(json(res).csrfToken) : null };
}

async function mustLogin(ctx: SecurityContext, username: string) {
  const l = await login(ctx, username);
  if (l.res.status !== 200 || !l.cookie || !l.csrf) throw new Error(`login ${username}: ${l.res.status} ${l.res.body.slice(0, 200)}`);
  return { cookie: l.cookie, csrf: l.csrf };
}

export const SECURITY_CHECKS: SecurityCheck[] = [
  {
    name: 'security headers (CSP without framing, X-Frame-Options, nosniff, referrer policy) on every kind of answer',
    async run(ctx) {
      const problems: string[] = [];
      const answers: [string, Answer][] = [
        ['GET /healthz', await ctx.send({ method: 'GET', url: '/healthz' })],
        ['GET /api/auth/session (401)', await ctx.send({ method: 'GET', url: '/api/auth/session' })],
        ['GET /api/no-such-route (404)', await ctx.send({ method: 'GET', url: '/api/no-such-route' })],
        ['POST /api/auth/login (400)', await ctx.send({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, body: '{' })],
        // answered by the router before any hook runs
        ['GET an over-long path parameter (414)', await ctx.send({ method: 'GET', url: `/api/units/${'1'.repeat(150)}` })],
        ['GET broken percent-encoding (400)', await ctx.send({ method: 'GET', url: '/api/units/%E0%A4%A' })],
      ];
      for (const [what, a] of answers) {
        const csp = String(header(a, 'content-security-policy') ?? '');
        if (!csp.includes("default-src 'self'")) problems.push(`${what}: CSP lacks default-src 'self' (${csp || 'no CSP'})`);
        if (!csp.includes("frame-ancestors 'none'")) problems.push(`${what}: CSP lacks frame-ancestors 'none'`);
        if (String(header(a, 'x-frame-options') ?? '').toUpperCase() !== 'DENY') problems.push(`${what}: X-Frame-Options is not DENY`);
        if (header(a, 'x-content-type-options') !== 'nosniff') problems.push(`${what}: no X-Content-Type-Options: nosniff`);
        if (!header(a, 'referrer-policy')) problems.push(`${what}: no Referrer-Policy`);
        if (header(a, 'x-powered-by')) problems.push(`${what}: X-Powered-By tells the stack`);
      }
      return problems;
    },
  },
  {
    name: 'the session cookie is HttpOnly, SameSite=Strict, Path=/, a 256-bit random token, and only set by a successful login',
    async run(ctx) {
      const problems: string[] = [];
      const ok = await login(ctx, ctx.writerA.username);
      const c = ok.setCookie ?? '';
      if (!c) return [`login answered ${ok.res.status} without a tx_session cookie`];
      if (!/;\s*HttpOnly/i.test(c)) problems.push(`not HttpOnly: ${c}`);
      if (!/;\s*SameSite=Strict/i.test(c)) problems.push(`not SameSite=Strict: ${c}`);
      if (!/;\s*Path=\/(;|$)/i.test(c)) problems.push(`not Path=/: ${c}`);
      const token = (ok.cookie ?? '').slice('tx_session='.length);
      if (Buffer.from(token, 'base64url').length < 32) problems.push(`token shorter than 256 bits: ${token.length} characters`);
      const again = await login(ctx, ctx.writerA.username);
      if (again.cookie === ok.cookie) problems.push('two logins got the same token');
      const bad = await login(ctx, ctx.writerA.username, 'Wrong-Password-1');
      if (bad.setCookie) problems.push(`a failed login set a cookie: ${bad.setCookie}`);
      return problems;
    },
  },
  {
    name: 'CSRF: a write without the token, with another session\'s token or with junk is refused; form and text bodies are refused',
    async run(ctx) {
      const problems: string[] = [];
      const a = await mustLogin(ctx, ctx.writerA.username);
      const b = await mustLogin(ctx, ctx.writerB.username);
      let n = 0;
      const write = (token: string | null, contentType = 'application/json', body?: string) =>
        ctx.send({ method: 'POST', url: '/api/people', headers: { cookie: a.cookie, 'content-type': contentType, ...(token === null ? {} : { 'x-csrf-token': token }) }, body: body ?? JSON.stringify({ unitId: ctx.writerA.unitId, name: `CSRF试验${++n}` }) });
      for (const [what, token] of [['no token', null], ["another session's token", b.csrf], ['a junk token', 'x'.repeat(32)], ['an empty token', ''], ['its own token with one character more', `${a.csrf}x`]] as const) {
        const res = await write(token);
        if (res.status !== 403 || json(res).code !== 'csrf_failed') problems.push(`${what}: ${res.status} ${res.body.slice(0, 120)} (expected 403 csrf_failed)`);
      }
      const form = await write(a.csrf, 'application/x-www-form-urlencoded', `unitId=${ctx.writerA.unitId}&name=form`);
      if (form.status !== 415) problems.push(`a form body: ${form.status} (expected 415)`);
      const text = await write(a.csrf, 'text/plain', JSON.stringify({ unitId: ctx.writerA.unitId, name: 'text' }));
      if (text.status !== 415) problems.push(`a text/plain body: ${text.status} (expected 415)`);
      const good = await write(a.csrf);
      if (good.status !== 201) problems.push(`the control write with the right token failed: ${good.status} ${good.body.slice(0, 200)}`);
      return problems;
    },
  },
  {
    name: 'without a live session every API route answers 401 (no cookie, a forged one, junk)',
    async run(ctx) {
      const problems: string[] = [];
      for (const cookie of [undefined, 'tx_session=forged-token-value', `tx_session=${'A'.repeat(300)}`, 'tx_session=%00%ff;;;=;', 'other=1']) {
        for (const [method, url] of [['GET', '/api/units/roots'], ['POST', '/api/people']] as const) {
          const res = await ctx.send({ method, url, headers: { ...(cookie ? { cookie } : {}), ...(method === 'POST' ? { 'content-type': 'application/json', 'x-csrf-token': 'x' } : {}) }, body: method === 'POST' ? '{}' : undefined });
          if (res.status !== 401) problems.push(`${method} ${url} with cookie ${JSON.stringify(cookie ?? null)}: ${res.status} (expected 401)`);
        }
      }
      return problems;
    },
  },
  {
    name: 'session fixation: a cookie planted before login never becomes the logged-in session',
    async run(ctx) {
      const planted = await mustLogin(ctx, ctx.writerB.username);
      const l = await login(ctx, ctx.writerA.username, ctx.password, planted.cookie);
      const problems: string[] = [];
      if (l.res.status !== 200) return [`login with a planted cookie: ${l.res.status}`];
      if (!l.cookie || l.cookie === planted.cookie) problems.push('the login kept the planted cookie');
      const old = await ctx.send({ method: 'GET', url: '/api/auth/session', headers: { cookie: planted.cookie } });
      if (old.status !== 401) problems.push(`the planted session still answers ${old.status} after someone logged in over it`);
      return problems;
    },
  },
  {
    name: 'logout ends the session on the server',
    async run(ctx) {
      const s = await mustLogin(ctx, ctx.writerB.username);
      const out = await ctx.send({ method: 'POST', url: '/api/auth/logout', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
      const after = await ctx.send({ method: 'GET', url: '/api/auth/session', headers: { cookie: s.cookie } });
      return [...(out.status === 204 ? [] : [`logout: ${out.status}`]), ...(after.status === 401 ? [] : [`the session still answers ${after.status} after logout`])];
    },
  },
  {
    name: 'an unknown user and a wrong password get the same answer',
    async run(ctx) {
      const unknown = await login(ctx, 'no_such_user_here', 'Wrong-Password-1');
      const wrong = await login(ctx, ctx.writerB.username, 'Wrong-Password-1');
      return unknown.res.status === wrong.res.status && unknown.res.body === wrong.res.body ? [] : [`unknown user: ${unknown.res.status} ${unknown.res.body}; wrong password: ${wrong.res.status} ${wrong.res.body}`];
    },
  },
  {
    name: 'repeated wrong passwords lock the account (429 with Retry-After, even for the right password)',
    async run(ctx) {
      const problems: string[] = [];
      for (let i = 0; i < ctx.maxFailures; i++) {
        const r = await login(ctx, ctx.victim.username, `Wrong-Password-${i}`);
        if (r.res.status !== 401) problems.push(`wrong password #${i + 1}: ${r.res.status}`);
      }
      const locked = await login(ctx, ctx.victim.username);
      if (locked.res.status !== 429) problems.push(`the right password after ${ctx.maxFailures} failures: ${locked.res.status} (expected 429: locked)`);
      else {
        if (!header(locked.res, 'retry-after')) problems.push('no Retry-After on the lockout answer');
        const m = json(locked.res).messages as Record<string, string> | undefined;
        if (!m?.['zh-CN']?.includes('锁定')) problems.push(`the lockout message does not say 锁定: ${locked.res.body}`);
      }
      if (locked.cookie) problems.push('a locked account still got a session');
      return problems;
    },
  },
  {
    name: 'an account with a one-time password can do nothing but change it',
    async run(ctx) {
      const admin = await mustLogin(ctx, ctx.admin.username);
      const username = `otp_${Date.now().toString(36)}`;
      const created = await ctx.send({ method: 'POST', url: '/api/users', headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'application/json' }, body: JSON.stringify({ username, displayName: '一次性', role: 'resident', unitId: ctx.admin.grantUnitId }) });
      const otp = json(created).oneTimePassword;
      if (created.status !== 201 || typeof otp !== 'string') return [`creating an account: ${created.status} ${created.body.slice(0, 200)}`];
      const s = await login(ctx, username, otp);
      if (!s.cookie) return [`login with the one-time password: ${s.res.status}`];
      const blocked = await ctx.send({ method: 'GET', url: '/api/units/roots', headers: { cookie: s.cookie } });
      return blocked.status === 403 && json(blocked).code === 'password_change_required' ? [] : [`before changing the one-time password: ${blocked.status} ${blocked.body.slice(0, 120)}`];
    },
  },
  {
    name: 'huge or malformed headers get a 4xx, never a 5xx, and the server keeps serving',
    async run(ctx) {
      const problems: string[] = [];
      const tries: [string, Sent][] = [
        ['a 40 kB header', { method: 'GET', url: '/api/auth/session', headers: { 'x-big': 'a'.repeat(40_000) } }],
        ['a 10 kB cookie', { method: 'GET', url: '/api/auth/session', headers: { cookie: `tx_session=${'b'.repeat(10_000)}` } }],
        ['a 10 kB CSRF header', { method: 'POST', url: '/api/people', headers: { 'x-csrf-token': 'c'.repeat(10_000), 'content-type': 'application/json' }, body: '{}' }],
        ['a 20 kB URL', { method: 'GET', url: `/api/units?search=${'d'.repeat(20_000)}` }],
      ];
      for (const [what, req] of tries) {
        try {
          const res = await ctx.send(req);
          if (res.status < 400 || res.status >= 500) problems.push(`${what}: ${res.status}`);
        } catch (e) {
          // a server may also just close the connection on an oversized head; that is not a 5xx
          if (!/socket hang up|ECONNRESET/.test((e as Error).message)) problems.push(`${what}: ${(e as Error).message}`);
        }
      }
      const health = await ctx.send({ method: 'GET', url: '/healthz' });
      if (health.status !== 200) problems.push(`afterwards /healthz answers ${health.status}`);
      return problems;
    },
  },
  {
    name: 'error answers tell no internals (no stack, no file paths, no SQL) and no foreign origin is allowed (no CORS)',
    async run(ctx) {
      const problems: string[] = [];
      const s = await mustLogin(ctx, ctx.writerA.username);
      const answers = [
        await ctx.send({ method: 'POST', url: '/api/people', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' }, body: '{"unitId": "1\' or 1=1"}' }),
        await ctx.send({ method: 'GET', url: "/api/units/1'%20or%201=1", headers: { cookie: s.cookie } }),
        await ctx.send({ method: 'POST', url: '/api/people', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' }, body: '{"unitId":' }),
        await ctx.send({ method: 'GET', url: '/api/auth/session', headers: { cookie: s.cookie, origin: 'http://evil.example' } }),
      ];
      for (const a of answers) {
        if (/\bat [\w.<>]+ \(|node_modules|\/server\/src\/|\bselect\b.+\bfrom\b/i.test(a.body)) problems.push(`${a.status} tells internals: ${a.body.slice(0, 200)}`);
        if (header(a, 'access-control-allow-origin')) problems.push(`Access-Control-Allow-Origin: ${header(a, 'access-control-allow-origin')}`);
      }
      return problems;
    },
  },
  {
    // last: it uses up the client address's login allowance for a minute
    name: 'logins are rate-limited per client address (429 with Retry-After)',
    async run(ctx) {
      for (let i = 0; i < ctx.rateLimitPerMinute + 2; i++) {
        const r = await login(ctx, 'no_such_user_here', 'Wrong-Password-1');
        if (r.res.status === 429) return header(r.res, 'retry-after') ? [] : ['429 without Retry-After'];
      }
      return [`${ctx.rateLimitPerMinute + 2} logins in a row from one address were never refused with 429`];
    },
  },
];

export async function runSecurityChecks(ctx: SecurityContext, checks: SecurityCheck[] = SECURITY_CHECKS): Promise<{ name: string; problems: string[] }[]> {
  const out: { name: string; problems: string[] }[] = [];
  for (const c of checks) {
    try {
      out.push({ name: c.name, problems: await c.run(ctx) });
    } catch (e) {
      out.push({ name: c.name, problems: [`the check could not run: ${(e as Error).message}`] });
    }
  }
  return out;
}
