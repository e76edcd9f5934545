// The records a generated locality is made of. Units, staff and party organisations refer to each other
// by `seq`, the generator's own 1-based numbering (breadth-first for units); writers map seqs to ids.
import type { PolygonGeometry } from '../../server/src/platform/geo.ts';
import type { PartyOrgKind } from '../../server/src/modules/grid/preset.ts';

export interface UnitRecord {
  seq: number;
  parentSeq: number | null;
  /** depth in the tree, the root at 0 */
  depth: number;
  kind: string;
  name: string;
  code: string;
  /** how offices name it: from the level above the grid down, e.g. 文昌社区第1网格 */
  label: string;
  /** a rectangle for units from the root down to the grid level, tiling the parent's; null below */
  boundary: PolygonGeometry | null;
}

export interface StaffRecord {
  seq: number;
  unitSeq: number;
  kind: string;
  role: string;
  name: string;
  gender: '男' | '女';
  phone: string;
  startedOn: string;
  endedOn: string | null;
}

export interface PartyOrgRecord {
  seq: number;
  unitSeq: number;
  kind: PartyOrgKind;
  name: string;
  foundedOn: string;
  /** the unit's current leader, who also leads its party organisation (一肩挑) */
  secretaryStaffSeq: number | null;
}

export type GapKind = 'party_org' | 'leader' | 'role';
/** A slot left empty on purpose: what the coverage report must list, no more and no less. */
export interface GapRecord {
  unitSeq: number;
  gap: GapKind;
  role: string | null;
  /** never filled, or filled by someone whose post has ended */
  how: 'never' | 'ended';
}

export type HouseholdKind = 'registered_family' | 'non_registered_family' | 'business' | 'social_org';
export type PartyCategory = 'ordinary' | 'in_service' | 'floating' | 'unemployed' | 'elderly';

export interface HouseRecord {
  houseNo: string;
  gridSeq: number;
  /** the lowest unit the house sits in (楼栋, 责任区, 户联系小组 … or the grid itself) */
  unitSeq: number;
  address: string;
  use: '住宅' | '商铺' | '办公';
  /** exclusive floor area in m², two decimals, as text so nothing rounds it */
  area: string;
  ownerName: string;
  ownerIdNumber: string;
  ownerPhone: string;
  /** the owner when they live in the locality */
  ownerResidentNo: string | null;
}

export interface HouseholdRecord {
  householdNo: string;
  kind: HouseholdKind;
  /** the enterprise or organisation for business and social-organisation households */
  orgName: string | null;
  gridSeq: number;
  unitSeq: number;
  houseNo: string | null;
  headResidentNo: string;
  headName: string;
  headIdNumber: string;
  size: number;
  phone: string | null;
  address: string;
}

export interface ResidentRecord {
  residentNo: string;
  name: string;
  gender: '男' | '女';
  ethnicity: string;
  birthDate: string;
  idNumber: string;
  phone: string | null;
  householdNo: string;
  relation: string;
  registeredAddress: string;
  currentAddress: string;
  /** 户籍人口 / 流动人口 */
  residenceType: string;
  politicalStatus: string;
  gridSeq: number;
  unitSeq: number;
  houseNo: string | null;
}

export interface PartyMemberRecord {
  residentNo: string;
  name: string;
  gender: '男' | '女';
  birthDate: string;
  idNumber: string;
  phone: string | null;
  category: PartyCategory;
  /** 预备党员 have no vote */
  status: 'full' | 'probationary';
  joinedOn: string;
  confirmedOn: string | null;
  partyOrgSeq: number | null;
  gridSeq: number;
  unitSeq: number;
}

export type DemandStep = 'reported' | 'registered' | 'dispatched' | 'accepted' | 'handled' | 'verified' | 'closed' | 'rated';
export interface DemandRecord {
  demandNo: string;
  gridSeq: number;
  category: string;
  subcategory: string;
  type: 'consult' | 'help' | 'complaint' | 'report' | 'suggestion';
  source: 'patrol' | 'app' | 'hotline' | 'party_member' | 'council';
  title: string;
  reporterName: string;
  reporterPhone: string | null;
  location: [number, number];
  dispatchTarget: { kind: 'grid' | 'community' | 'party_member' | 'council' | 'co_building' | 'department' | 'property_company' | 'social_org'; name: string };
  /** due by the end of this working moment (ISO, +08:00) */
  deadline: string;
  status: DemandStep;
  onTime: boolean | null;
  rating: number | null;
  timeline: { step: DemandStep; at: string; actor: string }[];
}

export interface CouncilVoteRecord {
  voteNo: string;
  unitSeq: number;
  councilKind: string;
  voteRule: string;
  basis: string;
  threshold: 'special' | 'ordinary' | null;
  topic: string;
  heldOn: string;
  shouldAttend: number;
  attended: number;
  for: number;
  against: number;
  abstain: number;
  excluded: { reason: string; count: number }[];
  /** owners' votes (民法典 art. 278): areas in m², two decimals */
  totalArea: string | null;
  participatingArea: string | null;
  forArea: string | null;
  againstArea: string | null;
  abstainArea: string | null;
  /** villagers' assembly (村委会组织法 art. 22): households */
  households: number | null;
  attendedHouseholds: number | null;
}

export interface RecordTypes {
  unit: UnitRecord;
  staff: StaffRecord;
  party_org: PartyOrgRecord;
  house: HouseRecord;
  household: HouseholdRecord;
  resident: ResidentRecord;
  party_member: PartyMemberRecord;
  demand: DemandRecord;
  council_vote: CouncilVoteRecord;
}
export type RecordType = keyof RecordTypes;
export type Batch = { [K in RecordType]: { type: K; rows: RecordTypes[K][] } }[RecordType];
export const RECORD_TYPES: RecordType[] = ['unit', 'staff', 'party_org', 'house', 'household', 'resident', 'party_member', 'demand', 'council_vote'];
