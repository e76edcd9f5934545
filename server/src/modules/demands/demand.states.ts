// The demand loop as an explicit state machine (GB/T 30428's report → register → dispatch → handle →
// report back → verify → close → evaluate, with 接诉即办's return, rework and reopen). Every change of a
// case goes through `transition`, which says whether an action is allowed from the current state and where
// it leads; the service adds who may take it. Pure: no database, no clock.

import { DEMAND_ACTIONS, DEMAND_STATUSES, OPEN_STATUSES, type DemandAction, type DemandStatus, type DemandType, type Rating } from '../../../../shared/demands.ts';

export { CHANNELS, DEMAND_ACTIONS, DEMAND_STATUSES, DEMAND_TYPES, HANDLER_TYPES, OPEN_STATUSES, RATINGS } from '../../../../shared/demands.ts';
export type { Channel, DemandAction, DemandStatus, DemandType, HandlerType, Rating } from '../../../../shared/demands.ts';

/** States escalation may take a case out of: nobody has finished the work yet. */
export const ESCALATABLE_STATUSES: readonly DemandStatus[] = ['reported', 'registered', 'dispatched', 'accepted'];
export const FINAL_STATUSES: readonly DemandStatus[] = ['rated', 'declined', 'merged'];


/**
 * From which states each action may be taken, and the state it leads to. `escalate` keeps a case that was
 * never registered in `reported` (the level above registers it); `rate` leads to `rated`, and a rating of
 * "not fixed" or "not satisfied" is followed by `reopen` in the same transaction.
 */
export const TRANSITIONS: Record<DemandAction, { from: readonly DemandStatus[]; to: DemandStatus | 'same' }> = {
  report: { from: [], to: 'reported' },
  register: { from: ['reported'], to: 'registered' },
  decline: { from: ['reported', 'registered'], to: 'declined' },
  merge: { from: ['reported', 'registered'], to: 'merged' },
  reroute: { from: ['reported', 'registered'], to: 'same' },
  dispatch: { from: ['registered', 'dispatched'], to: 'dispatched' },
  // 党员接单: a claim from the pool is a dispatch to oneself and its acceptance; both go on the timeline
  claim: { from: ['registered'], to: 'accepted' },
  accept: { from: ['dispatched'], to: 'accepted' },
  // 退回: "not ours" — back to the dispatcher, who re-routes or escalates; never closed silently
  return: { from: ['dispatched', 'accepted'], to: 'registered' },
  escalate: { from: ESCALATABLE_STATUSES, to: 'registered' },
  handle: { from: ['accepted'], to: 'handled' },
  // 返工: verification found the work not done
  rework: { from: ['handled'], to: 'accepted' },
  verify: { from: ['handled'], to: 'verified' },
  close: { from: ['verified'], to: 'closed' },
  rate: { from: ['closed'], to: 'rated' },
  reopen: { from: ['rated'], to: 'registered' },
};

export class TransitionRefused extends Error {
  constructor(
    readonly action: DemandAction,
    readonly from: DemandStatus,
  ) {
    super(`${action} is not allowed from ${from}`);
  }
}

/** The state `action` leads to from `from`, or TransitionRefused. */
export function transition(from: DemandStatus, action: DemandAction): DemandStatus {
  const t = TRANSITIONS[action];
  if (!t.from.includes(from)) throw new TransitionRefused(action, from);
  if (action === 'escalate' && from === 'reported') return 'reported';
  return t.to === 'same' ? from : t.to;
}

export function allowedActions(from: DemandStatus): DemandAction[] {
  return DEMAND_ACTIONS.filter((a) => TRANSITIONS[a].from.includes(from));
}

export const isOpen = (s: DemandStatus) => OPEN_STATUSES.includes(s);
export const isDemandStatus = (s: string): s is DemandStatus => (DEMAND_STATUSES as readonly string[]).includes(s);

export const STATUS_LABELS: Record<DemandStatus, { 'zh-CN': string; en: string }> = {
  reported: { 'zh-CN': '已上报', en: 'Reported' },
  registered: { 'zh-CN': '已立案', en: 'Registered' },
  dispatched: { 'zh-CN': '已派遣', en: 'Dispatched' },
  accepted: { 'zh-CN': '已签收', en: 'Accepted' },
  handled: { 'zh-CN': '已处置', en: 'Handled' },
  verified: { 'zh-CN': '已核查', en: 'Verified' },
  closed: { 'zh-CN': '已结案', en: 'Closed' },
  rated: { 'zh-CN': '已评价', en: 'Rated' },
  declined: { 'zh-CN': '不予受理', en: 'Declined' },
  merged: { 'zh-CN': '已合并', en: 'Merged' },
};

export const ACTION_LABELS: Record<DemandAction | 'warn' | 'overdue' | 'response_overdue' | 'notify_secretary', { 'zh-CN': string; en: string }> = {
  report: { 'zh-CN': '上报', en: 'Reported' },
  register: { 'zh-CN': '立案', en: 'Registered' },
  decline: { 'zh-CN': '不予受理', en: 'Declined' },
  merge: { 'zh-CN': '合并', en: 'Merged' },
  reroute: { 'zh-CN': '改派单元', en: 'Re-routed' },
  dispatch: { 'zh-CN': '派遣', en: 'Dispatched' },
  claim: { 'zh-CN': '党员接单', en: 'Claimed by a member' },
  accept: { 'zh-CN': '签收', en: 'Accepted' },
  return: { 'zh-CN': '退回', en: 'Returned' },
  escalate: { 'zh-CN': '上报上级', en: 'Escalated' },
  handle: { 'zh-CN': '处置完毕', en: 'Handled' },
  rework: { 'zh-CN': '返工', en: 'Sent back for rework' },
  verify: { 'zh-CN': '核查通过', en: 'Verified' },
  close: { 'zh-CN': '结案', en: 'Closed' },
  rate: { 'zh-CN': '评价', en: 'Rated' },
  reopen: { 'zh-CN': '重新办理', en: 'Reopened' },
  warn: { 'zh-CN': '临期预警', en: 'Deadline warning' },
  overdue: { 'zh-CN': '超期', en: 'Overdue' },
  response_overdue: { 'zh-CN': '响应超时', en: 'Response overdue' },
  notify_secretary: { 'zh-CN': '报告党组织书记', en: 'Party secretary notified' },
};

export const TYPE_LABELS: Record<DemandType, { 'zh-CN': string; en: string }> = {
  consult: { 'zh-CN': '咨询', en: 'Enquiry' },
  help: { 'zh-CN': '求助', en: 'Request for help' },
  complaint: { 'zh-CN': '投诉', en: 'Complaint' },
  report: { 'zh-CN': '举报', en: 'Report of wrongdoing' },
  suggestion: { 'zh-CN': '建议', en: 'Suggestion' },
};



/** 满意率 counts 满意 and 基本满意 as satisfied, as Beijing's 接诉即办 does. */
export const isSatisfied = (r: Rating) => r !== 'unsatisfied';
