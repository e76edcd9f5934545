// The baseline server of the http, memory and intake suites: bare Fastify and the engine's own driver, one
// route per question, one parameterised statement per request — no sessions, CSRF, schemas, services or audit.
// It opens the same kind of database as the product server: PGlite in $TONGXIN_DATA_DIR/pgdata, or
// PostgreSQL at $DATABASE_URL with a pool of 10 (the product's default).
import { randomInt } from 'node:crypto';
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

// The intake suite's baseline: the row a report makes, already routed (the client names the grid the point
// lies in), into the same `demand` table with its indexes, unique constraints and foreign keys, by one
// INSERT — no routing, category or calendar lookups, case-number sequence, timeline, audit or notifications.
// Case numbers are this process's own counter (unique per district, as the table requires); the tracking
// code is random from the product's alphabet.
const TRACKING_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const INSERT_DEMAND = `
  insert into demand (district_id, case_no, tracking_code, channel, type, category_code, title, description, lng, lat,
    home_unit_id, home_unit_path, unit_id, unit_path, routed_by, status, reported_at,
    respond_due_at, finish_due_at, level_since, level_due_at, level_warn_at)
  values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $11, $12, 'boundary', 'reported', now(),
    now() + interval '2 hours', now() + interval '5 days', now(), now() + interval '5 days', now() + interval '4 days')
  returning id, case_no, tracking_code`;
let bareCases = 0;

interface BareReport {
  districtId: number;
  unitId: number;
  unitPath: string;
  channel: string;
  type: string;
  category: string;
  description: string;
  lng: number;
  lat: number;
}

app.post<{ Body: BareReport }>('/demands', async (request, reply) => {
  const b = request.body;
  let tracking = '';
  for (let i = 0; i < 10; i++) tracking += TRACKING_ALPHABET[randomInt(TRACKING_ALPHABET.length)];
  const rows = await database.query(INSERT_DEMAND, [
    b.districtId, `B${process.pid}-${++bareCases}`, tracking, b.channel, b.type, b.category, b.description.slice(0, 30), b.description, b.lng, b.lat, b.unitId, b.unitPath,
  ]);
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
