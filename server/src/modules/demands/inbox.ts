// The in-app inbox: notifications written in the same transaction as the change they tell of, and pushed to
// the user's open pages (SSE) once that transaction has committed. Urgent items (a case dispatched to you,
// an emergency, a warning or an overdue case) count at once; the rest are folded into one daily digest per
// user ("a daily digest instead of a flood").
import { EventEmitter } from 'node:events';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import type { Q, Tx } from './demands.repository.ts';

export interface NotificationInput {
  district_id: number;
  user_id: number;
  demand_id: number | null;
  kind: string;
  title: string;
  body: string;
  urgent: boolean;
  created_at: Date;
}

/** In-process fan-out of committed notifications to the user's SSE streams. */
export class InboxBus {
  private readonly emitter = new EventEmitter();
  constructor() {
    this.emitter.setMaxListeners(0);
  }
  publish(userId: number, payload: unknown) {
    this.emitter.emit(`user:${userId}`, payload);
  }
  subscribe(userId: number, listener: (payload: unknown) => void): () => void {
    this.emitter.on(`user:${userId}`, listener);
    return () => this.emitter.off(`user:${userId}`, listener);
  }
}

export class InboxRepository {
  constructor(private readonly db: Kysely<Database>) {}

  insert(trx: Tx, rows: NotificationInput[]) {
    if (!rows.length) return Promise.resolve([]);
    return trx.insertInto('notification').values(rows).returningAll().execute();
  }

  list(userId: number, opts: { unreadOnly: boolean; limit: number; beforeId?: number }, q: Q = this.db) {
    let query = q.selectFrom('notification').selectAll().where('user_id', '=', userId).where((eb) => eb.or([eb('urgent', '=', true), eb('kind', '=', 'digest')]));
    if (opts.unreadOnly) query = query.where('read_at', 'is', null);
    if (opts.beforeId) query = query.where('id', '<', opts.beforeId);
    return query.orderBy('id', 'desc').limit(opts.limit).execute();
  }

  async unreadCount(userId: number, q: Q = this.db) {
    const r = await q
      .selectFrom('notification')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .where('read_at', 'is', null)
      .where((eb) => eb.or([eb('urgent', '=', true), eb('kind', '=', 'digest')]))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  markRead(userId: number, ids: number[] | 'all', at: Date, q: Q = this.db) {
    let query = q.updateTable('notification').set({ read_at: at }).where('user_id', '=', userId).where('read_at', 'is', null);
    if (ids !== 'all') query = query.where('id', 'in', ids.length ? ids : [0]);
    return query.executeTakeFirst();
  }

  /** Non-urgent items not folded into a digest yet, created before `before`, grouped per user. */
  undigested(before: Date, q: Q = this.db) {
    return q
      .selectFrom('notification')
      .select(['user_id', 'district_id', 'kind'])
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('urgent', '=', false)
      .where('digested_at', 'is', null)
      .where('created_at', '<', before)
      .groupBy(['user_id', 'district_id', 'kind'])
      .orderBy('user_id')
      .execute();
  }

  markDigested(trx: Tx, userId: number, before: Date, at: Date) {
    return trx.updateTable('notification').set({ digested_at: at }).where('user_id', '=', userId).where('urgent', '=', false).where('digested_at', 'is', null).where('created_at', '<', before).execute();
  }
}

const DIGEST_KINDS: Record<string, string> = {
  new_case: '新诉求',
  to_verify: '待核查',
  verified: '已核查待结案',
  warning: '临期预警',
};

/**
 * Folds each user's non-urgent notifications from before `cutoff` into one digest notification (counts per
 * kind), in one transaction per user. Run by the clock once a day (08:00 in the locality); running it again
 * finds nothing left to fold.
 */
export async function foldDigests(db: Kysely<Database>, repo: InboxRepository, bus: InboxBus, cutoff: Date, now: Date): Promise<number> {
  const groups = await repo.undigested(cutoff);
  const byUser = new Map<number, { district: number; parts: { kind: string; n: number }[] }>();
  for (const g of groups) {
    const u = byUser.get(Number(g.user_id)) ?? { district: Number(g.district_id), parts: [] };
    u.parts.push({ kind: g.kind, n: Number(g.n) });
    byUser.set(Number(g.user_id), u);
  }
  for (const [userId, u] of byUser) {
    const total = u.parts.reduce((t, p) => t + p.n, 0);
    const zh = u.parts.map((p) => `${DIGEST_KINDS[p.kind] ?? p.kind} ${p.n} 条`).join('，');
    const en = u.parts.map((p) => `${p.kind.replace(/_/g, ' ')}: ${p.n}`).join(', ');
    await db.transaction().execute(async (trx) => {
      await repo.markDigested(trx, userId, cutoff, now);
      await repo.insert(trx, [{ district_id: u.district, user_id: userId, demand_id: null, kind: 'digest', title: `每日摘要：${total} 条动态（${zh}）`, body: `Daily digest: ${total} updates (${en})`, urgent: false, created_at: now }]);
    });
    bus.publish(userId, { kind: 'digest', demandId: null, title: `每日摘要：${total} 条动态` });
  }
  return byUser.size;
}
