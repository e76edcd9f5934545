// Base-data pages: shared bits (which permission opens the import wizard, ID-number helpers for forms).
import type { Permission } from '@shared/permissions';

/** The permission the import routes check (the wizard's menu entry and button follow it). */
export const importPermission: Permission = 'resident.import';

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

/** GB 11643: whether an 18-character ID number's check character fits (the server checks everything else). */
export function idNumberLooksValid(value: string): boolean {
  const v = value.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(v)) return false;
  const sum = WEIGHTS.reduce((acc, w, i) => acc + w * Number(v[i]), 0);
  return CHECK[sum % 11] === v[17];
}
