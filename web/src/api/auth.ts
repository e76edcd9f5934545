import type { Permission, RoleCode } from '@shared/permissions';
import { http, type Messages } from './http';

export interface SessionUser {
  id: number;
  username: string;
  displayName: string;
  mustChangePassword: boolean;
}

export interface SessionGrant {
  id: number;
  role: RoleCode;
  roleName: Messages;
  unitId: number;
}

export interface MenuItem {
  path: string;
  title: Messages;
  icon: string | null;
}

export interface SessionInfo {
  csrfToken: string;
  user: SessionUser;
  grants: SessionGrant[];
  permissions: Permission[];
  menu: MenuItem[];
}

export const authApi = {
  login: (username: string, password: string) => http.post<SessionInfo>('/auth/login', { username, password }, true),
  session: () => http.get<SessionInfo>('/auth/session', undefined, true),
  logout: () => http.post<void>('/auth/logout', {}, true),
  changePassword: (currentPassword: string, newPassword: string) => http.post<void>('/auth/password', { currentPassword, newPassword }, true),
};
