// Governance-model presets: a locality's unit-kind grammar and staff roles, kept as data in presets/*.json.
// Loading checks the JSON schema first and then the cross-references the schema cannot express
// (children that name real kinds, a reachable district level), so a broken preset fails at `init`, not later.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';

export type Label = { 'zh-CN': string; en: string };
export type PartyOrgKind = 'working_committee' | 'committee' | 'general_branch' | 'branch' | 'group';
export const PARTY_ORG_KINDS: readonly PartyOrgKind[] = ['working_committee', 'committee', 'general_branch', 'branch', 'group'];
export const PARTY_ORG_KIND_LABELS: Record<PartyOrgKind, Label> = {
  working_committee: { 'zh-CN': '党工委', en: 'Party working committee' },
  committee: { 'zh-CN': '党委', en: 'Party committee' },
  general_branch: { 'zh-CN': '党总支', en: 'General party branch' },
  branch: { 'zh-CN': '党支部', en: 'Party branch' },
  group: { 'zh-CN': '党小组', en: 'Party group' },
};

export interface PresetRole {
  code: string;
  name: Label;
  description?: Label;
  required?: boolean;
  leader?: boolean;
  maxHolders?: number;
}
export interface PresetUnitKind {
  code: string;
  name: Label;
  description?: Label;
  children: string[];
  isGrid?: boolean;
  partyOrgKinds?: PartyOrgKind[];
  requiresPartyOrg?: boolean;
  roles: PresetRole[];
}
export interface Preset {
  id: string;
  name: Label;
  description?: Label;
  sources?: string[];
  districtKind: string;
  rootKinds: string[];
  unitKinds: PresetUnitKind[];
  demandCategories?: { code: string; name: Label; children?: { code: string; name: Label }[] }[];
  councilKinds?: { code: string; name: Label; unitKinds?: string[]; voteRule?: string }[];
  voteRules?: { code: string; name: Label; basis: string; threshold?: 'special' | 'ordinary' }[];
}

export const PRESETS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../presets');

let validateSchema: ((data: unknown) => boolean) & { errors?: unknown } | undefined;
function schemaValidator() {
  if (!validateSchema) {
    const schema = JSON.parse(readFileSync(path.join(PRESETS_DIR, 'preset.schema.json'), 'utf8'));
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    validateSchema = ajv.compile(schema);
  }
  return validateSchema;
}

export class PresetError extends Error {}

/** Validates a parsed preset: schema, then references between kinds. Returns the problems found (empty = valid). */
export function presetProblems(data: unknown): string[] {
  const validate = schemaValidator();
  if (!validate(data)) {
    const errors = (validate.errors ?? []) as { instancePath: string; message?: string }[];
    return errors.map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
  }
  const preset = data as Preset;
  const problems: string[] = [];
  const kinds = new Map(preset.unitKinds.map((k) => [k.code, k]));
  if (kinds.size !== preset.unitKinds.length) problems.push('unit kind codes must be unique');
  if (!kinds.has(preset.districtKind)) problems.push(`districtKind "${preset.districtKind}" is not a unit kind`);
  for (const root of preset.rootKinds) if (!kinds.has(root)) problems.push(`rootKinds: "${root}" is not a unit kind`);
  for (const kind of preset.unitKinds) {
    for (const child of kind.children) {
      if (!kinds.has(child)) problems.push(`unit kind "${kind.code}": child "${child}" is not a unit kind`);
    }
    const roleCodes = new Set<string>();
    for (const role of kind.roles) {
      if (roleCodes.has(role.code)) problems.push(`unit kind "${kind.code}": role "${role.code}" appears twice`);
      roleCodes.add(role.code);
    }
    if (kind.roles.filter((r) => r.leader).length > 1) problems.push(`unit kind "${kind.code}" has more than one leader role`);
  }
  // Every kind must be reachable from a root, and the district kind must be reachable too.
  const reachable = new Set<string>();
  const queue = preset.rootKinds.filter((r) => kinds.has(r));
  while (queue.length) {
    const code = queue.shift()!;
    if (reachable.has(code)) continue;
    reachable.add(code);
    for (const child of kinds.get(code)?.children ?? []) queue.push(child);
  }
  for (const kind of preset.unitKinds) if (!reachable.has(kind.code)) problems.push(`unit kind "${kind.code}" cannot be reached from a root kind`);
  return problems;
}

export function parsePreset(json: string, origin = 'preset'): Preset {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (err) {
    throw new PresetError(`${origin}: not valid JSON (${(err as Error).message})`);
  }
  const problems = presetProblems(data);
  if (problems.length) throw new PresetError(`${origin}: ${problems.join('; ')}`);
  return data as Preset;
}

export function listPresetIds(): string[] {
  return readdirSync(PRESETS_DIR)
    .filter((f) => f.endsWith('.json') && f !== 'preset.schema.json')
    .map((f) => f.replace(/\.json$/, ''))
    .sort();
}

export function loadPreset(id: string): Preset {
  if (!/^[a-z][a-z0-9_]{1,39}$/.test(id) || !listPresetIds().includes(id)) {
    throw new PresetError(`unknown preset "${id}" (available: ${listPresetIds().join(', ')})`);
  }
  return parsePreset(readFileSync(path.join(PRESETS_DIR, `${id}.json`), 'utf8'), `presets/${id}.json`);
}

/** Chains of kind codes from each root down to each leaf: how a reader sees a locality's parallel hierarchies. */
export function kindChains(preset: Preset): string[][] {
  const kinds = new Map(preset.unitKinds.map((k) => [k.code, k]));
  const chains: string[][] = [];
  const walk = (code: string, trail: string[]) => {
    const next = [...trail, code];
    const children = (kinds.get(code)?.children ?? []).filter((c) => !trail.includes(c) && c !== code);
    if (!children.length) chains.push(next);
    for (const child of children) walk(child, next);
  };
  for (const root of preset.rootKinds) walk(root, []);
  return chains;
}
