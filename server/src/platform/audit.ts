// Every write leaves an audit row in the same transaction as the write: if the write rolls back, so does its row.
import type { Transaction } from 'kysely';
import type { Database } from '../db/types.ts';
import type { RequestContext } from './context.ts';

export interface AuditEntry {
  action: string;
  targetType: string;
  targetId?: string | number | null;
  unit?: { district_id: number; id: number; path: string } | null;
  before?: unknown;
  after?: unknown;
}

export async function recordAudit(trx: Transaction<Database>, ctx: RequestContext, entry: AuditEntry): Promise<void> {
  await trx
    .insertInto('audit_log')
    .values({
      actor_user_id: ctx.actor.userId > 0 ? ctx.actor.userId : null,
      actor_name: ctx.actor.username,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId === undefined || entry.targetId === null ? null : String(entry.targetId),
      district_id: entry.unit?.district_id ?? null,
      unit_id: entry.unit?.id ?? null,
      unit_path: entry.unit?.path ?? null,
      before: entry.before === undefined ? null : JSON.stringify(entry.before),
      after: entry.after === undefined ? null : JSON.stringify(entry.after),
      client_ip: ctx.clientIp,
    })
    .execute();
}
