-- Plaintext reveals of ID and phone numbers: asked for with a purpose, valid for a short time, audited.
create table pii_reveal (
  id bigint generated always as identity primary key,
  district_id bigint not null,
  resident_id bigint not null,
  user_id bigint not null references app_user (id),
  field text not null check (field in ('id_number', 'phone')),
  purpose text not null,
  granted_at timestamptz not null default now(),
  expires_at timestamptz not null,
  foreign key (district_id, resident_id) references resident (district_id, id)
);
create index pii_reveal_live on pii_reveal (user_id, resident_id, expires_at);
