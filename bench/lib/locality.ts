// The data a suite runs against, by scale name:
//   tiny   – the locality generator's `village` (1 street, 1 community, 5 grids, 15 buildings, 30 zones):
//            smoke runs
//   street – the product's own demo seed (one 街道 of 511 units, seeded through the real services, with
//            boundaries, party organisations, posts, linked organisations)
//   liwan  – the locality generator's `liwan`: Liwan's published scale, 22 streets, 201 communities,
//            1,044 grids, 8,350 buildings, 20,000 responsibility zones, with boundaries, party
//            organisations, people and staff posts (written in bulk by bench/generator/db-writer.ts)
//   liwan10k – the generator's `liwan10k`: Liwan's streets and communities cut into 10,440 grids with
//            boundaries (the intake suite routes reports among 10,000+ grid polygons)
// The generator does not write residents or houses into the database yet (their tables are new; its
// table writers for them are still to be plugged in), so it is asked for none. Every scale also gets an
// empty spare street (no boundary: somewhere a community can move to and back from), a `bench` account
// (district_admin on the root) for the HTTP suites, and ANALYZE.
import { CompiledQuery, sql } from 'kysely';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Db, DbHandle } from '../../server/src/db/connection.ts';
import { loadConfig } from '../../server/src/config.ts';
import { seedDemo } from '../../server/src/cli/deployment.ts';
import { createPiiCipher } from '../../server/src/platform/crypto/pii.ts';
import { loadKeyring } from '../../server/src/platform/crypto/keyring.ts';
import { loadPreset } from '../../server/src/modules/grid/preset.ts';
import { GridService } from '../../server/src/modules/grid/grid.service.ts';
import { UsersService } from '../../server/src/modules/users/users.service.ts';
import { systemContext } from '../../server/src/platform/context.ts';
import { generatePassword } from '../../server/src/platform/auth/passwords.ts';
import { createScratch, withConnections, type Scratch, type SuiteContext } from '../harness.ts';
import { build } from '../generator/build.ts';
import { SCALES as GENERATOR_SCALES } from '../generator/scales.ts';

export const SCALES = ['tiny', 'street', 'liwan', 'liwan10k'] as const;

const SPARE_STREET = '压测备用街道';

type GeneratorScale = 'village' | 'liwan' | 'liwan10k';
/** The generator's scale behind each bench scale it makes (`street` is the demo seed instead). */
const GENERATOR_SCALE_OF: Record<string, GeneratorScale> = { tiny: 'village', liwan: 'liwan', liwan10k: 'liwan10k' };

export interface Locality {
  scale: string;
  rootId: number;
  user: { username: string; password: string };
  units: number;
  seconds: number;
}

/** The generator's tree at one of its scales (no residents, no houses), into an empty migrated database; answers the root id. */
async function generate(database: DbHandle, scale: GeneratorScale, log: (m: string) => void): Promise<number> {
  const result = await build({
    preset: loadPreset('liwan'),
    scale: { ...GENERATOR_SCALES[scale], residents: 0, houses: 0 },
    seed: 20261121,
    ...(scale === 'village' ? { gapRate: 0.1 } : {}),
    db: database,
  });
  log(`generated ${Object.entries(result.dbRows).map(([table, n]) => `${n} ${table}`).join(', ')} in ${(result.totalMs / 1000).toFixed(1)} s`);
  if (result.rootId === null) throw new Error('the generator wrote no root unit');
  return result.rootId;
}

export async function prepareLocality(scratch: Scratch, scale: string, log: (m: string) => void): Promise<Locality> {
  if (!(SCALES as readonly string[]).includes(scale)) throw new Error(`unknown scale "${scale}" (one of ${SCALES.join(', ')})`);
  const started = performance.now();
  return withConnections(scratch, async ({ product: database }) => {
    const sys = systemContext('bench');
    let rootId: number;
    if (scale === 'street') {
      const config = loadConfig({ TONGXIN_DATA_DIR: scratch.dataDir, TONGXIN_WEB_DIST: '/nonexistent' });
      // The keyring goes where the server will look for it: the scratch's own data directory.
      const keys = loadKeyring({ dataDir: scratch.dataDir, env: {}, createIfMissing: true });
      rootId = (await seedDemo(database, config, { pii: createPiiCipher(keys.keyring) })).init.root.id;
    } else {
      rootId = await generate(database, GENERATOR_SCALE_OF[scale] ?? 'village', log);
    }
    const rootKind = (await database.db.selectFrom('org_unit').select('kind_code').where('id', '=', rootId).executeTakeFirstOrThrow()).kind_code;
    const streetKind = (await database.db.selectFrom('unit_kind_child').select('child_code').where('parent_code', '=', rootKind).orderBy('child_code').executeTakeFirstOrThrow()).child_code;
    await new GridService(database.db, () => new Date()).createChild(sys, { parentId: rootId, kind: streetKind, name: SPARE_STREET });
    const password = generatePassword(20);
    await new UsersService(database.db).create(sys, { username: 'bench', displayName: '压测账号', role: 'district_admin', unitId: rootId, password });
    // PGlite runs no autovacuum, so nothing would ever analyze it; both engines get fresh statistics.
    await sql`analyze`.execute(database.db);
    const units = await database.db.selectFrom('org_unit').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const seconds = (performance.now() - started) / 1000;
    log(`scale ${scale}: ${Number(units.n)} units ready in ${seconds.toFixed(1)} s`);
    return { scale, rootId, user: { username: 'bench', password }, units: Number(units.n), seconds };
  });
}

