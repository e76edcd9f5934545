import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { createKeyring, rotate, type Keyring } from './keyring.ts';
import { ciphertextVersion, createPiiCipher, type PiiCipher } from './pii.ts';
import { idCheckCharacter } from './id-number.ts';
import { countStalePii, piiVersionCounts, rotatePii, type PiiTableSpec, type RotationProgress } from './rotate.ts';
import { PiiError } from './errors.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

const ID_FIELD = 'scratch.id_number';
const PHONE_FIELD = 'scratch.phone';

const spec = (table: string, idColumns: string[]): PiiTableSpec => ({
  table,
  idColumns,
  fields: [
    { cipherColumn: 'id_number_enc', hashColumn: 'id_number_hash', field: ID_FIELD, kind: 'id_number' },
    { cipherColumn: 'phone_enc', hashColumn: 'phone_hash', field: PHONE_FIELD, kind: 'phone' },
  ],
});

const idNumber = (i: number) => {
  const first17 = `440103${1950 + (i % 60)}0${1 + (i % 9)}1${i % 10}${String(i % 1000).padStart(3, '0')}`;
  return first17 + idCheckCharacter(first17);
};
const phone = (i: number) => `139${String(i).padStart(8, '0')}`;

interface ScratchRow {
  district_id: number;
  id: number;
  id_number_enc: string | null;
  id_number_hash: string | null;
  phone_enc: string | null;
  phone_hash: string | null;
  id_number_head: string | null;
  id_number_tail: string | null;
}

/** A scratch table shaped like a governed one: (district_id, id) primary key, ciphertext, hash and mask parts. */
async function createScratch(table: string, rows: number, cipher: PiiCipher) {
  await sql`create table ${sql.table(table)} (
      district_id bigint not null,
      id bigint not null,
      id_number_enc text, id_number_hash text, id_number_head text, id_number_tail text,
      phone_enc text, phone_hash text,
      primary key (district_id, id))`.execute(database.db);
  for (let start = 0; start < rows; start += 100) {
    const values = [];
    for (let i = start; i < Math.min(rows, start + 100); i++) {
      const id = cipher.seal('id_number', ID_FIELD, idNumber(i));
      // every seventh resident gave no phone number
      const ph = i % 7 === 3 ? null : cipher.seal('phone', PHONE_FIELD, phone(i));
      values.push(sql`(${1 + (i % 3)}, ${i}, ${id.ciphertext}, ${id.lookupHash}, ${id.head}, ${id.tail}, ${ph?.ciphertext ?? null}, ${ph?.lookupHash ?? null})`);
    }
    await sql`insert into ${sql.table(table)} (district_id, id, id_number_enc, id_number_hash, id_number_head, id_number_tail, phone_enc, phone_hash)
      values ${sql.join(values)}`.execute(database.db);
  }
}

async function allRows(table: string): Promise<ScratchRow[]> {
  return (await sql<ScratchRow>`select * from ${sql.table(table)} order by id`.execute(database.db)).rows;
}

/** What a search does: match the value's hash under every version the keyring holds. */
async function findByIdNumber(table: string, cipher: PiiCipher, value: string): Promise<number[]> {
  const hashes = cipher.lookupHashes('id_number', value);
  const { rows } = await sql<{ id: number }>`select id from ${sql.table(table)} where id_number_hash in (${sql.join(hashes)}) order by id`.execute(database.db);
  return rows.map((r) => Number(r.id));
}

async function findByPhone(table: string, cipher: PiiCipher, value: string): Promise<number[]> {
  const { rows } = await sql<{ id: number }>`select id from ${sql.table(table)} where phone_hash in (${sql.join(cipher.lookupHashes('phone', value))})`.execute(database.db);
  return rows.map((r) => Number(r.id));
}

