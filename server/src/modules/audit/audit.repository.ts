import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import { likePrefix } from '../grid/grid.repository.ts';

export interface AuditFilter {
  actor?: string;
  action?: string;
  unitPath?: string;
  from?: Date;
  to?: Date;
  /** keyset pagination: rows older than this id */
  before?: number;
  limit: number;
}

export class AuditRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Audit rows inside any of `scopePaths` (rows with no unit are only in the root scope '/'). */
  find(scopePaths: string[], f: AuditFilter) {
    let q = this.db.selectFrom('audit_log').selectAll();
    if (!scopePaths.includes('/')) q = q.where((eb) => eb.or(scopePaths.map((p) => eb('unit_path', 'like', likePrefix(p)))));
    if (f.actor) q = q.where('actor_name', '=', f.actor);
    if (f.action) q = f.action.endsWith('.') ? q.where('action', 'like', likePrefix(f.action)) : q.where('action', '=', f.action);
    if (f.unitPath) q = q.where('unit_path', 'like', likePrefix(f.unitPath));
    if (f.from) q = q.where('at', '>=', f.from);
    if (f.to) q = q.where('at', '<', f.to);
    if (f.before) q = q.where('id', '<', f.before);
    return q.orderBy('id', 'desc').limit(f.limit).execute();
  }
}
