// The baseline server of the http and memory suites: bare Fastify and the engine's own driver, one route
// per question, one parameterised statement per request — no sessions, CSRF, schemas, services or audit.
// It opens the same kind of database as the product server: PGlite in $TONGXIN_DATA_DIR/pgdata, or
// PostgreSQL at $DATABASE_URL with a pool of 10 (the product's default).
import path from 'node:path';
import Fastify from 'fastify';
import pg from 'pg';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';

type Query = (text: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

const port = Number(process.env.PORT);
const databaseUrl = process.env.DATABASE_URL;
const dataDir = process.env.TONGXIN_DATA_DIR;

// As in server/src/db/connection.ts: int8 as a number, so both servers send the same JSON.
pg.types.setTypeParser(20, (v) => Number(v));

async function openDatabase(): Promise<{ query: Query; close: () => Promise<void> }> {
  if (databaseUrl) {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
    pool.on('error', () => {});
    return { query: async (text, params) => (await pool.query(text, params)).rows, close: () => pool.end() };
  }
  if (!dataDir) throw new Error('set DATABASE_URL or TONGXIN_DATA_DIR');
  const pglite = await PGlite.create(path.join(dataDir, 'pgdata'), { parsers: { [pgliteTypes.INT8]: (v: string) => Number(v) } });
  return { query: async (text, params) => (await pglite.query<Record<string, unknown>>(text, params)).rows, close: () => pglite.close() };
}

const database = await openDatabase();
const app = Fastify({ logger: false });

app.get('/healthz', async () => {
  await database.query('select 1', []);
  return { status: 'ok' };
});

app.get<{ Params: { id: string } }>('/units/:id', async (request, reply) => {
  const rows = await database.query(
    'select district_id, id, parent_id, kind_code, name, code, path, depth, archived_at, created_at, updated_at from org_unit where id = $1',
    [Number(request.params.id)],
  );
  if (!rows.length) return reply.status(404).send({ code: 'not_found' });
  return rows[0];
});

app.post<{ Body: { districtId: number; unitId: number; name: string } }>('/people', async (request, reply) => {
  const { districtId, unitId, name } = request.body;
  const rows = await database.query('insert into person (district_id, unit_id, name) values ($1, $2, $3) returning id, created_at', [districtId, unitId, name]);
  return reply.status(201).send(rows[0]);
});

const shutdown = async () => {
  await app.close();
  await database.close();
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());

await app.listen({ port, host: '127.0.0.1' });
console.log(`bare server on 127.0.0.1:${port} (${databaseUrl ? 'postgres' : 'pglite'})`);
