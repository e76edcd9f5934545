// Writes a generated locality into the database: the preset's grammar (through KindsService.applyPreset) and
// what each module takes from the preset (the demand categories and calendar …), as `tongxin init` applies them,
// org units with path/depth/district_id computed as GridService computes them, boundaries with their
// bounding boxes, people (staff), staff posts and party organisations — all in ONE transaction, so a
// failed build leaves nothing behind, and with ONE audit row (`generator.build`) summarising it.
//
// Speed: rows go in as multi-row `insert … select from unnest($1::bigint[], $2::text[], …)` batches of a
// few thousand rows: one round trip and one statement per batch on both engines (PGlite and PostgreSQL),
// nearly as fast as COPY. Ids are drawn from each table's own identity sequence in one block per batch
// (setval), so the rows are inserted with their final ids and references need no lookups.
//
// Residents, households, houses, party members, demands and council votes have no tables yet: a later
// module plugs its tables in with one line, e.g.
//   registerTableWriter('resident', (ctx, rows) => ctx.insert('resident', RESIDENT_COLUMNS, rows.map(…)));
// Until then those records only go to files (file-writer.ts).
import { CompiledQuery, sql, type ControlledTransaction } from 'kysely';
import type { Database } from '../../server/src/db/types.ts';
import type { DbHandle, Engine } from '../../server/src/db/connection.ts';
import { KindsService } from '../../server/src/modules/grid/kinds.service.ts';
import { MODULES } from '../../server/src/modules/index.ts';
import type { Preset } from '../../server/src/modules/grid/preset.ts';
import { systemContext } from '../../server/src/platform/context.ts';
import { recordAudit } from '../../server/src/platform/audit.ts';
import { bboxOf } from '../../server/src/platform/geo.ts';
import type { Batch, PartyOrgRecord, RecordType, RecordTypes, StaffRecord, UnitRecord } from './records.ts';
import type { GeneratorSummary } from './locality.ts';

export type Trx = ControlledTransaction<Database>;

/** A column of an unnest insert: its name, the element type of its array parameter, an optional cast. */
export interface ColumnSpec {
  name: string;
  type: 'bigint' | 'int' | 'text' | 'date' | 'float8' | 'boolean' | 'timestamptz' | 'numeric';
  /** cast applied to the unnested value, e.g. text → jsonb */
  cast?: string;
}

export interface TableWriterContext {
  trx: Trx;
  engine: Engine;
  /** database id of a generated unit (by its seq) */
  unitId(seq: number): number;
  districtId(unitSeq: number): number;
  unitPath(unitSeq: number): string;
  partyOrgId(seq: number): number;
  personId(staffSeq: number): number;
  /** Inserts column-major data with one `insert … select from unnest(…)` per call. */
  insert(table: string, columns: ColumnSpec[], data: unknown[][], options?: { overridingSystemValue?: boolean }): Promise<void>;
  /** Reserves `n` consecutive ids from the identity sequence of table.column; returns the first. */
  reserveIds(table: string, column: string, n: number): Promise<number>;
}

export type TableWriter<K extends RecordType> = (ctx: TableWriterContext, rows: RecordTypes[K][]) => Promise<void>;
type AnyTableWriter = (ctx: TableWriterContext, rows: readonly unknown[]) => Promise<void>;

const registry = new Map<RecordType, AnyTableWriter[]>();

/** Plugs a table into generated builds: `fn` receives every batch of `name` records (a few thousand rows). */
export function registerTableWriter<K extends RecordType>(name: K, fn: TableWriter<K>): void {
  // The registry is keyed by record type, and `write` only hands `fn` rows of batches whose type is `name`,
  // so widening the row type for storage is safe.
  const stored = fn as unknown as AnyTableWriter;
  registry.set(name, [...(registry.get(name) ?? []), stored]);
}

/** Removes registered writers (tests). */
export function clearTableWriters(name?: RecordType): void {
  if (name) registry.delete(name);
  else registry.clear();
}

export function registeredTableTypes(): RecordType[] {
  return [...registry.keys()];
}

async function run(trx: Trx, text: string, parameters: unknown[] = []) {
  return trx.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, parameters));
}

export async function insertUnnest(trx: Trx, table: string, columns: ColumnSpec[], data: unknown[][], options: { overridingSystemValue?: boolean } = {}) {
  if (!data.length || !data[0].length) return;
  const names = columns.map((c) => c.name);
  const text =
    `insert into ${table} (${names.join(', ')})${options.overridingSystemValue ? ' overriding system value' : ''} ` +
    `select ${columns.map((c) => (c.cast ? `${c.name}::${c.cast}` : c.name)).join(', ')} ` +
    `from unnest(${columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')}) as t(${names.join(', ')})`;
  await run(trx, text, data);
}

