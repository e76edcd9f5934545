import { describe, it, expect } from 'vitest';
import {
  BoundaryIndex,
  MAX_RING_VERTICES,
  MAX_TOTAL_VERTICES,
  bboxOf,
  boundaryInside,
  parseBoundary,
  pointInBoundary,
  type Boundary,
  type Position,
  type Problem,
} from './geo.ts';

const rect = (x0: number, y0: number, x1: number, y1: number): Position[] => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
  [x0, y0],
];
const polygon = (...rings: Position[][]): Boundary => ({ type: 'Polygon', coordinates: rings });
const multiPolygon = (...polygons: Position[][][]): Boundary => ({ type: 'MultiPolygon', coordinates: polygons });
const reversed = (ring: Position[]): Position[] => [...ring].reverse();

function circle(cx: number, cy: number, r: number, vertices: number): Position[] {
  const ring: Position[] = [];
  for (let i = 0; i < vertices; i++) {
    const a = (2 * Math.PI * i) / vertices;
    ring.push([cx + r * Math.cos(a), cy + r * Math.sin(a)]);
  }
  ring.push([ring[0][0], ring[0][1]]);
  return ring;
}

/** U shape: two arms x∈[0,4] and x∈[6,10] joined below y=3; the notch x∈(4,6), y>3 is outside. */
const U_SHAPE: Position[] = [[0, 0], [10, 0], [10, 10], [6, 10], [6, 3], [4, 3], [4, 10], [0, 10], [0, 0]];

function parsed(value: unknown): Boundary {
  const result = parseBoundary(value);
  if ('problem' in result) throw new Error(`unexpected problem: ${result.problem.en}`);
  return result.boundary;
}

function rejected(value: unknown): Problem {
  const result = parseBoundary(value);
  if ('boundary' in result) throw new Error(`expected a problem, got ${JSON.stringify(result.boundary)}`);
  expectBilingual(result.problem);
  return result.problem;
}

