// Checks of a database state the crash and load suites share: the modules' invariants (SQL returning the
// rows that break a rule), the audit evidence of acknowledged writes, and rolled-up figures against recounts.
import { sql } from 'kysely';
import type { Db } from '../../server/src/db/connection.ts';
import type { ModuleManifest } from '../../server/src/platform/module.ts';
import { MODULES } from '../../server/src/modules/index.ts';
import { collect } from './hooks.ts';
import type { Evidence } from './workload.ts';
import type { ApiClient } from './http.ts';
import type { Report } from './report.ts';

export async function checkInvariants(db: Db, report: Report, modules: ModuleManifest[] = MODULES, label = '') {
  for (const inv of collect('invariants', modules)) {
    let problems: string[];
    try {
      const rows = (await sql.raw<Record<string, unknown>>(inv.sql).execute(db)).rows;
      problems = rows.slice(0, 20).map((r) => `${label}${JSON.stringify(r)}`);
      if (rows.length > 20) problems.push(`${label}… ${rows.length - 20} more rows`);
    } catch (e) {
      problems = [`${label}the check itself failed: ${(e as Error).message}`];
    }
    report.check(`[${inv.module}] ${inv.name}`, problems);
  }
}

const subset = (after: unknown, expected: Record<string, unknown>) =>
  typeof after === 'object' && after !== null && Object.entries(expected).every(([k, v]) => JSON.stringify((after as Record<string, unknown>)[k]) === JSON.stringify(v));

/** Every acknowledged write left its audit row (audit rows are append-only, so once seen, always there). */
export async function checkEvidence(db: Db, evidence: Evidence[]): Promise<string[]> {
  if (!evidence.length) return [];
  const actions = [...new Set(evidence.map((e) => e.action))];
  const rows = await db.selectFrom('audit_log').select(['action', 'target_id', 'after']).where('action', 'in', actions).execute();
  const byKey = new Map<string, unknown[]>();
  for (const r of rows) {
    const key = `${r.action}:${r.target_id}`;
    byKey.set(key, [...(byKey.get(key) ?? []), r.after]);
  }
  const problems: string[] = [];
  for (const e of evidence) {
    const afters = byKey.get(`${e.action}:${e.targetId}`) ?? [];
    if (!afters.some((a) => !e.after || subset(a, e.after))) problems.push(`acknowledged "${e.step}" lost: no ${e.action} audit row for ${e.targetId}${e.after ? ` with ${JSON.stringify(e.after)}` : ''}`);
  }
  return problems;
}

/** Rolled-up figures the API serves, each against the module's recount from raw rows in `db` (same state). */
export async function checkFigures(client: ApiClient, db: Db, report: Report, modules: ModuleManifest[] = MODULES, label = '') {
  let compared = 0;
  for (const fig of collect('figures', modules)) {
    const problems: string[] = [];
    for (const url of await fig.urls(db)) {
      const res = await client.request('GET', url);
      if (res.status !== 200) {
        problems.push(`${label}GET ${url} → ${res.status} ${res.error ?? res.text.slice(0, 200)}`);
        continue;
      }
      compared++;
      for (const d of await fig.compare(res.body, url, db)) problems.push(`${label}${url}: ${d}`);
    }
    report.check(`[${fig.module}] ${fig.name}`, problems);
  }
  return compared;
}
