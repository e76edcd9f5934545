// What the base-data structures (houses, households, facilities, hazards) and the party module share:
// placing an object on a unit the caller may write at, reference checks that do not tell what exists
// outside the caller's scope, dates, and running inside a caller's transaction when there is one.
import type { Kysely, Transaction } from 'kysely';
import type { Permission } from '../../../../shared/permissions.ts';
import type { Database } from '../../db/types.ts';
import type { RequestContext } from '../../platform/context.ts';
import { authorizeAt, hasPermissionAt } from '../../platform/access.ts';
import { ConflictError, NotFoundError, ValidationError, type Messages } from '../../platform/errors.ts';
import { businessDate, isCalendarDate } from '../../platform/clock.ts';
import type { GridRepository, UnitRow } from '../grid/grid.repository.ts';

export type Q = Kysely<Database> | Transaction<Database>;
export type Tx = Transaction<Database>;

export const UNIT: Messages = { 'zh-CN': '单元', en: 'Unit' };

/** Runs `fn` in the caller's transaction (demo seed, a later module's write) or in a new one. */
export function inTransaction<T>(db: Kysely<Database>, outer: Tx | undefined, fn: (trx: Tx) => Promise<T>): Promise<T> {
  return outer ? fn(outer) : db.transaction().execute(fn);
}

/** '/1/5/9/' → [1, 5, 9]: the unit and its ancestors. */
export function pathIds(path: string): number[] {
  return path.split('/').filter(Boolean).map(Number);
}

/** Distance between two units in the tree: steps up to the common ancestor and down again. */
export function treeDistance(a: string, b: string): number {
  const x = pathIds(a);
  const y = pathIds(b);
  let common = 0;
  while (common < x.length && common < y.length && x[common] === y[common]) common++;
  return x.length - common + (y.length - common);
}

/** Locks the unit an object is placed on and checks the caller may write there; archived units take nothing new. */
export async function writableUnit(grid: GridRepository, ctx: RequestContext, unitId: number, permission: Permission, readPermission: Permission, trx: Tx): Promise<UnitRow> {
  const unit = await grid.unitForUpdate(unitId, trx);
  if (!unit) throw new NotFoundError(UNIT);
  authorizeAt(ctx.actor, permission, unit.path, UNIT, readPermission);
  if (unit.archived_at) throw new ConflictError({ 'zh-CN': '单元已归档', en: 'The unit is archived' }, 'archived');
  return unit;
}

/** The unit a filter names, checked against the caller's scope (outside → not found). */
export async function filterUnit(grid: GridRepository, ctx: RequestContext, unitId: number | undefined, permission: Permission): Promise<UnitRow | undefined> {
  if (!unitId) return undefined;
  const unit = await grid.unit(unitId);
  if (!unit) throw new NotFoundError(UNIT);
  authorizeAt(ctx.actor, permission, unit.path, UNIT, permission);
  return unit;
}

/** Houses and households sit in a grid or below one (a building, courtyard, compound…): never on a street or community. */
export async function assertAtOrBelowGrid(db: Q, unit: UnitRow): Promise<void> {
  const ids = pathIds(unit.path);
  const row = await db
    .selectFrom('org_unit as u')
    .innerJoin('unit_kind as k', 'k.code', 'u.kind_code')
    .select('u.id')
    .where('u.id', 'in', ids)
    .where('k.is_grid', '=', true)
    .executeTakeFirst();
  if (!row) {
    throw new ValidationError(
      { 'zh-CN': `“${unit.name}”不是网格或网格下的单元（如楼栋），不能登记房屋或住户`, en: `"${unit.name}" is not a grid or a unit inside one (such as a building); houses and households are placed there` },
      undefined,
      'unit_not_in_grid',
    );
  }
}

/** A reference the caller named: missing, in another district or outside what they may read all answer the same 400. */
export function unknownReference(what: Messages, id: number): ValidationError {
  return new ValidationError({ 'zh-CN': `${what['zh-CN']} ${id} 不存在`, en: `${what.en} ${id} does not exist` }, { id }, 'unknown_reference');
}

export function visibleAt(ctx: RequestContext, permission: Permission, path: string | null | undefined): boolean {
  return !!path && hasPermissionAt(ctx.actor, permission, path);
}

/** A real calendar date not after today (in the locality). */
export function assertPastDate(value: string, now: Date, label: Messages, code = 'invalid_date'): void {
  if (!isCalendarDate(value) || value > businessDate(now)) {
    throw new ValidationError({ 'zh-CN': `${label['zh-CN']}无效（须为不晚于今天的真实日期）`, en: `${label.en} must be a real date, not in the future` }, undefined, code);
  }
}

export function assertCalendarDate(value: string, label: Messages, code = 'invalid_date'): void {
  if (!isCalendarDate(value)) throw new ValidationError({ 'zh-CN': `${label['zh-CN']}不是真实日期`, en: `${label.en} is not a real date` }, undefined, code);
}

export const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
