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

const RESIDENTS_ALL: Permission[] = ['resident.read', 'resident.write', 'resident.reveal', 'resident.sensitive'];

export const ROLE_PERMISSIONS: Record<RoleCode, readonly Permission[]> = {
  district_admin: [...EDIT_GRID, 'preset.write', 'user.read', 'user.write', 'grant.write', 'audit.read', ...RESIDENTS_ALL],
  street_admin: [...EDIT_GRID, 'user.read', 'user.write', 'grant.write', ...RESIDENTS_ALL],
  community_secretary: [...EDIT_GRID, 'user.read', ...RESIDENTS_ALL],
  grid_leader: [...READ_GRID, 'resident.read', 'resident.write', 'resident.sensitive'],
  grid_worker: [...READ_GRID, 'resident.read', 'resident.write'],
  party_member: ['unit.read', 'party_org.read', 'preset.read'],
  resident: ['unit.read', 'preset.read'],
  // Read-only over everything in scope, including the audit log.
  auditor: [...READ_GRID, 'user.read', 'audit.read', 'resident.read'],
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