describe('rotatePii', () => {
  const ROWS = 257;
  let k2: Keyring;
  let v1: PiiCipher;
  let v2: PiiCipher;

  beforeAll(async () => {
    const k1 = createKeyring();
    k2 = rotate(k1);
    v1 = createPiiCipher(k1);
    v2 = createPiiCipher(k2);
    await createScratch('pii_scratch', ROWS, v1);
  });

  it('re-encrypts every value and recomputes every hash, in batches, keeping lookups working throughout', async () => {
    const before = await allRows('pii_scratch');
    // During the rotation window the new keyring still finds rows hashed under v1.
    expect(await findByIdNumber('pii_scratch', v2, idNumber(42))).toEqual([42]);
    expect(await findByPhone('pii_scratch', v2, '+86 ' + phone(100))).toEqual([100]);
    expect(await countStalePii(database.db, v2, [spec('pii_scratch', ['district_id', 'id'])])).toEqual([{ table: 'pii_scratch', rows: ROWS }]);

    const progress: RotationProgress[] = [];
    const report = await rotatePii(database.db, v1, v2, [spec('pii_scratch', ['district_id', 'id'])], (p) => progress.push(p), { batchSize: 50 });

    const phones = before.filter((r) => r.phone_enc !== null).length;
    expect(report).toEqual({ toVersion: 2, tables: [{ table: 'pii_scratch', rows: ROWS, values: ROWS + phones }] });
    expect(progress.map((p) => p.rowsDone)).toEqual([50, 100, 150, 200, 250, 257]);
    expect(progress.every((p) => p.rowsTotal === ROWS)).toBe(true);

    const after = await allRows('pii_scratch');
    for (const [i, row] of after.entries()) {
      expect(ciphertextVersion(row.id_number_enc!)).toBe(2);
      expect(row.id_number_enc).not.toBe(before[i].id_number_enc);
      expect(v2.decrypt(row.id_number_enc!, ID_FIELD)).toBe(idNumber(i));
      expect(row.id_number_hash).toBe(v2.lookupHash('id_number', idNumber(i)));
      // mask parts are not touched by a rotation
      expect([row.id_number_head, row.id_number_tail]).toEqual([before[i].id_number_head, before[i].id_number_tail]);
      if (i % 7 === 3) {
        expect(row.phone_enc).toBeNull();
        expect(row.phone_hash).toBeNull();
      } else {
        expect(v2.decrypt(row.phone_enc!, PHONE_FIELD)).toBe(phone(i));
        expect(row.phone_hash).toBe(v2.lookupHash('phone', phone(i)));
      }
      expect(() => v1.decrypt(row.id_number_enc!, ID_FIELD)).toThrow(PiiError);
    }
    // Lookups with the current hash alone now find everything.
    const { rows } = await sql<{ id: number }>`select id from pii_scratch where id_number_hash = ${v2.lookupHash('id_number', idNumber(42))}`.execute(database.db);
    expect(rows.map((r) => Number(r.id))).toEqual([42]);
    expect(await findByPhone('pii_scratch', v2, phone(100))).toEqual([100]);
    expect(await countStalePii(database.db, v2, [spec('pii_scratch', ['district_id', 'id'])])).toEqual([{ table: 'pii_scratch', rows: 0 }]);

    // Running it again finds nothing to do.
    const again = await rotatePii(database.db, v2, v2, [spec('pii_scratch', ['district_id', 'id'])]);
    expect(again.tables).toEqual([{ table: 'pii_scratch', rows: 0, values: 0 }]);
  });

  it('resumes after an interruption, skipping rows already at the new version', async () => {
    const v3 = createPiiCipher(rotate(k2));
    const tables = [spec('pii_scratch', ['district_id', 'id'])];
    let batches = 0;
    await expect(
      rotatePii(database.db, v2, v3, tables, () => {
        if (++batches === 2) throw new Error('killed');
      }, { batchSize: 40 }),
    ).rejects.toThrow('killed');
    expect(await countStalePii(database.db, v3, tables)).toEqual([{ table: 'pii_scratch', rows: ROWS - 80 }]);
    const counts = await piiVersionCounts(database.db, tables);
    expect(counts[0]).toEqual({ table: 'pii_scratch', column: 'id_number_enc', versions: { '2': ROWS - 80, '3': 80 } });
    // Mid-rotation, both versions' rows are found.
    expect(await findByIdNumber('pii_scratch', v3, idNumber(5))).toEqual([5]);
    expect(await findByIdNumber('pii_scratch', v3, idNumber(200))).toEqual([200]);

    const resumed = await rotatePii(database.db, v3, v3, tables, undefined, { batchSize: 40 });
    expect(resumed.tables[0].rows).toBe(ROWS - 80);
    expect(await countStalePii(database.db, v3, tables)).toEqual([{ table: 'pii_scratch', rows: 0 }]);
    for (const [i, row] of (await allRows('pii_scratch')).entries()) {
      expect(v3.decrypt(row.id_number_enc!, ID_FIELD)).toBe(idNumber(i));
      expect(row.id_number_hash).toBe(v3.lookupHash('id_number', idNumber(i)));
    }
  });
});

