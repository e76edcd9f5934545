// Table types for Kysely, kept by hand beside the SQL migrations (one interface per table).
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type DateOnly = ColumnType<string, string | undefined, string>;
type Json<T = unknown> = ColumnType<T, string, string>;

export interface SchemaMigrationTable {
  name: string;
  checksum: string;
  applied_at: Generated<Date>;
}

export interface DeploymentTable {
  id: Generated<number>;
  preset_id: string;
  preset: Json;
  created_at: Generated<Date>;
}

export interface AppUserTable {
  id: Generated<number>;
  username: string;
  display_name: string;
  password_hash: string;
  must_change_password: Generated<boolean>;
  failed_logins: Generated<number>;
  locked_until: Timestamp | null;
  disabled: Generated<boolean>;
  created_at: Generated<Date>;
  password_changed_at: Timestamp | null;
}

export interface UserSessionTable {
  token_hash: string;
  user_id: number;
  csrf_token: string;
  created_at: Generated<Date>;
  last_seen_at: Generated<Date>;
  expires_at: Timestamp;
  client_ip: string | null;
  user_agent: string | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: Generated<Date>;
  actor_user_id: number | null;
  actor_name: string;
  action: string;
  target_type: string;
  target_id: string | null;
  district_id: number | null;
  unit_id: number | null;
  unit_path: string | null;
  before: Json | null;
  after: Json | null;
  client_ip: string | null;
}

export interface UnitKindTable {
  code: string;
  name_zh: string;
  name_en: string;
  is_root: Generated<boolean>;
  is_district: Generated<boolean>;
  is_grid: Generated<boolean>;
  requires_party_org: Generated<boolean>;
  party_org_kinds: ColumnType<string[], string[] | undefined, string[]>;
  sort_order: Generated<number>;
}

export interface UnitKindChildTable {
  parent_code: string;
  child_code: string;
}

export interface StaffRoleTable {
  kind_code: string;
  code: string;
  name_zh: string;
  name_en: string;
  required: Generated<boolean>;
  leader: Generated<boolean>;
  max_holders: number | null;
  sort_order: Generated<number>;
}

