// Request schemas for houses, households, facilities and hazards.
import { Type } from 'typebox';
import { Obj, PatchObj } from '../../platform/http.ts';
import { HOUSE_USAGES } from './houses.service.ts';
import { HOUSEHOLD_KINDS } from './households.service.ts';
import { FACILITY_STATUSES } from './facilities.service.ts';
import { HAZARD_SEVERITIES, HAZARD_STATUSES } from './hazards.service.ts';

export const Id = Type.Integer({ minimum: 1, maximum: 9007199254740991 });
export const DateString = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' });
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: '\\S' });
const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer> | ReturnType<typeof Type.Number>>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
export const lit = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));
const Lng = Type.Number({ minimum: -180, maximum: 180 });
const Lat = Type.Number({ minimum: -90, maximum: 90 });
const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 200 }));
const Offset = Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 }));
const Search = Type.Optional(Type.String({ maxLength: 60 }));
const Code = Type.String({ pattern: '^[a-z][a-z0-9_]{1,39}$', description: 'a code such as fire_hydrant' });

// ---- houses ----
const houseFields = {
  address: Text(200),
  building: Nullable(Type.String({ maxLength: 40 })),
  unitNo: Nullable(Type.String({ maxLength: 40 })),
  room: Nullable(Type.String({ maxLength: 40 })),
  exclusiveArea: Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 99_999_999 })),
  usage: Type.Optional(lit(HOUSE_USAGES)),
  lng: Nullable(Lng),
  lat: Nullable(Lat),
};
export const CreateHouseBody = Obj({ unitId: Id, ...houseFields });
export const UpdateHouseBody = PatchObj({ ...houseFields, unitId: Type.Optional(Id), address: Type.Optional(Text(200)) });
export const HouseQuery = Obj({ q: Search, unitId: Type.Optional(Id), usage: Type.Optional(lit(HOUSE_USAGES)), includeArchived: Type.Optional(Type.Boolean()), limit: Limit, offset: Offset });
export const OwnersBody = Obj({
  owners: Type.Array(Obj({ residentId: Id, share: Type.Number({ exclusiveMinimum: 0, maximum: 1 }) }), { maxItems: 50 }),
});

// ---- households ----
const householdFields = {
  kind: lit(HOUSEHOLD_KINDS),
  name: Text(100),
  code: Nullable(Type.String({ maxLength: 40 })),
  houseId: Nullable(Id),
  address: Nullable(Type.String({ maxLength: 200 })),
};
export const CreateHouseholdBody = Obj({ unitId: Id, ...householdFields });
export const UpdateHouseholdBody = PatchObj({ ...householdFields, unitId: Type.Optional(Id), kind: Type.Optional(lit(HOUSEHOLD_KINDS)), name: Type.Optional(Text(100)) });
export const HouseholdQuery = Obj({ q: Search, unitId: Type.Optional(Id), kind: Type.Optional(lit(HOUSEHOLD_KINDS)), houseId: Type.Optional(Id), includeArchived: Type.Optional(Type.Boolean()), limit: Limit, offset: Offset });
export const AddMemberBody = Obj({ residentId: Id, relationToHead: Nullable(Type.String({ maxLength: 30 })), head: Type.Optional(Type.Boolean()) });
export const MemberParams = Obj({ id: Id, residentId: Id });
export const HeadBody = Obj({ residentId: Type.Union([Id, Type.Null()]) });

// ---- facilities ----
const facilityFields = {
  kind: Code,
  name: Text(100),
  address: Nullable(Type.String({ maxLength: 200 })),
  lng: Nullable(Lng),
  lat: Nullable(Lat),
  status: Type.Optional(lit(FACILITY_STATUSES)),
  note: Nullable(Type.String({ maxLength: 500 })),
};
export const CreateFacilityBody = Obj({ unitId: Id, ...facilityFields });
export const UpdateFacilityBody = PatchObj({ ...facilityFields, unitId: Type.Optional(Id), kind: Type.Optional(Code), name: Type.Optional(Text(100)) });
export const FacilityQuery = Obj({ q: Search, unitId: Type.Optional(Id), kind: Type.Optional(Code), status: Type.Optional(lit(FACILITY_STATUSES)), limit: Limit, offset: Offset });

// ---- hazards ----
const hazardFields = {
  facilityId: Nullable(Id),
  category: Text(40),
  description: Text(1000),
  severity: lit(HAZARD_SEVERITIES),
  foundOn: DateString,
  ownerUnit: Nullable(Type.String({ maxLength: 100, description: '责任单位: who must fix it' })),
  lng: Nullable(Lng),
  lat: Nullable(Lat),
};
export const CreateHazardBody = Obj({ unitId: Id, ...hazardFields });
export const UpdateHazardBody = PatchObj({
  ...hazardFields,
  category: Type.Optional(Text(40)),
  description: Type.Optional(Text(1000)),
  severity: Type.Optional(lit(HAZARD_SEVERITIES)),
  foundOn: Type.Optional(DateString),
});
export const HazardQuery = Obj({ q: Search, unitId: Type.Optional(Id), status: Type.Optional(lit(HAZARD_STATUSES)), severity: Type.Optional(lit(HAZARD_SEVERITIES)), facilityId: Type.Optional(Id), limit: Limit, offset: Offset });
export const HazardTransitionBody = Obj({ to: lit(HAZARD_STATUSES), resolvedOn: Type.Optional(DateString), note: Type.Optional(Type.String({ maxLength: 500 })) });
