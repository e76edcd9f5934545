// Boundaries of governance units (district → street → community → grid → building) as GeoJSON
// Polygon / MultiPolygon: validation of uploaded boundaries, containment of a child unit's boundary in
// its parent's, point-in-boundary queries, and a spatial index for routing many points among many
// boundaries. Pure and dependency-free so it can run anywhere (services, seeding, benchmarks).
//
// Coordinates are [longitude, latitude] in degrees (WGS84 or GCJ-02) and are treated as planar x/y:
// an edge is the straight line between its two positions in the lng/lat plane, which is what GeoJSON
// itself prescribes (RFC 7946 §3.1.1). At the scale of a district or smaller the difference from a
// geodesic edge is far below the precision of drawn boundaries. Boundaries crossing the antimeridian
// or containing a pole are not supported.
//
// Robustness: every orientation / on-edge decision uses one distance tolerance, EDGE_TOLERANCE_DEG.
// It is ~0.1 mm on the ground, far below survey precision, yet over 10^4 times larger than the
// rounding error of double arithmetic on coordinates up to 180 (ulp(180) ≈ 2.8e-14), so a point
// classified as strictly left/right of a line really is there: the sign is exact outside the band,
// and inside the band the point counts as on the line. That is what lets grid polygons that tile their
// parent (and share its edges) be accepted even when their coordinates went through float arithmetic.

export type Position = [number, number];
export type PolygonGeometry = { type: 'Polygon'; coordinates: Position[][] };
export type MultiPolygonGeometry = { type: 'MultiPolygon'; coordinates: Position[][][] };
export type Boundary = PolygonGeometry | MultiPolygonGeometry;
export interface BBox {
  minLng: number;
  minLat: number;
  maxLng: number;
  maxLat: number;
}
export type Problem = { 'zh-CN': string; en: string };

/** Two positions closer than this are the same point; a point closer than this to an edge is on it. */
export const EDGE_TOLERANCE_DEG = 1e-9;
/** Limits that keep the O(n²) worst case of the self-intersection test within milliseconds to a second. */
export const MAX_RING_VERTICES = 5_000;
export const MAX_TOTAL_VERTICES = 50_000;

const TOL = EDGE_TOLERANCE_DEG;
const TOL_SQ = TOL * TOL;

/** Closed: the last position repeats the first. */
type Ring = Position[];
/** Outer ring first, then holes. */
type Poly = Ring[];

const OUTSIDE = -1;
const ON_EDGE = 0;
const INSIDE = 1;
type Location = typeof OUTSIDE | typeof ON_EDGE | typeof INSIDE;

function polygonsOf(b: Boundary): Poly[] {
  return b.type === 'Polygon' ? [b.coordinates] : b.coordinates;
}

// ---------------------------------------------------------------------------------------------------
// Primitives

/** Side of c relative to the directed line a→b: 1 left, -1 right, 0 within TOL of the line. */
function orient(a: Position, b: Position, c: Position): -1 | 0 | 1 {
  const abx = b[0] - a[0];
  const aby = b[1] - a[1];
  const cross = abx * (c[1] - a[1]) - aby * (c[0] - a[0]);
  // cross / |ab| is c's distance from the line; scaling the band instead of dividing keeps this
  // well-defined for a zero-length a→b (everything is then "on" it).
  const band = TOL * Math.hypot(abx, aby);
  return cross > band ? 1 : cross < -band ? -1 : 0;
}

function distSqToSegment(p: Position, a: Position, b: Position): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const ex = a[0] + t * dx - p[0];
  const ey = a[1] + t * dy - p[1];
  return ex * ex + ey * ey;
}

function onSegment(p: Position, a: Position, b: Position): boolean {
  return distSqToSegment(p, a, b) <= TOL_SQ;
}

function samePoint(p: Position, q: Position): boolean {
  const dx = p[0] - q[0];
  const dy = p[1] - q[1];
  return dx * dx + dy * dy <= TOL_SQ;
}

/** The interiors cross at a single point, no endpoint of either being on the other. */
function crossesProperly(a: Position, b: Position, c: Position, d: Position): boolean {
  const o1 = orient(a, b, c);
  const o2 = orient(a, b, d);
  if (o1 === 0 || o2 === 0 || o1 === o2) return false;
  const o3 = orient(c, d, a);
  const o4 = orient(c, d, b);
  return o3 !== 0 && o4 !== 0 && o3 !== o4;
}

/** Any contact at all: a proper crossing, touching, or collinear overlap. */
function segmentsMeet(a: Position, b: Position, c: Position, d: Position): boolean {
  return crossesProperly(a, b, c, d) || onSegment(a, c, d) || onSegment(b, c, d) || onSegment(c, a, b) || onSegment(d, a, b);
}

/** Parameter in [0, 1] of p's projection onto a→b. */
function paramAlong(p: Position, a: Position, b: Position): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  if (len2 === 0) return 0;
  const t = ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2;
  return t < 0 ? 0 : t > 1 ? 1 : t;
}

