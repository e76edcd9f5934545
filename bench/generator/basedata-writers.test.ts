// The generated population in the real base-data tables: counts, links, sealed personal numbers that decrypt
// and match their lookup hashes, no plaintext number anywhere, found by the app's own search, deterministic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../../server/test/db.ts';
import { tableNames } from '../../server/test/fingerprint.ts';
import { loadPreset } from '../../server/src/modules/grid/preset.ts';
import { createKeyring, createPiiCipher } from '../../server/src/platform/crypto/index.ts';
import { ResidentsService, nameInitials } from '../../server/src/modules/basedata/residents.service.ts';
import type { RequestContext } from '../../server/src/platform/context.ts';
import { build, stream, type BuildResult } from './build.ts';
import { SCALES } from './scales.ts';
import { clearTableWriters } from './db-writer.ts';
import { registerBasedataWriters, type BasedataStats } from './basedata-writers.ts';
import type { HouseRecord, HouseholdRecord, PartyMemberRecord, ResidentRecord } from './records.ts';

const preset = loadPreset('liwan');
const SEED = 11;
const keyring = createKeyring();
const pii = createPiiCipher(keyring);

// What the generator emitted, to compare with (the village is small).
const generated = { house: [] as HouseRecord[], household: [] as HouseholdRecord[], resident: [] as ResidentRecord[], party_member: [] as PartyMemberRecord[] };
for (const batch of stream(preset, SCALES.village, SEED)) {
  if (batch.type in generated) (generated[batch.type as keyof typeof generated] as unknown[]).push(...batch.rows);
}
const ownersElsewhere = generated.house.filter((h) => !h.ownerResidentNo);

const TABLES = ['house', 'household', 'resident', 'house_owner', 'party_member'] as const;
const count = async (db: TestDatabase, table: string) => Number((await sql<{ n: number }>`select count(*)::int8 as n from ${sql.table(table)}`.execute(db.db)).rows[0].n);

let db: TestDatabase;
let result: BuildResult;
let stats: BasedataStats;

beforeAll(async () => {
  clearTableWriters();
  const writers = registerBasedataWriters(pii);
  db = await createTestDatabase();
  result = await build({ preset, scale: SCALES.village, seed: SEED, db });
  stats = { ...writers.stats };
});
afterAll(async () => {
  clearTableWriters();
  await db?.drop();
});

