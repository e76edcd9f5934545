// The localities the suites run on: a preset deployment (liwan) with a district tree of a chosen shape,
// party organisations and posts on part of it (the rest are coverage gaps), and accounts with a known
// password. Everything goes through the services, so every row has its audit row like real data.
import type { RoleCode } from '../../shared/permissions.ts';
import type { DbHandle } from '../../server/src/db/connection.ts';
import { initDeployment } from '../../server/src/cli/deployment.ts';
import { GridService } from '../../server/src/modules/grid/grid.service.ts';
import { UsersService } from '../../server/src/modules/users/users.service.ts';
import { systemContext } from '../../server/src/platform/context.ts';
import { Random } from '../../server/src/platform/random.ts';
import { MODULES } from '../../server/src/modules/index.ts';
import { reliabilityPii } from './keyring.ts';

export const RELIABILITY_PASSWORD = 'Reliable-Horse-42';

/** The tree levels the access suite grants roles at, from the top. */
export const LEVELS = ['district', 'street', 'community', 'grid', 'building'] as const;
export type Level = (typeof LEVELS)[number];

export interface LocalityShape {
  streets: number;
  communitiesPerStreet: number;
  gridsPerCommunity: number;
  buildingsPerGrid: number;
  /** a second, smaller district, so grants at district level have something outside them */
  secondDistrict?: boolean;
  /** share of units given their party organisation and staff; the rest are coverage gaps */
  staffed?: number;
}

export interface SeededUnit {
  id: number;
  kind: string;
  path: string;
  parentId: number | null;
  districtId: number;
}

export interface AccountSpec {
  username: string;
  role: RoleCode;
  unitId: number;
  /** further grants (role on unit) */
  extra?: { role: RoleCode; unitId: number }[];
}

export interface Locality {
  districts: number[];
  units: SeededUnit[];
  /** the first unit at every level of the first district: where generated accounts sit */
  firstBranch: Record<Level, number>;
  accounts: (AccountSpec & { id: number })[];
  password: string;
}

export async function seedLocality(database: DbHandle, shape: LocalityShape, accounts: (l: Omit<Locality, 'accounts' | 'password'>) => AccountSpec[], seed = 1): Promise<Locality> {
  const sys = systemContext('reliability-seed');
  const grid = new GridService(database.db, () => new Date());
  const users = new UsersService(database.db);
  const rng = new Random(seed);
  const init = await initDeployment(database, { preset: 'liwan', rootName: '可靠区', adminUsername: 'first_admin' });
  const units: SeededUnit[] = [];
  const firstBranch = {} as Record<Level, number>;
  const districts = [init.root.id];
  const staffed = shape.staffed ?? 0.7;

  await database.db.transaction().execute(async (trx) => {
    const roles = await trx.selectFrom('staff_role').select(['kind_code', 'code', 'required', 'leader']).execute();
    const kinds = new Map((await trx.selectFrom('unit_kind').select(['code', 'party_org_kinds', 'requires_party_org']).execute()).map((k) => [k.code, k]));
    const add = (u: { id: number; kind_code: string; path: string; parent_id: number | null; district_id: number }) => {
      units.push({ id: u.id, kind: u.kind_code, path: u.path, parentId: u.parent_id, districtId: u.district_id });
    };
    const staff = async (unitId: number, kind: string, label: string) => {
      const k = kinds.get(kind)!;
      if (k.requires_party_org && k.party_org_kinds.length && rng.chance(staffed)) {
        await grid.bindPartyOrg(sys, unitId, { kind: k.party_org_kinds[k.party_org_kinds.length - 1], name: `${label}党组织`, foundedOn: '2019-07-01' }, trx);
      }
      for (const r of roles.filter((x) => x.kind_code === kind && (x.required || x.leader))) {
        if (rng.chance(staffed)) await grid.appointPost(sys, unitId, { role: r.code, personName: `${label}${r.code}`, startedOn: '2023-03-01' }, trx);
      }
    };
    const child = async (parentId: number, kind: string, name: string) => {
      const u = await grid.createChild(sys, { parentId, kind, name }, trx);
      add(u);
      await staff(u.id, kind, name);
      return u.id;
    };
    const tree = async (districtId: number, tag: string, s: LocalityShape) => {
      for (let a = 1; a <= s.streets; a++) {
        const street = await child(districtId, 'street', `${tag}街道${a}`);
        for (let b = 1; b <= s.communitiesPerStreet; b++) {
          const community = await child(street, 'community', `${tag}社区${a}-${b}`);
          await grid.addLinkedOrg(sys, community, { kind: 'property_company', name: `${tag}物业${a}-${b}` }, trx);
          for (let c = 1; c <= s.gridsPerCommunity; c++) {
            const g = await child(community, 'grid', `${tag}网格${a}-${b}-${c}`);
            for (let d = 1; d <= s.buildingsPerGrid; d++) {
              const building = await child(g, 'building', `${tag}楼${a}-${b}-${c}-${d}`);
              if (districtId === init.root.id && a === 1 && b === 1 && c === 1 && d === 1) {
                Object.assign(firstBranch, { district: districtId, street, community, grid: g, building });
                await child(building, 'responsibility_zone', `${tag}责任区1`);
              }
            }
          }
        }
      }
    };
    add((await grid.repo.unit(init.root.id, trx))!);
    await staff(init.root.id, 'district', '可靠区');
    await tree(init.root.id, '甲', shape);
    if (shape.secondDistrict) {
      const second = await grid.createRoot(trx, sys, { kind: 'district', name: '邻区' });
      add(second);
      districts.push(second.id);
      await tree(second.id, '乙', { streets: 1, communitiesPerStreet: 1, gridsPerCommunity: 1, buildingsPerGrid: 1 });
    }
  });

  // the modules' own objects (residents, …), through their services
  for (const module of MODULES) {
    await module.reliability?.seed?.({ db: database.db, pii: reliabilityPii, now: () => new Date(), units });
  }

  const locality = { districts, units, firstBranch };
  const created: Locality['accounts'] = [];
  for (const spec of accounts(locality)) {
    const r = await users.create(sys, { username: spec.username, displayName: spec.username, role: spec.role, unitId: spec.unitId, password: RELIABILITY_PASSWORD });
    for (const g of spec.extra ?? []) await users.addGrant(sys, r.user.id, g);
    created.push({ ...spec, id: r.user.id });
  }
  return { ...locality, accounts: created, password: RELIABILITY_PASSWORD };
}
