// A small locality for route tests (liwan preset): 区 → 街道 → two communities → grids → a building,
// and one account per built-in role at the level where that role works.
import type { FastifyInstance } from 'fastify';
import type { RoleCode } from '../../shared/permissions.ts';
import { initDeployment } from '../src/cli/deployment.ts';
import { GridService } from '../src/modules/grid/grid.service.ts';
import { UsersService } from '../src/modules/users/users.service.ts';
import { systemContext } from '../src/platform/context.ts';
import type { DbHandle } from '../src/db/connection.ts';
import { login, type Session } from './app.ts';

export const TEST_PASSWORD = 'Correct-Horse-9';

export interface TinyLocality {
  district: number;
  street: number;
  communityA: number;
  communityB: number;
  gridA1: number;
  gridA2: number;
  gridB1: number;
  buildingA1: number;
  users: Record<string, { id: number; username: string }>;
}

export async function buildTinyLocality(database: DbHandle, now: () => Date = () => new Date()): Promise<TinyLocality> {
  const init = await initDeployment(database, { preset: 'liwan', rootName: '测试区', now });
  const sys = systemContext('fixture');
  const grid = new GridService(database.db, now);
  const users = new UsersService(database.db);
  const street = await grid.createChild(sys, { parentId: init.root.id, kind: 'street', name: '测试街道' });
  const communityA = await grid.createChild(sys, { parentId: street.id, kind: 'community', name: '甲社区' });
  const communityB = await grid.createChild(sys, { parentId: street.id, kind: 'community', name: '乙社区' });
  const gridA1 = await grid.createChild(sys, { parentId: communityA.id, kind: 'grid', name: '甲一网格' });
  const gridA2 = await grid.createChild(sys, { parentId: communityA.id, kind: 'grid', name: '甲二网格' });
  const gridB1 = await grid.createChild(sys, { parentId: communityB.id, kind: 'grid', name: '乙一网格' });
  const buildingA1 = await grid.createChild(sys, { parentId: gridA1.id, kind: 'building', name: '1号楼' });
  const accounts: [string, RoleCode, number][] = [
    ['district_admin', 'district_admin', init.root.id],
    ['street_admin', 'street_admin', street.id],
    ['secretary_a', 'community_secretary', communityA.id],
    ['secretary_b', 'community_secretary', communityB.id],
    ['leader_a1', 'grid_leader', gridA1.id],
    ['worker_a1', 'grid_worker', gridA1.id],
    ['worker_b1', 'grid_worker', gridB1.id],
    ['member_a1', 'party_member', gridA1.id],
    ['resident_a1', 'resident', gridA1.id],
    ['auditor', 'auditor', init.root.id],
    ['auditor_b', 'auditor', communityB.id],
  ];
  const created: TinyLocality['users'] = {};
  for (const [username, role, unitId] of accounts) {
    const r = await users.create(sys, { username, displayName: username, role, unitId, password: TEST_PASSWORD });
    created[username] = { id: r.user.id, username };
  }
  return {
    district: init.root.id,
    street: street.id,
    communityA: communityA.id,
    communityB: communityB.id,
    gridA1: gridA1.id,
    gridA2: gridA2.id,
    gridB1: gridB1.id,
    buildingA1: buildingA1.id,
    users: created,
  };
}

export async function loginAll(app: FastifyInstance, tiny: TinyLocality): Promise<Record<string, Session>> {
  const sessions: Record<string, Session> = {};
  for (const username of Object.keys(tiny.users)) sessions[username] = await login(app, username, TEST_PASSWORD);
  return sessions;
}
