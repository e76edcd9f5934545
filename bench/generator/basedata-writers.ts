// Plugs the generated population into the base-data tables — house, household, resident, house_owner,
// party_member — with one `registerTableWriter` per record type.
//
// Order: the generator emits, grid by grid, the grid's houses, then its households, its residents, its party
// members (locality.ts `batches()`), and build.ts hands every batch to the writers as it comes. Every
// reference stays inside one grid, so the maps from the generator's keys (F…, H…, P…) to database ids hold
// one grid at a time (about 1,500 entries at Liwan scale) and memory stays flat. A batch that breaks this
// order fails loudly rather than writing dangling references.
//
// Ids come from each table's own identity sequence, reserved in blocks (`IdBlock`), so rows go in with their
// final ids. Households and residents refer to each other (resident.household_id, household.head_resident_id);
// neither foreign key is deferrable, but PostgreSQL checks non-deferred foreign keys at the end of the
// statement, so a grid's households, its residents and the house owners living there go in as ONE statement
// (`with h as (insert into household …), o as (insert into house_owner …) insert into resident …`): the head
// is set on insert, no UPDATE afterwards.
//
// Personal numbers are sealed with the app's cipher (`pii.seal` with the fields 'resident.id_number' and
// 'resident.phone', as ResidentsService does) and never reach the database in the clear; name_initials are
// the service's `nameInitials`; `sources` is {"*":"generator"}.
//
// Owners living elsewhere (landlords, companies' premises: ~40% of houses) become residents too, since a
// house_owner row needs one: registration 'other', no household, no house of residence, no address, in the
// unit of the house they own (`stats.ownersElsewhere`).
//
// Addresses: house.address is unique per district, but the generator can give houses of two grids the same
// address (their street numbers run on shared roads). The later house keeps its id and is stored as
// '<address>（<house no>）' (`stats.addressesQualified`).
//
// Planner: foreign-key checks are cached plans made when a table is still empty, with no statistics. Then
// PostgreSQL may check `resident (district_id, id)` through `resident_unit (district_id, unit_id)` (same
// estimated cost) or by a sequential scan — a scan of the growing table per checked row, quadratic. So the
// build's transaction runs with `enable_seqscan = off` (SET LOCAL), and ANALYZEs the structure tables at the
// start and the population tables after the first grid, inside it. Street scale on PostgreSQL: 8 s with both,
// 19 s without enable_seqscan = off, 67 s without the ANALYZE, 94 s with neither.
import { CompiledQuery } from 'kysely';
import type { PiiCipher } from '../../server/src/platform/crypto/pii.ts';
import { birthDateOfIdNumber, genderOfIdNumber } from '../../server/src/platform/crypto/id-number.ts';
import { nameInitials } from '../../server/src/modules/basedata/residents.service.ts';
import { registerTableWriter, type ColumnSpec, type TableWriterContext, type Trx } from './db-writer.ts';
import type { HouseRecord, HouseholdRecord, PartyMemberRecord, ResidentRecord } from './records.ts';

export const GENERATOR_SOURCES = '{"*":"generator"}';
/** The tables the writers fill, for ANALYZE after the build. */
export const BASEDATA_TABLES = ['house', 'household', 'resident', 'house_owner', 'party_member'] as const;
/** ids reserved per round trip to a sequence; the unused rest of the last block is a gap, as after a rollback */
const ID_BLOCK = 4096;

const USAGE: Record<HouseRecord['use'], string> = { 住宅: 'residential', 商铺: 'commercial', 办公: 'office' };
const GENDER: Record<ResidentRecord['gender'], string> = { 男: 'male', 女: 'female' };
/** 流动人口 → floating; the rest of the generated population is 户籍 (registered). */
const registrationOf = (residenceType: string) => (residenceType === '流动人口' ? 'floating' : 'registered');

