// Party members and 户联系 / 1+10: links between households and members, automatic assignment, visits, coverage.
import { http } from './http';

export type MemberCategory = 'ordinary' | 'in_service' | 'floating' | 'unemployed' | 'elderly';
export type MemberStatus = 'full' | 'probationary';

export interface PartyMember {
  id: number;
  residentId: number;
  name: string;
  partyOrgId: number;
  partyOrgName: string;
  unitId: number;
  unitName: string;
  category: MemberCategory;
  status: MemberStatus;
  mayVote: boolean;
  joinedOn: string | null;
  workUnit: string | null;
  registeredUnitId: number | null;
  registeredUnitName: string | null;
  registeredOn: string | null;
  leftOn: string | null;
}

export interface ContactLink {
  householdId: number;
  householdName: string;
  unitId: number;
  unitName: string;
  memberId: number;
  memberName: string;
  assignedOn: string;
}

export interface Household {
  id: number;
  unitId: number;
  unitName: string;
  kind: string;
  code: string | null;
  name: string;
  address: string | null;
}

export interface ContactVisit {
  id: number;
  householdId: number;
  householdName: string;
  memberId: number;
  memberName: string;
  visitedOn: string;
  note: string | null;
}

export interface AutoAssignPlan {
  unitId: number;
  dryRun: boolean;
  households: number;
  members: number;
  cap: number;
  assigned: number;
  unassigned: number;
  links: { householdId: number; memberId: number }[];
  perMember: { memberId: number; before: number; after: number }[];
}

export interface Rate {
  numerator: number;
  denominator: number;
  /** null when there is nothing to divide by */
  percent: number | null;
}

export interface CoverageFigures {
  households: number;
  linked: number;
  visited: number;
  covered: number;
  linkedRate?: Rate;
  visitedRate?: Rate;
  coveredRate?: Rate;
}

export interface ContactCoverage {
  unitId: number;
  unitName: string;
  asOf: string;
  days: number;
  since: string;
  definition: { 'zh-CN': string; en: string };
  totals: CoverageFigures;
  own: CoverageFigures;
  children: (CoverageFigures & { id: number; name: string; kind: string })[];
}

export const partyApi = {
  members: (query: { unitId?: number; q?: string; limit?: number; offset?: number }) => http.get<{ items: PartyMember[] }>('/party-members', { ...query }),
  links: (query: { unitId?: number; memberId?: number; limit?: number; offset?: number }) => http.get<{ items: ContactLink[] }>('/contact-links', { ...query }),
  households: (query: { unitId?: number; q?: string; limit?: number }) => http.get<{ items: Household[] }>('/households', { ...query }),
  link: (householdId: number, memberId: number) => http.put<ContactLink>(`/households/${householdId}/contact`, { memberId }),
  unlink: (householdId: number) => http.delete(`/households/${householdId}/contact`),
  autoAssign: (unitId: number, options: { maxPerMember?: number; dryRun?: boolean }) => http.post<AutoAssignPlan>(`/units/${unitId}/contacts/auto-assign`, options),
  visits: (query: { unitId?: number; householdId?: number; memberId?: number; limit?: number }) => http.get<{ items: ContactVisit[] }>('/contact-visits', { ...query }),
  logVisit: (householdId: number, input: { visitedOn: string; note?: string | null }) => http.post<ContactVisit>(`/households/${householdId}/contact-visits`, input),
  coverage: (unitId: number, days?: number) => http.get<ContactCoverage>(`/units/${unitId}/contact-coverage`, { days }),
};
