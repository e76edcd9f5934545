-- Platform tables: the deployment's preset, accounts, sessions, the audit log.

create table deployment (
  id int primary key default 1 check (id = 1),
  preset_id text not null,
  -- The preset as applied. Unit kinds and roles are copied into their own tables (admins edit those);
  -- the slots later modules read (demand categories, council kinds, vote rules) are read from here.
  preset jsonb not null,
  created_at timestamptz not null default now()
);

create table app_user (
  id bigint generated always as identity primary key,
  username text not null,
  display_name text not null,
  password_hash text not null,
  must_change_password boolean not null default true,
  failed_logins int not null default 0,
  locked_until timestamptz,
  disabled boolean not null default false,
  created_at timestamptz not null default now(),
  password_changed_at timestamptz
);
create unique index app_user_username on app_user (lower(username));

create table user_session (
  -- sha256 of the cookie token: a leaked table does not hand out live sessions.
  token_hash text primary key,
  user_id bigint not null references app_user (id) on delete cascade,
  csrf_token text not null,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  expires_at timestamptz not null,
  client_ip text,
  user_agent text
);
create index user_session_user on user_session (user_id);

create table audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  actor_user_id bigint,
  actor_name text not null,
  action text not null,
  target_type text not null,
  target_id text,
  district_id bigint,
  unit_id bigint,
  -- ancestry of the unit the row concerns, so an auditor's scope filter is a prefix match
  unit_path text,
  before jsonb,
  after jsonb,
  client_ip text
);
create index audit_log_at on audit_log (at desc, id desc);
create index audit_log_actor on audit_log (actor_user_id, at desc);
create index audit_log_action on audit_log (action, at desc);
create index audit_log_unit_path on audit_log (unit_path text_pattern_ops);
