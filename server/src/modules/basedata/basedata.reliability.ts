// What the reliability suites need of the base-data module (docs/reliability.md): a few residents per grid
// and building for the suites' localities, leak probes for the resident routes, fuzz fixtures, a workload
// step and load reads.
import type { Db } from '../../db/connection.ts';
import type { ReliabilityHooks } from '../../platform/module.ts';
import { idCheckCharacter } from '../../platform/crypto/id-number.ts';
import { systemContext } from '../../platform/context.ts';
import { ResidentsService } from './residents.service.ts';

const MISSING_ID = 9007199254740991;

/** A fake but valid GB 11643 number: region 440103 (荔湾), a 1950–1999 birth date, the given order number. */
export function syntheticIdNumber(n: number): string {
  const year = 1950 + (n % 50);
  const month = String(1 + (n % 12)).padStart(2, '0');
  const day = String(1 + (n % 28)).padStart(2, '0');
  const first17 = `440103${year}${month}${day}${String(n % 1000).padStart(3, '0')}`;
  return first17 + idCheckCharacter(first17);
}

async function residentPaths(db: Db) {
  return db.selectFrom('resident as r').innerJoin('org_unit as u', 'u.id', 'r.unit_id').select(['r.id', 'u.path']).orderBy('r.id').execute();
}

export const basedataReliability: ReliabilityHooks = {
  seed: async ({ db, pii, units, now }) => {
    const residents = new ResidentsService(db, pii, now);
    const sys = systemContext('reliability-seed');
    let n = 1;
    for (const unit of units.filter((u) => u.kind === 'grid' || u.kind === 'building')) {
      for (let i = 0; i < 2; i++, n++) {
        await residents.create(sys, {
          unitId: unit.id,
          name: `${['张', '李', '王', '陈'][n % 4]}可靠${n}`,
          idNumber: syntheticIdNumber(n),
          phone: `138${String(10_000_000 + n).slice(-8)}`,
          address: `可靠路${n}号`,
          tags: n % 3 === 0 ? ['elderly_alone'] : [],
          sensitiveTags: n % 5 === 0 ? ['petitioner'] : [],
        });
      }
    }
  },
  leakProbes: [
    {
      route: '/api/residents/:id',
      permission: 'resident.read',
      missing: `/api/residents/${MISSING_ID}`,
      objects: async (db) => (await residentPaths(db)).map((r) => ({ url: `/api/residents/${r.id}`, unitPath: r.path })),
      restrictedFields: [{ field: 'sensitiveTags', permission: 'resident.sensitive' }],
    },
    {
      // the de-identified ledger of a unit's subtree: a unit outside the caller's scope must look like no unit at all
      route: '/api/residents/export',
      permission: 'resident.read',
      missing: `/api/residents/export?unitId=${MISSING_ID}`,
      objects: async (db) => (await db.selectFrom('org_unit').select(['id', 'path']).orderBy('id').execute()).map((u) => ({ url: `/api/residents/export?unitId=${u.id}`, unitPath: u.path })),
    },
  ],
  leakListProbes: [
    {
      route: '/api/residents',
      permission: 'resident.read',
      urls: async () => ['/api/residents?limit=200', '/api/residents?q=%E5%8F%AF%E9%9D%A0&limit=200', '/api/residents?q=zkk&limit=200', '/api/residents?limit=5&offset=2'],
      itemUnitPaths: async (body, db) => {
        const paths = new Map((await residentPaths(db)).map((r) => [Number(r.id), r.path]));
        // the JSON the suite received from GET /api/residents
        return (body as { items: { id: number }[] }).items.map((i) => paths.get(i.id) ?? '(unknown resident)');
      },
      restrictedFields: [{ field: 'sensitiveTags', permission: 'resident.sensitive' }],
    },
  ],
  fuzzFixtures: async (db) => {
    const ids = (await db.selectFrom('resident').select('id').orderBy('id').limit(30).execute()).map((r) => Number(r.id));
    return {
      params: { '/api/residents/:id': { id: ids }, '/api/residents/:id/reveal': { id: ids } },
      fields: { idNumber: [syntheticIdNumber(1), syntheticIdNumber(2).slice(0, 17) + 'X', '110101199003071234'], phone: ['13800138000', '12345'] },
    };
  },
  workload: [
    {
      name: 'register a resident in a grid',
      weight: 0.5,
      request: (v) => {
        const unitId = v.pick('unit:grid');
        if (unitId === undefined) return null;
        const n = Math.floor(v.random() * 1_000_000);
        return { method: 'POST', url: '/api/residents', body: { unitId, name: v.uniqueName('居民'), idNumber: syntheticIdNumber(n), phone: `139${String(n).padStart(8, '0')}` } };
      },
      // the JSON the workload received from POST /api/residents
      evidence: (res) => ({ action: 'resident.create', targetId: (res as { id: number }).id }),
    },
  ],
  loadReads: async () => ['/api/residents?limit=20', '/api/residents?q=%E5%BC%A0&limit=20'],
  invariants: [
    {
      // a name entered by hand (source manual:<user>) came with a resident.create or resident.update row
      name: 'every resident written through the API has its audit row, and every resident.create row its resident',
      sql: `select 'resident' as side, r.id::text as id from resident r
              where r.sources ->> 'name' like 'manual:%'
                and not exists (select 1 from audit_log l where l.action in ('resident.create', 'resident.update') and l.target_id = r.id::text)
            union all
            select 'audit', l.target_id from audit_log l where l.action = 'resident.create'
              and not exists (select 1 from resident r where r.id::text = l.target_id)`,
    },
    {
      name: 'a resident with an ID number hash has its ciphertext and last four digits (never half-sealed)',
      sql: `select id from resident where (id_hash is null) <> (id_cipher is null) or (id_hash is null) <> (id_last4 is null)
            union all select id from resident where (phone_hash is null) <> (phone_cipher is null) or (phone_hash is null) <> (phone_last4 is null)`,
    },
  ],
};
