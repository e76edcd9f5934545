import type { Permission, RoleCode } from '@shared/permissions';
import { http, type Messages } from './http';

export interface UserView {
  id: number;
  username: string;
  displayName: string;
  mustChangePassword: boolean;
  disabled: boolean;
  locked: boolean;
  createdAt: string;
}

export interface UserGrant {
  id: number;
  role: RoleCode;
  unitId: number;
  unitName: string;
  unitKind: string;
}

export interface UserDetail extends UserView {
  grants: UserGrant[];
}

export interface RoleInfo {
  code: RoleCode;
  name: Messages;
  permissions: Permission[];
}

export const usersApi = {
  roles: () => http.get<{ items: RoleInfo[] }>('/roles').then((r) => r.items),
  list: (query: { search?: string; limit?: number; offset?: number }) => http.get<{ total: number; items: UserView[] }>('/users', query),
  detail: (id: number) => http.get<UserDetail>(`/users/${id}`),
  create: (input: { username: string; displayName: string; role: RoleCode; unitId: number }) =>
    http.post<{ user: UserView; oneTimePassword: string | null }>('/users', input),
  update: (id: number, patch: { displayName?: string; disabled?: boolean }) => http.patch<UserView>(`/users/${id}`, patch),
  resetPassword: (id: number) => http.post<{ oneTimePassword: string }>(`/users/${id}/reset-password`, {}),
  addGrant: (userId: number, input: { role: RoleCode; unitId: number }) => http.post<UserGrant>(`/users/${userId}/grants`, input),
  revokeGrant: (grantId: number) => http.delete(`/grants/${grantId}`),
};
