// Demo accounts, one per built-in role, each granted where that role works. Passwords are generated
// at seed time (none is written in the code) and handed back for printing.
import type { DemoSeedContext } from '../../platform/module.ts';
import { systemContext } from '../../platform/context.ts';
import { generatePassword } from '../../platform/auth/passwords.ts';
import type { RoleCode } from '../../../../shared/permissions.ts';
import { UsersService } from './users.service.ts';

export async function seedUsersDemo(ctx: DemoSeedContext) {
  const users = new UsersService(ctx.services.db);
  const communities = ctx.data.communities as { id: number; name: string; grids: number[] }[];
  const firstGrid = communities[0].grids[0];
  const accounts: { username: string; displayName: string; role: RoleCode; unitId: number; where: string }[] = [
    { username: 'district', displayName: '区级管理员', role: 'district_admin', unitId: ctx.street.district_id, where: '全区' },
    { username: 'street', displayName: '街道管理员', role: 'street_admin', unitId: ctx.street.id, where: '街道' },
    { username: 'secretary', displayName: `${communities[0].name}书记`, role: 'community_secretary', unitId: communities[0].id, where: communities[0].name },
    { username: 'gridleader', displayName: '第1网格网格长', role: 'grid_leader', unitId: firstGrid, where: `${communities[0].name}第1网格` },
    { username: 'gridworker', displayName: '第1网格网格员', role: 'grid_worker', unitId: firstGrid, where: `${communities[0].name}第1网格` },
    { username: 'member', displayName: '党员', role: 'party_member', unitId: firstGrid, where: `${communities[0].name}第1网格` },
    { username: 'resident', displayName: '居民', role: 'resident', unitId: firstGrid, where: `${communities[0].name}第1网格` },
    { username: 'auditor', displayName: '审计员', role: 'auditor', unitId: ctx.street.district_id, where: '全区' },
  ];
  for (const a of accounts) {
    // Demo accounts get a usable password straight away; real accounts get one-time passwords.
    const password = generatePassword(12);
    await users.create(systemContext('seed'), { username: a.username, displayName: a.displayName, role: a.role, unitId: a.unitId, password }, ctx.trx);
    ctx.logins.push({ username: a.username, password, role: a.role, unit: a.where });
  }
}
