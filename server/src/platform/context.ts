// Who is asking, from where: handed from routes to services so audit rows and scope checks need no request.
import type { RoleCode } from '../../../shared/permissions.ts';

export interface Grant {
  grantId: number;
  role: RoleCode;
  districtId: number;
  unitId: number;
  /** the granted unit's ancestry path; the grant reaches every unit whose path starts with it */
  unitPath: string;
}

export interface Actor {
  userId: number;
  username: string;
  displayName: string;
  grants: Grant[];
  mustChangePassword: boolean;
}

export interface RequestContext {
  actor: Actor;
  clientIp: string | null;
}

/** Context for writes made by the command line (init, seed): audited as the system. */
export function systemContext(name = 'system'): RequestContext {
  return { actor: { userId: 0, username: name, displayName: name, grants: [], mustChangePassword: false }, clientIp: null };
}

/**
 * Context for a caller without an account (a resident reporting or tracking with a code): no grants, so no
 * permission anywhere; audited under `name` (e.g. 'public'). Never userId 0, which is the system.
 */
export function publicContext(name: string, clientIp: string | null): RequestContext {
  return { actor: { userId: -1, username: name, displayName: name, grants: [], mustChangePassword: false }, clientIp };
}
