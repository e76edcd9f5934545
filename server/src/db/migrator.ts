// Plain SQL migrations, applied in file-name order at start-up, each in its own transaction.
// Files come from db/migrations (platform) and from each module manifest's migrations folder.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { Db } from './connection.ts';

export interface Migration {
  name: string;
  sql: string;
}

export const PLATFORM_MIGRATIONS_DIR = path.join(import.meta.dirname, 'migrations');

export function readMigrations(dirs: string[]): Migration[] {
  const all: Migration[] = [];
  for (const dir of dirs) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql'))) {
      all.push({ name: file, sql: readFileSync(path.join(dir, file), 'utf8') });
    }
  }
  all.sort((a, b) => a.name.localeCompare(b.name));
  for (let i = 1; i < all.length; i++) {
    if (all[i].name === all[i - 1].name) throw new Error(`two migrations share the name ${all[i].name}`);
  }
  return all;
}

const checksum = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** Applies pending migrations; returns the names applied. Refuses to run if an applied file was edited. */
export async function migrate(db: Db, migrations: Migration[]): Promise<string[]> {
  await sql`create table if not exists schema_migration (
    name text primary key, checksum text not null, applied_at timestamptz not null default now())`.execute(db);
  const applied: string[] = [];
  // The advisory lock keeps two servers starting together on one PostgreSQL from racing.
  await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(727274)`.execute(trx);
    const done = new Map((await trx.selectFrom('schema_migration').selectAll().execute()).map((m) => [m.name, m.checksum]));
    for (const migration of migrations) {
      const sum = checksum(migration.sql);
      const previous = done.get(migration.name);
      if (previous !== undefined) {
        if (previous !== sum) throw new Error(`migration ${migration.name} was changed after it was applied; add a new migration instead`);
        continue;
      }
      await sql.raw(migration.sql).execute(trx);
      await trx.insertInto('schema_migration').values({ name: migration.name, checksum: sum }).execute();
      applied.push(migration.name);
    }
  });
  return applied;
}
