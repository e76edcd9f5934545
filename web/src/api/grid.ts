// The unified grid: units, kinds and roles, party organisations, posts, linked organisations, coverage.
import type { MultiPolygon, Polygon } from 'geojson';
import { http, type Messages } from './http';
import type { Permission } from '@shared/permissions';

export type PartyOrgKind = 'working_committee' | 'committee' | 'general_branch' | 'branch' | 'group';
export const PARTY_ORG_KINDS: readonly PartyOrgKind[] = ['working_committee', 'committee', 'general_branch', 'branch', 'group'];
export type LinkedOrgKind = 'co_building' | 'property_company' | 'owners_committee' | 'social_org' | 'big_party_committee_member';
export const LINKED_ORG_KINDS: readonly LinkedOrgKind[] = ['co_building', 'property_company', 'owners_committee', 'social_org', 'big_party_committee_member'];

export interface GapCounts {
  missingPartyOrg: number;
  missingLeader: number;
  missingRole: number;
  /** units with at least one gap of any kind */
  unitsWithGaps: number;
}

export interface Unit {
  id: number;
  districtId: number;
  parentId: number | null;
  kind: string;
  name: string;
  code: string | null;
  path: string;
  depth: number;
  archived: boolean;
}

export interface TreeUnit extends Unit {
  childCount: number;
  /** null where the caller may not read coverage there */
  coverage?: GapCounts | null;
}

export interface RoleView {
  code: string;
  name: Messages;
  required: boolean;
  leader: boolean;
  maxHolders: number | null;
}

export interface KindView {
  code: string;
  name: Messages;
  isRoot: boolean;
  isDistrict: boolean;
  isGrid: boolean;
  requiresPartyOrg: boolean;
  partyOrgKinds: PartyOrgKind[];
  children: string[];
  roles: RoleView[];
}

export interface KindsAnswer {
  presetId: string | null;
  presetName: Messages | null;
  kinds: KindView[];
}

export interface PartyOrg {
  id: number;
  unitId: number;
  kind: PartyOrgKind;
  name: string;
  secretaryPersonId: number | null;
  secretaryName: string | null;
  foundedOn: string | null;
}

export interface Post {
  id: number;
  unitId: number;
  role: string;
  personId: number;
  personName: string;
  startedOn: string;
  endedOn: string | null;
  current: boolean;
}

export interface LinkedOrg {
  id: number;
  unitId: number;
  kind: LinkedOrgKind;
  name: string;
  contactName: string | null;
  note: string | null;
  startedOn: string | null;
  endedOn: string | null;
}

/** A GeoJSON Polygon or MultiPolygon as stored by the server. */
export type Boundary = Polygon | MultiPolygon;

export interface UnitDetail {
  unit: Unit & { childCount: number; createdAt: string; updatedAt: string };
  ancestors: { id: number; name: string; kind: string }[];
  boundary: Boundary | null;
  partyOrg: PartyOrg | null;
  posts: Post[];
  roles: RoleView[];
  linkedOrgs: LinkedOrg[];
  /** what the caller may do at this unit */
  permissions: Permission[];
}

export interface Person {
  id: number;
  unitId: number;
  unitName: string;
  name: string;
  note: string | null;
}

export type GapKind = 'party_org' | 'leader' | 'role';

export interface CoverageReport {
  unit: Unit;
  asOf: string;
  totals: GapCounts & { units: number; withPartyOrg: number };
  byKind: { kind: string; units: number; withPartyOrg: number }[];
  holders: { kind: string; role: string; holders: number }[];
  own: GapCounts;
  children: (Unit & GapCounts)[];
  gapTotal: number;
  gaps: { unitId: number; unitName: string; kind: string; path: string; gap: GapKind; role: string | null }[];
}

export interface PartyOrgInput {
  kind: PartyOrgKind;
  name: string;
  secretaryPersonId?: number | null;
  foundedOn?: string | null;
}

export interface LinkedOrgInput {
  kind: LinkedOrgKind;
  name: string;
  contactName?: string | null;
  note?: string | null;
  startedOn?: string | null;
  endedOn?: string | null;
}

