// Boundaries that tile: a parent's rectangle is cut into columns and each column into cells, one cell
// per child, with jittered widths and heights. Cut positions are rounded to 1e-6° (~0.1 m) once and
// shared by the cells on both sides of a cut, and the outer cuts are the parent's own coordinates, so
// children cover the parent exactly, never overlap, and share edges bit for bit.
import type { Random } from '../../server/src/platform/random.ts';
import type { BBox, PolygonGeometry } from '../../server/src/platform/geo.ts';

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

/** Cut points from `min` to `max` into `n` pieces proportional to `weights`; ends are exactly min and max. */
function cuts(min: number, max: number, weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const out = [min];
  let acc = 0;
  for (let i = 0; i < weights.length - 1; i++) {
    acc += weights[i];
    out.push(round6(min + ((max - min) * acc) / total));
  }
  out.push(max);
  // Rounding can only merge cuts when a piece is under a micro-degree; fall back to equal pieces then.
  for (let i = 1; i < out.length; i++) {
    if (!(out[i] > out[i - 1])) return equalCuts(min, max, weights.length);
  }
  return out;
}

function equalCuts(min: number, max: number, n: number): number[] {
  const out = [min];
  for (let i = 1; i < n; i++) out.push(round6(min + ((max - min) * i) / n));
  out.push(max);
  for (let i = 1; i < out.length; i++) {
    if (!(out[i] > out[i - 1])) throw new Error(`cannot cut [${min}, ${max}] into ${n} pieces at 1e-6° precision`);
  }
  return out;
}

/**
 * `n` rectangles tiling `box`, in reading order (columns west to east, cells south to north). The number
 * of columns follows the box's aspect ratio so cells come out roughly square.
 */
export function tileBox(box: BBox, n: number, rng: Random, jitter = 0.35): BBox[] {
  if (n <= 0) return [];
  if (n === 1) return [{ ...box }];
  const width = box.maxLng - box.minLng;
  const height = box.maxLat - box.minLat;
  const columns = Math.max(1, Math.min(n, Math.round(Math.sqrt((n * width) / height))));
  const perColumn = Array.from({ length: columns }, (_, c) => Math.floor(n / columns) + (c < n % columns ? 1 : 0));
  const weight = () => 1 - jitter + 2 * jitter * rng.next();
  // A column's width follows how many cells it holds, so cells stay similar in area.
  const xs = cuts(box.minLng, box.maxLng, perColumn.map((k) => k * weight()));
  const out: BBox[] = [];
  for (let c = 0; c < columns; c++) {
    const ys = cuts(box.minLat, box.maxLat, Array.from({ length: perColumn[c] }, weight));
    for (let r = 0; r < perColumn[c]; r++) out.push({ minLng: xs[c], minLat: ys[r], maxLng: xs[c + 1], maxLat: ys[r + 1] });
  }
  return out;
}

/** The rectangle as a closed, counter-clockwise GeoJSON Polygon. */
export function boxPolygon(b: BBox): PolygonGeometry {
  return {
    type: 'Polygon',
    coordinates: [[[b.minLng, b.minLat], [b.maxLng, b.minLat], [b.maxLng, b.maxLat], [b.minLng, b.maxLat], [b.minLng, b.minLat]]],
  };
}

/** A point strictly inside the box, at least `margin` of its size away from the edges. */
export function pointIn(b: BBox, rng: Random, margin = 0.05): [number, number] {
  const fx = margin + (1 - 2 * margin) * rng.next();
  const fy = margin + (1 - 2 * margin) * rng.next();
  return [round6(b.minLng + fx * (b.maxLng - b.minLng)), round6(b.minLat + fy * (b.maxLat - b.minLat))];
}
