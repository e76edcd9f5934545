// Logging in and out, sessions, password changes. Rules only; SQL lives in the repositories.
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import type { Config } from '../../config.ts';
import type { Actor, RequestContext } from '../../platform/context.ts';
import { recordAudit } from '../../platform/audit.ts';
import { TooManyRequestsError, UnauthenticatedError, ValidationError } from '../../platform/errors.ts';
import { hashPassword, passwordWeakness, verifyPassword } from '../../platform/auth/passwords.ts';
import { RateLimiter } from '../../platform/auth/rate-limit.ts';
import { UsersRepository } from '../users/users.repository.ts';
import { SessionsRepository } from './auth.repository.ts';

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

// Verifying against a real hash for unknown users keeps the answer time from telling which usernames exist.
const DUMMY_HASH = hashPassword(randomBytes(16).toString('hex'));

const BAD_CREDENTIALS = { 'zh-CN': '用户名或密码错误', en: 'Wrong username or password' };

export interface SessionInfo {
  actor: Actor;
  csrfToken: string;
  tokenHash: string;
}

export class AuthService {
  private readonly users: UsersRepository;
  private readonly sessions: SessionsRepository;
  private readonly limiter: RateLimiter;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly config: Config,
    private readonly now: () => Date,
  ) {
    this.users = new UsersRepository(db);
    this.sessions = new SessionsRepository(db);
    this.limiter = new RateLimiter(config.loginRateLimitPerMinute, 60_000, () => this.now().getTime());
  }

  async login(username: string, password: string, clientIp: string | null, userAgent: string | null) {
    const wait = this.limiter.hit(clientIp ?? 'unknown');
    if (wait) {
      throw new TooManyRequestsError({ 'zh-CN': `登录尝试过于频繁，请 ${wait} 秒后再试`, en: `Too many login attempts; try again in ${wait} s` }, wait);
    }
    const user = await this.users.findByUsername(username);
    const now = this.now();
    if (!user || user.disabled) {
      await verifyPassword(await DUMMY_HASH, password);
      throw new UnauthenticatedError(BAD_CREDENTIALS, 'bad_credentials');
    }
    if (user.locked_until && user.locked_until > now) {
      const minutes = Math.ceil((user.locked_until.getTime() - now.getTime()) / 60_000);
      throw new TooManyRequestsError(
        { 'zh-CN': `登录失败次数过多，账号已临时锁定，请 ${minutes} 分钟后再试`, en: `Too many failed logins: the account is locked for ${minutes} more minute(s)` },
        minutes * 60,
      );
    }
    if (!(await verifyPassword(user.password_hash, password))) {
      const lockUntil = new Date(now.getTime() + this.config.loginLockMinutes * 60_000);
      await this.db.transaction().execute(async (trx) => {
        const state = await this.users.recordFailedLogin(user.id, this.config.loginMaxFailures, lockUntil, trx);
        const locked = state?.locked_until && state.locked_until > now;
        await recordAudit(trx, anonymous(user.username, clientIp), {
          action: locked ? 'auth.lockout' : 'auth.login_failed',
          targetType: 'user',
          targetId: user.id,
          after: { failed_logins: state?.failed_logins },
        });
      });
      throw new UnauthenticatedError(BAD_CREDENTIALS, 'bad_credentials');
    }
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const tokenHash = hashToken(token);
    await this.db.transaction().execute(async (trx) => {
      await this.users.update(user.id, { failed_logins: 0, locked_until: null }, trx);
      await this.sessions.insert(
        // the session's times on the app's clock, as resolve() reads them (not the database's: they may differ)
        { token_hash: tokenHash, user_id: user.id, csrf_token: csrfToken, created_at: now, last_seen_at: now, expires_at: this.expiry(now), client_ip: clientIp, user_agent: userAgent?.slice(0, 300) ?? null },
        trx,
      );
      await recordAudit(trx, anonymous(user.username, clientIp, user.id), { action: 'auth.login', targetType: 'user', targetId: user.id });
    });
    // who logged in, from what was just checked: the answer does not depend on reading the new session back
    const grants = await this.users.grantsOf(user.id);
    const actor = { userId: user.id, username: user.username, displayName: user.display_name, grants, mustChangePassword: user.must_change_password };
    return { token, csrfToken, actor };
  }

  private expiry(now: Date) {
    return new Date(now.getTime() + this.config.sessionIdleHours * 3_600_000);
  }

  /** Resolves a cookie token to a live session; slides the idle expiry at most once a minute. */
  async resolve(token: string): Promise<SessionInfo | null> {
    const tokenHash = hashToken(token);
    const now = this.now();
    const row = await this.sessions.findLive(tokenHash, now);
    if (!row) return null;
    const maxAge = this.config.sessionMaxDays * 86_400_000;
    if (now.getTime() - row.created_at.getTime() > maxAge) {
      await this.sessions.delete(tokenHash);
      return null;
    }
    if (now.getTime() - row.last_seen_at.getTime() > 60_000) await this.sessions.touch(tokenHash, now, this.expiry(now));
    const grants = await this.users.grantsOf(row.user_id);
    return {
      tokenHash,
      csrfToken: row.csrf_token,
      actor: { userId: row.user_id, username: row.username, displayName: row.display_name, grants, mustChangePassword: row.must_change_password },
    };
  }

  async logout(ctx: RequestContext, tokenHash: string) {
    await this.db.transaction().execute(async (trx) => {
      await this.sessions.delete(tokenHash, trx);
      await recordAudit(trx, ctx, { action: 'auth.logout', targetType: 'user', targetId: ctx.actor.userId });
    });
  }

  async changePassword(ctx: RequestContext, tokenHash: string, currentPassword: string, newPassword: string) {
    const user = await this.users.findById(ctx.actor.userId);
    if (!user || !(await verifyPassword(user.password_hash, currentPassword))) {
      throw new ValidationError({ 'zh-CN': '当前密码不正确', en: 'The current password is wrong' }, undefined, 'wrong_password');
    }
    const weakness = passwordWeakness(newPassword, user.username);
    if (weakness) throw new ValidationError(weakness, undefined, 'weak_password');
    if (await verifyPassword(user.password_hash, newPassword)) {
      throw new ValidationError({ 'zh-CN': '新密码不能与当前密码相同', en: 'The new password must differ from the current one' }, undefined, 'weak_password');
    }
    const passwordHash = await hashPassword(newPassword);
    await this.db.transaction().execute(async (trx) => {
      await this.users.update(user.id, { password_hash: passwordHash, must_change_password: false, password_changed_at: this.now() }, trx);
      // Other sessions (a lost phone, a shared computer) end when the password changes.
      await this.sessions.deleteOthers(user.id, tokenHash, trx);
      await recordAudit(trx, ctx, { action: 'auth.password_change', targetType: 'user', targetId: user.id });
    });
  }
}

function anonymous(username: string, clientIp: string | null, userId = 0): RequestContext {
  return { actor: { userId, username, displayName: username, grants: [], mustChangePassword: false }, clientIp };
}