export async function reserveIds(trx: Trx, table: string, column: string, n: number): Promise<number> {
  const r = await run(trx, `select setval(pg_get_serial_sequence($1, $2), nextval(pg_get_serial_sequence($1, $2)) + $3 - 1) as last`, [table, column, n]);
  return Number(r.rows[0].last) - n + 1;
}

export interface DbWriterOptions {
  /** rows per insert for registered tables */
  batchRows?: number;
  actor?: string;
}

export class DbWriter {
  private trx: Trx | null = null;
  private districtKind = '';
  private readonly ids = { unit: [0], person: [0], org: [0] };
  private readonly unitMeta: { districtId: number; path: string; depth: number }[] = [{ districtId: 0, path: '', depth: -1 }];
  private rootSeq = 0;
  private readonly pending = new Map<RecordType, unknown[]>();
  readonly written: Record<string, number> = {};
  private readonly batchRows: number;
  private readonly ctx: ReturnType<typeof systemContext>;

  constructor(
    private readonly handle: DbHandle,
    private readonly preset: Preset,
    options: DbWriterOptions = {},
  ) {
    this.batchRows = options.batchRows ?? 5000;
    this.ctx = systemContext(options.actor ?? 'generator');
  }

  /** Starts the transaction and applies the preset; refuses a database that is already initialised. */
  async open(): Promise<void> {
    const trx = await this.handle.db.startTransaction().execute();
    this.trx = trx;
    try {
      await new KindsService(this.handle.db).applyPreset(trx, this.ctx, this.preset);
      for (const module of MODULES) if (module.applyPreset) await module.applyPreset(trx, this.preset);
      this.districtKind = this.preset.districtKind;
    } catch (err) {
      await trx.rollback().execute();
      this.trx = null;
      throw err;
    }
  }

  private get t(): Trx {
    if (!this.trx) throw new Error('DbWriter: open() first');
    return this.trx;
  }

  /** What registered table writers receive: the open transaction and the generated-seq → id maps. */
  context(): TableWriterContext {
    const trx = this.t;
    return {
      trx,
      engine: this.handle.engine,
      unitId: (seq) => this.ids.unit[seq],
      districtId: (seq) => this.unitMeta[seq].districtId,
      unitPath: (seq) => this.unitMeta[seq].path,
      partyOrgId: (seq) => this.ids.org[seq],
      personId: (seq) => this.ids.person[seq],
      insert: (table, columns, data, options) => insertUnnest(trx, table, columns, data, options),
      reserveIds: (table, column, n) => reserveIds(trx, table, column, n),
    };
  }

  async write(batch: Batch): Promise<void> {
    switch (batch.type) {
      case 'unit':
        await this.units(batch.rows);
        break;
      case 'staff':
        await this.staff(batch.rows);
        break;
      case 'party_org':
        await this.partyOrgs(batch.rows);
        break;
      default:
        break;
    }
    const writers = registry.get(batch.type);
    if (!writers) return;
    const buffer = this.pending.get(batch.type) ?? [];
    for (const row of batch.rows) buffer.push(row);
    this.pending.set(batch.type, buffer);
    if (buffer.length >= this.batchRows) await this.flush(batch.type);
  }

  private async flush(type: RecordType) {
    const rows = this.pending.get(type);
    if (!rows?.length) return;
    this.pending.set(type, []);
    const ctx = this.context();
    for (const fn of registry.get(type) ?? []) await fn(ctx, rows);
    this.written[type] = (this.written[type] ?? 0) + rows.length;
  }

  private count(table: string, n: number) {
    this.written[table] = (this.written[table] ?? 0) + n;
  }

  private async units(rows: UnitRecord[]) {
    const first = await reserveIds(this.t, 'org_unit', 'id', rows.length);
    const cols: unknown[][] = Array.from({ length: 13 }, () => []);
    rows.forEach((u, i) => {
      const id = first + i;
      this.ids.unit[u.seq] = id;
      const parent = u.parentSeq === null ? null : this.unitMeta[u.parentSeq];
      if (u.parentSeq !== null && !parent) throw new Error(`unit ${u.seq} comes before its parent ${u.parentSeq}`);
      // As GridService: a root and a unit of the district kind are their own district; others inherit.
      const districtId = !parent || u.kind === this.districtKind ? id : parent.districtId;
      const path = `${parent ? parent.path : '/'}${id}/`;
      const depth = parent ? parent.depth + 1 : 0;
      this.unitMeta[u.seq] = { districtId, path, depth };
      if (!parent) this.rootSeq = u.seq;
      const box = u.boundary ? bboxOf(u.boundary) : null;
      const values = [districtId, id, u.parentSeq === null ? null : this.ids.unit[u.parentSeq], u.kind, u.name, u.code, path, depth, u.boundary ? JSON.stringify(u.boundary) : null, box?.minLng ?? null, box?.minLat ?? null, box?.maxLng ?? null, box?.maxLat ?? null];
      values.forEach((v, c) => cols[c].push(v));
    });
    await insertUnnest(
      this.t,
      'org_unit',
      [
        { name: 'district_id', type: 'bigint' },
        { name: 'id', type: 'bigint' },
        { name: 'parent_id', type: 'bigint' },
        { name: 'kind_code', type: 'text' },
        { name: 'name', type: 'text' },
        { name: 'code', type: 'text' },
        { name: 'path', type: 'text' },
        { name: 'depth', type: 'int' },
        { name: 'boundary', type: 'text', cast: 'jsonb' },
        { name: 'bbox_min_lng', type: 'float8' },
        { name: 'bbox_min_lat', type: 'float8' },
        { name: 'bbox_max_lng', type: 'float8' },
        { name: 'bbox_max_lat', type: 'float8' },
      ],
      cols,
    );
    this.count('org_unit', rows.length);
  }

