// The logged-in user as the server describes it: user, grants, permissions, the menu. One reactive
// object shared by the router guard, the layout and the pages.
import { reactive } from 'vue';
import type { Permission } from '@shared/permissions';
import { ApiError, setCsrfToken } from './api/http';
import { authApi, type SessionInfo } from './api/auth';

interface SessionState {
  /** the session was asked for at least once (so the router knows whether "no user" is final) */
  checked: boolean;
  info: SessionInfo | null;
}

export const session = reactive<SessionState>({ checked: false, info: null });

function apply(info: SessionInfo | null) {
  session.info = info;
  session.checked = true;
  setCsrfToken(info?.csrfToken ?? null);
}

/** Asks the server who is logged in; a 401 means nobody. */
export async function loadSession(): Promise<SessionInfo | null> {
  try {
    apply(await authApi.session());
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) apply(null);
    else throw error;
  }
  return session.info;
}

export async function login(username: string, password: string): Promise<SessionInfo> {
  const info = await authApi.login(username, password);
  apply(info);
  return info;
}

export async function logout(): Promise<void> {
  try {
    await authApi.logout();
  } catch (error) {
    // Already logged out on the server: nothing more to end.
    if (!(error instanceof ApiError && error.status === 401)) throw error;
  }
  apply(null);
}

export function forgetSession() {
  apply(null);
}

/** Whether the user holds `permission` on at least one unit (what the menu and page buttons go by). */
export function can(permission: Permission): boolean {
  return session.info?.permissions.includes(permission) ?? false;
}
