// Scratch databases for a suite run: an embedded PGlite (in memory, or a data directory a server process can
// own) or a fresh database on a PostgreSQL server, migrated, and removed again at the end.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPGlite, openPostgres, type DbHandle, type Engine } from '../../server/src/db/connection.ts';
import { migrateDatabase } from '../../server/src/app.ts';
import { reliabilityKeyringEnv } from './keyring.ts';

export interface Scratch {
  engine: Engine;
  /** TONGXIN_DATA_DIR for a server process (PGlite keeps its files in `<dataDir>/pgdata`) */
  dataDir: string;
  /** the scratch database's URL (PostgreSQL only) */
  databaseUrl?: string;
  /** opens the database (PGlite: only while no server process owns the directory); drop() closes what is still open */
  open(): Promise<DbHandle>;
  /** environment for a server process on this database */
  serverEnv(): Record<string, string>;
  /**
   * a handle for checking the state while a server runs: PostgreSQL answers directly; a PGlite directory has
   * one owner, so this opens a copy taken with `snapshot()` while the server was down
   */
  openChecker(): Promise<DbHandle>;
  /** PGlite: copies the data directory (call while no process owns it); PostgreSQL: nothing to do */
  snapshot(): void;
  drop(): Promise<void>;
}

const live = new Set<Scratch>();

/** Remembers every handle so drop() can close the ones a suite left open (a failed check, an exception). */
function tracker() {
  const open = new Set<DbHandle>();
  return {
    track(handle: DbHandle): DbHandle {
      const tracked: DbHandle = { ...handle, close: async () => { if (open.delete(tracked)) await handle.close(); } };
      open.add(tracked);
      return tracked;
    },
    async closeAll() {
      for (const h of [...open]) await h.close().catch(() => {});
    },
  };
}
process.once('exit', () => {
  for (const s of live) if (s.engine === 'pglite') rmSync(s.dataDir, { recursive: true, force: true });
});

export async function createScratch(engine: Engine, options: { pgUrl: string; inMemory?: boolean }): Promise<Scratch> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tongxin-rel-'));
  if (engine === 'pglite') {
    const checkDir = path.join(dataDir, 'check');
    const handles = tracker();
    let memory: DbHandle | null = null;
    const scratch: Scratch = {
      engine,
      dataDir,
      async open() {
        if (options.inMemory) {
          // one handle for the whole run: an in-memory database lives as long as it is open
          if (!memory) {
            memory = handles.track(await openPGlite(undefined));
            await migrateDatabase(memory);
          }
          return { ...memory, close: async () => {} };
        }
        const handle = handles.track(await openPGlite(dataDir));
        await migrateDatabase(handle);
        return handle;
      },
      serverEnv: () => ({ TONGXIN_DATA_DIR: dataDir, ...reliabilityKeyringEnv }),
      snapshot() {
        rmSync(checkDir, { recursive: true, force: true });
        cpSync(path.join(dataDir, 'pgdata'), path.join(checkDir, 'pgdata'), { recursive: true });
      },
      openChecker: async () => handles.track(await openPGlite(checkDir)),
      async drop() {
        live.delete(scratch);
        await handles.closeAll();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
    live.add(scratch);
    return scratch;
  }
  const name = `tx_rel_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: options.pgUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(options.pgUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const handles = tracker();
  const scratch: Scratch = {
    engine,
    dataDir,
    databaseUrl,
    async open() {
      const handle = handles.track(openPostgres(databaseUrl, 10));
      await migrateDatabase(handle);
      return handle;
    },
    serverEnv: () => ({ TONGXIN_DATA_DIR: dataDir, DATABASE_URL: databaseUrl, ...reliabilityKeyringEnv }),
    snapshot() {},
    openChecker: async () => handles.track(openPostgres(databaseUrl, 2)),
    async drop() {
      live.delete(scratch);
      await handles.closeAll();
      rmSync(dataDir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: options.pgUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
  live.add(scratch);
  return scratch;
}