export interface OrgUnitTable {
  district_id: number;
  id: Generated<number>;
  parent_id: number | null;
  kind_code: string;
  name: string;
  code: string | null;
  path: string;
  depth: number;
  boundary: Json | null;
  bbox_min_lng: number | null;
  bbox_min_lat: number | null;
  bbox_max_lng: number | null;
  bbox_max_lat: number | null;
  archived_at: Timestamp | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface PersonTable {
  district_id: number;
  id: Generated<number>;
  unit_id: number;
  name: string;
  user_id: number | null;
  note: string | null;
  created_at: Generated<Date>;
}

export interface PartyOrgTable {
  district_id: number;
  id: Generated<number>;
  unit_id: number;
  kind: string;
  name: string;
  secretary_person_id: number | null;
  founded_on: DateOnly | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface StaffPostTable {
  district_id: number;
  id: Generated<number>;
  unit_id: number;
  kind_code: string;
  role_code: string;
  person_id: number;
  started_on: DateOnly;
  ended_on: DateOnly | null;
  created_at: Generated<Date>;
}

export interface LinkedOrgTable {
  district_id: number;
  id: Generated<number>;
  unit_id: number;
  kind: string;
  name: string;
  contact_name: string | null;
  note: string | null;
  started_on: DateOnly | null;
  ended_on: DateOnly | null;
  created_at: Generated<Date>;
}

export interface RoleGrantTable {
  id: Generated<number>;
  user_id: number;
  role_code: string;
  district_id: number;
  unit_id: number;
  granted_by: number | null;
  granted_at: Generated<Date>;
}


type Numeric = ColumnType<string, string | number | undefined, string | number>;

export interface HouseTable {
  district_id: number;
  id: Generated<number>;
  unit_id: number;
  address: string;
  building: string | null;
  unit_no: string | null;
  room: string | null;
  exclusive_area: Numeric | null;
  lng: number | null;
  lat: number | null;
  usage: Generated<string>;
  sources: ColumnType<Record<string, string>, string | undefined, string>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  archived_at: Timestamp | null;
}

export interface HouseholdTable {
  district_id: number;
  id: Generated<number>;
  unit_id: number;
  kind: string;
  code: string | null;
  name: string;
  house_id: number | null;
  head_resident_id: number | null;
  address: string | null;
  sources: ColumnType<Record<string, string>, string | undefined, string>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  archived_at: Timestamp | null;
}

export interface ResidentTable {
  district_id: number;
  id: Generated<number>;
  unit_id: number;
  household_id: number | null;
  house_id: number | null;
  name: string;
  name_initials: Generated<string>;
  gender: Generated<string>;
  birth_date: DateOnly | null;
  id_cipher: string | null;
  id_hash: string | null;
  id_head: string | null;
  id_last4: string | null;
  phone_cipher: string | null;
  phone_hash: string | null;
  phone_head: string | null;
  phone_last4: string | null;
  registration: Generated<string>;
  relation_to_head: string | null;
  address: string | null;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  sensitive_tags: ColumnType<string[], string[] | undefined, string[]>;
  sources: ColumnType<Record<string, string>, string | undefined, string>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  archived_at: Timestamp | null;
}

export interface HouseOwnerTable {
  district_id: number;
  house_id: number;
  resident_id: number;
  share: Numeric;
}

export interface FacilityTable {
  district_id: number;
  id: Generated<number>;
  unit_id: number;
  kind: string;
  name: string;
  address: string | null;
  lng: number | null;
  lat: number | null;
  status: Generated<string>;
  note: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface HazardTable {
  district_id: number;
  id: Generated<number>;
  unit_id: number;
  facility_id: number | null;
  category: string;
  description: string;
  severity: string;
  status: Generated<string>;
  found_on: DateOnly;
  found_by_user_id: number | null;
  owner_unit: string | null;
  lng: number | null;
  lat: number | null;
  resolved_on: DateOnly | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface PartyMemberTable {
  district_id: number;
  id: Generated<number>;
  resident_id: number;
  party_org_id: number | null;
  unit_id: number;
  category: string;
  status: string;
  joined_on: DateOnly | null;
  work_unit: string | null;
  registered_unit_id: number | null;
  registered_on: DateOnly | null;
  left_on: DateOnly | null;
  user_id: number | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface ContactGroupTable {
  district_id: number;
  id: Generated<number>;
  unit_id: number;
  name: string;
  leader_member_id: number | null;
  created_at: Generated<Date>;
}

export interface ContactGroupMemberTable {
  district_id: number;
  group_id: number;
  member_id: number;
}

export interface ContactLinkTable {
  district_id: number;
  household_id: number;
  member_id: number;
  assigned_on: DateOnly;
  assigned_by: number | null;
}

export interface ContactVisitTable {
  district_id: number;
  id: Generated<number>;
  household_id: number;
  member_id: number;
  visited_on: DateOnly;
  note: string | null;
  created_by: number | null;
  created_at: Generated<Date>;
}

export interface MemberPostTable {
  district_id: number;
  id: Generated<number>;
  unit_id: number;
  title: string;
  duties: string | null;
  capacity: Generated<number>;
  created_at: Generated<Date>;
  archived_at: Timestamp | null;
}

export interface MemberPostClaimTable {
  district_id: number;
  id: Generated<number>;
  post_id: number;
  member_id: number;
  claimed_on: DateOnly;
  ended_on: DateOnly | null;
}

export interface PiiRevealTable {
  id: Generated<number>;
  district_id: number;
  resident_id: number;
  user_id: number;
  field: string;
  purpose: string;
  granted_at: Generated<Date>;
  expires_at: Timestamp;
}

export interface DemandCategoryTable {
  code: string;
  parent_code: string | null;
  name_zh: string;
  name_en: string;
  respond_minutes: number;
  finish_minutes: number;
  warn_percent: Generated<number>;
  emergency: Generated<boolean>;
  decide_kinds: string[] | null;
  sort: Generated<number>;
  active: Generated<boolean>;
}

export interface DemandCalendarTable {
  id: Generated<number>;
  weekdays: number[];
  periods: Json<{ start: string; end: string }[]>;
  overrides: Json<Record<string, 'holiday' | 'workday'>>;
  updated_at: Generated<Date>;
}

export interface DemandTable {
  district_id: number;
  id: Generated<number>;
  case_no: string;
  tracking_code: string;
  client_key: string | null;
  channel: string;
  type: string;
  category_code: string;
  title: string;
  description: string;
  lng: number | null;
  lat: number | null;
  address: string | null;
  house_id: number | null;
  home_unit_id: number;
  home_unit_path: string;
  unit_id: number;
  unit_path: string;
  routed_by: string;
  status: string;
  emergency: Generated<boolean>;
  claimable: Generated<boolean>;
  reporter_user_id: number | null;
  reporter_name: string | null;
  reporter_phone_cipher: string | null;
  reporter_phone_hash: string | null;
  reporter_phone_head: string | null;
  reporter_phone_last4: string | null;
  source_ref: string | null;
  hazard_id: number | null;
  merged_into: number | null;
  decline_reason: string | null;
  escalation_level: Generated<number>;
  reopen_count: Generated<number>;
  rework_count: Generated<number>;
  reported_at: Timestamp;
  registered_at: Timestamp | null;
  first_dispatched_at: Timestamp | null;
  responded_at: Timestamp | null;
  handled_at: Timestamp | null;
  verified_at: Timestamp | null;
  closed_at: Timestamp | null;
  rated_at: Timestamp | null;
  respond_due_at: Timestamp;
  finish_due_at: Timestamp;
  level_since: Timestamp;
  level_due_at: Timestamp;
  level_warn_at: Timestamp;
  warned_at: Timestamp | null;
  overdue_at: Timestamp | null;
  rating: string | null;
  resolved: boolean | null;
  seq: Generated<number>;
  updated_at: Generated<Date>;
}

export interface DemandAssignmentTable {
  district_id: number;
  id: Generated<number>;
  demand_id: number;
  handler_type: string;
  handler_unit_id: number;
  handler_unit_path: string;
  member_id: number | null;
  linked_org_id: number | null;
  handler_user_id: number | null;
  handler_name: string;
  status: string;
  assigned_by_user_id: number | null;
  note: string | null;
  created_at: Timestamp;
  accepted_at: Timestamp | null;
  ended_at: Timestamp | null;
}

export interface DemandEventTable {
  district_id: number;
  demand_id: number;
  seq: number;
  action: string;
  from_status: string | null;
  to_status: string;
  actor_user_id: number | null;
  actor_name: string;
  actor_kind: string;
  unit_id: number;
  note: string | null;
  data: Json | null;
  at: Timestamp;
}

export interface DemandPhotoTable {
  id: string;
  district_id: number | null;
  demand_id: number | null;
  event_seq: number | null;
  stage: string | null;
  format: string;
  bytes: number;
  width: number;
  height: number;
  sha256: string;
  path: string;
  thumb_path: string;
  uploaded_by_user_id: number | null;
  upload_token_hash: string;
  created_at: Generated<Date>;
}

export interface DemandHandlerRuleTable {
  district_id: number;
  id: Generated<number>;
  unit_id: number;
  category_code: string | null;
  handler_type: string;
  handler_unit_id: number;
  member_id: number | null;
  linked_org_id: number | null;
  handler_name: string | null;
  created_at: Generated<Date>;
}

export interface NotificationTable {
  district_id: number;
  id: Generated<number>;
  user_id: number;
  demand_id: number | null;
  kind: string;
  title: string;
  body: string;
  urgent: boolean;
  created_at: Timestamp;
  read_at: Timestamp | null;
  digested_at: Timestamp | null;
}

export interface Open311ClientTable {
  district_id: number;
  id: Generated<number>;
  unit_id: number;
  name: string;
  key_hash: string;
  key_last4: string;
  created_by_user_id: number | null;
  created_at: Generated<Date>;
  revoked_at: Timestamp | null;
}

export interface Database {
  schema_migration: SchemaMigrationTable;
  deployment: DeploymentTable;
  app_user: AppUserTable;
  user_session: UserSessionTable;
  audit_log: AuditLogTable;
  unit_kind: UnitKindTable;
  unit_kind_child: UnitKindChildTable;
  staff_role: StaffRoleTable;
  org_unit: OrgUnitTable;
  person: PersonTable;
  party_org: PartyOrgTable;
  staff_post: StaffPostTable;
  linked_org: LinkedOrgTable;
  role_grant: RoleGrantTable;
  house: HouseTable;
  household: HouseholdTable;
  resident: ResidentTable;
  house_owner: HouseOwnerTable;
  facility: FacilityTable;
  hazard: HazardTable;
  party_member: PartyMemberTable;
  contact_group: ContactGroupTable;
  contact_group_member: ContactGroupMemberTable;
  contact_link: ContactLinkTable;
  contact_visit: ContactVisitTable;
  member_post: MemberPostTable;
  member_post_claim: MemberPostClaimTable;
  pii_reveal: PiiRevealTable;
  demand_category: DemandCategoryTable;
  demand_calendar: DemandCalendarTable;
  demand: DemandTable;
  demand_assignment: DemandAssignmentTable;
  demand_event: DemandEventTable;
  demand_photo: DemandPhotoTable;
  demand_handler_rule: DemandHandlerRuleTable;
  notification: NotificationTable;
  open311_client: Open311ClientTable;
}
