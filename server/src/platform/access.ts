// Roles × org scope. A role granted on a unit reaches that unit's subtree. Checks return the allowed set
// of subtree paths; a unit outside every path "does not exist" for the caller (404, not 403).
import { ROLE_PERMISSIONS, type Permission } from '../../../shared/permissions.ts';
import type { Actor } from './context.ts';
import { ForbiddenError, NotFoundError, type Messages } from './errors.ts';

export const isSystem = (actor: Actor) => actor.userId === 0;

/** Paths of the subtrees where the actor holds `permission`, with nested ones folded into their ancestor. */
export function scopePaths(actor: Actor, permission: Permission): string[] {
  if (isSystem(actor)) return ['/'];
  const paths = actor.grants.filter((g) => ROLE_PERMISSIONS[g.role].includes(permission)).map((g) => g.unitPath);
  paths.sort((a, b) => a.length - b.length);
  const folded: string[] = [];
  for (const p of paths) if (!folded.some((f) => p.startsWith(f))) folded.push(p);
  return folded;
}

export function hasPermissionAt(actor: Actor, permission: Permission, unitPath: string): boolean {
  return scopePaths(actor, permission).some((p) => unitPath.startsWith(p));
}

export function hasPermissionAnywhere(actor: Actor, permission: Permission): boolean {
  return scopePaths(actor, permission).length > 0;
}

/** All permissions the actor holds anywhere: drives which menu entries and buttons a client shows. */
export function permissionsAnywhere(actor: Actor): Permission[] {
  const set = new Set<Permission>();
  for (const g of actor.grants) for (const p of ROLE_PERMISSIONS[g.role]) set.add(p);
  return [...set].sort();
}

/**
 * Reading needs `readPermission` at the unit (else it is not found); acting needs `permission` there too
 * (else forbidden: the caller can see it, so saying "not found" would be a lie).
 */
export function authorizeAt(actor: Actor, permission: Permission, unitPath: string, what: Messages, readPermission: Permission = 'unit.read'): void {
  if (hasPermissionAt(actor, permission, unitPath)) return;
  if (permission !== readPermission && hasPermissionAt(actor, readPermission, unitPath)) throw new ForbiddenError();
  throw new NotFoundError(what);
}

export function requirePermissionAnywhere(actor: Actor, permission: Permission): void {
  if (!hasPermissionAnywhere(actor, permission)) throw new ForbiddenError();
}
