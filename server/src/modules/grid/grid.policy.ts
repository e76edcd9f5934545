// The grid's rules as pure functions: each returns the problem (zh-CN and en) or null.
import type { Messages } from '../../platform/errors.ts';
import { isCalendarDate } from '../../platform/clock.ts';

export interface TreeNode {
  id: number;
  path: string;
  district_id: number;
  kind_code: string;
  archived_at: Date | null;
}

/** Why `unit` may not move under `target`, or null. `allowed` says whether target's kind may hold unit's kind. */
export function moveProblem(unit: TreeNode, target: TreeNode, allowed: boolean, districtKind: string): Messages | null {
  if (target.id === unit.id) return { 'zh-CN': '不能把单元移到它自己下面', en: 'A unit cannot be moved under itself' };
  if (target.path.startsWith(unit.path)) return { 'zh-CN': '不能把单元移到它自己的下级单元下面', en: 'A unit cannot be moved under its own descendant' };
  if (target.archived_at) return { 'zh-CN': '目标上级单元已归档', en: 'The target parent is archived' };
  if (!allowed) return { 'zh-CN': '目标上级单元的类型不允许包含此类单元', en: "The target parent's kind may not hold a unit of this kind" };
  // Every governed row carries its district; moving across districts would re-key them all, which is a re-zoning job, not a move.
  if (unit.kind_code !== districtKind && target.district_id !== unit.district_id && !isAboveDistrict(unit, target)) {
    return { 'zh-CN': '不能跨区移动单元', en: 'A unit cannot be moved to another district' };
  }
  return null;
}

// A unit at or above district level is its own district key; only units below the district level are bound to one.
function isAboveDistrict(unit: TreeNode, _target: TreeNode) {
  return unit.district_id === unit.id;
}

export function dateRangeProblem(start: string | null | undefined, end: string | null | undefined, labels = { start: '开始日期', end: '结束日期', startEn: 'start date', endEn: 'end date' }): Messages | null {
  if (start && !isCalendarDate(start)) return { 'zh-CN': `${labels.start}不是有效日期`, en: `The ${labels.startEn} is not a real date` };
  if (end && !isCalendarDate(end)) return { 'zh-CN': `${labels.end}不是有效日期`, en: `The ${labels.endEn} is not a real date` };
  if (start && end && end < start) return { 'zh-CN': `${labels.end}不能早于${labels.start}`, en: `The ${labels.endEn} cannot be before the ${labels.startEn}` };
  return null;
}

export function isCurrent(post: { started_on: string; ended_on: string | null }, today: string): boolean {
  return post.started_on <= today && (post.ended_on === null || post.ended_on >= today);
}
