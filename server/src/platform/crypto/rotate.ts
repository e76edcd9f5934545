// Re-encrypting stored personal data under a new key version, and recomputing its lookup hashes.
//
// Generic over tables: a module describes where its protected columns are (PiiTableSpec) and this routine
// walks each table in primary-key order (keyset pagination), one transaction per batch, locking the batch's
// rows (FOR UPDATE) so a concurrent edit is neither lost nor overwritten with the old value. A row is stale when
// any of its ciphertexts is not at the new cipher's current version; only stale rows are read, so a run that
// stopped half-way (or was killed) simply continues where it left off when started again.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { PiiError } from './errors.ts';
import { ciphertextVersion, type PiiCipher } from './pii.ts';
import type { PiiKind } from './normalise.ts';

export interface PiiFieldSpec {
  /** text column holding 'v<version>.<iv>.<ciphertext>' (or NULL) */
  cipherColumn: string;
  /** text column holding the hex lookup hash, or null when the field is not searchable */
  hashColumn: string | null;
  /** the associated-data field name the values were encrypted with, e.g. 'resident.id_number' */
  field: string;
  kind: PiiKind;
}

export interface PiiTableSpec {
  /** 'resident' or 'schema.resident' */
  table: string;
  /** the primary key (or another unique, non-null key), in index order: e.g. ['district_id', 'id'] */
  idColumns: readonly string[];
  fields: readonly PiiFieldSpec[];
}

export interface RotationProgress {
  table: string;
  /** stale rows rewritten so far in this table */
  rowsDone: number;
  /** stale rows counted when the table was started (rows edited meanwhile may change it slightly) */
  rowsTotal: number;
  batches: number;
}

export interface RotationReport {
  toVersion: number;
  tables: { table: string; rows: number; values: number }[];
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_PARAMETERS = 30_000;

function checkSpec(spec: PiiTableSpec) {
  const parts = spec.table.split('.');
  const bad = (what: string) => new Error(`PII table spec for "${spec.table}": ${what}`);
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) throw bad('table must be [schema.]name of letters, digits and _');
  if (spec.idColumns.length === 0) throw bad('idColumns is empty');
  if (spec.fields.length === 0) throw bad('fields is empty');
  const columns = [...spec.idColumns, ...spec.fields.flatMap((f) => (f.hashColumn ? [f.cipherColumn, f.hashColumn] : [f.cipherColumn]))];
  for (const c of columns) if (!IDENTIFIER.test(c)) throw bad(`column "${c}" must be letters, digits and _`);
  if (new Set(columns).size !== columns.length) throw bad('a column is named twice');
}

const quotedTable = (table: string) => table.split('.').map((p) => `"${p}"`).join('.');

/** Column name → SQL type (format_type), to cast the key values in the VALUES list of the batch update. */
async function columnTypes<DB>(db: Kysely<DB>, spec: PiiTableSpec): Promise<Map<string, string>> {
  const { rows } = await sql<{ name: string; type: string }>`
    select a.attname as name, format_type(a.atttypid, a.atttypmod) as type
    from pg_attribute a
    where a.attrelid = to_regclass(${quotedTable(spec.table)}) and a.attnum > 0 and not a.attisdropped`.execute(db);
  if (rows.length === 0) throw new Error(`PII table "${spec.table}" does not exist`);
  const types = new Map(rows.map((r) => [r.name, r.type]));
  const wanted = [...spec.idColumns, ...spec.fields.flatMap((f) => (f.hashColumn ? [f.cipherColumn, f.hashColumn] : [f.cipherColumn]))];
  const missing = wanted.filter((c) => !types.has(c));
  if (missing.length) throw new Error(`PII table "${spec.table}" has no column ${missing.join(', ')}`);
  return types;
}

/** True when some ciphertext in the row is not at `version`. */
function staleCondition(spec: PiiTableSpec, version: number): RawBuilder<boolean> {
  const prefix = `v${version}.%`;
  return sql<boolean>`(${sql.join(
    spec.fields.map((f) => sql`(${sql.ref(f.cipherColumn)} is not null and ${sql.ref(f.cipherColumn)} not like ${prefix})`),
    sql` or `,
  )})`;
}

interface BatchResult {
  rows: number;
  values: number;
  /** key of the batch's last row: the next batch starts after it */
  last: unknown[] | null;
}

function rowKey(spec: PiiTableSpec, row: Record<string, unknown>): string {
  return spec.idColumns.map((c) => `${c}=${String(row[c])}`).join(', ');
}

/**
 * Rewrites every ciphertext not at `newCipher`'s current version, and its lookup hash, in batches. `cipher` is
 * the keyring the data was written under; values are decrypted with whichever of the two holds their version.
 * Both may be the same cipher: that finishes an interrupted rotation.
 */