  private async staff(rows: StaffRecord[]) {
    const firstPerson = await reserveIds(this.t, 'person', 'id', rows.length);
    const firstPost = await reserveIds(this.t, 'staff_post', 'id', rows.length);
    const person: unknown[][] = [[], [], [], []];
    const post: unknown[][] = [[], [], [], [], [], [], [], []];
    rows.forEach((s, i) => {
      const personId = firstPerson + i;
      this.ids.person[s.seq] = personId;
      const districtId = this.unitMeta[s.unitSeq].districtId;
      const unitId = this.ids.unit[s.unitSeq];
      [districtId, personId, unitId, s.name].forEach((v, c) => person[c].push(v));
      [districtId, firstPost + i, unitId, s.kind, s.role, personId, s.startedOn, s.endedOn].forEach((v, c) => post[c].push(v));
    });
    await insertUnnest(
      this.t,
      'person',
      [
        { name: 'district_id', type: 'bigint' },
        { name: 'id', type: 'bigint' },
        { name: 'unit_id', type: 'bigint' },
        { name: 'name', type: 'text' },
      ],
      person,
      { overridingSystemValue: true },
    );
    await insertUnnest(
      this.t,
      'staff_post',
      [
        { name: 'district_id', type: 'bigint' },
        { name: 'id', type: 'bigint' },
        { name: 'unit_id', type: 'bigint' },
        { name: 'kind_code', type: 'text' },
        { name: 'role_code', type: 'text' },
        { name: 'person_id', type: 'bigint' },
        { name: 'started_on', type: 'date' },
        { name: 'ended_on', type: 'date' },
      ],
      post,
      { overridingSystemValue: true },
    );
    this.count('person', rows.length);
    this.count('staff_post', rows.length);
  }

  private async partyOrgs(rows: PartyOrgRecord[]) {
    const first = await reserveIds(this.t, 'party_org', 'id', rows.length);
    const cols: unknown[][] = Array.from({ length: 7 }, () => []);
    rows.forEach((o, i) => {
      const id = first + i;
      this.ids.org[o.seq] = id;
      const values = [this.unitMeta[o.unitSeq].districtId, id, this.ids.unit[o.unitSeq], o.kind, o.name, o.secretaryStaffSeq === null ? null : this.ids.person[o.secretaryStaffSeq], o.foundedOn];
      values.forEach((v, c) => cols[c].push(v));
    });
    await insertUnnest(
      this.t,
      'party_org',
      [
        { name: 'district_id', type: 'bigint' },
        { name: 'id', type: 'bigint' },
        { name: 'unit_id', type: 'bigint' },
        { name: 'kind', type: 'text' },
        { name: 'name', type: 'text' },
        { name: 'secretary_person_id', type: 'bigint' },
        { name: 'founded_on', type: 'date' },
      ],
      cols,
      { overridingSystemValue: true },
    );
    this.count('party_org', rows.length);
  }

  /** Flushes registered tables, writes the one audit row, commits, and refreshes planner statistics. */
  async finish(summary: GeneratorSummary): Promise<void> {
    for (const type of registry.keys()) await this.flush(type);
    const root = this.unitMeta[this.rootSeq];
    await recordAudit(this.t, this.ctx, {
      action: 'generator.build',
      targetType: 'deployment',
      targetId: summary.preset,
      unit: root ? { district_id: root.districtId, id: this.ids.unit[this.rootSeq], path: root.path } : null,
      after: { preset: summary.preset, scale: summary.scale, seed: summary.seed, asOf: summary.asOf, generated: summary.counts, written: this.written, gaps: summary.gaps.length },
    });
    await this.t.commit().execute();
    this.trx = null;
    await sql`analyze org_unit, person, party_org, staff_post`.execute(this.handle.db);
  }

  async abort(): Promise<void> {
    if (!this.trx) return;
    const trx = this.trx;
    this.trx = null;
    await trx.rollback().execute();
  }

  /** Database id of the root unit (after the structure is written). */
  rootId(): number {
    return this.ids.unit[this.rootSeq];
  }

  unitIdOf(seq: number): number {
    return this.ids.unit[seq];
  }
}