export interface AppointInput {
  role: string;
  personId?: number;
  personName?: string;
  startedOn: string;
  endedOn?: string | null;
}

export interface KindPatch {
  name?: Messages;
  isGrid?: boolean;
  requiresPartyOrg?: boolean;
  partyOrgKinds?: PartyOrgKind[];
  children?: string[];
}

export interface RoleInput {
  name: Messages;
  required?: boolean;
  leader?: boolean;
  maxHolders?: number | null;
}

type Items<T> = { items: T[] };

export const gridApi = {
  roots: () => http.get<Items<TreeUnit>>('/units/roots', { coverage: true }).then((r) => r.items),
  children: (id: number) => http.get<Items<TreeUnit>>(`/units/${id}/children`, { coverage: true }).then((r) => r.items),
  search: (search: string, options: { kind?: string; limit?: number } = {}) =>
    http.get<Items<Unit>>('/units', { search, kind: options.kind, limit: options.limit ?? 30 }).then((r) => r.items),
  detail: (id: number) => http.get<UnitDetail>(`/units/${id}`),
  create: (input: { parentId: number; kind: string; name: string; code?: string | null }) => http.post<Unit>('/units', input),
  update: (id: number, patch: { name?: string; code?: string | null }) => http.patch<Unit>(`/units/${id}`, patch),
  move: (id: number, parentId: number) => http.post<Unit>(`/units/${id}/move`, { parentId }),
  archive: (id: number) => http.post<Unit>(`/units/${id}/archive`, {}),
  setBoundary: (id: number, geometry: unknown) => http.put<{ boundary: Boundary }>(`/units/${id}/boundary`, { geometry }),
  clearBoundary: (id: number) => http.delete(`/units/${id}/boundary`),
  coverage: (id: number, gapLimit = 200) => http.get<CoverageReport>(`/units/${id}/coverage`, { gapLimit }),

  bindPartyOrg: (unitId: number, input: PartyOrgInput) => http.post<PartyOrg>(`/units/${unitId}/party-org`, input),
  updatePartyOrg: (id: number, patch: Partial<PartyOrgInput>) => http.patch<PartyOrg>(`/party-orgs/${id}`, patch),
  dissolvePartyOrg: (id: number) => http.delete(`/party-orgs/${id}`),

  people: (query: { unitId?: number; search?: string; limit?: number }) => http.get<Items<Person>>('/people', query).then((r) => r.items),
  appoint: (unitId: number, input: AppointInput) => http.post<Post>(`/units/${unitId}/posts`, input),
  updatePost: (id: number, patch: { startedOn?: string; endedOn?: string | null }) => http.patch<Post>(`/posts/${id}`, patch),
  deletePost: (id: number) => http.delete(`/posts/${id}`),

  addLinkedOrg: (unitId: number, input: LinkedOrgInput) => http.post<LinkedOrg>(`/units/${unitId}/linked-orgs`, input),
  updateLinkedOrg: (id: number, patch: Partial<LinkedOrgInput>) => http.patch<LinkedOrg>(`/linked-orgs/${id}`, patch),
  removeLinkedOrg: (id: number) => http.delete(`/linked-orgs/${id}`),

  kinds: () => http.get<KindsAnswer>('/unit-kinds'),
  updateKind: (code: string, patch: KindPatch) => http.patch<KindView>(`/unit-kinds/${code}`, patch),
  putRole: (kind: string, role: string, input: RoleInput) => http.put<RoleView>(`/unit-kinds/${kind}/roles/${role}`, input),
  deleteRole: (kind: string, role: string) => http.delete(`/unit-kinds/${kind}/roles/${role}`),
};

/** The unit ids on a materialised path, root first: "/1/2/3/" → [1, 2, 3]. */
export function pathIds(path: string): number[] {
  return path.split('/').filter(Boolean).map(Number);
}

export function totalGaps(c: GapCounts): number {
  return c.missingPartyOrg + c.missingLeader + c.missingRole;
}