export interface UnitRef {
  id: number;
  districtId: number;
  path: string;
  depth: number;
  name: string;
  kind: string;
  /** units in its subtree, itself included */
  size: number;
}

/** Representative units to measure on: the biggest street and, under it, the first unit at each level down. */
export interface Sample {
  district: UnitRef;
  street: UnitRef;
  /** the spare street (no boundary): where a community moves to and back from */
  otherStreet: UnitRef;
  community: UnitRef;
  grid: UnitRef;
  building: UnitRef;
  zone: UnitRef;
  /** every community and grid id, for requests that rotate over units */
  communityIds: number[];
  gridIds: number[];
}

type Query = <R>(text: string, params?: unknown[]) => Promise<R[]>;

/** Picks the sample units with plain SQL (works on the product's Kysely and on the bare driver alike). */
export async function pickSample(query: Query): Promise<Sample> {
  const like = (p: string) => `${p.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
  const ref = async (where: string, params: unknown[]): Promise<UnitRef> => {
    const [row] = await query<{ id: number; district_id: number; path: string; depth: number; name: string; kind_code: string }>(
      `select id, district_id, path, depth, name, kind_code from org_unit where archived_at is null and ${where} order by id limit 1`,
      params,
    );
    if (!row) throw new Error(`no unit where ${where} ${JSON.stringify(params)}`);
    const [count] = await query<{ n: number }>(`select count(*)::int8 as n from org_unit where path like $1 and archived_at is null`, [like(row.path)]);
    return { id: Number(row.id), districtId: Number(row.district_id), path: row.path, depth: row.depth, name: row.name, kind: row.kind_code, size: Number(count.n) };
  };
  const district = await ref('parent_id is null', []);
  const [biggest] = await query<{ id: number }>(
    `select s.id from org_unit s join org_unit d on d.path like s.path || '%' and d.archived_at is null
     where s.parent_id = $1 and s.archived_at is null group by s.id order by count(*) desc, s.id limit 1`,
    [district.id],
  );
  const street = await ref('id = $1', [Number(biggest.id)]);
  const [spare] = await query<{ id: number }>(`select id from org_unit where parent_id = $1 and name = $2`, [district.id, SPARE_STREET]);
  if (!spare) throw new Error(`no spare street "${SPARE_STREET}" under the root`);
  const otherStreet = await ref('id = $1', [Number(spare.id)]);
  const community = await ref('parent_id = $1', [street.id]);
  const grid = await ref('parent_id = $1', [community.id]);
  const building = await ref('parent_id = $1', [grid.id]);
  const zone = await ref('parent_id = $1', [building.id]);
  const ids = async (depth: number) =>
    (await query<{ id: number }>(`select id from org_unit where depth = $1 and archived_at is null order by id`, [depth])).map((r) => Number(r.id));
  return { district, street, otherStreet, community, grid, building, zone, communityIds: await ids(community.depth), gridIds: await ids(grid.depth) };
}

/** The sample, read through the product's connection. */
export function sampleVia(db: Db): Promise<Sample> {
  return pickSample(async <R,>(text: string, params: unknown[] = []) => (await db.executeQuery<R>(CompiledQuery.raw(text, params))).rows);
}

// Prepared PGlite directories, by scale, kept for this process: several suites in one run (or the smoke
// test) copy a prepared directory instead of seeding it again. The copy is taken before any suite touches it.
const prepared = new Map<string, { dir: string; locality: Locality }>();
let preparedCleanupInstalled = false;

/** A scratch database holding the suite's scale, ready to measure: from this process's cache when it can be. */
export async function preparedScratch(ctx: SuiteContext, label: string): Promise<{ scratch: Scratch; locality: Locality }> {
  const { engine, scale } = ctx.options;
  const cached = engine === 'pglite' ? prepared.get(scale) : undefined;
  if (cached) {
    // The whole directory: the database and the keyring that goes with it.
    const dataDir = mkdtempSync(path.join(os.tmpdir(), `tongxin-bench-${label}-`));
    cpSync(cached.dir, dataDir, { recursive: true });
    const scratch = await createScratch(engine, ctx.cleanup, label, dataDir);
    ctx.log(`scale ${scale}: copied the prepared data (${cached.locality.units} units)`);
    return { scratch, locality: cached.locality };
  }
  const scratch = await createScratch(engine, ctx.cleanup, label);
  const locality = await prepareLocality(scratch, scale, ctx.log);
  if (engine === 'pglite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), `tongxin-bench-prepared-${scale}-`));
    cpSync(scratch.dataDir, dir, { recursive: true });
    prepared.set(scale, { dir, locality });
    if (!preparedCleanupInstalled) {
      preparedCleanupInstalled = true;
      process.on('exit', forgetPrepared);
    }
  }
  return { scratch, locality };
}

/** Removes this process's prepared directories (at exit, or when a test file is done). */
export function forgetPrepared() {
  for (const p of prepared.values()) rmSync(p.dir, { recursive: true, force: true });
  prepared.clear();
}
