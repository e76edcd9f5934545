// Grid page data shared by the tree, the unit page and the kinds page: the preset's kinds (cached once
// per session, reloaded after edits) and the labels of codes the server sends.
import { reactive, type InjectionKey } from 'vue';
import { gridApi, type GapCounts, type KindView, type KindsAnswer, type RoleView } from '@/api/grid';
import { label } from '@/i18n';
import { i18n } from '@/i18n';

interface KindsState {
  loaded: boolean;
  presetId: string | null;
  presetName: KindsAnswer['presetName'];
  list: KindView[];
  byCode: Record<string, KindView>;
}

export const kinds = reactive<KindsState>({ loaded: false, presetId: null, presetName: null, list: [], byCode: {} });
let pending: Promise<void> | null = null;

export function reloadKinds(): Promise<void> {
  pending = gridApi.kinds().then((answer) => {
    kinds.presetId = answer.presetId;
    kinds.presetName = answer.presetName;
    kinds.list = answer.kinds;
    kinds.byCode = Object.fromEntries(answer.kinds.map((k) => [k.code, k]));
    kinds.loaded = true;
  });
  pending.catch(() => (pending = null));
  return pending;
}

export function ensureKinds(): Promise<void> {
  return pending ?? reloadKinds();
}

export function kindName(code: string): string {
  return label(kinds.byCode[code]?.name) || code;
}

export function roleOf(kindCode: string, roleCode: string): RoleView | undefined {
  return kinds.byCode[kindCode]?.roles.find((r) => r.code === roleCode);
}

export function roleName(kindCode: string, roleCode: string, roles?: RoleView[]): string {
  const role = roles?.find((r) => r.code === roleCode) ?? roleOf(kindCode, roleCode);
  return label(role?.name) || roleCode;
}

export function partyOrgKindName(code: string): string {
  const key = `partyOrgKind.${code}`;
  return i18n.global.te(key) ? i18n.global.t(key) : code;
}

export function linkedOrgKindName(code: string): string {
  const key = `linkedOrgKind.${code}`;
  return i18n.global.te(key) ? i18n.global.t(key) : code;
}

/** The breakdown shown in a badge's tooltip. */
export function gapSummary(c: GapCounts): string[] {
  const t = i18n.global.t;
  return [
    t('coverage.missingPartyOrgN', { n: c.missingPartyOrg }),
    t('coverage.missingLeaderN', { n: c.missingLeader }),
    t('coverage.missingRoleN', { n: c.missingRole }),
    t('coverage.unitsWithGapsN', { n: c.unitsWithGaps }),
  ];
}

/** What the tree offers the unit page: keep badges and children current after a write, and show a unit. */
export interface GridTree {
  /**
   * After a write at the unit with `path`: re-fetch the badge lists along its chain (roots and the
   * children of every ancestor), and reload the children of the units in `reloadChildrenOf`.
   */
  refresh(path: string, options?: { reloadChildrenOf?: number[]; removed?: number[] }): Promise<void>;
  /** Expands the tree down to a unit (ids root first) and highlights it. */
  reveal(chain: number[]): Promise<void>;
}

export const GRID_TREE: InjectionKey<GridTree> = Symbol('grid-tree');
