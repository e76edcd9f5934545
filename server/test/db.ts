// A fresh, migrated database for one test file: in-memory PGlite by default, or a new database on the
// PostgreSQL server named by TEST_DATABASE_URL (dropped again when the file is done).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPGlite, openPostgres, type DbHandle } from '../src/db/connection.ts';
import { migrateDatabase } from '../src/app.ts';

export interface TestDatabase extends DbHandle {
  url: string | null;
  drop(): Promise<void>;
}

export const testEngine = () => (process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite');

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const handle = await openPGlite(undefined);
    await migrateDatabase(handle);
    return { ...handle, url: null, drop: () => handle.close() };
  }
  const name = `tx_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = openPostgres(url.toString(), 10);
  await migrateDatabase(handle);
  let dropped = false;
  return {
    ...handle,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await handle.close();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
