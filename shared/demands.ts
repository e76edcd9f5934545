// The demand loop's vocabulary, shared by the server (demand.states.ts builds the state machine on it) and
// the web client (web/src/api/demands.ts): one definition, so a new status or channel cannot drift apart.

export const DEMAND_STATUSES = ['reported', 'registered', 'dispatched', 'accepted', 'handled', 'verified', 'closed', 'rated', 'declined', 'merged'] as const;
export type DemandStatus = (typeof DEMAND_STATUSES)[number];

/** States in which the case is still someone's work: deadlines run, escalation applies. */
export const OPEN_STATUSES: readonly DemandStatus[] = ['reported', 'registered', 'dispatched', 'accepted', 'handled', 'verified'];

export const DEMAND_ACTIONS = ['report', 'register', 'decline', 'merge', 'reroute', 'dispatch', 'claim', 'accept', 'return', 'escalate', 'handle', 'rework', 'verify', 'close', 'rate', 'reopen'] as const;
export type DemandAction = (typeof DEMAND_ACTIONS)[number];

export const DEMAND_TYPES = ['consult', 'help', 'complaint', 'report', 'suggestion'] as const;
export type DemandType = (typeof DEMAND_TYPES)[number];

export const CHANNELS = ['patrol', 'resident', 'hotline', 'council', 'hazard', 'member_order', 'open311'] as const;
export type Channel = (typeof CHANNELS)[number];

export const HANDLER_TYPES = ['unit', 'member', 'linked_org', 'department', 'council'] as const;
export type HandlerType = (typeof HANDLER_TYPES)[number];

export const RATINGS = ['satisfied', 'basically_satisfied', 'unsatisfied'] as const;
export type Rating = (typeof RATINGS)[number];

/** Whom a case is dispatched to. */
export type HandlerInput =
  | { type: 'unit'; unitId: number }
  | { type: 'member'; memberId: number }
  | { type: 'linked_org'; linkedOrgId: number }
  | { type: 'department' | 'council'; name: string };
