import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { listPresetIds, loadPreset } from '../../server/src/modules/grid/preset.ts';
import { boundaryInside, parseBoundary, type Boundary } from '../../server/src/platform/geo.ts';
import { Locality } from './locality.ts';
import { SCALES, deriveShape } from './scales.ts';
import { idIsMale, isValidIdNumber } from './idcard.ts';
import { MOBILE_PATTERN, ageOn } from './people.ts';
import { isWorkingDay } from './calendar.ts';
import { toDay } from './people.ts';
import type { Batch, DemandRecord, HouseholdRecord, PartyMemberRecord, ResidentRecord, UnitRecord } from './records.ts';

function hashOf(loc: Locality) {
  const h = createHash('sha256');
  for (const b of loc.batches()) h.update(b.type).update(JSON.stringify(b.rows));
  return h.digest('hex');
}

function collect(loc: Locality) {
  const out: { [K in Batch['type']]?: Extract<Batch, { type: K }>['rows'] } = {};
  for (const b of loc.batches()) {
    const list = (out[b.type] ??= []) as unknown[];
    for (const r of b.rows) list.push(r);
  }
  return out as {
    unit: UnitRecord[];
    resident: ResidentRecord[];
    household: HouseholdRecord[];
    party_member: PartyMemberRecord[];
    demand?: DemandRecord[];
  } & Record<string, unknown[] | undefined>;
}

describe('determinism', () => {
  const liwan = loadPreset('liwan');
  it('the same seed gives the same stream, another seed another', () => {
    const a = hashOf(new Locality(liwan, SCALES.village, { seed: 42, withHistory: true }));
    const b = hashOf(new Locality(liwan, SCALES.village, { seed: 42, withHistory: true }));
    const c = hashOf(new Locality(liwan, SCALES.village, { seed: 43, withHistory: true }));
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });
});

describe('shapes from presets', () => {
  it('liwan and nanhai scales give the published counts per level', () => {
    const liwan = deriveShape(loadPreset('liwan'), SCALES.liwan);
    expect(liwan.levels.map((l) => [l.kinds.join('|'), l.count])).toEqual([
      ['district', 1], ['street', 22], ['community', 201], ['grid', 1044], ['building', 8350], ['responsibility_zone', 20000],
    ]);
    const nanhai = deriveShape(loadPreset('nanhai'), SCALES.nanhai);
    expect(nanhai.levels.map((l) => l.count)).toEqual([1, 7, 292, 2196, 5395]);
    expect(nanhai.levels[2].kinds.sort()).toEqual(['community', 'village']);
    const loc = new Locality(loadPreset('liwan'), SCALES.liwan, { seed: 1 });
    const perKind = new Map<string, number>();
    for (const u of loc.units) perKind.set(u.kind, (perKind.get(u.kind) ?? 0) + 1);
    expect(Object.fromEntries(perKind)).toEqual({ district: 1, street: 22, community: 201, grid: 1044, building: 8350, responsibility_zone: 20000 });
  });

  it('bengbu keeps its city above the district; luancheng takes its longest chain', () => {
    const bengbu = deriveShape(loadPreset('bengbu'), SCALES.street);
    expect(bengbu.ancestors).toEqual(['city']);
    expect(bengbu.levels[0].kinds).toEqual(['county_district']);
    const luancheng = deriveShape(loadPreset('luancheng'), SCALES.street);
    expect(luancheng.levels.map((l) => l.kinds.join('|'))).toEqual(['district', 'town', 'community', 'grid', 'courtyard', 'building']);
  });
});

