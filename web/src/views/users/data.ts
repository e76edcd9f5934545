// Users page data: the built-in roles (labels come from the shared list, so they never disagree).
import { ROLES, ROLE_LABELS, type RoleCode } from '@shared/permissions';
import { label } from '@/i18n';

export const roleOptions = () => ROLES.map((code) => ({ code, name: label(ROLE_LABELS[code]) }));
export const roleName = (code: RoleCode) => label(ROLE_LABELS[code]);
