// Request schemas of the grid's routes. Objects reject unknown fields; text has sane length limits.
import { Type } from 'typebox';
import { Obj, PatchObj } from '../../platform/http.ts';
import { PARTY_ORG_KINDS } from './preset.ts';

const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
const Code = Type.String({ pattern: '^[a-z][a-z0-9_]{1,39}$' });
const DateString = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' });
const Id = Type.Integer({ minimum: 1, maximum: 9007199254740991 });
const Label = Obj({ 'zh-CN': Name, en: Name });
const Note = Type.String({ maxLength: 2000 });

export const LINKED_ORG_KINDS = ['co_building', 'property_company', 'owners_committee', 'social_org', 'big_party_committee_member'] as const;

export const UnitSearchQuery = Obj({
  search: Type.Optional(Type.String({ maxLength: 100 })),
  kind: Type.Optional(Code),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
});
export const CreateUnitBody = Obj({ parentId: Id, kind: Code, name: Name, code: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])) });
export const UpdateUnitBody = PatchObj({ name: Type.Optional(Name), code: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])) });
export const MoveUnitBody = Obj({ parentId: Id });
export const BoundaryBody = Obj({ geometry: Type.Unknown({ description: 'GeoJSON Polygon or MultiPolygon (or a Feature holding one)' }) });
export const CoverageQuery = Obj({ gapLimit: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000 })) });
export const ChildrenQuery = Obj({ coverage: Type.Optional(Type.Boolean()) });

const PartyOrgKind = Type.Union(PARTY_ORG_KINDS.map((k) => Type.Literal(k)));
export const BindPartyOrgBody = Obj({
  kind: PartyOrgKind,
  name: Name,
  secretaryPersonId: Type.Optional(Type.Union([Id, Type.Null()])),
  foundedOn: Type.Optional(Type.Union([DateString, Type.Null()])),
});
export const UpdatePartyOrgBody = PatchObj({
  kind: Type.Optional(PartyOrgKind),
  name: Type.Optional(Name),
  secretaryPersonId: Type.Optional(Type.Union([Id, Type.Null()])),
  foundedOn: Type.Optional(Type.Union([DateString, Type.Null()])),
});

export const CreatePersonBody = Obj({ unitId: Id, name: Name, note: Type.Optional(Type.Union([Note, Type.Null()])) });
export const UpdatePersonBody = PatchObj({ name: Type.Optional(Name), note: Type.Optional(Type.Union([Note, Type.Null()])) });
export const PeopleQuery = Obj({
  unitId: Type.Optional(Id),
  search: Type.Optional(Type.String({ maxLength: 100 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
});

export const AppointPostBody = Obj({
  role: Code,
  personId: Type.Optional(Id),
  personName: Type.Optional(Name),
  startedOn: DateString,
  endedOn: Type.Optional(Type.Union([DateString, Type.Null()])),
});
export const UpdatePostBody = PatchObj({ startedOn: Type.Optional(DateString), endedOn: Type.Optional(Type.Union([DateString, Type.Null()])) });

const LinkedOrgKind = Type.Union(LINKED_ORG_KINDS.map((k) => Type.Literal(k)));
export const LinkedOrgBody = Obj({
  kind: LinkedOrgKind,
  name: Name,
  contactName: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
  note: Type.Optional(Type.Union([Note, Type.Null()])),
  startedOn: Type.Optional(Type.Union([DateString, Type.Null()])),
  endedOn: Type.Optional(Type.Union([DateString, Type.Null()])),
});
export const UpdateLinkedOrgBody = PatchObj({
  kind: Type.Optional(LinkedOrgKind),
  name: Type.Optional(Name),
  contactName: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
  note: Type.Optional(Type.Union([Note, Type.Null()])),
  startedOn: Type.Optional(Type.Union([DateString, Type.Null()])),
  endedOn: Type.Optional(Type.Union([DateString, Type.Null()])),
});

export const KindParam = Obj({ code: Code });
export const KindRoleParam = Obj({ code: Code, role: Code });
export const UpdateKindBody = PatchObj({
  name: Type.Optional(Label),
  isGrid: Type.Optional(Type.Boolean()),
  requiresPartyOrg: Type.Optional(Type.Boolean()),
  partyOrgKinds: Type.Optional(Type.Array(PartyOrgKind, { maxItems: 5 })),
  children: Type.Optional(Type.Array(Code, { maxItems: 50 })),
});
export const CreateKindBody = Obj({
  code: Code,
  name: Label,
  parents: Type.Array(Code, { minItems: 1, maxItems: 50 }),
  isGrid: Type.Optional(Type.Boolean()),
  requiresPartyOrg: Type.Optional(Type.Boolean()),
  partyOrgKinds: Type.Optional(Type.Array(PartyOrgKind, { maxItems: 5 })),
});
export const RoleBody = Obj({
  name: Label,
  required: Type.Optional(Type.Boolean()),
  leader: Type.Optional(Type.Boolean()),
  maxHolders: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1000 }), Type.Null()])),
});
