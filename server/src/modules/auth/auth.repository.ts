// Sessions: SQL only.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/types.ts';

type Q = Kysely<Database> | Transaction<Database>;

export class SessionsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  insert(values: { token_hash: string; user_id: number; csrf_token: string; created_at: Date; last_seen_at: Date; expires_at: Date; client_ip: string | null; user_agent: string | null }, q: Q = this.db) {
    return q.insertInto('user_session').values(values).execute();
  }

  /** The live session for a token hash, with its user; null when missing, expired or the user is disabled. */
  findLive(tokenHash: string, now: Date, q: Q = this.db) {
    return q
      .selectFrom('user_session as s')
      .innerJoin('app_user as u', 'u.id', 's.user_id')
      .select(['s.token_hash', 's.user_id', 's.csrf_token', 's.created_at', 's.last_seen_at', 'u.username', 'u.display_name', 'u.must_change_password'])
      .where('s.token_hash', '=', tokenHash)
      .where('s.expires_at', '>', now)
      .where('u.disabled', '=', false)
      .executeTakeFirst();
  }

  touch(tokenHash: string, now: Date, expiresAt: Date, q: Q = this.db) {
    return q.updateTable('user_session').set({ last_seen_at: now, expires_at: expiresAt }).where('token_hash', '=', tokenHash).execute();
  }

  delete(tokenHash: string, q: Q = this.db) {
    return q.deleteFrom('user_session').where('token_hash', '=', tokenHash).execute();
  }

  deleteOthers(userId: number, keepTokenHash: string, q: Q = this.db) {
    return q.deleteFrom('user_session').where('user_id', '=', userId).where('token_hash', '!=', keepTokenHash).execute();
  }

  deleteExpired(now: Date, q: Q = this.db) {
    return q.deleteFrom('user_session').where('expires_at', '<=', now).execute();
  }
}