describe('rotatePii on other shapes and faults', () => {
  it('handles a single uuid primary key, a field without a hash column, and values of several old versions', async () => {
    const k1 = createKeyring();
    const k2 = rotate(k1);
    const k3 = rotate(k2);
    const [v1, v2, v3] = [k1, k2, k3].map(createPiiCipher);
    await sql`create table pii_uuid (key uuid primary key default gen_random_uuid(), note_enc text)`.execute(database.db);
    for (let i = 0; i < 30; i++) {
      const token = (i % 2 ? v1 : v2).encrypt(`note ${i}`, 'scratch.note');
      await sql`insert into pii_uuid (note_enc) values (${token})`.execute(database.db);
    }
    const tables: PiiTableSpec[] = [{ table: 'pii_uuid', idColumns: ['key'], fields: [{ cipherColumn: 'note_enc', hashColumn: null, field: 'scratch.note', kind: 'phone' }] }];
    // the old keyring (v2) does not know v3, the new one knows all: each value is read with the one that can
    const report = await rotatePii(database.db, v2, v3, tables, undefined, { batchSize: 7 });
    expect(report.tables).toEqual([{ table: 'pii_uuid', rows: 30, values: 30 }]);
    const { rows } = await sql<{ note_enc: string }>`select note_enc from pii_uuid`.execute(database.db);
    expect(rows.map((r) => v3.decrypt(r.note_enc, 'scratch.note')).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `note ${i}`).sort());
    expect(rows.every((r) => ciphertextVersion(r.note_enc) === 3)).toBe(true);
  });

  it('stops at a value it cannot decrypt, naming the row, and rolls that batch back', async () => {
    const k1 = createKeyring();
    const v1 = createPiiCipher(k1);
    const next = createPiiCipher(rotate(k1));
    const v2 = createPiiCipher(rotate(createKeyring()));
    await createScratch('pii_bad', 10, v1);
    await sql`update pii_bad set phone_enc = ${v1.encrypt('13900000005', 'scratch.other')} where id = 5`.execute(database.db);
    const tables = [spec('pii_bad', ['district_id', 'id'])];
    // v2 is another keyring: its v1 is not this data's v1, so the very first batch fails and nothing changes
    await expect(rotatePii(database.db, v2, v2, tables)).rejects.toThrow(PiiError);
    // with the right keyring it reaches the ciphertext moved from another field and names its row
    const err = await rotatePii(database.db, v1, next, tables, undefined, { batchSize: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PiiError);
    expect((err as PiiError).code).toBe('pii_tampered');
    expect((err as PiiError).messages.en).toContain('pii_bad (district_id=3, id=5) phone_enc');
    // batches in (district_id, id) order: ids 0,3,6 | 9,1,4 | 7,2,5 | 8. The third holds row 5 and rolled back;
    // the two before it stay done, so a fixed run resumes with 4 rows.
    const stale = await countStalePii(database.db, next, tables);
    expect(stale).toEqual([{ table: 'pii_bad', rows: 4 }]);
    const { rows } = await sql<{ id_number_enc: string }>`select id_number_enc from pii_bad where id = 5`.execute(database.db);
    expect(ciphertextVersion(rows[0].id_number_enc)).toBe(1);
  });

  it('refuses specs that name missing tables or columns, or unsafe identifiers', async () => {
    const c = createPiiCipher(createKeyring());
    const field = { cipherColumn: 'x_enc', hashColumn: 'x_hash', field: 'f', kind: 'phone' } as const;
    await expect(rotatePii(database.db, c, c, [{ table: 'no_such_table', idColumns: ['id'], fields: [field] }])).rejects.toThrow(/does not exist/);
    await expect(rotatePii(database.db, c, c, [{ table: 'pii_scratch', idColumns: ['id'], fields: [field] }])).rejects.toThrow(/has no column x_enc, x_hash/);
    await expect(rotatePii(database.db, c, c, [{ table: 'pii; drop table x', idColumns: ['id'], fields: [field] }])).rejects.toThrow(/table must be/);
    await expect(rotatePii(database.db, c, c, [{ table: 'pii_scratch', idColumns: [], fields: [field] }])).rejects.toThrow(/idColumns is empty/);
    await expect(rotatePii(database.db, c, c, [{ table: 'pii_scratch', idColumns: ['id"'], fields: [field] }])).rejects.toThrow(/column/);
  });
});