describe('a liwan village in the base-data tables', () => {
  it('holds every generated record, and the owners living elsewhere as residents', async () => {
    const c = result.summary.counts;
    expect(await count(db, 'house')).toBe(c.house);
    expect(await count(db, 'household')).toBe(c.household);
    expect(await count(db, 'resident')).toBe(c.resident + ownersElsewhere.length);
    expect(await count(db, 'house_owner')).toBe(c.house);
    expect(await count(db, 'party_member')).toBe(c.party_member);
    expect(stats).toMatchObject({ houses: c.house, households: c.household, residents: c.resident, ownersElsewhere: ownersElsewhere.length, houseOwners: c.house, partyMembers: c.party_member });
    const others = await db.db.selectFrom('resident').select(['household_id', 'house_id', 'address']).where('registration', '=', 'other').execute();
    expect(others).toHaveLength(ownersElsewhere.length);
    for (const o of others) expect(o).toEqual({ household_id: null, house_id: null, address: null });
    for (const table of TABLES.filter((t) => t !== 'house_owner' && t !== 'party_member')) {
      const bad = await sql<{ n: number }>`select count(*)::int8 as n from ${sql.table(table)} where sources <> ${'{"*":"generator"}'}::jsonb`.execute(db.db);
      expect(Number(bad.rows[0].n), table).toBe(0);
    }
  });

  it('links households, heads, houses, owners and party branches', async () => {
    const heads = await sql<{ household: string; relation: string; same: boolean }>`
      select h.code as household, r.relation_to_head as relation, r.household_id = h.id as same
      from household h join resident r on r.district_id = h.district_id and r.id = h.head_resident_id`.execute(db.db);
    expect(heads.rows).toHaveLength(generated.household.length);
    for (const h of heads.rows) expect([h.relation, h.same]).toEqual(['户主', true]);

    const residents = await db.db.selectFrom('resident').select(['name', 'household_id', 'house_id', 'relation_to_head', 'registration']).where('registration', '<>', 'other').orderBy('id').execute();
    expect(residents.map((r) => r.name)).toEqual(generated.resident.map((r) => r.name));
    expect(residents.every((r) => r.household_id !== null)).toBe(true);
    expect(residents.filter((r) => r.house_id !== null)).toHaveLength(generated.resident.filter((r) => r.houseNo).length);
    expect(residents.filter((r) => r.registration === 'floating')).toHaveLength(generated.resident.filter((r) => r.residenceType === '流动人口').length);

    // Each house has exactly its generated owner: the head of a family living there, or someone living elsewhere.
    const owners = await sql<{ address: string; owner: string; registration: string }>`
      select h.address, r.name as owner, r.registration from house_owner o
      join house h on h.district_id = o.district_id and h.id = o.house_id
      join resident r on r.district_id = o.district_id and r.id = o.resident_id order by h.id`.execute(db.db);
    expect(owners.rows.map((o) => o.owner)).toEqual(generated.house.map((h) => h.ownerName));
    expect(owners.rows.map((o) => o.registration === 'other')).toEqual(generated.house.map((h) => !h.ownerResidentNo));

    // Party members: the branch of their unit, and that branch's unit.
    const members = await sql<{ name: string; org_unit: string | null; unit_id: string; party_org_id: string | null }>`
      select r.name, o.unit_id as org_unit, m.unit_id, m.party_org_id from party_member m
      join resident r on r.district_id = m.district_id and r.id = m.resident_id
      left join party_org o on o.district_id = m.district_id and o.id = m.party_org_id order by m.id`.execute(db.db);
    expect(members.rows.map((m) => m.name)).toEqual(generated.party_member.map((m) => m.name));
    generated.party_member.forEach((g, i) => {
      const m = members.rows[i];
      if (g.partyOrgSeq === null) {
        expect(m.party_org_id).toBeNull();
        expect(Number(m.unit_id)).toBe(result.unitId(g.unitSeq));
      } else {
        expect(m.party_org_id).not.toBeNull();
        expect(Number(m.unit_id)).toBe(Number(m.org_unit));
      }
    });
    expect(members.rows.some((m) => m.party_org_id !== null)).toBe(true);
  });

  it('seals every ID and phone number: the ciphertext decrypts to the generated number, the hash is the lookup hash', async () => {
    type Person = { name: string; idNumber: string; phone: string | null };
    const people: Person[] = [
      ...generated.resident.map((r) => ({ name: r.name, idNumber: r.idNumber, phone: r.phone })),
      ...ownersElsewhere.map((h) => ({ name: h.ownerName, idNumber: h.ownerIdNumber, phone: h.ownerPhone })),
    ];
    const byHash = new Map(people.map((p) => [pii.lookupHash('id_number', p.idNumber), p]));
    expect(byHash.size).toBe(people.length);
    const rows = await db.db.selectFrom('resident').selectAll().execute();
    expect(rows).toHaveLength(people.length);
    for (const r of rows) {
      const p = byHash.get(r.id_hash!)!;
      expect(p, r.name).toBeDefined();
      expect(r.name).toBe(p.name);
      expect(pii.decrypt(r.id_cipher!, 'resident.id_number')).toBe(p.idNumber);
      expect([r.id_head, r.id_last4]).toEqual([p.idNumber.slice(0, 6), p.idNumber.slice(-4)]);
      expect(r.name_initials).toBe(nameInitials(p.name));
      expect(r.name_initials).toMatch(/^[a-z]+$/);
      if (p.phone) {
        expect(pii.decrypt(r.phone_cipher!, 'resident.phone')).toBe(p.phone);
        expect(r.phone_hash).toBe(pii.lookupHash('phone', p.phone));
        expect([r.phone_head, r.phone_last4]).toEqual([p.phone.slice(0, 3), p.phone.slice(-4)]);
      } else {
        expect([r.phone_cipher, r.phone_hash, r.phone_head, r.phone_last4]).toEqual([null, null, null, null]);
      }
    }
  });

  it('stores no ID or phone number in the clear, in any table', async () => {
    const every = <T,>(xs: T[], n: number) => xs.filter((_, i) => i % Math.ceil(xs.length / n) === 0);
    const needles = [
      ...every(generated.resident.map((r) => r.idNumber), 40),
      ...every(generated.resident.flatMap((r) => (r.phone ? [r.phone] : [])), 40),
      ...every(ownersElsewhere.map((h) => h.ownerIdNumber), 10),
      ...every(ownersElsewhere.map((h) => h.ownerPhone), 10),
      ...every(generated.household.flatMap((h) => (h.phone ? [h.phone] : [])), 10),
    ];
    expect(needles.length).toBeGreaterThan(80);
    for (const table of await tableNames(db.db)) {
      const dump = (await sql<{ t: string }>`select coalesce(string_agg(x::text, '|'), '') as t from ${sql.table(table)} x`.execute(db.db)).rows[0].t;
      for (const n of needles) expect(dump.includes(n), `${table} holds ${n}`).toBe(false);
    }
  });

  it('is found by the app: ResidentsService by exact ID number and by pinyin initials', async () => {
    const root = await db.db.selectFrom('org_unit').select(['id', 'district_id', 'path']).where('id', '=', result.rootId!).executeTakeFirstOrThrow();
    const ctx: RequestContext = {
      actor: { userId: 1, username: 'test', displayName: 'test', mustChangePassword: false, grants: [{ grantId: 1, role: 'district_admin', districtId: root.district_id, unitId: root.id, unitPath: root.path }] },
      clientIp: null,
    };
    const service = new ResidentsService(db.db, pii, () => new Date('2026-07-01T04:00:00Z'));
    for (const r of [generated.resident[0], generated.resident[777], generated.resident.at(-1)!]) {
      const byId = await service.search(ctx, { q: r.idNumber });
      expect(byId.items.map((i) => i.name)).toEqual([r.name]);
      expect(byId.items[0].idNumber).toBe(`${r.idNumber.slice(0, 6)}********${r.idNumber.slice(-4)}`);
      const byInitials = await service.search(ctx, { q: nameInitials(r.name), limit: 1000 });
      expect(byInitials.items.map((i) => i.id)).toContain(byId.items[0].id);
      const detail = await service.detail(ctx, byId.items[0].id);
      expect(detail.sources).toEqual({ '*': 'generator' });
    }
    const owner = ownersElsewhere[0];
    expect((await service.search(ctx, { q: owner.ownerIdNumber })).items.map((i) => i.name)).toEqual([owner.ownerName]);
  });

  it('writes the same rows and hashes again for the same seed and keyring (ciphertexts differ: random IVs)', async () => {
    const second = await createTestDatabase();
    try {
      await build({ preset, scale: SCALES.village, seed: SEED, db: second });
      for (const table of TABLES) {
        const columns = (await sql<{ column_name: string }>`select column_name from information_schema.columns where table_schema = 'public' and table_name = ${table} order by ordinal_position`.execute(db.db)).rows
          .map((c) => c.column_name)
          .filter((c) => !c.endsWith('_cipher') && c !== 'created_at' && c !== 'updated_at');
        const dump = async (d: TestDatabase) => (await sql<{ t: string }>`select coalesce(string_agg(x::text, '|' order by x::text), '') as t from (select ${sql.join(columns.map((c) => sql.ref(c)))} from ${sql.table(table)}) x`.execute(d.db)).rows[0].t;
        const [a, b] = [await dump(db), await dump(second)];
        expect(a.length, table).toBeGreaterThan(0);
        expect(b === a, `${table} differs`).toBe(true);
      }
      const cipher = async (d: TestDatabase) => (await d.db.selectFrom('resident').select(['id_cipher']).orderBy('id').limit(1).executeTakeFirstOrThrow()).id_cipher!;
      const [c1, c2] = [await cipher(db), await cipher(second)];
      expect(c1).not.toBe(c2);
      expect(pii.decrypt(c1, 'resident.id_number')).toBe(pii.decrypt(c2, 'resident.id_number'));
    } finally {
      await second.drop();
    }
  });
});
