// "Nothing written": a digest of every table's rows, compared before and after a rejected request.
import { sql } from 'kysely';
import type { Db } from '../src/db/connection.ts';

export async function tableNames(db: Db): Promise<string[]> {
  const r = await sql<{ tablename: string }>`select tablename from pg_tables where schemaname = 'public' order by tablename`.execute(db);
  return r.rows.map((t) => t.tablename);
}

export async function fingerprint(db: Db): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of await tableNames(db)) {
    // user_session rows change on every request (last seen); they are not business data.
    if (table === 'user_session') continue;
    const r = await sql<{ n: number; h: string | null }>`select count(*)::int8 as n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as h from ${sql.table(table)} t`.execute(db);
    out[table] = `${r.rows[0].n}:${r.rows[0].h}`;
  }
  return out;
}
