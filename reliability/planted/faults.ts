// Faults planted on purpose, to show each suite catches what it was built to find. Test-only: nothing in
// server/ imports this folder, and the planted server (./server.ts) refuses to run unless NODE_ENV=test.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Transaction } from 'kysely';
import type { Db } from '../../server/src/db/connection.ts';
import type { Database } from '../../server/src/db/types.ts';

type Tx = Transaction<Database>;

/** Forwards every property to the real object, methods bound to it (Kysely keeps private fields). */
function forward<T extends object>(target: T, override: (prop: string | symbol) => unknown): T {
  return new Proxy(target, {
    get(t, prop) {
      const o = override(prop);
      if (o !== undefined) return o;
      const v: unknown = Reflect.get(t, prop, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

/** The service's caller hears "done" as soon as its work inside the transaction is done; the commit follows later. */
export function ackBeforeCommit(db: Db, commitDelayMs: number): Db {
  return forward(db, (prop) =>
    prop !== 'transaction'
      ? undefined
      : () => ({
          execute: <T>(fn: (trx: Tx) => Promise<T>) =>
            new Promise<T>((resolve, reject) => {
              let answered = false;
              db.transaction()
                .execute(async (trx) => {
                  const result = await fn(trx);
                  answered = true;
                  resolve(result);
                  await sleep(commitDelayMs);
                  return result;
                })
                .catch((e: unknown) => {
                  if (!answered) reject(e);
                });
            }),
        }),
  );
}

/** Audit rows are held back and written in a separate transaction after the write commits. */
export function auditAfterCommit(db: Db, auditDelayMs: number): Db {
  return forward(db, (prop) =>
    prop !== 'transaction'
      ? undefined
      : () => ({
          execute: async <T>(fn: (trx: Tx) => Promise<T>) => {
            const held: unknown[] = [];
            const result = await db.transaction().execute((trx) =>
              fn(
                forward(trx, (p) =>
                  p !== 'insertInto'
                    ? undefined
                    : (table: keyof Database) =>
                        table === 'audit_log' ? { values: (row: unknown) => ({ execute: async () => void held.push(row) }) } : trx.insertInto(table),
                ),
              ),
            );
            if (held.length) {
              void (async () => {
                await sleep(auditDelayMs);
                // the rows recordAudit built, unchanged
                for (const row of held) await db.insertInto('audit_log').values(row as never).execute();
              })().catch(() => {});
            }
            return result;
          },
        }),
  );
}
