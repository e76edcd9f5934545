import { Type } from 'typebox';
import { Obj, PatchObj } from '../../platform/http.ts';
import { ROLES } from '../../../../shared/permissions.ts';

const Id = Type.Integer({ minimum: 1, maximum: 9007199254740991 });
const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
export const Username = Type.String({ minLength: 3, maxLength: 40, pattern: '^[A-Za-z0-9_.@-]+$' });
const DisplayName = Type.String({ minLength: 1, maxLength: 60, pattern: '\\S' });

export const UserListQuery = Obj({
  search: Type.Optional(Type.String({ maxLength: 60 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
});
export const CreateUserBody = Obj({ username: Username, displayName: DisplayName, role: Role, unitId: Id });
export const UpdateUserBody = PatchObj({ displayName: Type.Optional(DisplayName), disabled: Type.Optional(Type.Boolean()) });
export const GrantBody = Obj({ role: Role, unitId: Id });