describe.each(listPresetIds())('a village of preset %s', (presetId) => {
  const preset = loadPreset(presetId);
  const loc = new Locality(preset, SCALES.village, { seed: 9, withHistory: true, gapRate: 0.1 });
  const data = collect(loc);
  const units = new Map(data.unit.map((u) => [u.seq, u]));
  const kinds = new Map(preset.unitKinds.map((k) => [k.code, k]));

  it('places every unit under a parent its preset allows, names unique among siblings', () => {
    const names = new Set<string>();
    for (const u of data.unit) {
      if (u.parentSeq === null) {
        expect(preset.rootKinds).toContain(u.kind);
        continue;
      }
      const parent = units.get(u.parentSeq)!;
      expect(kinds.get(parent.kind)!.children).toContain(u.kind);
      expect(u.depth).toBe(parent.depth + 1);
      const key = `${u.parentSeq}/${u.name}`;
      expect(names.has(key)).toBe(false);
      names.add(key);
    }
  });

  it('gives boundaries down to the grid level that parse, sit inside the parent and tile it', () => {
    const children = new Map<number, UnitRecord[]>();
    for (const u of data.unit) {
      if (!u.boundary) continue;
      const parsed = parseBoundary(u.boundary);
      expect('boundary' in parsed).toBe(true);
      if (u.parentSeq === null) continue;
      const parent = units.get(u.parentSeq)!;
      expect(parent.boundary).not.toBeNull();
      expect(boundaryInside(u.boundary as Boundary, parent.boundary as Boundary)).toBeNull();
      children.set(u.parentSeq, [...(children.get(u.parentSeq) ?? []), u]);
    }
    const grids = data.unit.filter((u) => kinds.get(u.kind)?.isGrid);
    expect(grids.length).toBeGreaterThan(0);
    for (const g of grids) expect(g.boundary).not.toBeNull();
    const area = (u: UnitRecord) => {
      const [[a, , c]] = u.boundary!.coordinates;
      return (c[0] - a[0]) * (c[1] - a[1]);
    };
    for (const [parentSeq, kids] of children) {
      const sum = kids.reduce((s, k) => s + area(k), 0);
      expect(sum).toBeCloseTo(area(units.get(parentSeq)!), 12);
      // no two children overlap (they may share edges)
      for (let i = 0; i < kids.length; i++) {
        for (let j = i + 1; j < kids.length; j++) {
          const [[a1, , c1]] = kids[i].boundary!.coordinates;
          const [[a2, , c2]] = kids[j].boundary!.coordinates;
          const overlap = Math.max(0, Math.min(c1[0], c2[0]) - Math.max(a1[0], a2[0])) * Math.max(0, Math.min(c1[1], c2[1]) - Math.max(a1[1], a2[1]));
          expect(overlap).toBeLessThan(1e-12);
        }
      }
    }
  });

  it('has exactly the residents asked for, with valid, unique identity numbers and phones', () => {
    expect(data.resident.length).toBe(SCALES.village.residents);
    const ids = new Set<string>();
    for (const r of data.resident) {
      expect(isValidIdNumber(r.idNumber)).toBe(true);
      expect(r.idNumber.slice(6, 14)).toBe(r.birthDate.replaceAll('-', ''));
      expect(idIsMale(r.idNumber)).toBe(r.gender === '男');
      expect(ids.has(r.idNumber)).toBe(false);
      ids.add(r.idNumber);
      if (r.phone) expect(r.phone).toMatch(MOBILE_PATTERN);
      expect(r.name.length).toBeGreaterThanOrEqual(2);
      expect(r.name.length).toBeLessThanOrEqual(4);
      const age = ageOn(r.birthDate, loc.asOf);
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThanOrEqual(105);
    }
    const heads = data.household.map((h) => h.headResidentNo);
    expect(new Set(heads).size).toBe(data.household.length);
    expect(data.household.reduce((s, h) => s + h.size, 0)).toBe(data.resident.length);
  });

  it('houses have two-decimal areas and owners with valid numbers', () => {
    for (const h of (data.house ?? []) as { area: string; ownerIdNumber: string; ownerName: string }[]) {
      expect(h.area).toMatch(/^\d+\.\d{2}$/);
      expect(isValidIdNumber(h.ownerIdNumber)).toBe(true);
      expect(h.ownerName).not.toBe('');
    }
  });

  it('demands run on working days in order', () => {
    for (const d of data.demand ?? []) {
      let previous = '';
      for (const step of d.timeline) {
        expect(isWorkingDay(toDay(step.at.slice(0, 10)))).toBe(true);
        const hm = step.at.slice(11, 16);
        expect((hm >= '08:30' && hm <= '12:00') || (hm >= '14:00' && hm <= '17:30')).toBe(true);
        expect(step.at >= previous).toBe(true);
        previous = step.at;
      }
    }
  });
});

describe('a street of liwan', () => {
  const loc = new Locality(loadPreset('liwan'), SCALES.street, { seed: 3 });
  const data = collect(loc);
  it('has about 4% of adults in the party, all five categories, some probationary', () => {
    const adults = data.resident.filter((r) => ageOn(r.birthDate, loc.asOf) >= 18).length;
    const share = data.party_member.length / adults;
    expect(share).toBeGreaterThan(0.03);
    expect(share).toBeLessThan(0.05);
    expect(new Set(data.party_member.map((m) => m.category)).size).toBe(5);
    const probationary = data.party_member.filter((m) => m.status === 'probationary');
    expect(probationary.length).toBeGreaterThan(0);
    for (const m of probationary) expect(m.confirmedOn).toBeNull();
    expect(new Set(data.household.map((h) => h.kind))).toEqual(new Set(['registered_family', 'non_registered_family', 'business', 'social_org']));
  });
});
