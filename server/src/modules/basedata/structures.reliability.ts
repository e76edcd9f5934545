// What the reliability suites need of houses, households, facilities and hazards (docs/reliability.md):
// a house and household per building, a facility and hazard per grid in the suites' localities; leak probes
// for every GET route; fuzz fixtures; workload steps; invariants. `combineHooks` lets the base-data manifest
// declare these beside the residents' hooks without touching them.
import type { Db } from '../../db/connection.ts';
import type { ReliabilityHooks } from '../../platform/module.ts';
import { systemContext } from '../../platform/context.ts';
import { HousesService } from './houses.service.ts';
import { HouseholdsService } from './households.service.ts';
import { FacilitiesService } from './facilities.service.ts';
import { HazardsService } from './hazards.service.ts';

const MISSING_ID = 9007199254740991;
const itemsOf = (body: unknown) => (body as { items: { id: number; unitId: number }[] }).items;

/** Merges two modules' worth of hooks: lists concatenate, seeds run one after the other. */
export function combineHooks(a: ReliabilityHooks, b: ReliabilityHooks): ReliabilityHooks {
  const cat = <T>(x?: T[], y?: T[]) => (x || y ? [...(x ?? []), ...(y ?? [])] : undefined);
  return {
    seed: a.seed || b.seed ? async (ctx) => { await a.seed?.(ctx); await b.seed?.(ctx); } : undefined,
    leakProbes: cat(a.leakProbes, b.leakProbes),
    leakListProbes: cat(a.leakListProbes, b.leakListProbes),
    leakExempt: cat(a.leakExempt, b.leakExempt),
    fuzzFixtures:
      a.fuzzFixtures || b.fuzzFixtures
        ? async (db) => {
            const x = (await a.fuzzFixtures?.(db)) ?? {};
            const y = (await b.fuzzFixtures?.(db)) ?? {};
            const fields: Record<string, (string | number)[]> = { ...(x.fields ?? {}) };
            for (const [k, v] of Object.entries(y.fields ?? {})) fields[k] = [...(fields[k] ?? []), ...v];
            return { params: { ...(x.params ?? {}), ...(y.params ?? {}) }, fields };
          }
        : undefined,
    workloadObjects: a.workloadObjects || b.workloadObjects ? async (db) => [...((await a.workloadObjects?.(db)) ?? []), ...((await b.workloadObjects?.(db)) ?? [])] : undefined,
    workload: cat(a.workload, b.workload),
    loadReads: a.loadReads || b.loadReads ? async (db) => [...((await a.loadReads?.(db)) ?? []), ...((await b.loadReads?.(db)) ?? [])] : undefined,
    invariants: cat(a.invariants, b.invariants),
    figures: cat(a.figures, b.figures),
  };
}

type Table = 'house' | 'household' | 'facility' | 'hazard';
async function rowsWithPaths(db: Db, table: Table) {
  return db.selectFrom(`${table} as t` as 'house as t').innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 't.district_id').onRef('u.id', '=', 't.unit_id')).select(['t.id', 'u.path']).orderBy('t.id').execute();
}
async function unitPaths(db: Db) {
  return new Map((await db.selectFrom('org_unit').select(['id', 'path']).execute()).map((u) => [Number(u.id), u.path]));
}

const ROUTES: { table: Table; base: string; permission: 'house.read' | 'household.read' | 'facility.read' | 'hazard.read'; lists: string[] }[] = [
  { table: 'house', base: '/api/houses', permission: 'house.read', lists: ['/api/houses?limit=200', '/api/houses?q=%E5%8F%AF%E9%9D%A0&limit=200', '/api/houses?includeArchived=true&limit=200'] },
  { table: 'household', base: '/api/households', permission: 'household.read', lists: ['/api/households?limit=200', '/api/households?kind=registered_family&limit=200', '/api/households?q=%E6%88%B7&limit=200'] },
  { table: 'facility', base: '/api/facilities', permission: 'facility.read', lists: ['/api/facilities?limit=200', '/api/facilities?kind=fire_hydrant&limit=200'] },
  { table: 'hazard', base: '/api/hazards', permission: 'hazard.read', lists: ['/api/hazards?limit=200', '/api/hazards?status=open&limit=200', '/api/hazards?q=%E9%80%9A%E9%81%93&limit=200'] },
];

