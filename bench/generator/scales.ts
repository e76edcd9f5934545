// Named scales and how a scale becomes a tree shape for any preset.
//
// A scale is stated against the grid level (the preset's isGrid kind), because that is the level every
// published figure names: the counts of the levels between the district and the grid (top first), the
// number of grids, the counts of the levels below the grid (top first), and residents and houses.
//
// Deriving a preset's levels (deriveShape): take the chains of kindChains(preset) from the district kind
// down to a leaf; keep the longest ones that pass through a grid kind (luancheng: 区→乡镇→社区→网格→院→楼栋,
// not the shorter 区→社区→…). Level d holds every kind found at depth d of those chains (nanhai's depth 2:
// 村 and 社区); a unit's children are the kinds its preset allows that sit at the next level, picked by
// the weights in KIND_WEIGHTS (default equal). Kinds above the district (bengbu's 市) get one unit each.
//
// Mapping counts to levels, aligned on the grid level:
//  - above the grid: if the preset has fewer levels than the scale lists, the levels nearest the grid keep
//    their counts; if more, the extra top levels get counts spaced geometrically between 1 and the first
//    listed count;
//  - below the grid: if fewer, the deepest counts are kept (the leaf — 党员责任区, 户联系党小组, 楼栋 — is the
//    unit a member or small group looks after and compares best across presets); if more, the extra levels
//    right under the grid get counts spaced geometrically between the grid count and the first listed count.
// Every level gets at least as many units as the level above has parents able to hold children, so no
// parent is left empty.
import { kindChains, type Preset } from '../../server/src/modules/grid/preset.ts';

export interface Scale {
  name: string;
  description: string;
  aboveGrid: number[];
  grids: number;
  belowGrid: number[];
  residents: number;
  houses: number;
}

export const SCALES: Record<string, Scale> = {
  village: {
    name: 'village',
    description: 'one village or community with a handful of grids (~1,500 residents)',
    aboveGrid: [1, 1],
    grids: 5,
    belowGrid: [15, 30],
    residents: 1_500,
    houses: 420,
  },
  street: {
    name: 'street',
    description: 'one 街道 of ~10 communities and ~50 grids, the size of the demo (~50,000 residents)',
    aboveGrid: [1, 10],
    grids: 50,
    belowGrid: [150, 300],
    residents: 50_000,
    houses: 4_200,
  },
  liwan: {
    name: 'liwan',
    description: 'Liwan District: 22 streets, 201 communities, 1,044 grids, 20,000 responsibility zones, 1.15M residents, 94k houses',
    aboveGrid: [22, 201],
    grids: 1_044,
    belowGrid: [8_350, 20_000],
    residents: 1_150_000,
    houses: 94_000,
  },
  liwan10k: {
    name: 'liwan10k',
    description: "Liwan's 22 streets and 201 communities cut into 10,440 grids (ten times its real 1,044), one building per grid, 20,000 responsibility zones: issue #5's 10,000+ grid polygons to route reports among",
    aboveGrid: [22, 201],
    grids: 10_440,
    belowGrid: [10_440, 20_000],
    residents: 1_150_000,
    houses: 94_000,
  },
  nanhai: {
    name: 'nanhai',
    description: 'Nanhai District: 7 towns, 292 villages/communities, 2,196 经济社/小区, 5,395 户联系 groups, ~3M residents',
    aboveGrid: [7, 292],
    grids: 2_196,
    belowGrid: [5_395],
    residents: 3_000_000,
    houses: 850_000,
  },
};

/** Relative weights of sibling kinds where a level mixes kinds (village vs community …). */
export const KIND_WEIGHTS: Record<string, Record<string, number>> = {
  nanhai: { village: 0.6, community: 0.4, residential_compound: 0.65, economic_cooperative: 0.35 },
  // 913 villages and 226 communities
  bengbu: { village: 0.8, community: 0.2 },
};

export interface Level {
  depth: number;
  kinds: string[];
  count: number;
}

export interface Shape {
  /** kinds above the district, top first, one unit each */
  ancestors: string[];
  /** level 0 is the district */
  levels: Level[];
  gridLevel: number;
  /** the kinds a unit of `kind` at `depth` may have as children on the next level */
  childKinds(kind: string, depth: number): string[];
  kindWeight(kind: string): number;
}

function geometric(from: number, to: number, steps: number): number[] {
  // `steps` values strictly between from and to, spaced evenly on a log scale.
  const out: number[] = [];
  for (let i = 1; i <= steps; i++) out.push(Math.max(1, Math.round(from * Math.pow(to / from, i / (steps + 1)))));
  return out;
}

export function deriveShape(preset: Preset, scale: Scale): Shape {
  const kinds = new Map(preset.unitKinds.map((k) => [k.code, k]));
  const suffixes = kindChains(preset)
    .map((chain) => ({ chain, at: chain.indexOf(preset.districtKind) }))
    .filter((c) => c.at >= 0);
  if (!suffixes.length) throw new Error(`preset ${preset.id}: no chain passes through the district kind "${preset.districtKind}"`);
  const withGrid = suffixes.filter((c) => c.chain.slice(c.at).some((k) => kinds.get(k)?.isGrid));
  const pool = withGrid.length ? withGrid : suffixes;
  const longest = Math.max(...pool.map((c) => c.chain.length - c.at));
  const main = pool.filter((c) => c.chain.length - c.at === longest);
  const ancestors = main[0].chain.slice(0, main[0].at);
  const levelKinds: string[][] = [];
  for (let d = 0; d < longest; d++) levelKinds.push([...new Set(main.map((c) => c.chain[c.at + d]))]);

  let gridLevel = levelKinds.findIndex((ks) => ks.some((k) => kinds.get(k)?.isGrid));
  if (gridLevel < 0) gridLevel = Math.max(1, longest - 2);
  if (gridLevel === 0) gridLevel = Math.min(1, longest - 1);

  const above = gridLevel - 1;
  const below = longest - 1 - gridLevel;
  let aboveCounts: number[];
  if (above <= scale.aboveGrid.length) aboveCounts = scale.aboveGrid.slice(scale.aboveGrid.length - above);
  else aboveCounts = [...geometric(1, scale.aboveGrid[0] ?? scale.grids, above - scale.aboveGrid.length), ...scale.aboveGrid];
  let belowCounts: number[];
  if (below <= scale.belowGrid.length) belowCounts = below === 0 ? [] : scale.belowGrid.slice(scale.belowGrid.length - below);
  else {
    const first = scale.belowGrid[0] ?? scale.grids * 4;
    belowCounts = [...geometric(scale.grids, first, below - scale.belowGrid.length), ...scale.belowGrid];
  }
  const counts = [1, ...aboveCounts, scale.grids, ...belowCounts];
  const weights = KIND_WEIGHTS[preset.id] ?? {};

  const shape: Shape = {
    ancestors,
    gridLevel,
    levels: levelKinds.map((ks, depth) => ({ depth, kinds: ks, count: counts[depth] })),
    childKinds(kind, depth) {
      const next = levelKinds[depth + 1];
      if (!next) return [];
      return (kinds.get(kind)?.children ?? []).filter((c) => next.includes(c));
    },
    kindWeight: (kind) => weights[kind] ?? 1,
  };
  return shape;
}
