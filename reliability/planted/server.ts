// The server with planted faults, for the reliability suites' own tests (reliability/*.test.ts): the same
// start-up as `main.ts serve`, with the faults named in RELIABILITY_PLANT (comma-separated) built in.
// Refuses to run unless NODE_ENV=test: no production start-up path reaches this file.
//
//   ack-before-commit     a write is answered before its transaction commits
//   audit-after-commit    audit rows are written in a separate transaction after the write's
//   sometimes-500         about one API request in 10 fails with a 500
//   no-security-headers   CSP, X-Frame-Options and nosniff are stripped
//   weak-cookie           the session cookie loses HttpOnly and SameSite
//   csrf-off              writes pass without a valid CSRF token (a front end fills in the right one)
//   fixation              logging in keeps the session cookie the client came with alive
//   no-lockout            wrong passwords never lock the account
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { loadConfig } from '../../server/src/config.ts';
import { openDatabase } from '../../server/src/db/connection.ts';
import { buildApp, migrateDatabase } from '../../server/src/app.ts';
import { AuthService } from '../../server/src/modules/auth/auth.service.ts';
import { UsersRepository } from '../../server/src/modules/users/users.repository.ts';
import { SESSION_COOKIE } from '../../server/src/platform/http.ts';
import { createPiiCipher, loadKeyring } from '../../server/src/platform/crypto/index.ts';
import { ackBeforeCommit, auditAfterCommit } from './faults.ts';

if (process.env.NODE_ENV !== 'test') {
  console.error('reliability/planted/server.ts plants faults on purpose; it runs only with NODE_ENV=test');
  process.exit(2);
}
const plants = new Set((process.env.RELIABILITY_PLANT ?? '').split(',').filter(Boolean));
const config = loadConfig();
if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true });
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
await migrateDatabase(database);

let db = database.db;
if (plants.has('ack-before-commit')) db = ackBeforeCommit(db, 300);
if (plants.has('audit-after-commit')) db = auditAfterCommit(db, 300);
if (plants.has('fixation')) AuthService.prototype.logout = async () => {};
if (plants.has('no-lockout')) {
  const record = UsersRepository.prototype.recordFailedLogin;
  UsersRepository.prototype.recordFailedLogin = function (id, _max, lockUntil, q) {
    return record.call(this, id, 1_000_000, lockUntil, q);
  };
}
if (plants.has('sometimes-500')) {
  // every request with a session cookie resolves it first: one in 10 of those throws, inside Fastify
  const resolve = AuthService.prototype.resolve;
  let n = 0;
  AuthService.prototype.resolve = function (token) {
    if (++n % 10 === 0) throw new Error('planted: sometimes-500');
    return resolve.call(this, token);
  };
}
// the keyring the real server would use: created in the data directory on first start
const pii = createPiiCipher(loadKeyring({ dataDir: config.dataDir, createIfMissing: true }).keyring);
const app = await buildApp({ config, database: { ...database, db }, pii, logger: false });
await app.ready();

// In front of the app: a write with no or a wrong CSRF token gets the session's own (as if nobody checked);
// headers are stripped or weakened on their way out.
const server = createServer(async (req, res) => {
  if (plants.has('no-security-headers') || plants.has('weak-cookie')) {
    const writeHead = res.writeHead.bind(res);
    res.writeHead = ((status: number, ...rest: unknown[]) => {
      const headers = rest.find((x): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x));
      for (const source of [headers, res.getHeaders()]) {
        if (!source) continue;
        for (const name of Object.keys(source)) {
          const lower = name.toLowerCase();
          if (plants.has('no-security-headers') && ['content-security-policy', 'x-frame-options', 'x-content-type-options'].includes(lower)) {
            delete source[name];
            res.removeHeader(name);
          }
          if (plants.has('weak-cookie') && lower === 'set-cookie') {
            const weak = [source[name]].flat().map((c) => String(c).replace(/; HttpOnly/i, '').replace(/; SameSite=Strict/i, ''));
            if (source === headers) source[name] = weak;
            else res.setHeader(name, weak);
          }
        }
      }
      // the arguments writeHead was given, headers changed in place
      return writeHead(status, ...(rest as []));
    }) as typeof res.writeHead;
  }
  if (plants.has('csrf-off') && req.method !== 'GET' && req.headers.cookie) {
    const token = /(?:^|;\s*)tx_session=([^;]+)/.exec(req.headers.cookie)?.[1];
    if (token && SESSION_COOKIE === 'tx_session') {
      const row = await database.db.selectFrom('user_session').select('csrf_token').where('token_hash', '=', createHash('sha256').update(token).digest('hex')).executeTakeFirst();
      if (row) req.headers['x-csrf-token'] = row.csrf_token;
    }
  }
  app.routing(req, res);
});
server.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  console.log(`Tongxin 同心 (planted: ${[...plants].join(', ') || 'none'}) is running: http://${config.host}:${port}/`);
});
const shutdown = async () => {
  server.close();
  await app.close();
  await database.close();
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