export interface BasedataStats {
  houses: number;
  households: number;
  /** residents generated (living in the locality) */
  residents: number;
  /** owners living elsewhere, stored as residents with registration 'other' */
  ownersElsewhere: number;
  houseOwners: number;
  partyMembers: number;
  /** houses whose generated address was already taken in the district */
  addressesQualified: number;
  /** time spent sealing ID and phone numbers, ms */
  sealMs: number;
  /** time the writers waited for the database (statements run while the generator works on the next grid), ms */
  waitMs: number;
}

const emptyStats = (): BasedataStats => ({ houses: 0, households: 0, residents: 0, ownersElsewhere: 0, houseOwners: 0, partyMembers: 0, addressesQualified: 0, sealMs: 0, waitMs: 0 });

// ---------------------------------------------------------------------------------------------------------
// SQL: `insert … select … from unnest($n::type[], …)`, several per statement

type Column = ColumnSpec & {
  /** a constant expression: the column is not unnested */
  value?: string;
  /** the selected expression instead of t.<name> (the column is still unnested as t.<name>) */
  select?: string;
};

const SOURCES: Column = { name: 'sources', type: 'text', value: `'${GENERATOR_SOURCES}'::jsonb` };

/** Column-major values of the unnested columns (all but the constants), filled a row at a time. */
class Rows {
  readonly unnested: Column[];
  readonly data: unknown[][];
  constructor(readonly columns: Column[]) {
    this.unnested = columns.filter((c) => c.value === undefined);
    this.data = this.unnested.map(() => []);
  }
  push(...values: unknown[]) {
    if (values.length !== this.data.length) throw new Error(`expected ${this.data.length} values, got ${values.length}`);
    for (let i = 0; i < values.length; i++) this.data[i].push(values[i]);
  }
  get length() {
    return this.data[0].length;
  }
  /** Sets one value of a row already pushed. */
  set(row: number, column: string, value: unknown) {
    this.data[this.index(column)][row] = value;
  }
  /** The same rows with another column of values. */
  with(column: string, values: unknown[]): Rows {
    const copy = new Rows(this.columns);
    const i = this.index(column);
    this.data.forEach((v, c) => copy.data[c].push(...(c === i ? values : v)));
    return copy;
  }
  private index(column: string) {
    const i = this.unnested.findIndex((c) => c.name === column);
    if (i < 0) throw new Error(`no unnested column ${column}`);
    return i;
  }
}

/** `insert into table (…) select … from unnest($k…) as t(…)`; appends its arrays to `params`. */
function insertSql(table: string, rows: Rows, params: unknown[], options: { join?: string; tail?: string } = {}): string {
  const first = params.length + 1;
  params.push(...rows.data);
  const selected = (c: Column) => c.value ?? c.select ?? (c.cast ? `t.${c.name}::${c.cast}` : `t.${c.name}`);
  return (
    `insert into ${table} (${rows.columns.map((c) => c.name).join(', ')}) ` +
    `select ${rows.columns.map(selected).join(', ')} ` +
    `from unnest(${rows.unnested.map((c, i) => `$${first + i}::${c.type}[]`).join(', ')}) as t(${rows.unnested.map((c) => c.name).join(', ')})` +
    `${options.join ?? ''}${options.tail ?? ''}`
  );
}

