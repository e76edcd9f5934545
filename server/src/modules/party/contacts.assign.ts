// The 1+10 automatic assignment as a pure function, so its rules are tested without a database.
//
// What it does, and why:
// - Evenly: every member ends with at most `cap` households, where cap = ceil((households already linked
//   to these members + households to assign) / members) unless the caller sets a maximum (e.g. 10). With
//   enough members every household gets one; nobody is loaded past the even share.
// - Nearest: each household (taken in tree order, so neighbours are assigned one after another) goes to the
//   member with spare capacity who is closest, by this order of keys:
//     1. the household lies inside the member's own area (their branch's unit or their 报到 community) —
//        members look after households in their own unit first;
//     2. steps in the unit tree between the household's unit and the member's home unit (same building 0,
//        a neighbouring building in the same grid 2, …): the tree is always there;
//     3. among equally near members, metres between the household's house and the member's home when both
//        have coordinates (houses carry lng/lat when the departments' data has them) — inside one grid the
//        tree cannot tell a house next door from one at the far end;
//     4. the member's current load (fewer first), then id — deterministic, so a re-run plans the same.
//   A greedy pass is not a global optimum (that would be a min-cost flow); it is predictable, explainable to
//   a community secretary, O(households × members), and a secretary can move any link by hand afterwards.
import { treeDistance } from '../basedata/structures.shared.ts';

export interface AssignHousehold {
  id: number;
  path: string;
  lng: number | null;
  lat: number | null;
}

export interface AssignMember {
  id: number;
  /** the branch's unit, and the 报到 community when there is one */
  areaPaths: string[];
  homePath: string;
  lng: number | null;
  lat: number | null;
  load: number;
}

export function metresBetween(a: { lng: number; lat: number }, b: { lng: number; lat: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function evenCap(members: AssignMember[], households: number): number {
  if (!members.length) return 0;
  const linked = members.reduce((s, m) => s + m.load, 0);
  return Math.ceil((linked + households) / members.length);
}

export function planAssignment(households: AssignHousehold[], members: AssignMember[], maxPerMember?: number): { cap: number; links: { householdId: number; memberId: number }[] } {
  const cap = maxPerMember ?? evenCap(members, households.length);
  const load = new Map(members.map((m) => [m.id, m.load]));
  const links: { householdId: number; memberId: number }[] = [];
  for (const h of households) {
    let best: { m: AssignMember; key: number[] } | null = null;
    for (const m of members) {
      const l = load.get(m.id)!;
      if (l >= cap) continue;
      const inArea = m.areaPaths.some((p) => h.path.startsWith(p)) ? 0 : 1;
      const geo = h.lng !== null && h.lat !== null && m.lng !== null && m.lat !== null ? metresBetween({ lng: h.lng!, lat: h.lat! }, { lng: m.lng!, lat: m.lat! }) : Number.POSITIVE_INFINITY;
      const key = [inArea, treeDistance(h.path, m.homePath), geo, l, m.id];
      if (!best || less(key, best.key)) best = { m, key };
    }
    if (!best) continue;
    links.push({ householdId: h.id, memberId: best.m.id });
    load.set(best.m.id, load.get(best.m.id)! + 1);
  }
  return { cap, links };
}

function less(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}
