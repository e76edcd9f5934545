-- Role grants: a built-in role granted on an org unit reaches the unit's whole subtree.
create table role_grant (
  id bigint generated always as identity primary key,
  user_id bigint not null references app_user (id) on delete cascade,
  role_code text not null,
  district_id bigint not null,
  unit_id bigint not null,
  granted_by bigint references app_user (id),
  granted_at timestamptz not null default now(),
  unique (user_id, role_code, unit_id),
  foreign key (district_id, unit_id) references org_unit (district_id, id)
);
create index role_grant_unit on role_grant (district_id, unit_id);
