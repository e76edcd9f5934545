// Permission codes (`resource.action`) and the built-in roles, shared by the server (which enforces them)
// and the web client (which hides what a user cannot do). One list, so the two never disagree.

export const PERMISSIONS = [
  'unit.read',
  'unit.create',
  'unit.update',
  'unit.move',
  'unit.archive',
  'party_org.read',
  'party_org.write',
  'person.read',
  'person.write',
  'post.read',
  'post.write',
  'linked_org.read',
  'linked_org.write',
  'coverage.read',
  'preset.read',
  'preset.write',
  'user.read',
  'user.write',
  'grant.write',
  'audit.read',
  'resident.read',
  'resident.write',
  // plaintext ID and phone numbers, on request with a purpose, audited and expiring
  'resident.reveal',
  // the sensitive special-group tags (社区矫正, 刑满释放, 严重精神障碍, 信访)
  'resident.sensitive',
  // ledgers with plaintext ID and phone numbers, with a stated purpose, audited
  'resident.export',
  // bulk import of base data from departments' ledgers (.xlsx / .csv)
  'resident.import',
  // base-data structures (四清): houses and owners, households, facilities, hazards
  'house.read',
  'house.write',
  'household.read',
  'household.write',
  'facility.read',
  'facility.write',
  'hazard.read',
  'hazard.write',
  // party members, 户联系 / 1+10 groups, links, visits and coverage, 设岗定责 posts
  'party_member.read',
  'party_member.write',
  'contact.read',
  'contact.write',
  // a party member's own linked households (masked) and logging visits to them
  'contact.read_own',
  'contact.visit_own',
  'member_post.read',
  'member_post.write',
  // a party member claiming or leaving a post for themselves
  'member_post.claim_own',
  // 民呼我应: the demand loop
  'demand.read',
  // report on patrol, take a hotline call, open a demand from a hazard or a council topic
  'demand.report',
  // register, decline, merge, re-route, dispatch, escalate, close (the dispatcher's work)
  'demand.dispatch',
  // accept, return and handle what is dispatched to one's unit
  'demand.handle',
  // verify a handled case on the spot (核查) or send it back for rework
  'demand.verify',
  // 党员接单: claim a resident's order from the pool and see one's own orders
  'demand.claim',
  // one's own reports as a resident: track, verify, rate
  'demand.own',
  // categories and deadlines, the working calendar, Open311 clients (deployment-wide)
  'demand.config',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = [
  'district_admin',
  'street_admin',
  'community_secretary',
  'grid_leader',
  'grid_worker',
  'party_member',
  'resident',
  'auditor',
] as const;
export type RoleCode = (typeof ROLES)[number];

const READ_GRID: Permission[] = ['unit.read', 'party_org.read', 'person.read', 'post.read', 'linked_org.read', 'coverage.read', 'preset.read'];
const EDIT_GRID: Permission[] = [
  ...READ_GRID,
  'unit.create',
  'unit.update',
  'unit.move',
  'unit.archive',
  'party_org.write',
  'person.write',
  'post.write',
  'linked_org.write',
];

const RESIDENTS_ALL: Permission[] = ['resident.read', 'resident.write', 'resident.reveal', 'resident.sensitive', 'resident.import'];
const STRUCTURES_READ: Permission[] = ['house.read', 'household.read', 'facility.read', 'hazard.read'];
const STRUCTURES_WRITE: Permission[] = [...STRUCTURES_READ, 'house.write', 'household.write', 'facility.write', 'hazard.write'];
const DEMAND_DISPATCH: Permission[] = ['demand.read', 'demand.report', 'demand.dispatch', 'demand.handle', 'demand.verify', 'demand.own'];
const PARTY_READ: Permission[] = ['party_member.read', 'contact.read', 'member_post.read'];
// Admins hold the members' own-record permissions too, so they may grant the party_member role.
const PARTY_ALL: Permission[] = [...PARTY_READ, 'party_member.write', 'contact.write', 'member_post.write', 'contact.read_own', 'contact.visit_own', 'member_post.claim_own'];

export const ROLE_PERMISSIONS: Record<RoleCode, readonly Permission[]> = {
  district_admin: [...EDIT_GRID, 'preset.write', 'user.read', 'user.write', 'grant.write', 'audit.read', ...RESIDENTS_ALL, 'resident.export', ...STRUCTURES_WRITE, ...PARTY_ALL, ...DEMAND_DISPATCH, 'demand.claim', 'demand.config'],
  street_admin: [...EDIT_GRID, 'user.read', 'user.write', 'grant.write', ...RESIDENTS_ALL, 'resident.export', ...STRUCTURES_WRITE, ...PARTY_ALL, ...DEMAND_DISPATCH, 'demand.claim'],
  community_secretary: [...EDIT_GRID, 'user.read', ...RESIDENTS_ALL, ...STRUCTURES_WRITE, ...PARTY_ALL, ...DEMAND_DISPATCH, 'demand.claim'],
  // Grid staff keep the grid's base data and the 1+10 links and visits; the party roll and posts are the community's.
  grid_leader: [...READ_GRID, 'resident.read', 'resident.write', 'resident.sensitive', ...STRUCTURES_WRITE, ...PARTY_READ, 'contact.write', ...DEMAND_DISPATCH],
  // Grid workers report on patrol, handle what their grid is given and verify on the spot; the community dispatches.
  grid_worker: [...READ_GRID, 'resident.read', 'resident.write', ...STRUCTURES_WRITE, 'party_member.read', 'contact.read', 'contact.write', 'demand.read', 'demand.report', 'demand.handle', 'demand.verify', 'demand.own'],
  // A party member sees only their own linked households, masked, and the posts they may claim.
  party_member: ['unit.read', 'party_org.read', 'preset.read', 'contact.read_own', 'contact.visit_own', 'member_post.read', 'member_post.claim_own', 'demand.claim', 'demand.own'],
  resident: ['unit.read', 'preset.read', 'demand.own'],
  // Read-only over everything in scope, including the audit log.
  auditor: [...READ_GRID, 'user.read', 'audit.read', 'resident.read', ...STRUCTURES_READ, ...PARTY_READ, 'demand.read'],
};

export const ROLE_LABELS: Record<RoleCode, { 'zh-CN': string; en: string }> = {
  district_admin: { 'zh-CN': '区级管理员', en: 'District admin' },
  street_admin: { 'zh-CN': '街道/乡镇管理员', en: 'Street/town admin' },
  community_secretary: { 'zh-CN': '社区（村）书记', en: 'Community secretary' },
  grid_leader: { 'zh-CN': '网格长', en: 'Grid leader' },
  grid_worker: { 'zh-CN': '网格员', en: 'Grid worker' },
  party_member: { 'zh-CN': '党员', en: 'Party member' },
  resident: { 'zh-CN': '居民', en: 'Resident' },
  auditor: { 'zh-CN': '审计员', en: 'Auditor' },
};

export function roleHas(role: RoleCode, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

export function isRoleCode(value: string): value is RoleCode {
  return (ROLES as readonly string[]).includes(value);
}