export async function rotatePii<DB>(
  db: Kysely<DB>,
  cipher: PiiCipher,
  newCipher: PiiCipher,
  tables: readonly PiiTableSpec[],
  onProgress?: (progress: RotationProgress) => void,
  options: { batchSize?: number } = {},
): Promise<RotationReport> {
  tables.forEach(checkSpec);
  const version = newCipher.currentVersion;
  const report: RotationReport = { toVersion: version, tables: [] };
  for (const spec of tables) {
    const types = await columnTypes(db, spec);
    const perRow = spec.idColumns.length + 2 * spec.fields.length;
    const batchSize = Math.max(1, Math.min(options.batchSize ?? 500, Math.floor(MAX_PARAMETERS / perRow)));
    const idRefs = spec.idColumns.map((c) => sql.ref(c));
    const stale = staleCondition(spec, version);
    const counted = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(spec.table)} where ${stale}`.execute(db);
    const progress: RotationProgress = { table: spec.table, rowsDone: 0, rowsTotal: Number(counted.rows[0]?.n ?? 0), batches: 0 };
    let values = 0;
    let after: unknown[] | null = null;
    for (;;) {
      const lastKey: unknown[] | null = after;
      const batch: BatchResult = await db.transaction().execute(async (trx): Promise<BatchResult> => {
        const keyset: RawBuilder<unknown> = lastKey ? sql`and (${sql.join(idRefs)}) > (${sql.join(lastKey.map((v) => sql`${v}`))})` : sql``;
        const { rows } = await sql<Record<string, unknown>>`
          select ${sql.join([...idRefs, ...spec.fields.map((f) => sql.ref(f.cipherColumn))])}
          from ${sql.table(spec.table)}
          where ${stale} ${keyset}
          order by ${sql.join(idRefs)}
          limit ${batchSize}
          for update`.execute(trx);
        if (rows.length === 0) return { rows: 0, values: 0, last: null };
        let rewritten = 0;
        const tuples = rows.map((row) => {
          const cells: RawBuilder<unknown>[] = spec.idColumns.map((c) => sql`cast(${row[c]} as ${sql.raw(types.get(c)!)})`);
          for (const f of spec.fields) {
            const token = row[f.cipherColumn];
            if (token === null || token === undefined) {
              cells.push(sql`cast(null as text)`, sql`cast(null as text)`);
              continue;
            }
            const text = String(token);
            const from = ciphertextVersion(text);
            const decryptor = from !== null && !newCipher.hasVersion(from) ? cipher : newCipher;
            let plaintext: string;
            try {
              plaintext = decryptor.decrypt(text, f.field);
            } catch (err) {
              if (!(err instanceof PiiError)) throw err;
              throw new PiiError(err.code, {
                'zh-CN': `${spec.table}（${rowKey(spec, row)}）的 ${f.cipherColumn}：${err.messages['zh-CN']}`,
                en: `${spec.table} (${rowKey(spec, row)}) ${f.cipherColumn}: ${err.messages.en}`,
              });
            }
            const next = from === version ? text : newCipher.encrypt(plaintext, f.field);
            if (next !== text) rewritten++;
            cells.push(sql`cast(${next} as text)`, sql`cast(${f.hashColumn ? newCipher.lookupHash(f.kind, plaintext) : null} as text)`);
          }
          return sql`(${sql.join(cells)})`;
        });
        const keyAliases = spec.idColumns.map((_, i) => `k${i}`);
        const fieldAliases = spec.fields.flatMap((_, i) => [`c${i}`, `h${i}`]);
        const assignments = spec.fields.flatMap((f, i) => {
          const set = [sql`${sql.id(f.cipherColumn)} = coalesce(${sql.ref(`v.c${i}`)}, ${sql.ref(`t.${f.cipherColumn}`)})`];
          if (f.hashColumn) set.push(sql`${sql.id(f.hashColumn)} = coalesce(${sql.ref(`v.h${i}`)}, ${sql.ref(`t.${f.hashColumn}`)})`);
          return set;
        });
        const matches = spec.idColumns.map((c, i) => sql`${sql.ref(`t.${c}`)} = ${sql.ref(`v.k${i}`)}`);
        await sql`
          update ${sql.table(spec.table)} as t
          set ${sql.join(assignments)}
          from (values ${sql.join(tuples)}) as v(${sql.join([...keyAliases, ...fieldAliases].map((a) => sql.id(a)))})
          where ${sql.join(matches, sql` and `)}`.execute(trx);
        const lastRow = rows[rows.length - 1];
        return { rows: rows.length, values: rewritten, last: spec.idColumns.map((c) => lastRow[c]) };
      });
      if (batch.rows === 0) break;
      after = batch.last;
      values += batch.values;
      progress.rowsDone += batch.rows;
      progress.batches++;
      onProgress?.({ ...progress });
    }
    report.tables.push({ table: spec.table, rows: progress.rowsDone, values });
  }
  return report;
}

export interface VersionCount {
  table: string;
  column: string;
  /** key version → number of rows whose ciphertext uses it ('other' counts values that are not our tokens) */
  versions: Record<string, number>;
}

/** How many stored values use each key version: shows whether a rotation finished and which versions are in use. */
export async function piiVersionCounts<DB>(db: Kysely<DB>, tables: readonly PiiTableSpec[]): Promise<VersionCount[]> {
  tables.forEach(checkSpec);
  const out: VersionCount[] = [];
  for (const spec of tables) {
    for (const f of spec.fields) {
      const col = sql.ref(f.cipherColumn);
      const { rows } = await sql<{ version: string | null; n: number | string }>`
        select substring(${col} from '^v([0-9]+)[.]') as version, count(*) as n
        from ${sql.table(spec.table)}
        where ${col} is not null
        group by 1`.execute(db);
      const versions: Record<string, number> = {};
      for (const r of rows) versions[r.version ?? 'other'] = (versions[r.version ?? 'other'] ?? 0) + Number(r.n);
      out.push({ table: spec.table, column: f.cipherColumn, versions });
    }
  }
  return out;
}

/** Rows per table that still hold a ciphertext not at the cipher's current version (0 everywhere: rotation done). */
export async function countStalePii<DB>(db: Kysely<DB>, cipher: PiiCipher, tables: readonly PiiTableSpec[]): Promise<{ table: string; rows: number }[]> {
  tables.forEach(checkSpec);
  const out: { table: string; rows: number }[] = [];
  for (const spec of tables) {
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(spec.table)} where ${staleCondition(spec, cipher.currentVersion)}`.execute(db);
    out.push({ table: spec.table, rows: Number(rows[0]?.n ?? 0) });
  }
  return out;
}
