import { http } from './http';

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  actorUserId: number | null;
  action: string;
  targetType: string;
  targetId: string | null;
  unitId: number | null;
  before: unknown;
  after: unknown;
  clientIp: string | null;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  unitId?: number;
  from?: string;
  to?: string;
  before?: number;
  limit?: number;
}

export const auditApi = {
  list: (query: AuditQuery) => http.get<{ items: AuditEntry[]; nextBefore: number | null }>('/audit', { ...query }),
};
