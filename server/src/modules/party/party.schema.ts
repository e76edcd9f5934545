// Request schemas for party members, 1+10 contacts and 设岗定责 posts.
import { Type } from 'typebox';
import { Obj, PatchObj } from '../../platform/http.ts';
import { DateString, Id, lit } from '../basedata/structures.schema.ts';
import { MEMBER_CATEGORIES, MEMBER_STATUSES } from './members.service.ts';

const Text = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: '\\S' });
const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 200 }));
const Offset = Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 }));

// ---- members ----
export const CreateMemberBody = Obj({
  residentId: Id,
  partyOrgId: Id,
  category: lit(MEMBER_CATEGORIES),
  status: lit(MEMBER_STATUSES),
  joinedOn: Nullable(DateString),
  workUnit: Nullable(Type.String({ maxLength: 100 })),
  userId: Nullable(Id),
});
export const UpdateMemberBody = PatchObj({
  partyOrgId: Type.Optional(Id),
  category: Type.Optional(lit(MEMBER_CATEGORIES)),
  status: Type.Optional(lit(MEMBER_STATUSES)),
  joinedOn: Nullable(DateString),
  workUnit: Nullable(Type.String({ maxLength: 100 })),
  userId: Nullable(Id),
  leftOn: Nullable(DateString),
});
export const MemberQuery = Obj({
  q: Type.Optional(Type.String({ maxLength: 60 })),
  unitId: Type.Optional(Id),
  category: Type.Optional(lit(MEMBER_CATEGORIES)),
  status: Type.Optional(lit(MEMBER_STATUSES)),
  includeLeft: Type.Optional(Type.Boolean()),
  limit: Limit,
  offset: Offset,
});
export const RegistrationBody = Obj({ registeredUnitId: Id, registeredOn: Type.Optional(DateString), workUnit: Type.Optional(Text(100)) });

// ---- posts ----
export const CreatePostBody = Obj({ unitId: Id, title: Text(60), duties: Nullable(Type.String({ maxLength: 500 })), capacity: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) });
export const UpdatePostBody = PatchObj({ title: Type.Optional(Text(60)), duties: Nullable(Type.String({ maxLength: 500 })), capacity: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), archived: Type.Optional(Type.Boolean()) });
export const PostQuery = Obj({ unitId: Type.Optional(Id), includeArchived: Type.Optional(Type.Boolean()), limit: Limit, offset: Offset });
export const ClaimBody = Obj({ memberId: Id, claimedOn: Type.Optional(DateString) });
export const EndClaimBody = Obj({ endedOn: Type.Optional(DateString) });

// ---- contacts ----
export const CreateGroupBody = Obj({ unitId: Id, name: Text(60), leaderMemberId: Nullable(Id), memberIds: Type.Optional(Type.Array(Id, { maxItems: 50 })) });
export const UpdateGroupBody = PatchObj({ name: Type.Optional(Text(60)), leaderMemberId: Nullable(Id) });
export const GroupQuery = Obj({ unitId: Type.Optional(Id), limit: Limit, offset: Offset });
export const GroupMemberParams = Obj({ id: Id, memberId: Id });
export const LinkBody = Obj({ memberId: Id });
export const LinkQuery = Obj({ unitId: Type.Optional(Id), memberId: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })), offset: Offset });
export const AutoAssignBody = Obj({ maxPerMember: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })), dryRun: Type.Optional(Type.Boolean()) });
export const VisitBody = Obj({ visitedOn: DateString, note: Nullable(Type.String({ maxLength: 500 })) });
export const VisitQuery = Obj({
  unitId: Type.Optional(Id),
  householdId: Type.Optional(Id),
  memberId: Type.Optional(Id),
  from: Type.Optional(DateString),
  to: Type.Optional(DateString),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  offset: Offset,
});
export const CoverageQuery = Obj({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 366, description: 'visits within the last N days count (default 90)' })) });
