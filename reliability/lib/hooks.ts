// The modules' reliability hooks (ModuleManifest.reliability), gathered: a new module's probes, workload and
// invariants join every suite by being declared in its manifest.
import { MODULES } from '../../server/src/modules/index.ts';
import type { ModuleManifest, ReliabilityHooks, WorkloadObject, WorkloadStep } from '../../server/src/platform/module.ts';
import type { Db } from '../../server/src/db/connection.ts';

type Hook<K extends keyof ReliabilityHooks> = NonNullable<ReliabilityHooks[K]>;
type Item<K extends keyof ReliabilityHooks> = Hook<K> extends readonly (infer T)[] ? T & { module: string } : never;

export function collect<K extends 'leakProbes' | 'leakListProbes' | 'leakExempt' | 'workload' | 'invariants' | 'figures'>(key: K, modules: ModuleManifest[] = MODULES): Item<K>[] {
  const out: Item<K>[] = [];
  for (const m of modules) {
    const list = m.reliability?.[key];
    // every entry of these hooks is an object; tagging it with its module keeps reports readable
    if (Array.isArray(list)) for (const entry of list) out.push({ ...(entry as object), module: m.name } as Item<K>);
  }
  return out;
}

export const workloadSteps = (modules: ModuleManifest[] = MODULES): WorkloadStep[] => collect('workload', modules);

export async function workloadObjects(db: Db, modules: ModuleManifest[] = MODULES): Promise<WorkloadObject[]> {
  const all: WorkloadObject[] = [];
  for (const m of modules) if (m.reliability?.workloadObjects) all.push(...(await m.reliability.workloadObjects(db)));
  return all;
}

export async function loadReads(db: Db, modules: ModuleManifest[] = MODULES): Promise<string[]> {
  const all: string[] = [];
  for (const m of modules) if (m.reliability?.loadReads) all.push(...(await m.reliability.loadReads(db)));
  return all;
}

export async function fuzzFixtures(db: Db, modules: ModuleManifest[] = MODULES) {
  const params: Record<string, Record<string, (string | number)[]>> = {};
  const fields: Record<string, (string | number)[]> = {};
  for (const m of modules) {
    if (!m.reliability?.fuzzFixtures) continue;
    const f = await m.reliability.fuzzFixtures(db);
    for (const [route, p] of Object.entries(f.params ?? {})) params[route] = { ...params[route], ...p };
    for (const [field, values] of Object.entries(f.fields ?? {})) fields[field] = [...(fields[field] ?? []), ...values];
  }
  return { params, fields };
}
