-- Where a dwelling is, when the departments' data says so: the 1+10 auto-assignment links a household to
-- the nearest member by these coordinates when both ends have them (tree proximity otherwise).
alter table house add column lng double precision check (lng is null or (lng between -180 and 180));
alter table house add column lat double precision check (lat is null or (lat between -90 and 90));
alter table house add constraint house_lng_lat_together check ((lng is null) = (lat is null));
create index household_house on household (district_id, house_id);
create index hazard_facility on hazard (district_id, facility_id) where facility_id is not null;
