// The audit viewer: auditors (and district admins) read the log of writes inside their scope.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import type { RequestContext } from '../../platform/context.ts';
import { requirePermissionAnywhere, scopePaths, authorizeAt } from '../../platform/access.ts';
import { NotFoundError, ValidationError } from '../../platform/errors.ts';
import { GridRepository } from '../grid/grid.repository.ts';
import { AuditRepository } from './audit.repository.ts';

export class AuditService {
  private readonly repo: AuditRepository;
  private readonly grid: GridRepository;
  constructor(db: Kysely<Database>) {
    this.repo = new AuditRepository(db);
    this.grid = new GridRepository(db);
  }

  async list(ctx: RequestContext, filter: { actor?: string; action?: string; unitId?: number; from?: string; to?: string; before?: number; limit?: number }) {
    requirePermissionAnywhere(ctx.actor, 'audit.read');
    const from = filter.from ? new Date(filter.from) : undefined;
    const to = filter.to ? new Date(filter.to) : undefined;
    if ((from && Number.isNaN(from.getTime())) || (to && Number.isNaN(to.getTime()))) {
      throw new ValidationError({ 'zh-CN': '时间格式错误', en: 'Malformed time' });
    }
    if (from && to && to <= from) throw new ValidationError({ 'zh-CN': '结束时间必须晚于开始时间', en: 'The end must be after the start' });
    let unitPath: string | undefined;
    if (filter.unitId) {
      const unit = await this.grid.unit(filter.unitId);
      // A missing unit answers exactly as one outside the caller's scope: the filter must not tell which ids exist.
      if (!unit) throw new NotFoundError({ 'zh-CN': '单元', en: 'Unit' });
      authorizeAt(ctx.actor, 'audit.read', unit.path, { 'zh-CN': '单元', en: 'Unit' });
      unitPath = unit.path;
    }
    const limit = filter.limit ?? 100;
    const rows = await this.repo.find(scopePaths(ctx.actor, 'audit.read'), { actor: filter.actor, action: filter.action, unitPath, from, to, before: filter.before, limit });
    return {
      items: rows.map((r) => ({
        id: r.id,
        at: r.at.toISOString(),
        actor: r.actor_name,
        actorUserId: r.actor_user_id,
        action: r.action,
        targetType: r.target_type,
        targetId: r.target_id,
        unitId: r.unit_id,
        before: r.before,
        after: r.after,
        clientIp: r.client_ip,
      })),
      nextBefore: rows.length === limit ? rows[rows.length - 1].id : null,
    };
  }
}