function expectBilingual(p: Problem | null): asserts p is Problem {
  expect(p).not.toBeNull();
  if (!p) return;
  expect(Object.keys(p)).toEqual(['zh-CN', 'en']);
  expect(p['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
  expect(p.en).toMatch(/^[\x20-\x7e]+$/);
}

/** Deterministic PRNG (mulberry32) so a failure is reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('parseBoundary: accepted input', () => {
  it('accepts a bare Polygon and returns a clean copy', () => {
    const input = { type: 'Polygon', coordinates: [rect(116.3, 39.9, 116.32, 39.92)], bbox: [0, 0, 1, 1] };
    const b = parsed(input);
    expect(b).toEqual({ type: 'Polygon', coordinates: [rect(116.3, 39.9, 116.32, 39.92)] });
    expect(b.coordinates).not.toBe(input.coordinates);
  });

  it('unwraps a Feature and keeps only its geometry', () => {
    const b = parsed({
      type: 'Feature',
      id: 'grid-7',
      properties: { name: '第七网格' },
      geometry: { type: 'Polygon', coordinates: [rect(0, 0, 1, 1)] },
    });
    expect(b).toEqual({ type: 'Polygon', coordinates: [rect(0, 0, 1, 1)] });
  });

  it('accepts both winding orders, for outer rings and holes', () => {
    const outer = rect(0, 0, 10, 10);
    const hole = rect(2, 2, 4, 4);
    for (const rings of [[outer, hole], [reversed(outer), hole], [outer, reversed(hole)], [reversed(outer), reversed(hole)]]) {
      expect(parsed({ type: 'Polygon', coordinates: rings }).coordinates).toEqual(rings);
    }
  });

  it('drops a 3rd (altitude) number and repeated consecutive positions', () => {
    const b = parsed({
      type: 'Polygon',
      coordinates: [[[0, 0, 12.5], [1, 0, 12.5], [1, 0], [1, 1, 3], [0, 1], [0, 0, 7]]],
    });
    expect(b.coordinates).toEqual([[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]);
  });

  it('accepts a MultiPolygon, the world edges, a hole touching its outer ring at one point', () => {
    expect(parsed({ type: 'MultiPolygon', coordinates: [[rect(0, 0, 1, 1)], [rect(2, 0, 3, 1)]] }).type).toBe('MultiPolygon');
    parsed({ type: 'Polygon', coordinates: [rect(179, 89, 180, 90)] });
    parsed({ type: 'Polygon', coordinates: [rect(-180, -90, -179, -89)] });
    parsed({ type: 'Polygon', coordinates: [rect(0, 0, 10, 10), [[0, 5], [3, 4], [3, 6], [0, 5]]] });
  });

  it(`accepts a ring of exactly ${MAX_RING_VERTICES} vertices`, () => {
    const b = parsed({ type: 'Polygon', coordinates: [circle(116.4, 39.9, 0.05, MAX_RING_VERTICES)] });
    expect(b.coordinates[0]).toHaveLength(MAX_RING_VERTICES + 1);
  });
});

describe('parseBoundary: rejections', () => {
  it('rejects anything that is not an object', () => {
    for (const value of [null, undefined, 42, 'Polygon', true, [], [rect(0, 0, 1, 1)]]) {
      const p = rejected(value);
      expect(p.en).toMatch(/must be a GeoJSON object/);
      expect(p['zh-CN']).toMatch(/GeoJSON 对象/);
    }
  });

  it('rejects geometry types other than Polygon / MultiPolygon', () => {
    expect(rejected({ type: 'Point', coordinates: [116, 39] }).en).toBe('type must be Polygon or MultiPolygon, not "Point"');
    expect(rejected({ type: 'LineString', coordinates: [[0, 0], [1, 1]] }).en).toMatch(/not "LineString"/);
    expect(rejected({ type: 'GeometryCollection', geometries: [] }).en).toMatch(/not "GeometryCollection"/);
    expect(rejected({ type: 'polygon', coordinates: [rect(0, 0, 1, 1)] }).en).toMatch(/not "polygon"/);
    const missing = rejected({ coordinates: [rect(0, 0, 1, 1)] });
    expect(missing.en).toMatch(/but it is missing/);
    expect(missing['zh-CN']).toMatch(/缺少该字段/);
  });

  it('rejects a FeatureCollection, even of one Feature', () => {
    const p = rejected({
      type: 'FeatureCollection',
      features: [{ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [rect(0, 0, 1, 1)] } }],
    });
    expect(p.en).toMatch(/FeatureCollection is not accepted/);
    expect(p['zh-CN']).toMatch(/不接受 FeatureCollection/);
  });

  it('rejects a Feature without a usable geometry, naming the geometry path', () => {
    expect(rejected({ type: 'Feature', properties: {}, geometry: null }).en).toMatch(/no geometry/);
    expect(rejected({ type: 'Feature', properties: {} }).en).toMatch(/no geometry/);
    expect(rejected({ type: 'Feature', geometry: { type: 'Point', coordinates: [1, 2] } }).en).toBe(
      'geometry.type must be Polygon or MultiPolygon, not "Point"',
    );
    const p = rejected({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 'x'], [0, 0]]] } });
    expect(p.en).toMatch(/\(geometry\.coordinates\[0\]\[2\]\)/);
  });

  it('rejects missing, non-array or empty coordinates', () => {
    expect(rejected({ type: 'Polygon' }).en).toBe('coordinates is missing or not an array');
    expect(rejected({ type: 'Polygon', coordinates: '0,0 1,0 1,1 0,0' }).en).toBe('coordinates is missing or not an array');
    expect(rejected({ type: 'MultiPolygon', coordinates: { 0: [] } }).en).toBe('coordinates is missing or not an array');
    expect(rejected({ type: 'Polygon', coordinates: [] }).en).toMatch(/at least one ring/);
    expect(rejected({ type: 'MultiPolygon', coordinates: [] }).en).toMatch(/at least one polygon/);
    expect(rejected({ type: 'MultiPolygon', coordinates: [[rect(0, 0, 1, 1)], []] }).en).toMatch(
      /^Polygon 1 \(coordinates\[1\]\) must be a non-empty array of rings/,
    );
    expect(rejected({ type: 'Polygon', coordinates: [rect(0, 0, 1, 1), 'hole'] }).en).toBe(
      'Ring 1 (hole) (coordinates[1]) must be an array of positions',
    );
  });

  it('rejects a position that is not 2 (or 3) finite numbers, naming ring and position', () => {
    const bad: unknown[] = [
      [116],
      [116, 39, 0, 1],
      [116, '39'],
      '116,39',
      { lng: 116, lat: 39 },
      [116, NaN],
      [Infinity, 39],
      [116, 39, 'high'],
      null,
    ];
    for (const position of bad) {
      const p = rejected({ type: 'Polygon', coordinates: [[[116, 39], [116.1, 39], position, [116, 39.1], [116, 39]]] });
      expect(p.en).toMatch(/^Ring 0 \(outer ring\), position 2 \(coordinates\[0\]\[2\]\) must be an array of 2 finite numbers/);
      expect(p['zh-CN']).toMatch(/^环 0（外环）的坐标点 2（coordinates\[0\]\[2\]）必须是由 2 个有限数值组成的数组/);
    }
  });

  it('names polygon, ring and position inside a MultiPolygon', () => {
    const p = rejected({ type: 'MultiPolygon', coordinates: [[rect(0, 0, 1, 1)], [rect(2, 0, 3, 1), [[2.2, 0.2], [2.4, 0.2], [2.4, true], [2.2, 0.4], [2.2, 0.2]]]] });
    expect(p.en).toMatch(/^Polygon 1, ring 1 \(hole\), position 2 \(coordinates\[1\]\[1\]\[2\]\)/);
    expect(p['zh-CN']).toMatch(/^多边形 1 的环 1（内环）的坐标点 2/);
  });

  it('rejects longitudes outside [-180, 180] and latitudes outside [-90, 90]', () => {
    const withPosition = (position: Position) => ({ type: 'Polygon', coordinates: [[[0, 0], [1, 0], position, [0, 1], [0, 0]]] });
    expect(rejected(withPosition([181, 1])).en).toMatch(/position 2 \(coordinates\[0\]\[2\]\) has longitude 181, outside \[-180, 180\]$/);
    expect(rejected(withPosition([-180.5, 1])).en).toMatch(/longitude -180.5, outside/);
    const lat = rejected(withPosition([100, -90.01]));
    expect(lat.en).toMatch(/has latitude -90.01, outside \[-90, 90\]$/);
    expect(lat['zh-CN']).toMatch(/纬度 -90.01 超出范围/);
    // Latitude first is a common mistake with Chinese map data; the message says so.
    const swapped = rejected(withPosition([39.9, 116.4]));
    expect(swapped.en).toMatch(/latitude 116.4, outside \[-90, 90\]; positions are \[longitude, latitude\], are they swapped\?/);
    expect(swapped['zh-CN']).toMatch(/是否写反了/);
  });

  it('rejects a ring with fewer than 4 positions', () => {
    const p = rejected({ type: 'Polygon', coordinates: [[[0, 0], [1, 0], [0, 0]]] });
    expect(p.en).toBe('Ring 0 (outer ring) (coordinates[0]) has 3 positions; a ring needs at least 4 (closed: the last repeats the first)');
    expect(p['zh-CN']).toMatch(/只有 3 个坐标点，至少需要 4 个/);
    expect(rejected({ type: 'Polygon', coordinates: [[]] }).en).toMatch(/has 0 positions/);
  });

  it('rejects a ring that is not closed', () => {
    const p = rejected({ type: 'Polygon', coordinates: [rect(0, 0, 10, 10), [[2, 2], [4, 2], [4, 4], [2, 4], [2, 2.5]]] });
    expect(p.en).toBe('Ring 1 (hole) (coordinates[1]) is not closed: its first position [2,2] differs from its last [2,2.5]');
    expect(p['zh-CN']).toMatch(/未闭合/);
  });

  it('rejects a ring with zero area', () => {
    const collinear = rejected({ type: 'Polygon', coordinates: [[[0, 0], [1, 1], [2, 2], [0, 0]]] });
    expect(collinear.en).toBe('Ring 0 (outer ring) (coordinates[0]) has zero area: its vertices coincide or lie on one line');
    expect(collinear['zh-CN']).toMatch(/面积为零/);
    expect(rejected({ type: 'Polygon', coordinates: [[[5, 5], [5, 5], [5, 5], [5, 5]]] }).en).toMatch(/zero area/);
    // Back and forth along one line: a ring with no inside at all.
    expect(rejected({ type: 'Polygon', coordinates: [[[0, 0], [2, 0], [1, 0], [3, 0], [0, 0]]] }).en).toMatch(/zero area/);
  });

  it('rejects a self-intersecting ring: crossing, touching itself, or folding back', () => {
    const bowtie = rejected({ type: 'Polygon', coordinates: [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]] });
    expect(bowtie.en).toBe(
      'Ring 0 (outer ring) (coordinates[0]) crosses itself: the edge from position 0 to 1 meets the edge from position 2 to 3',
    );
    expect(bowtie['zh-CN']).toMatch(/自相交：坐标点 0→1 的边与坐标点 2→3 的边相交或重叠/);
    // Vertex 3 lies on edge 0→1.
    const touching = rejected({ type: 'Polygon', coordinates: [[[0, 0], [4, 0], [4, 4], [2, 0], [0, 4], [0, 0]]] });
    expect(touching.en).toMatch(/crosses itself: the edge from position 0 to 1 meets the edge from position (2 to 3|3 to 4)/);
    // Edge 1→2 runs back over edge 0→1.
    expect(rejected({ type: 'Polygon', coordinates: [[[0, 0], [4, 0], [2, 0], [2, 3], [0, 0]]] }).en).toMatch(/crosses itself/);
    // Position indices refer to the input, even after repeated positions were dropped.
    const withRepeats = rejected({ type: 'Polygon', coordinates: [[[0, 0], [0, 0], [1, 1], [1, 0], [1, 0], [0, 1], [0, 0]]] });
    expect(withRepeats.en).toMatch(/the edge from position 1 to 2 meets the edge from position 4 to 5/);
    const closingRepeats = rejected({ type: 'Polygon', coordinates: [[[0, 0], [0, 1], [1, 0], [1, 1], [1, 1], [0, 0], [0, 0]]] });
    expect(closingRepeats.en).toMatch(/the edge from position 1 to 2 meets the edge from position 4 to 5/);
    // A self-intersecting hole in a MultiPolygon.
    const hole = rejected({ type: 'MultiPolygon', coordinates: [[rect(0, 0, 1, 1)], [rect(2, 0, 6, 4), [[3, 1], [4, 2], [4, 1], [3, 2], [3, 1]]]] });
    expect(hole.en).toMatch(/^Polygon 1, ring 1 \(hole\) \(coordinates\[1\]\[1\]\) crosses itself/);
  });

  it('rejects too many vertices in one ring or in total, before any geometry work', () => {
    const big = rejected({ type: 'Polygon', coordinates: [circle(116.4, 39.9, 0.05, MAX_RING_VERTICES + 1)] });
    expect(big.en).toMatch(new RegExp(`has ${MAX_RING_VERTICES + 1} vertices: too many vertices \\(at most ${MAX_RING_VERTICES} per ring\\)`));
    expect(big['zh-CN']).toMatch(/顶点过多/);

    const perPolygon = 4_600;
    const count = Math.floor(MAX_TOTAL_VERTICES / perPolygon) + 1;
    // The self-intersecting first polygon is not what gets reported: counting comes before geometry.
    const bowtie: Position[] = [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]];
    const polygons = [[bowtie], ...Array.from({ length: count }, (_, i) => [circle(100 + i, 30, 0.1, perPolygon)])];
    const total = rejected({ type: 'MultiPolygon', coordinates: polygons });
    expect(total.en).toMatch(
      new RegExp(`^Too many vertices: the boundary has at least ${4 + count * perPolygon} \\(counted up to polygon ${count}, ring 0 \\(outer ring\\)\\), more than the ${MAX_TOTAL_VERTICES} allowed`),
    );
    expect(total['zh-CN']).toMatch(/顶点过多/);
  });

  it('rejects a hole that is not inside its outer ring', () => {
    const partly = rejected({ type: 'Polygon', coordinates: [rect(0, 0, 10, 10), [[8, 8], [12, 8], [12, 9], [8, 9], [8, 8]]] });
    expect(partly.en).toBe('Ring 1 (hole) (coordinates[1]) is not inside its outer ring: position 1 lies outside it');
    expect(partly['zh-CN']).toBe('环 1（内环）（coordinates[1]）不在外环内：坐标点 1 位于外环之外');
    expect(rejected({ type: 'Polygon', coordinates: [rect(0, 0, 10, 10), rect(20, 20, 21, 21)] }).en).toMatch(/position 0 lies outside/);
    // Every vertex of the hole is in one arm of the U or the other, but its edges cross the notch.
    const bridging = rejected({ type: 'Polygon', coordinates: [U_SHAPE, rect(1, 5, 9, 7)] });
    expect(bridging.en).toBe('Ring 1 (hole) (coordinates[1]) is not inside its outer ring: the edge from position 0 to 1 goes outside it');
    const repeated = rejected({ type: 'Polygon', coordinates: [U_SHAPE, [[1, 5], [1, 5], [9, 5], [9, 7], [1, 7], [1, 5]]] });
    expect(repeated.en).toMatch(/the edge from position 1 to 2 goes outside it$/);
  });
});

describe('pointInBoundary and bboxOf', () => {
  const square = polygon(rect(116.3, 39.9, 116.32, 39.92));

  it('answers inside, outside and on the edge (edges and vertices count as inside)', () => {
    expect(pointInBoundary(116.31, 39.91, square)).toBe(true);
    expect(pointInBoundary(116.33, 39.91, square)).toBe(false);
    expect(pointInBoundary(116.31, 39.8, square)).toBe(false);
    expect(pointInBoundary(116.3, 39.915, square)).toBe(true);
    expect(pointInBoundary(116.31, 39.92, square)).toBe(true);
    expect(pointInBoundary(116.32, 39.92, square)).toBe(true);
    expect(pointInBoundary(116.3, 39.9, square)).toBe(true);
    expect(pointInBoundary(116.3 - 1e-7, 39.91, square)).toBe(false);
    expect(pointInBoundary(NaN, 39.91, square)).toBe(false);
  });

  it('counts a point on a slanted edge as inside, even when computed in floating point', () => {
    const triangle = polygon([[116.3, 39.9], [116.4, 40.0], [116.3, 40.0], [116.3, 39.9]]);
    for (const t of [0.1, 0.37, 0.5, 0.913]) {
      expect(pointInBoundary(116.3 + t * 0.1, 39.9 + t * 0.1, triangle)).toBe(true);
    }
    expect(pointInBoundary(116.35 + 1e-6, 39.95, triangle)).toBe(false);
    expect(pointInBoundary(116.35 - 1e-6, 39.95, triangle)).toBe(true);
  });

  it('treats a point in a hole as outside, and one on the hole edge as inside', () => {
    const withHole = polygon(rect(0, 0, 10, 10), reversed(rect(2, 2, 4, 4)));
    expect(pointInBoundary(3, 3, withHole)).toBe(false);
    expect(pointInBoundary(2, 3, withHole)).toBe(true);
    expect(pointInBoundary(4, 4, withHole)).toBe(true);
    expect(pointInBoundary(5, 5, withHole)).toBe(true);
    expect(pointInBoundary(1, 3, withHole)).toBe(true);
  });

  it('answers for every part of a MultiPolygon', () => {
    const two = multiPolygon([rect(0, 0, 1, 1)], [rect(2, 0, 3, 1), rect(2.4, 0.4, 2.6, 0.6)]);
    expect(pointInBoundary(0.5, 0.5, two)).toBe(true);
    expect(pointInBoundary(2.2, 0.5, two)).toBe(true);
    expect(pointInBoundary(1.5, 0.5, two)).toBe(false);
    expect(pointInBoundary(2.5, 0.5, two)).toBe(false);
    expect(pointInBoundary(3, 1, two)).toBe(true);
  });

  it('handles concave polygons and rays through vertices', () => {
    const u = polygon(U_SHAPE);
    expect(pointInBoundary(5, 5, u)).toBe(false);
    expect(pointInBoundary(5, 2, u)).toBe(true);
    expect(pointInBoundary(2, 5, u)).toBe(true);
    expect(pointInBoundary(8, 3, u)).toBe(true);
    expect(pointInBoundary(-1, 3, u)).toBe(false);
    const diamond = polygon([[0, 1], [1, 0], [2, 1], [1, 2], [0, 1]]);
    expect(pointInBoundary(1, 1, diamond)).toBe(true);
    expect(pointInBoundary(-0.5, 1, diamond)).toBe(false);
    expect(pointInBoundary(2.5, 1, diamond)).toBe(false);
  });

  it('computes bounding boxes', () => {
    expect(bboxOf(square)).toEqual({ minLng: 116.3, minLat: 39.9, maxLng: 116.32, maxLat: 39.92 });
    expect(bboxOf(multiPolygon([rect(0, 0, 1, 1)], [rect(2, -1, 3, 0.5)]))).toEqual({ minLng: 0, minLat: -1, maxLng: 3, maxLat: 1 });
  });
});

describe('boundaryInside', () => {
  const x0 = 116.3;
  const y0 = 39.9;
  const s = 0.01;
  const at = (i: number, j: number): Position => [x0 + i * s, y0 + j * s];
  const cell = (i: number, j: number): Position[] => [at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1), at(i, j)];
  // The parent also has vertices in the middle of its edges, where the children's corners meet.
  const parent = polygon([at(0, 0), at(1, 0), at(2, 0), at(2, 1), at(2, 2), at(1, 2), at(0, 2), at(0, 1), at(0, 0)]);

  it('accepts children that tile the parent and share its edges', () => {
    for (const [i, j] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
      expect(boundaryInside(polygon(cell(i, j)), parent)).toBeNull();
      expect(boundaryInside(polygon(reversed(cell(i, j))), parent)).toBeNull();
    }
    expect(boundaryInside(parent, parent)).toBeNull();
    // A child spanning two parent vertices along a shared edge.
    expect(boundaryInside(polygon([at(0, 0), at(2, 0), at(2, 1), at(0, 1), at(0, 0)]), parent)).toBeNull();
    // The whole parent as the child, without the parent's mid-edge vertices.
    expect(boundaryInside(polygon(rect(x0, y0, x0 + 2 * s, y0 + 2 * s)), parent)).toBeNull();
  });

  it('accepts a child touching the parent at one vertex, and one strictly inside', () => {
    expect(boundaryInside(polygon([at(0, 0), at(1, 0.5), at(0.5, 1), at(0, 0)]), parent)).toBeNull();
    expect(boundaryInside(polygon(rect(116.305, 39.905, 116.306, 39.906)), parent)).toBeNull();
  });

  it('rejects a child poking out of its parent, naming the vertex outside', () => {
    const p = boundaryInside(polygon([at(1, 1), at(2, 1), at(2.5, 1.5), at(1, 2), at(1, 1)]), parent);
    expectBilingual(p);
    expect(p.en).toBe("The child boundary's ring 0 (outer ring), position 2 (coordinates[0][2]) lies outside the parent boundary");
    expect(p['zh-CN']).toBe('子区域边界环 0（外环）的坐标点 2（coordinates[0][2]）位于上级区域边界之外');
    expect(boundaryInside(polygon(cell(5, 5)), parent)?.en).toMatch(/position 0 .* lies outside/);
  });

  it('rejects a child crossing the edge of a concave parent with all its vertices inside', () => {
    const child = polygon(rect(1, 5, 9, 7));
    for (const [i, j] of [[1, 5], [9, 5], [9, 7], [1, 7]]) expect(pointInBoundary(i, j, polygon(U_SHAPE))).toBe(true);
    const p = boundaryInside(child, polygon(U_SHAPE));
    expectBilingual(p);
    expect(p.en).toBe(
      "The edge from position 0 to 1 of the child boundary's ring 0 (outer ring) (coordinates[0]) goes outside the parent boundary",
    );
    expect(p['zh-CN']).toMatch(/坐标点 0→1 的边越出了上级区域边界/);
  });

  it('rejects a child edge that runs outside between two reflex vertices without a proper crossing', () => {
    // A notch cut from the top reaches down to (5, 4); the child's top edge passes exactly through the
    // notch's corners (4, 5) and (6, 5), so it only touches parent edges, yet its middle is outside.
    const notched = polygon([[0, 0], [10, 0], [10, 10], [7, 10], [6, 5], [5, 4], [4, 5], [3, 10], [0, 10], [0, 0]]);
    const child = polygon([[1, 5], [5, 1], [9, 5], [1, 5]]);
    expect(boundaryInside(child, notched)?.en).toMatch(/edge from position 2 to 3 .* goes outside the parent boundary/);
    expect(boundaryInside(polygon([[1, 5], [5, 3.5], [9, 5], [5, 1], [1, 5]]), notched)).toBeNull();
  });

  it('rejects a child covering a hole of its parent, but not one sharing that hole', () => {
    const lake = rect(4, 4, 6, 6);
    const parentWithHole = polygon(rect(0, 0, 10, 10), lake);
    const p = boundaryInside(polygon(rect(3, 3, 7, 7)), parentWithHole);
    expectBilingual(p);
    expect(p.en).toBe("The child boundary covers the area cut out by the parent boundary's ring 1 (hole) (coordinates[1])");
    expect(boundaryInside(polygon(rect(3, 3, 7, 7), reversed(lake)), parentWithHole)).toBeNull();
    expect(boundaryInside(polygon(lake), parentWithHole)?.en).toMatch(/cut out/);
    expect(boundaryInside(polygon(rect(6, 4, 8, 6)), parentWithHole)).toBeNull();
  });

  it('handles MultiPolygon parents and children', () => {
    const islands = multiPolygon([rect(0, 0, 1, 1)], [rect(2, 0, 3, 1)]);
    expect(boundaryInside(polygon(rect(2.2, 0.2, 2.8, 0.8)), islands)).toBeNull();
    expect(boundaryInside(multiPolygon([rect(0, 0, 1, 1)], [rect(2, 0, 3, 1)]), islands)).toBeNull();
    expect(boundaryInside(polygon(rect(0.5, 0.2, 2.5, 0.8)), islands)?.en).toMatch(/goes outside|lies outside/);
    const p = boundaryInside(multiPolygon([rect(0.2, 0.2, 0.8, 0.8)], [rect(1.2, 0.2, 1.8, 0.8)]), islands);
    expect(p?.en).toBe("The child boundary's polygon 1, ring 0 (outer ring), position 0 (coordinates[1][0][0]) lies outside the parent boundary");
  });
});

describe('BoundaryIndex', () => {
  const X0 = 116.0;
  const Y0 = 39.8;
  const S = 0.005;
  const N = 60;
  const gx = (i: number) => X0 + i * S;
  const gy = (j: number) => Y0 + j * S;

  function scene(seed: number) {
    const random = rng(seed);
    const slots: Array<[number, number]> = [];
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) slots.push([i, j]);
    for (let k = slots.length - 1; k > 0; k--) {
      const m = Math.floor(random() * (k + 1));
      [slots[k], slots[m]] = [slots[m], slots[k]];
    }
    const items: Array<[string, Boundary]> = slots
      .slice(0, 2_000)
      .map(([i, j]) => [`tile-${i}-${j}`, polygon(rect(gx(i), gy(j), gx(i + 1), gy(j + 1)))]);
    // Overlapping larger units, some with holes, some in parts, so points often have several answers.
    for (let k = 0; k < 20; k++) {
      const i = Math.floor(random() * (N - 20));
      const j = Math.floor(random() * (N - 20));
      const w = 2 + Math.floor(random() * 18);
      const h = 2 + Math.floor(random() * 18);
      const outer = rect(gx(i), gy(j), gx(i + w), gy(j + h));
      const b = k % 3 === 0 ? polygon(outer, rect(gx(i + 0.5), gy(j + 0.5), gx(i + 1.5), gy(j + 1.5))) : k % 3 === 1 ? multiPolygon([outer], [rect(gx(i + w + 1), gy(j), gx(i + w + 2), gy(j + 1))]) : polygon(outer);
      items.push([`unit-${k}`, b]);
    }
    items.push(['triangle', polygon([[gx(3), gy(3)], [gx(40), gy(10)], [gx(12), gy(50)], [gx(3), gy(3)]])]);
    const points: Position[] = [];
    for (let k = 0; k < 5_000; k++) {
      const r = random();
      const x = gx(-2) + random() * (N + 4) * S;
      const y = gy(-2) + random() * (N + 4) * S;
      const i = Math.floor(random() * (N + 1));
      const j = Math.floor(random() * (N + 1));
      // Points exactly on tile edges and corners belong to every tile sharing them.
      points.push(r < 0.6 ? [x, y] : r < 0.75 ? [gx(i), y] : r < 0.9 ? [x, gy(j)] : [gx(i), gy(j)]);
    }
    return { items, points };
  }

  const bruteForce = (items: Array<[string, Boundary]>, [lng, lat]: Position) =>
    items.filter(([, b]) => pointInBoundary(lng, lat, b)).map(([key]) => key);

  it('finds the same boundaries as brute force, for several cell sizes', () => {
    const { items, points } = scene(20240611);
    const expected = points.map((p) => bruteForce(items, p));
    // Guard against a vacuous test: misses, single hits and multiple hits must all occur.
    expect(expected.filter((e) => e.length === 0).length).toBeGreaterThan(100);
    expect(expected.filter((e) => e.length === 1).length).toBeGreaterThan(100);
    expect(expected.filter((e) => e.length >= 3).length).toBeGreaterThan(100);
    expect(expected.filter((e) => e.length >= 4).length).toBeGreaterThan(10);

    // 0.001° puts every larger unit on the side list; 0.2° puts many tiles in one bucket.
    for (const cellSize of [undefined, 0.001, 0.0037, 0.2]) {
      const index = new BoundaryIndex<string>(cellSize);
      for (const [key, b] of items) index.add(key, b);
      expect(index.size).toBe(items.length);
      const actual = points.map(([lng, lat]) => index.find(lng, lat));
      expect(actual).toEqual(expected);
    }
  });

  it('stays equal to brute force after removals and replacements', () => {
    const { items, points } = scene(7);
    const index = new BoundaryIndex<string>();
    for (const [key, b] of items) index.add(key, b);
    const random = rng(99);
    const current = new Map(items);
    for (const [key] of items) {
      const r = random();
      if (r < 0.25) {
        index.remove(key);
        current.delete(key);
      } else if (r < 0.3) {
        // Replacing moves the key to the end of the insertion order, like Map#delete + Map#set.
        const moved = polygon(rect(gx(10), gy(10), gx(10) + random() * 0.1, gy(10) + random() * 0.1));
        index.add(key, moved);
        current.delete(key);
        current.set(key, moved);
      }
    }
    index.remove('no-such-key');
    expect(index.size).toBe(current.size);
    const remaining = [...current];
    for (const p of points) expect(index.find(p[0], p[1])).toEqual(bruteForce(remaining, p));
  });

  it('works with any key type, ignores non-finite points, and checks its cell size', () => {
    const index = new BoundaryIndex<{ id: number }>();
    const a = { id: 1 };
    index.add(a, polygon(rect(0, 0, 1, 1)));
    expect(index.find(0.5, 0.5)).toEqual([a]);
    expect(index.find(NaN, 0.5)).toEqual([]);
    expect(index.find(1, 1)).toEqual([a]);
    expect(index.find(1 + 1e-6, 1)).toEqual([]);
    index.remove(a);
    expect(index.size).toBe(0);
    expect(index.find(0.5, 0.5)).toEqual([]);
    expect(() => new BoundaryIndex(0)).toThrow(RangeError);
    expect(() => new BoundaryIndex(-1)).toThrow(RangeError);
    expect(() => new BoundaryIndex(Number.NaN)).toThrow(RangeError);
  });
});
