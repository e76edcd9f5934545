// Every setting, read from the environment once and validated, so a typo fails at start-up with a clear line.
import path from 'node:path';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  sessionIdleHours: number;
  sessionMaxDays: number;
  secureCookies: boolean;
  loginMaxFailures: number;
  loginLockMinutes: number;
  loginRateLimitPerMinute: number;
  /** reports and photo uploads without an account, per client address and minute */
  publicReportRateLimitPerMinute: number;
  bodyLimitBytes: number;
  logLevel: string;
  webDistDir: string;
  tileUrl?: string;
}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new Error(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "${logLevel}"`);
  }
  return {
    port: intFrom(env, 'PORT', 3000, 0, 65535),
    host: env.HOST || '127.0.0.1',
    dataDir: path.resolve(env.TONGXIN_DATA_DIR || './data'),
    databaseUrl: env.DATABASE_URL || undefined,
    sessionIdleHours: intFrom(env, 'SESSION_IDLE_HOURS', 12, 1, 24 * 30),
    sessionMaxDays: intFrom(env, 'SESSION_MAX_DAYS', 14, 1, 365),
    secureCookies: env.SECURE_COOKIES === '1' || env.SECURE_COOKIES === 'true',
    loginMaxFailures: intFrom(env, 'LOGIN_MAX_FAILURES', 5, 1, 100),
    loginLockMinutes: intFrom(env, 'LOGIN_LOCK_MINUTES', 15, 1, 24 * 60),
    loginRateLimitPerMinute: intFrom(env, 'LOGIN_RATE_LIMIT_PER_MINUTE', 20, 1, 10000),
    publicReportRateLimitPerMinute: intFrom(env, 'PUBLIC_REPORT_RATE_LIMIT_PER_MINUTE', 30, 1, 1_000_000),
    bodyLimitBytes: 1024 * 1024,
    logLevel,
    webDistDir: path.resolve(env.TONGXIN_WEB_DIST || path.join(import.meta.dirname, '../../web/dist')),
    tileUrl: env.TONGXIN_TILE_URL || undefined,
  };
}