// ---------------------------------------------------------------------------------------------------
// Bounding boxes and point location

// Ring bboxes are memoised per ring array so that repeated queries against the same boundary get the
// bbox precheck for free; boundaries are therefore treated as immutable once queried.
const ringBoxes = new WeakMap<readonly Position[], BBox>();

function emptyBox(): BBox {
  return { minLng: Infinity, minLat: Infinity, maxLng: -Infinity, maxLat: -Infinity };
}

function ringBBox(ring: Ring): BBox {
  const cached = ringBoxes.get(ring);
  if (cached) return cached;
  const box = emptyBox();
  for (const [x, y] of ring) {
    if (x < box.minLng) box.minLng = x;
    if (x > box.maxLng) box.maxLng = x;
    if (y < box.minLat) box.minLat = y;
    if (y > box.maxLat) box.maxLat = y;
  }
  ringBoxes.set(ring, box);
  return box;
}

function boxOfPolys(polys: Poly[]): BBox {
  const box = emptyBox();
  for (const poly of polys) {
    // Holes lie inside their outer ring, so the outer rings alone bound the boundary.
    const outer = poly[0];
    if (!outer || outer.length === 0) continue;
    const r = ringBBox(outer);
    box.minLng = Math.min(box.minLng, r.minLng);
    box.minLat = Math.min(box.minLat, r.minLat);
    box.maxLng = Math.max(box.maxLng, r.maxLng);
    box.maxLat = Math.max(box.maxLat, r.maxLat);
  }
  return box;
}

function nearBox(box: BBox, x: number, y: number): boolean {
  return x >= box.minLng - TOL && x <= box.maxLng + TOL && y >= box.minLat - TOL && y <= box.maxLat + TOL;
}

/** Bounding box of the boundary; for a boundary with no rings, min is +Infinity and max -Infinity. */
export function bboxOf(b: Boundary): BBox {
  return boxOfPolys(polygonsOf(b));
}

function locateInRing(x: number, y: number, ring: Ring): Location {
  if (!nearBox(ringBBox(ring), x, y)) return OUTSIDE;
  const p: Position = [x, y];
  let inside = false;
  for (let i = 0; i + 1 < ring.length; i++) {
    const a = ring[i];
    const b = ring[i + 1];
    const ay = a[1];
    const by = b[1];
    // The cheap range test spares the distance computation for almost every edge.
    if (
      y >= Math.min(ay, by) - TOL &&
      y <= Math.max(ay, by) + TOL &&
      x >= Math.min(a[0], b[0]) - TOL &&
      x <= Math.max(a[0], b[0]) + TOL &&
      onSegment(p, a, b)
    ) {
      return ON_EDGE;
    }
    // Half-open rule (one endpoint strictly above, the other not) counts a vertex on the ray once.
    if (ay > y !== by > y) {
      const xCross = a[0] + ((y - ay) * (b[0] - a[0])) / (by - ay);
      if (x < xCross) inside = !inside;
    }
  }
  return inside ? INSIDE : OUTSIDE;
}

function locateInPolys(x: number, y: number, polys: Poly[]): Location {
  let best: Location = OUTSIDE;
  for (const poly of polys) {
    const outer = poly[0];
    if (!outer) continue;
    const where = locateInRing(x, y, outer);
    if (where === OUTSIDE) continue;
    let here: Location = where;
    if (where === INSIDE) {
      for (let h = 1; h < poly.length; h++) {
        const inHole = locateInRing(x, y, poly[h]);
        if (inHole === INSIDE) {
          here = OUTSIDE;
          break;
        }
        if (inHole === ON_EDGE) here = ON_EDGE;
      }
    }
    if (here === INSIDE) return INSIDE;
    if (here > best) best = here;
  }
  return best;
}

/** True when the point is inside the boundary or on its edge (within EDGE_TOLERANCE_DEG); false in a hole. */
export function pointInBoundary(lng: number, lat: number, b: Boundary): boolean {
  if (!Number.isFinite(lng) || !Number.isFinite(lat)) return false;
  return locateInPolys(lng, lat, polygonsOf(b)) !== OUTSIDE;
}

// ---------------------------------------------------------------------------------------------------
// Segment sweep

