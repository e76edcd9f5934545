-- A party member's own login: what lets a member see (masked) only their own 1+10 households, log visits
-- to them, and claim posts for themselves. One account per member record at most.
alter table party_member add column user_id bigint references app_user (id);
create unique index party_member_user on party_member (district_id, user_id) where user_id is not null;
create index party_member_user_lookup on party_member (user_id) where user_id is not null;

-- 1+10 coverage reads links by member and visits by date
create index contact_visit_date on contact_visit (district_id, visited_on);
create index member_post_claim_post on member_post_claim (district_id, post_id) where ended_on is null;
create index member_post_unit on member_post (district_id, unit_id);
create index contact_group_unit on contact_group (district_id, unit_id);
