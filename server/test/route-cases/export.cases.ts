// Route-matrix rows for the ledger export (server/src/modules/basedata/export): spread into CASES in
// route-matrix.test.ts. The shape is the matrix's RouteCase (declared there); the subset used here is
// restated so this file needs nothing from a test file.
import type { TinyLocality } from '../fixtures.ts';

type Ids = TinyLocality & Record<string, number>;
interface ExportCase {
  method: 'GET' | 'POST';
  route: string;
  url: (ids: Ids) => string;
  body?: (ids: Ids) => unknown;
  as: string;
  status: number;
  outside?: { as: string; url?: (ids: Ids) => string; body?: (ids: Ids) => unknown; status?: number };
  bad?: { url?: (ids: Ids) => string; body: (ids: Ids) => unknown; status?: number }[];
}

export const EXPORT_CASES: ExportCase[] = [
  { method: 'GET', route: '/api/residents/export', url: (i) => `/api/residents/export?unitId=${i.communityA}`, as: 'secretary_a', status: 200, outside: { as: 'secretary_b' },
    bad: [{ url: () => '/api/residents/export', body: () => undefined }, { url: () => '/api/residents/export?unitId=abc', body: () => undefined }, { url: (i) => `/api/residents/export?unitId=${i.communityA}&full=true`, body: () => undefined }] },
  { method: 'POST', route: '/api/residents/export', url: () => '/api/residents/export', body: (i) => ({ unitId: i.communityA, full: true, purpose: '低保年审核对身份' }), as: 'street_admin', status: 200, outside: { as: 'secretary_b' },
    bad: [{ body: (i) => ({ unitId: i.communityA, full: true }) }, { body: (i) => ({ unitId: i.communityA, full: true, purpose: '   ' }) }] },
];