/** Ids from a table's identity sequence, reserved ID_BLOCK at a time. */
class IdBlock {
  private next = 0;
  private left = 0;
  constructor(
    private readonly table: string,
    private readonly drain: () => Promise<void>,
  ) {}
  async take(ctx: TableWriterContext, n: number): Promise<number> {
    if (this.left < n) {
      await this.drain();
      const size = Math.max(n, ID_BLOCK);
      this.next = await ctx.reserveIds(this.table, 'id', size);
      this.left = size;
    }
    const first = this.next;
    this.next += n;
    this.left -= n;
    return first;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Columns

const HOUSE: Column[] = [
  { name: 'district_id', type: 'bigint' },
  { name: 'id', type: 'bigint' },
  { name: 'unit_id', type: 'bigint' },
  { name: 'address', type: 'text' },
  { name: 'exclusive_area', type: 'numeric' },
  { name: 'usage', type: 'text' },
  SOURCES,
];

const HOUSEHOLD: Column[] = [
  { name: 'district_id', type: 'bigint' },
  { name: 'id', type: 'bigint' },
  { name: 'unit_id', type: 'bigint' },
  { name: 'kind', type: 'text' },
  { name: 'code', type: 'text' },
  { name: 'name', type: 'text' },
  { name: 'house_id', type: 'bigint' },
  { name: 'head_resident_id', type: 'bigint' },
  { name: 'address', type: 'text' },
  SOURCES,
];

const RESIDENT: Column[] = [
  { name: 'district_id', type: 'bigint' },
  { name: 'id', type: 'bigint' },
  { name: 'unit_id', type: 'bigint' },
  { name: 'household_id', type: 'bigint' },
  { name: 'house_id', type: 'bigint' },
  { name: 'name', type: 'text' },
  { name: 'name_initials', type: 'text' },
  { name: 'gender', type: 'text' },
  { name: 'birth_date', type: 'date' },
  { name: 'id_cipher', type: 'text' },
  { name: 'id_hash', type: 'text' },
  { name: 'id_head', type: 'text' },
  { name: 'id_last4', type: 'text' },
  { name: 'phone_cipher', type: 'text' },
  { name: 'phone_hash', type: 'text' },
  { name: 'phone_head', type: 'text' },
  { name: 'phone_last4', type: 'text' },
  { name: 'registration', type: 'text' },
  { name: 'relation_to_head', type: 'text' },
  { name: 'address', type: 'text' },
  SOURCES,
];

const HOUSE_OWNER: Column[] = [
  { name: 'district_id', type: 'bigint' },
  { name: 'house_id', type: 'bigint' },
  { name: 'resident_id', type: 'bigint' },
];

// A member's record is governed by the unit of the branch the membership sits in (joined from party_org),
// else by the unit of residence (t.unit_id).
const PARTY_MEMBER: Column[] = [
  { name: 'district_id', type: 'bigint' },
  { name: 'id', type: 'bigint' },
  { name: 'resident_id', type: 'bigint' },
  { name: 'party_org_id', type: 'bigint' },
  { name: 'unit_id', type: 'bigint', select: 'coalesce(o.unit_id, t.unit_id)' },
  { name: 'category', type: 'text' },
  { name: 'status', type: 'text' },
  { name: 'joined_on', type: 'date' },
];
const BRANCH_JOIN = ' left join party_org o on o.district_id = t.district_id and o.id = t.party_org_id';

// ---------------------------------------------------------------------------------------------------------

/** One grid's keys → ids, and what its later batches still need. */
interface GridState {
  gridSeq: number;
  houses: Map<string, number>;
  /** houses whose owner lives in the grid: the owner's resident no → house id */
  ownersHere: Map<string, number>;
  households: Map<string, number>;
  /** the grid's households, held until its residents come (the next batch) to go in with them */
  pendingHouseholds: Rows | null;
  /** head's resident no → row in pendingHouseholds */
  pendingHeads: Map<string, number>;
  residents: Map<string, number>;
}

type Sealed = [cipher: string | null, hash: string | null, head: string | null, last4: string | null];
const NOT_GIVEN: Sealed = [null, null, null, null];

class BasedataWriters {
  readonly stats: BasedataStats = emptyStats();
  private trx: Trx | null = null;
  private ids!: Record<'house' | 'household' | 'resident' | 'party_member', IdBlock>;
  private grid: GridState | null = null;
  private analyzed = false;
  /** the last statement sent; the transaction's connection runs them one after the other, in order */
  private last: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | null = null;

  constructor(private readonly pii: PiiCipher) {}

  /**
   * Sends a statement without waiting for it, so the database works while the generator makes (and the
   * writers seal) the next grid. `drain` waits for everything sent and throws the first failure; the resident
   * writer drains before sending its grid, so at most about one grid's statements are queued.
   */
  private send(trx: Trx, text: string, params: unknown[], then?: (rows: number) => void) {
    this.last = trx.executeQuery(CompiledQuery.raw(text, params)).then(
      (r) => then?.(Number(r.numAffectedRows ?? 0)),
      (error: unknown) => {
        if (this.failure) return; // later statements fail only because the transaction is aborted
        this.failure = { error };
        // The build may be finishing already: its next statement then fails as "transaction aborted"; say why.
        console.error(`basedata writers: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  }

  private async drain() {
    const t = performance.now();
    await this.last;
    this.stats.waitMs += performance.now() - t;
    if (this.failure) throw this.failure.error;
  }

  /** Runs a statement and waits for it (after everything sent before it). */
  private async run(trx: Trx, text: string) {
    await this.drain();
    const t = performance.now();
    await trx.executeQuery(CompiledQuery.raw(text, []));
    this.stats.waitMs += performance.now() - t;
  }

  /** A new build (a new transaction) starts from nothing. */
  private async begin(ctx: TableWriterContext) {
    if (ctx.trx === this.trx) return;
    this.trx = ctx.trx;
    const drain = () => this.drain();
    this.ids = { house: new IdBlock('house', drain), household: new IdBlock('household', drain), resident: new IdBlock('resident', drain), party_member: new IdBlock('party_member', drain) };
    this.grid = null;
    this.analyzed = false;
    this.last = Promise.resolve();
    this.failure = null;
    Object.assign(this.stats, emptyStats());
    // See "Planner" above. SET LOCAL ends with the transaction.
    await this.run(ctx.trx, 'set local enable_seqscan = off');
    await this.run(ctx.trx, 'analyze org_unit, party_org');
  }

  /** The state of the batch's grid; the first batch of a new grid drops the previous grid's maps. */
  private gridOf(rows: readonly { gridSeq: number }[], type: string): GridState {
    const gridSeq = rows[0].gridSeq;
    for (const r of rows) {
      if (r.gridSeq !== gridSeq) throw new Error(`basedata writers: a ${type} batch spans grids ${gridSeq} and ${r.gridSeq}; they need the batches as the generator emits them (one grid each)`);
    }
    if (this.grid?.gridSeq !== gridSeq) {
      if (this.grid?.pendingHouseholds) throw new Error(`basedata writers: the households of grid ${this.grid.gridSeq} never got their residents`);
      if (this.grid?.ownersHere.size) throw new Error(`basedata writers: owners of houses in grid ${this.grid.gridSeq} are not among its residents`);
      this.grid = { gridSeq, houses: new Map(), ownersHere: new Map(), households: new Map(), pendingHouseholds: null, pendingHeads: new Map(), residents: new Map() };
    }
    return this.grid;
  }

  private houseId(grid: GridState, houseNo: string | null, of: string): number | null {
    if (houseNo === null) return null;
    const id = grid.houses.get(houseNo);
    if (id === undefined) throw new Error(`basedata writers: ${of} refers to house ${houseNo}, not written before it in grid ${grid.gridSeq}`);
    return id;
  }

  private seal(kind: 'id_number' | 'phone', value: string | null): Sealed {
    if (!value) return NOT_GIVEN;
    const s = this.pii.seal(kind, kind === 'id_number' ? 'resident.id_number' : 'resident.phone', value);
    return [s.ciphertext, s.lookupHash, s.head, s.tail];
  }

  async houses(ctx: TableWriterContext, rows: HouseRecord[]) {
    await this.begin(ctx);
    const grid = this.gridOf(rows, 'house');
    const first = await this.ids.house.take(ctx, rows.length);
    const houses = new Rows(HOUSE);
    rows.forEach((h, i) => {
      grid.houses.set(h.houseNo, first + i);
      if (h.ownerResidentNo) grid.ownersHere.set(h.ownerResidentNo, first + i);
      houses.push(ctx.districtId(h.unitSeq), first + i, ctx.unitId(h.unitSeq), h.address, h.area, USAGE[h.use]);
    });
    // An address taken by a house of another grid: the second statement inserts that house with the same id
    // and the address qualified with the house no.
    const params: unknown[] = [];
    this.send(ctx.trx, insertSql('house', houses, params, { tail: ' on conflict (district_id, address) where archived_at is null do nothing' }), params);
    const retry = houses.with('address', rows.map((h) => `${h.address}（${h.houseNo}）`));
    const retryParams: unknown[] = [];
    const missing = ' where not exists (select 1 from house h where h.district_id = t.district_id and h.id = t.id)';
    this.send(ctx.trx, insertSql('house', retry, retryParams, { tail: missing }), retryParams, (n) => (this.stats.addressesQualified += n));
    this.stats.houses += rows.length;

    // Owners living elsewhere, with their house_owner rows, in one statement.
    const elsewhere = rows.filter((h) => !h.ownerResidentNo && h.ownerIdNumber);
    if (!elsewhere.length) return;
    const firstOwner = await this.ids.resident.take(ctx, elsewhere.length);
    const owners = new Rows(RESIDENT);
    const links = new Rows(HOUSE_OWNER);
    const t = performance.now();
    elsewhere.forEach((h, i) => {
      const districtId = ctx.districtId(h.unitSeq);
      owners.push(
        districtId, firstOwner + i, ctx.unitId(h.unitSeq), null, null, h.ownerName, nameInitials(h.ownerName),
        genderOfIdNumber(h.ownerIdNumber), birthDateOfIdNumber(h.ownerIdNumber),
        ...this.seal('id_number', h.ownerIdNumber), ...this.seal('phone', h.ownerPhone),
        'other', null, null,
      );
      links.push(districtId, grid.houses.get(h.houseNo), firstOwner + i);
    });
    this.stats.sealMs += performance.now() - t;
    const ownerParams: unknown[] = [];
    const link = insertSql('house_owner', links, ownerParams);
    this.send(ctx.trx, `with o as (${link}) ${insertSql('resident', owners, ownerParams)}`, ownerParams);
    this.stats.ownersElsewhere += owners.length;
    this.stats.houseOwners += links.length;
  }

  async households(ctx: TableWriterContext, rows: HouseholdRecord[]) {
    await this.begin(ctx);
    const grid = this.gridOf(rows, 'household');
    if (grid.pendingHouseholds) throw new Error(`basedata writers: a second household batch for grid ${grid.gridSeq}`);
    const first = await this.ids.household.take(ctx, rows.length);
    const households = new Rows(HOUSEHOLD);
    rows.forEach((h, i) => {
      grid.households.set(h.householdNo, first + i);
      grid.pendingHeads.set(h.headResidentNo, i);
      const name = h.orgName ?? `${h.headName}户`;
      // head_resident_id: set when the residents come
      households.push(ctx.districtId(h.unitSeq), first + i, ctx.unitId(h.unitSeq), h.kind, h.householdNo, name, this.houseId(grid, h.houseNo, `household ${h.householdNo}`), null, h.address);
    });
    grid.pendingHouseholds = households;
    this.stats.households += rows.length;
  }

  async residents(ctx: TableWriterContext, rows: ResidentRecord[]) {
    await this.begin(ctx);
    const grid = this.gridOf(rows, 'resident');
    const first = await this.ids.resident.take(ctx, rows.length);
    const households = grid.pendingHouseholds;
    const residents = new Rows(RESIDENT);
    const links = new Rows(HOUSE_OWNER);
    let sealMs = 0;
    rows.forEach((r, i) => {
      const id = first + i;
      grid.residents.set(r.residentNo, id);
      const districtId = ctx.districtId(r.unitSeq);
      const householdId = grid.households.get(r.householdNo);
      if (householdId === undefined) throw new Error(`basedata writers: resident ${r.residentNo} refers to household ${r.householdNo}, not written before it in grid ${grid.gridSeq}`);
      const headOf = grid.pendingHeads.get(r.residentNo);
      if (headOf !== undefined && households) {
        households.set(headOf, 'head_resident_id', id);
        grid.pendingHeads.delete(r.residentNo);
      }
      const owns = grid.ownersHere.get(r.residentNo);
      if (owns !== undefined) {
        links.push(districtId, owns, id);
        grid.ownersHere.delete(r.residentNo);
      }
      const t = performance.now();
      const idNumber = this.seal('id_number', r.idNumber);
      const phone = this.seal('phone', r.phone);
      sealMs += performance.now() - t;
      residents.push(
        districtId, id, ctx.unitId(r.unitSeq), householdId, this.houseId(grid, r.houseNo, `resident ${r.residentNo}`), r.name, nameInitials(r.name), GENDER[r.gender], r.birthDate,
        ...idNumber, ...phone, registrationOf(r.residenceType), r.relation, r.currentAddress,
      );
    });
    if (grid.pendingHeads.size) throw new Error(`basedata writers: heads of households of grid ${grid.gridSeq} are not among its residents`);
    this.stats.sealMs += sealMs;
    const params: unknown[] = [];
    const ctes: string[] = [];
    if (households) ctes.push(`h as (${insertSql('household', households, params)})`);
    if (links.length) ctes.push(`o as (${insertSql('house_owner', links, params)})`);
    await this.drain();
    this.send(ctx.trx, `${ctes.length ? `with ${ctes.join(', ')} ` : ''}${insertSql('resident', residents, params)}`, params);
    grid.pendingHouseholds = null;
    this.stats.residents += rows.length;
    this.stats.houseOwners += links.length;
    if (!this.analyzed) {
      this.analyzed = true;
      await this.run(ctx.trx, 'analyze house, household, resident');
    }
  }

  async partyMembers(ctx: TableWriterContext, rows: PartyMemberRecord[]) {
    await this.begin(ctx);
    const grid = this.gridOf(rows, 'party_member');
    const first = await this.ids.party_member.take(ctx, rows.length);
    const members = new Rows(PARTY_MEMBER);
    rows.forEach((m, i) => {
      const residentId = grid.residents.get(m.residentNo);
      if (residentId === undefined) throw new Error(`basedata writers: party member ${m.residentNo} is not among the residents of grid ${grid.gridSeq}`);
      const orgId = m.partyOrgSeq === null ? null : ctx.partyOrgId(m.partyOrgSeq);
      members.push(ctx.districtId(m.unitSeq), first + i, residentId, orgId, ctx.unitId(m.unitSeq), m.category, m.status, m.joinedOn);
    });
    const params: unknown[] = [];
    this.send(ctx.trx, insertSql('party_member', members, params, { join: BRANCH_JOIN }), params);
    this.stats.partyMembers += rows.length;
  }
}

/**
 * Registers the writers of house, household, resident (with house_owner) and party_member records, sealing
 * personal numbers with `pii`. `stats` describes the current (or last) build; a new build resets it.
 */
export function registerBasedataWriters(pii: PiiCipher): { stats: BasedataStats } {
  const w = new BasedataWriters(pii);
  registerTableWriter('house', (ctx, rows) => w.houses(ctx, rows));
  registerTableWriter('household', (ctx, rows) => w.households(ctx, rows));
  registerTableWriter('resident', (ctx, rows) => w.residents(ctx, rows));
  registerTableWriter('party_member', (ctx, rows) => w.partyMembers(ctx, rows));
  return { stats: w.stats };
}
