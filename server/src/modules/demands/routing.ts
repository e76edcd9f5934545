// Where a demand belongs: the grid whose boundary contains its location (a spatial index over every grid
// polygon of the deployment, held in memory), else the unit of the dwelling it names, else the unit the
// reporter chose. The index is rebuilt when the boundaries change: a cheap fingerprint of the boundary
// rows is checked at most once a second, so a boundary drawn in another process is picked up too.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import { BoundaryIndex, parseBoundary } from '../../platform/geo.ts';

export interface RoutedUnit {
  id: number;
  districtId: number;
  path: string;
  depth: number;
}

const RECHECK_MS = 1000;

export class DemandRouter {
  private index = new BoundaryIndex<number>();
  private units = new Map<number, RoutedUnit>();
  private fingerprint = '';
  private checkedAt = 0;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clockMs: () => number = () => performance.now(),
  ) {}

  /** Forget the index now (a boundary written in this process); the next lookup reloads it. */
  invalidate() {
    this.checkedAt = 0;
    this.fingerprint = '';
  }

  get size() {
    return this.index.size;
  }

  private async current(): Promise<void> {
    if (this.loading) return this.loading;
    if (this.clockMs() - this.checkedAt < RECHECK_MS && this.fingerprint) return;
    this.loading = (async () => {
      try {
        const r = await sql<{ n: string; latest: Date | null; ids: string | null }>`
          select count(*) as n, max(u.updated_at) as latest, sum(u.id) as ids
          from org_unit u join unit_kind k on k.code = u.kind_code
          where k.is_grid and u.boundary is not null and u.archived_at is null`.execute(this.db);
        const row = r.rows[0];
        const fp = `${row.n}:${row.latest ? new Date(row.latest).getTime() : 0}:${row.ids ?? 0}`;
        this.checkedAt = this.clockMs();
        if (fp === this.fingerprint) return;
        const rows = await this.db
          .selectFrom('org_unit as u')
          .innerJoin('unit_kind as k', 'k.code', 'u.kind_code')
          .select(['u.id', 'u.district_id', 'u.path', 'u.depth', 'u.boundary'])
          .where('k.is_grid', '=', true)
          .where('u.boundary', 'is not', null)
          .where('u.archived_at', 'is', null)
          .execute();
        const index = new BoundaryIndex<number>();
        const units = new Map<number, RoutedUnit>();
        for (const u of rows) {
          const parsed = parseBoundary(u.boundary);
          if ('problem' in parsed) continue;
          index.add(Number(u.id), parsed.boundary);
          units.set(Number(u.id), { id: Number(u.id), districtId: Number(u.district_id), path: u.path, depth: u.depth });
        }
        this.index = index;
        this.units = units;
        this.fingerprint = fp;
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  /** The grid containing the point: the deepest one when grids nest, the first drawn when two overlap. */
  async gridAt(lng: number, lat: number): Promise<RoutedUnit | null> {
    await this.current();
    const hits = this.index.find(lng, lat).map((id) => this.units.get(id)!).filter(Boolean);
    if (!hits.length) return null;
    return hits.reduce((best, u) => (u.depth > best.depth ? u : best));
  }
}