interface Seg {
  a: Position;
  b: Position;
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

function segBox(a: Position, b: Position): Seg {
  return {
    a,
    b,
    minX: Math.min(a[0], b[0]),
    maxX: Math.max(a[0], b[0]),
    minY: Math.min(a[1], b[1]),
    maxY: Math.max(a[1], b[1]),
  };
}

/**
 * Visits every pair of segments whose bboxes overlap (within TOL), by index into `segs`, until `visit`
 * returns true, and returns that pair. Sorting by minX makes boundary-like inputs near-linear; the worst
 * case (every edge spanning the same x range) is the plain O(n²) pairwise test, which the vertex limits
 * keep affordable. The scan reads typed arrays because it is the hot loop of validation.
 */
function findPair(segs: readonly Seg[], visit: (s: number, t: number) => boolean): [number, number] | null {
  const n = segs.length;
  const order = Array.from({ length: n }, (_, k) => k).sort((p, q) => segs[p].minX - segs[q].minX);
  const minX = new Float64Array(n);
  const maxX = new Float64Array(n);
  const minY = new Float64Array(n);
  const maxY = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const seg = segs[order[r]];
    minX[r] = seg.minX;
    maxX[r] = seg.maxX;
    minY[r] = seg.minY;
    maxY[r] = seg.maxY;
  }
  for (let i = 0; i < n; i++) {
    const limit = maxX[i] + TOL;
    const low = minY[i] - TOL;
    const high = maxY[i] + TOL;
    for (let j = i + 1; j < n && minX[j] <= limit; j++) {
      if (minY[j] > high || maxY[j] < low) continue;
      if (visit(order[i], order[j])) return [order[i], order[j]];
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------
// Ring checks (on the distinct vertices of a ring: consecutive duplicates removed, closing one implied)

/**
 * The ring's distinct vertices, with where each came from so that problems name the input positions:
 * edge k of the result runs from input position `from[k]` to `to[k]` (the last and first positions of
 * runs of repeats), and vertex k is input position `at[k]`.
 */
function distinctVertices(ring: Ring): { v: Position[]; at: number[]; from: number[]; to: number[] } {
  const v: Position[] = [];
  const at: number[] = [];
  const last: number[] = [];
  for (let i = 0; i + 1 < ring.length; i++) {
    if (v.length > 0 && samePoint(v[v.length - 1], ring[i])) {
      last[last.length - 1] = i;
      continue;
    }
    v.push(ring[i]);
    at.push(i);
    last.push(i);
  }
  let closeAt = ring.length - 1;
  while (v.length > 1 && samePoint(v[v.length - 1], v[0])) {
    v.pop();
    last.pop();
    closeAt = at.pop() ?? closeAt;
  }
  return { v, at, from: last, to: [...at.slice(1), closeAt] };
}

/** All vertices coincide or lie within TOL of one line: the ring encloses nothing at all. */
function isDegenerate(v: Position[]): boolean {
  if (v.length < 3) return true;
  let far = v[0];
  let farDist = 0;
  for (const p of v) {
    const d = Math.hypot(p[0] - v[0][0], p[1] - v[0][1]);
    if (d > farDist) {
      far = p;
      farDist = d;
    }
  }
  return farDist <= TOL || v.every((p) => orient(v[0], far, p) === 0);
}

/**
 * Thinner than TOL on average (|area| ≤ TOL · perimeter / 2). Only meaningful for a simple ring: a
 * figure-8 whose lobes cancel also has zero signed area, but that is reported as crossing itself.
 */
function isSliver(v: Position[]): boolean {
  const n = v.length;
  // Shoelace relative to the first vertex: coordinates near 116°/39° would otherwise cancel badly.
  const [ox, oy] = v[0];
  let twiceArea = 0;
  let perimeter = 0;
  for (let i = 0; i < n; i++) {
    const a = v[i];
    const b = v[(i + 1) % n];
    twiceArea += (a[0] - ox) * (b[1] - oy) - (b[0] - ox) * (a[1] - oy);
    perimeter += Math.hypot(b[0] - a[0], b[1] - a[1]);
  }
  return Math.abs(twiceArea) <= TOL * perimeter;
}

/** Edge b→c folds back over edge a→b (a spike), the only way two consecutive edges can overlap. */
function foldsBack(a: Position, b: Position, c: Position): boolean {
  return onSegment(c, a, b) || onSegment(a, b, c);
}

/** Indices of two edges of the ring that meet other than at their shared vertex, or null. */
function findSelfIntersection(v: Position[]): [number, number] | null {
  const n = v.length;
  const segs: Seg[] = [];
  for (let i = 0; i < n; i++) segs.push(segBox(v[i], v[(i + 1) % n]));
  const hit = findPair(segs, (s, t) => {
    const i = Math.min(s, t);
    const j = Math.max(s, t);
    if (j === i + 1) return foldsBack(v[i], v[j], v[(j + 1) % n]);
    if (i === 0 && j === n - 1) return foldsBack(v[j], v[0], v[1]);
    return segmentsMeet(segs[i].a, segs[i].b, segs[j].a, segs[j].b);
  });
  return hit ? [Math.min(hit[0], hit[1]), Math.max(hit[0], hit[1])] : null;
}

/** A point strictly inside a simple ring: the middle of the widest interior span on a horizontal line
 *  through the largest vertical gap between vertices (so the line passes through no vertex). */
function interiorPoint(ring: Ring): Position | null {
  const ys = [...new Set(ring.map((p) => p[1]))].sort((a, b) => a - b);
  let y = NaN;
  let gap = 0;
  for (let k = 0; k + 1 < ys.length; k++) {
    if (ys[k + 1] - ys[k] > gap) {
      gap = ys[k + 1] - ys[k];
      y = (ys[k] + ys[k + 1]) / 2;
    }
  }
  if (!(gap > 0)) return null;
  const xs: number[] = [];
  for (let i = 0; i + 1 < ring.length; i++) {
    const a = ring[i];
    const b = ring[i + 1];
    if (a[1] < y !== b[1] < y) xs.push(a[0] + ((y - a[1]) * (b[0] - a[0])) / (b[1] - a[1]));
  }
  xs.sort((a, b) => a - b);
  let width = 0;
  let x = NaN;
  for (let k = 0; k + 1 < xs.length; k += 2) {
    if (xs[k + 1] - xs[k] > width) {
      width = xs[k + 1] - xs[k];
      x = (xs[k] + xs[k + 1]) / 2;
    }
  }
  return width > 0 ? [x, y] : null;
}

// ---------------------------------------------------------------------------------------------------
// Containment

/** Where containment fails; positions index the rings as given (closed), edge i runs i → i+1. */
type Breach =
  | { kind: 'vertex' | 'edge'; polygon: number; ring: number; position: number }
  | { kind: 'hole'; polygon: number; ring: number };

interface ChildEdge {
  polygon: number;
  ring: number;
  position: number;
  ringId: number;
  /** Parameters along the edge where a parent vertex lies on it. */
  splits: number[];
  /** Parent edges it touches; empty when it touches none. */
  touching: Seg[];
}

function firstOutsideVertex(child: Poly[], parent: Poly[]): Breach | null {
  for (let p = 0; p < child.length; p++) {
    for (let r = 0; r < child[p].length; r++) {
      const ring = child[p][r];
      for (let i = 0; i + 1 < ring.length; i++) {
        if (locateInPolys(ring[i][0], ring[i][1], parent) === OUTSIDE) return { kind: 'vertex', polygon: p, ring: r, position: i };
      }
    }
  }
  return null;
}

/**
 * Null when the child region lies within the parent region (touching and shared edges allowed).
 *
 * "Every vertex inside and no proper crossing" is necessary but not sufficient: a child edge can pass
 * through two reflex vertices of a concave parent and run outside in between, and a child can enclose
 * one of the parent's holes. So the child's boundary is cut wherever a parent vertex lies on it; each
 * piece then touches the parent boundary only at its ends and is wholly inside or wholly outside, which
 * its midpoint decides. A child ring that never touches the parent boundary is decided by one vertex.
 * Finally no parent hole may lie inside the child. Only on failure are vertices tested one by one, to
 * name the most intuitive culprit (an outside vertex) when there is one.
 */
function findBreach(child: Poly[], parent: Poly[]): Breach | null {
  const childBox = boxOfPolys(child);
  if (!(childBox.minLng <= childBox.maxLng)) return null;
  const parentBox = boxOfPolys(parent);
  if (
    childBox.minLng < parentBox.minLng - TOL ||
    childBox.maxLng > parentBox.maxLng + TOL ||
    childBox.minLat < parentBox.minLat - TOL ||
    childBox.maxLat > parentBox.maxLat + TOL
  ) {
    const outside = firstOutsideVertex(child, parent);
    if (outside) return outside;
  }

  const segs: Seg[] = [];
  /** Parallel to segs: the child edge, or null for a parent edge. */
  const owners: Array<ChildEdge | null> = [];
  const ringFirst: Array<{ polygon: number; ring: number; first: Position }> = [];
  const ringTouched: boolean[] = [];
  for (let p = 0; p < child.length; p++) {
    for (let r = 0; r < child[p].length; r++) {
      const ring = child[p][r];
      if (ring.length === 0) continue;
      const ringId = ringFirst.length;
      ringFirst.push({ polygon: p, ring: r, first: ring[0] });
      ringTouched.push(false);
      for (let i = 0; i + 1 < ring.length; i++) {
        const edge: ChildEdge = { polygon: p, ring: r, position: i, ringId, splits: [], touching: [] };
        segs.push(segBox(ring[i], ring[i + 1]));
        owners.push(edge);
      }
    }
  }
  for (const poly of parent) {
    for (const ring of poly) {
      for (let i = 0; i + 1 < ring.length; i++) {
        const seg = segBox(ring[i], ring[i + 1]);
        // Parent edges away from the child cannot touch it; dropping them keeps the sweep small.
        if (seg.maxX < childBox.minLng - TOL || seg.minX > childBox.maxLng + TOL) continue;
        if (seg.maxY < childBox.minLat - TOL || seg.minY > childBox.maxLat + TOL) continue;
        segs.push(seg);
        owners.push(null);
      }
    }
  }

  const crossing = findPair(segs, (s, t) => {
    const edge = owners[s] ?? owners[t];
    if (!edge || (owners[s] && owners[t])) return false;
    const c = owners[s] ? segs[s] : segs[t];
    const q = owners[s] ? segs[t] : segs[s];
    if (crossesProperly(c.a, c.b, q.a, q.b)) return true;
    let touched = onSegment(c.a, q.a, q.b) || onSegment(c.b, q.a, q.b);
    for (const end of [q.a, q.b]) {
      if (onSegment(end, c.a, c.b)) {
        touched = true;
        edge.splits.push(paramAlong(end, c.a, c.b));
      }
    }
    if (touched) {
      edge.touching.push(q);
      ringTouched[edge.ringId] = true;
    }
    return false;
  });
  const edgeBreach = (e: ChildEdge): Breach =>
    firstOutsideVertex(child, parent) ?? { kind: 'edge', polygon: e.polygon, ring: e.ring, position: e.position };
  if (crossing) {
    const e = owners[crossing[0]] ?? owners[crossing[1]];
    if (e) return edgeBreach(e);
  }

  for (let k = 0; k < segs.length; k++) {
    const e = owners[k];
    const seg = segs[k];
    if (!e || e.touching.length === 0) continue;
    const dx = seg.b[0] - seg.a[0];
    const dy = seg.b[1] - seg.a[1];
    const len = Math.hypot(dx, dy);
    const ts = [0, ...e.splits.sort((u, w) => u - w), 1];
    for (let m = 0; m + 1 < ts.length; m++) {
      if ((ts[m + 1] - ts[m]) * len <= TOL) continue;
      const tm = (ts[m] + ts[m + 1]) / 2;
      const mid: Position = [seg.a[0] + tm * dx, seg.a[1] + tm * dy];
      // A piece running along a parent edge (shared edges, the common case) is on the boundary; only
      // the other pieces need the full point-in-polygon test.
      if (e.touching.some((q) => onSegment(mid, q.a, q.b))) continue;
      if (locateInPolys(mid[0], mid[1], parent) === OUTSIDE) return edgeBreach(e);
    }
  }
  for (let id = 0; id < ringFirst.length; id++) {
    if (ringTouched[id]) continue;
    const { polygon, ring, first } = ringFirst[id];
    if (locateInPolys(first[0], first[1], parent) === OUTSIDE) {
      return firstOutsideVertex(child, parent) ?? { kind: 'vertex', polygon, ring, position: 0 };
    }
  }

  for (let p = 0; p < parent.length; p++) {
    for (let h = 1; h < parent[p].length; h++) {
      const q = interiorPoint(parent[p][h]);
      // A point of the hole covered by another parent polygon (an island) is not a gap in the parent.
      if (!q || locateInPolys(q[0], q[1], parent) !== OUTSIDE) continue;
      if (locateInPolys(q[0], q[1], child) === INSIDE) return { kind: 'hole', polygon: p, ring: h };
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------
// Messages

interface Site {
  path: string;
  zh: string;
  en: string;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function ringSite(prefix: string, multi: boolean, polygon: number, ring: number): Site {
  const kindZh = ring === 0 ? '外环' : '内环';
  const kindEn = ring === 0 ? 'outer ring' : 'hole';
  return {
    path: multi ? `${prefix}coordinates[${polygon}][${ring}]` : `${prefix}coordinates[${ring}]`,
    zh: `${multi ? `多边形 ${polygon} 的` : ''}环 ${ring}（${kindZh}）`,
    en: `${multi ? `polygon ${polygon}, ` : ''}ring ${ring} (${kindEn})`,
  };
}

function positionSite(ring: Site, position: number): Site {
  return { path: `${ring.path}[${position}]`, zh: `${ring.zh}的坐标点 ${position}`, en: `${ring.en}, position ${position}` };
}

function problem(zh: string, en: string): Problem {
  return { 'zh-CN': zh, en };
}

function preview(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// ---------------------------------------------------------------------------------------------------
// Parsing

/** Thrown only inside parseBoundary, to leave the nested walk at the first problem. */
class Rejection {
  constructor(readonly problem: Problem) {}
}

function reject(zh: string, en: string): never {
  throw new Rejection(problem(zh, en));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Array.isArray narrows to any[]; this keeps the elements unknown.
function isArray(v: unknown): v is readonly unknown[] {
  return Array.isArray(v);
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function readPosition(raw: unknown, site: Site): Position {
  if (!isArray(raw) || (raw.length !== 2 && raw.length !== 3) || !raw.every(isFiniteNumber)) {
    reject(
      `${site.zh}（${site.path}）必须是由 2 个有限数值组成的数组 [经度, 纬度]（可带第 3 个数值表示高程），实际为 ${preview(raw)}`,
      `${capitalise(site.en)} (${site.path}) must be an array of 2 finite numbers [longitude, latitude] (optionally a 3rd, the altitude), not ${preview(raw)}`,
    );
  }
  const lng = raw[0];
  const lat = raw[1];
  if (lng < -180 || lng > 180) {
    reject(
      `${site.zh}（${site.path}）的经度 ${lng} 超出范围 [-180, 180]`,
      `${capitalise(site.en)} (${site.path}) has longitude ${lng}, outside [-180, 180]`,
    );
  }
  if (lat < -90 || lat > 90) {
    const swapped = Math.abs(lng) <= 90 && Math.abs(lat) <= 180;
    reject(
      `${site.zh}（${site.path}）的纬度 ${lat} 超出范围 [-90, 90]${swapped ? '；坐标顺序应为 [经度, 纬度]，是否写反了？' : ''}`,
      `${capitalise(site.en)} (${site.path}) has latitude ${lat}, outside [-90, 90]${swapped ? '; positions are [longitude, latitude], are they swapped?' : ''}`,
    );
  }
  return [lng, lat];
}

function readRing(raw: unknown, site: Site, budget: { total: number }): Ring {
  if (!isArray(raw)) {
    reject(`${site.zh}（${site.path}）必须是坐标点数组`, `${capitalise(site.en)} (${site.path}) must be an array of positions`);
  }
  // Counted before any position is read, so an oversized upload is refused without being walked.
  const vertices = Math.max(raw.length - 1, 0);
  if (vertices > MAX_RING_VERTICES) {
    reject(
      `${site.zh}（${site.path}）有 ${vertices} 个顶点，超过单个环的上限 ${MAX_RING_VERTICES} 个（顶点过多），请先简化边界`,
      `${capitalise(site.en)} (${site.path}) has ${vertices} vertices: too many vertices (at most ${MAX_RING_VERTICES} per ring); simplify the boundary first`,
    );
  }
  budget.total += vertices;
  if (budget.total > MAX_TOTAL_VERTICES) {
    reject(
      `边界的顶点总数（到${site.zh}为止已有 ${budget.total} 个）超过上限 ${MAX_TOTAL_VERTICES} 个（顶点过多），请先简化边界`,
      `Too many vertices: the boundary has at least ${budget.total} (counted up to ${site.en}), more than the ${MAX_TOTAL_VERTICES} allowed; simplify it first`,
    );
  }
  if (raw.length < 4) {
    reject(
      `${site.zh}（${site.path}）只有 ${raw.length} 个坐标点，至少需要 4 个（首尾坐标点相同的闭合环）`,
      `${capitalise(site.en)} (${site.path}) has ${raw.length} positions; a ring needs at least 4 (closed: the last repeats the first)`,
    );
  }
  const ring = raw.map((p, i) => readPosition(p, positionSite(site, i)));
  const first = ring[0];
  const last = ring[ring.length - 1];
  if (first[0] !== last[0] || first[1] !== last[1]) {
    reject(
      `${site.zh}（${site.path}）未闭合：第一个坐标点 ${preview(first)} 与最后一个坐标点 ${preview(last)} 不同`,
      `${capitalise(site.en)} (${site.path}) is not closed: its first position ${preview(first)} differs from its last ${preview(last)}`,
    );
  }
  return ring;
}

/** Checks each ring's shape and the holes' placement; returns the rings with repeated vertices dropped. */
function checkPolygon(rings: Ring[], siteOf: (ring: number) => Site): Poly {
  const cleaned: Poly = [];
  for (let r = 0; r < rings.length; r++) {
    const site = siteOf(r);
    const { v, from, to } = distinctVertices(rings[r]);
    const zeroArea = () =>
      reject(
        `${site.zh}（${site.path}）面积为零：所有顶点重合或共线`,
        `${capitalise(site.en)} (${site.path}) has zero area: its vertices coincide or lie on one line`,
      );
    if (isDegenerate(v)) zeroArea();
    const hit = findSelfIntersection(v);
    if (hit) {
      const [i, j] = hit.map((k) => [from[k], to[k]]);
      reject(
        `${site.zh}（${site.path}）自相交：坐标点 ${i[0]}→${i[1]} 的边与坐标点 ${j[0]}→${j[1]} 的边相交或重叠`,
        `${capitalise(site.en)} (${site.path}) crosses itself: the edge from position ${i[0]} to ${i[1]} meets the edge from position ${j[0]} to ${j[1]}`,
      );
    }
    if (isSliver(v)) zeroArea();
    cleaned.push([...v.map((p): Position => [p[0], p[1]]), [v[0][0], v[0][1]]]);
  }
  for (let h = 1; h < cleaned.length; h++) {
    const breach = findBreach([[cleaned[h]]], [[cleaned[0]]]);
    if (!breach || breach.kind === 'hole') continue;
    const site = siteOf(h);
    // Breach positions index the cleaned hole; map them back to the input.
    const { at, from, to } = distinctVertices(rings[h]);
    const k = breach.position;
    if (breach.kind === 'vertex') {
      reject(
        `${site.zh}（${site.path}）不在外环内：坐标点 ${at[k]} 位于外环之外`,
        `${capitalise(site.en)} (${site.path}) is not inside its outer ring: position ${at[k]} lies outside it`,
      );
    }
    reject(
      `${site.zh}（${site.path}）不在外环内：坐标点 ${from[k]}→${to[k]} 的边越出了外环`,
      `${capitalise(site.en)} (${site.path}) is not inside its outer ring: the edge from position ${from[k]} to ${to[k]} goes outside it`,
    );
  }
  return cleaned;
}

function readBoundary(value: unknown): Boundary {
  const notGeoJson = (): never =>
    reject(
      '边界必须是 GeoJSON 对象：Polygon、MultiPolygon，或包含它们的 Feature',
      'The boundary must be a GeoJSON object: a Polygon, a MultiPolygon, or a Feature wrapping one',
    );
  if (!isRecord(value)) return notGeoJson();
  if (value.type === 'FeatureCollection') {
    reject(
      '不接受 FeatureCollection：一个边界只能是一个 Polygon / MultiPolygon 几何对象或一个 Feature',
      'A FeatureCollection is not accepted: a boundary is one Polygon / MultiPolygon geometry or one Feature',
    );
  }
  let geometry = value;
  let prefix = '';
  if (value.type === 'Feature') {
    const inner = value.geometry;
    if (!isRecord(inner)) reject('Feature 缺少几何对象（geometry）', 'The Feature has no geometry object');
    geometry = inner;
    prefix = 'geometry.';
  }
  const type = geometry.type;
  if (type !== 'Polygon' && type !== 'MultiPolygon') {
    const shown = type === undefined ? null : preview(type);
    reject(
      `${prefix}type 必须是 Polygon 或 MultiPolygon，${shown === null ? '但缺少该字段' : `而不是 ${shown}`}`,
      `${prefix}type must be Polygon or MultiPolygon, ${shown === null ? 'but it is missing' : `not ${shown}`}`,
    );
  }
  const coordinates = geometry.coordinates;
  if (!isArray(coordinates)) {
    reject(`缺少 ${prefix}coordinates 数组，或它不是数组`, `${prefix}coordinates is missing or not an array`);
  }
  const multi = type === 'MultiPolygon';
  if (coordinates.length === 0) {
    reject(
      multi ? `${prefix}coordinates 至少需要一个多边形` : `${prefix}coordinates 至少需要一个环（外环）`,
      multi ? `${prefix}coordinates needs at least one polygon` : `${prefix}coordinates needs at least one ring (the outer ring)`,
    );
  }
  const rawPolygons: readonly unknown[] = multi ? coordinates : [coordinates];
  const budget = { total: 0 };
  const siteOf = (p: number) => (r: number) => ringSite(prefix, multi, p, r);
  // Structure (shape, numbers, ranges, counts, closure) is checked for every ring before any geometry,
  // so the vertex limits are enforced before the quadratic work starts.
  const structured = rawPolygons.map((raw, p): Ring[] => {
    if (!isArray(raw) || raw.length === 0) {
      const path = multi ? `${prefix}coordinates[${p}]` : `${prefix}coordinates`;
      reject(
        `${multi ? `多边形 ${p}` : '多边形'}（${path}）必须是至少包含一个环（外环在前、内环在后）的数组`,
        `${multi ? `Polygon ${p}` : 'The polygon'} (${path}) must be a non-empty array of rings (outer ring first, then holes)`,
      );
    }
    return raw.map((ring, r) => readRing(ring, siteOf(p)(r), budget));
  });
  const polygons = structured.map((rings, p) => checkPolygon(rings, siteOf(p)));
  return multi ? { type: 'MultiPolygon', coordinates: polygons } : { type: 'Polygon', coordinates: polygons[0] };
}

/**
 * Parses an unknown JSON value (a bare geometry, or a GeoJSON Feature wrapping one) into a Boundary,
 * or returns the first problem found. The boundary returned is a fresh copy: altitudes and repeated
 * consecutive positions dropped, winding kept as given (both orders are accepted).
 */
export function parseBoundary(value: unknown): { boundary: Boundary } | { problem: Problem } {
  try {
    return { boundary: readBoundary(value) };
  } catch (e) {
    if (e instanceof Rejection) return { problem: e.problem };
    throw e;
  }
}

/**
 * Problem if `child` is not inside `parent` (every vertex inside or on the edge of parent, and no child
 * edge properly crossing — nor otherwise leaving — the parent, and no parent hole inside the child),
 * else null. Shared edges and touching are allowed: grid polygons tile their parent.
 */
export function boundaryInside(child: Boundary, parent: Boundary): Problem | null {
  const breach = findBreach(polygonsOf(child), polygonsOf(parent));
  if (!breach) return null;
  if (breach.kind === 'hole') {
    const site = ringSite('', parent.type === 'MultiPolygon', breach.polygon, breach.ring);
    return problem(
      `子区域边界覆盖了上级区域边界${site.zh}（${site.path}）挖去的区域`,
      `The child boundary covers the area cut out by the parent boundary's ${site.en} (${site.path})`,
    );
  }
  const ring = ringSite('', child.type === 'MultiPolygon', breach.polygon, breach.ring);
  if (breach.kind === 'vertex') {
    const site = positionSite(ring, breach.position);
    return problem(
      `子区域边界${site.zh}（${site.path}）位于上级区域边界之外`,
      `The child boundary's ${site.en} (${site.path}) lies outside the parent boundary`,
    );
  }
  return problem(
    `子区域边界${ring.zh}（${ring.path}）中坐标点 ${breach.position}→${breach.position + 1} 的边越出了上级区域边界`,
    `The edge from position ${breach.position} to ${breach.position + 1} of the child boundary's ${ring.en} (${ring.path}) goes outside the parent boundary`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Spatial index

/** A boundary whose bbox spans more cells than this is kept in a side list scanned on every query,
 *  so that one city-sized polygon does not fill thousands of buckets. */
const MAX_CELLS_PER_ENTRY = 4_096;
/** Smaller cells would make cell keys exceed Number.MAX_SAFE_INTEGER. */
const MIN_CELL_SIZE_DEG = 1e-5;

interface IndexEntry<T> {
  key: T;
  seq: number;
  polys: Poly[];
  box: BBox;
  /** Bucket keys holding this entry; null when it lives in the side list of large entries. */
  cells: number[] | null;
}

/**
 * Uniform grid of buckets over bboxes: a point only ever meets the boundaries whose (tolerance-widened)
 * bbox covers its cell, and those are then tested exactly. The default 0.01° cell (~1 km) suits grid
 * units of a few hundred metres; answers never depend on the cell size, only speed does. Boundaries
 * are held by reference and must not be mutated while indexed.
 */
export class BoundaryIndex<T> {
  readonly #cellSize: number;
  readonly #latCells: number;
  readonly #latOffset: number;
  readonly #buckets = new Map<number, IndexEntry<T>[]>();
  readonly #large = new Set<IndexEntry<T>>();
  readonly #byKey = new Map<T, IndexEntry<T>>();
  #seq = 0;

  constructor(cellSizeDeg = 0.01) {
    if (!Number.isFinite(cellSizeDeg) || cellSizeDeg < MIN_CELL_SIZE_DEG || cellSizeDeg > 360) {
      throw new RangeError(`cellSizeDeg must be between ${MIN_CELL_SIZE_DEG} and 360, got ${cellSizeDeg}`);
    }
    this.#cellSize = cellSizeDeg;
    this.#latOffset = Math.ceil(90 / cellSizeDeg) + 1;
    this.#latCells = 2 * this.#latOffset + 1;
  }

  // Any deterministic function of (ix, iy) is correct, since candidates are tested exactly; this one
  // is also collision-free for valid latitudes.
  #cellKey(ix: number, iy: number): number {
    return ix * this.#latCells + (iy + this.#latOffset);
  }

  /** Adds the boundary under `key`, replacing any boundary already held under it. */
  add(key: T, b: Boundary): void {
    this.remove(key);
    const box = bboxOf(b);
    const entry: IndexEntry<T> = { key, seq: this.#seq++, polys: polygonsOf(b), box, cells: [] };
    this.#byKey.set(key, entry);
    if (!(box.minLng <= box.maxLng)) return;
    const c = this.#cellSize;
    const x0 = Math.floor((box.minLng - TOL) / c);
    const x1 = Math.floor((box.maxLng + TOL) / c);
    const y0 = Math.floor((box.minLat - TOL) / c);
    const y1 = Math.floor((box.maxLat + TOL) / c);
    if ((x1 - x0 + 1) * (y1 - y0 + 1) > MAX_CELLS_PER_ENTRY) {
      entry.cells = null;
      this.#large.add(entry);
      return;
    }
    const cells: number[] = [];
    for (let ix = x0; ix <= x1; ix++) {
      for (let iy = y0; iy <= y1; iy++) {
        const k = this.#cellKey(ix, iy);
        const bucket = this.#buckets.get(k);
        if (bucket) bucket.push(entry);
        else this.#buckets.set(k, [entry]);
        cells.push(k);
      }
    }
    entry.cells = cells;
  }

  remove(key: T): void {
    const entry = this.#byKey.get(key);
    if (!entry) return;
    this.#byKey.delete(key);
    if (entry.cells === null) {
      this.#large.delete(entry);
      return;
    }
    for (const k of entry.cells) {
      const bucket = this.#buckets.get(k);
      if (!bucket) continue;
      const at = bucket.indexOf(entry);
      if (at >= 0) bucket.splice(at, 1);
      if (bucket.length === 0) this.#buckets.delete(k);
    }
  }

  /** Keys of all boundaries containing the point (on the edge counts), in the order they were added. */
  find(lng: number, lat: number): T[] {
    if (!Number.isFinite(lng) || !Number.isFinite(lat)) return [];
    const hits: IndexEntry<T>[] = [];
    const test = (e: IndexEntry<T>) => {
      if (nearBox(e.box, lng, lat) && locateInPolys(lng, lat, e.polys) !== OUTSIDE) hits.push(e);
    };
    const bucket = this.#buckets.get(this.#cellKey(Math.floor(lng / this.#cellSize), Math.floor(lat / this.#cellSize)));
    if (bucket) bucket.forEach(test);
    this.#large.forEach(test);
    if (hits.length > 1) hits.sort((a, b) => a.seq - b.seq);
    return hits.map((e) => e.key);
  }

  get size(): number {
    return this.#byKey.size;
  }
}