export const structuresReliability: ReliabilityHooks = {
  seed: async ({ db, units, now }) => {
    const sys = systemContext('reliability-seed');
    const houses = new HousesService(db, now);
    const households = new HouseholdsService(db, now);
    const facilities = new FacilitiesService(db, now);
    const hazards = new HazardsService(db, now);
    let n = 0;
    for (const unit of units.filter((u) => u.kind === 'building')) {
      n++;
      const house = await houses.create(sys, { unitId: unit.id, address: `可靠路${n}号${unit.id}室`, exclusiveArea: 60 + (n % 40), lng: 113.2 + (n % 100) / 10_000, lat: 23.1 + (n % 50) / 10_000 });
      const household = await households.create(sys, { unitId: unit.id, kind: n % 7 === 0 ? 'business' : 'registered_family', name: `可靠${n}户`, houseId: house.id, code: `R${unit.id}` });
      // the residents the base-data seed put in this building become the household
      const residents = await db.selectFrom('resident').select('id').where('unit_id', '=', unit.id).where('household_id', 'is', null).orderBy('id').execute();
      for (const [k, r] of residents.entries()) await households.addMember(sys, household.id, { residentId: Number(r.id), relationToHead: k === 0 ? '户主' : '家属', head: k === 0 });
      if (residents.length) await houses.setOwners(sys, house.id, [{ residentId: Number(residents[0].id), share: 1 }]);
    }
    for (const unit of units.filter((u) => u.kind === 'grid')) {
      n++;
      const facility = await facilities.create(sys, { unitId: unit.id, kind: 'fire_hydrant', name: `可靠消防栓${n}`, lng: 113.25, lat: 23.12 });
      const hazard = await hazards.create(sys, { unitId: unit.id, facilityId: facility.id, category: '消防通道堵塞', description: `可靠巡查${n}：通道堆放杂物`, severity: 'medium', foundOn: '2026-01-10', ownerUnit: '可靠物业' });
      if (n % 2 === 0) await hazards.transition(sys, hazard.id, { to: 'rectifying' });
    }
  },
  leakProbes: ROUTES.map((r) => ({
    route: `${r.base}/:id`,
    permission: r.permission,
    missing: `${r.base}/${MISSING_ID}`,
    objects: async (db: Db) => (await rowsWithPaths(db, r.table)).map((x) => ({ url: `${r.base}/${x.id}`, unitPath: x.path })),
  })),
  leakListProbes: ROUTES.map((r) => ({
    route: r.base,
    permission: r.permission,
    urls: async () => r.lists,
    // the JSON the suite received from the list route: every item carries its unitId
    itemUnitPaths: async (body: unknown, db: Db) => {
      const paths = await unitPaths(db);
      return itemsOf(body).map((i) => paths.get(i.unitId) ?? '(unknown unit)');
    },
  })),
  fuzzFixtures: async (db) => {
    const ids = async (table: Table) => (await db.selectFrom(table).select('id').orderBy('id').limit(30).execute()).map((r) => Number(r.id));
    const [houses, households, facilities, hazards] = await Promise.all([ids('house'), ids('household'), ids('facility'), ids('hazard')]);
    const residents = (await db.selectFrom('resident').select('id').orderBy('id').limit(30).execute()).map((r) => Number(r.id));
    return {
      params: {
        '/api/houses/:id': { id: houses },
        '/api/houses/:id/archive': { id: houses },
        '/api/houses/:id/owners': { id: houses },
        '/api/households/:id': { id: households },
        '/api/households/:id/archive': { id: households },
        '/api/households/:id/members': { id: households },
        '/api/households/:id/members/:residentId': { id: households, residentId: residents },
        '/api/households/:id/head': { id: households },
        '/api/facilities/:id': { id: facilities },
        '/api/hazards/:id': { id: hazards },
        '/api/hazards/:id/transition': { id: hazards },
      },
      fields: { houseId: houses, householdId: households, facilityId: facilities, residentId: residents, exclusiveArea: [0.01, 88.5, 1e7], share: [0.5, 1, 0.3333333] },
    };
  },
  workloadObjects: async (db) => {
    const hazards = await db.selectFrom('hazard').select('id').where('status', '=', 'open').orderBy('id').execute();
    return hazards.map((h) => ({ type: 'hazard:open', id: Number(h.id) }));
  },
  workload: [
    {
      name: 'register a house in a building',
      weight: 0.5,
      request: (v) => {
        const unitId = v.pick('unit:building');
        return unitId === undefined ? null : { method: 'POST', url: '/api/houses', body: { unitId, address: v.uniqueName('负载路'), exclusiveArea: 75.5 } };
      },
      evidence: (res) => ({ action: 'house.create', targetId: (res as { id: number }).id }),
    },
    {
      name: 'report a hazard in a grid',
      weight: 0.4,
      request: (v) => {
        const unitId = v.pick('unit:grid');
        return unitId === undefined ? null : { method: 'POST', url: '/api/hazards', body: { unitId, category: '电动车违规充电', description: v.uniqueName('隐患'), severity: 'high', foundOn: '2026-01-15' } };
      },
      made: (res) => [{ type: 'hazard:open', id: (res as { id: number }).id }],
      evidence: (res) => ({ action: 'hazard.create', targetId: (res as { id: number }).id }),
    },
    {
      name: 'start rectifying a hazard',
      weight: 0.3,
      request: (v) => {
        const id = v.take('hazard:open');
        return id === undefined ? null : { method: 'POST', url: `/api/hazards/${id}/transition`, body: { to: 'rectifying', note: '已通知责任单位' } };
      },
      evidence: (res) => ({ action: 'hazard.transition', targetId: (res as { id: number }).id, after: { status: 'rectifying' } }),
    },
  ],
  loadReads: async () => ['/api/houses?limit=20', '/api/households?limit=20', '/api/hazards?status=open&limit=20'],
  invariants: [
    {
      name: 'every house, household, facility and hazard has its creation audit row, and every creation row its object',
      sql: `select 'house' as t, h.id::text from house h where h.sources ->> 'address' like 'manual:%' and not exists (select 1 from audit_log l where l.action = 'house.create' and l.target_id = h.id::text)
            union all select 'household', h.id::text from household h where h.sources ->> 'name' like 'manual:%' and not exists (select 1 from audit_log l where l.action = 'household.create' and l.target_id = h.id::text)
            union all select 'facility', f.id::text from facility f where not exists (select 1 from audit_log l where l.action = 'facility.create' and l.target_id = f.id::text)
            union all select 'hazard', z.id::text from hazard z where not exists (select 1 from audit_log l where l.action = 'hazard.create' and l.target_id = z.id::text)
            union all select 'audit:' || l.action, l.target_id from audit_log l where l.action = 'house.create' and not exists (select 1 from house h where h.id::text = l.target_id)
            union all select 'audit:' || l.action, l.target_id from audit_log l where l.action = 'hazard.create' and not exists (select 1 from hazard z where z.id::text = l.target_id)`,
    },
    {
      name: "a house's owner shares add up to at most 1",
      sql: `select house_id from house_owner group by district_id, house_id having sum(share) > 1`,
    },
    {
      name: 'a household head is a member of the household',
      sql: `select h.id from household h join resident r on r.district_id = h.district_id and r.id = h.head_resident_id where r.household_id is distinct from h.id`,
    },
    {
      name: "a hazard's status is the one its last transition set",
      sql: `select z.id from hazard z
              join lateral (select l.after ->> 'status' as status from audit_log l where l.target_type = 'hazard' and l.target_id = z.id::text and l.action = 'hazard.transition' order by l.id desc limit 1) t on true
            where t.status <> z.status`,
    },
  ],
};
