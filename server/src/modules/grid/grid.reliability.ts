// What the crash, load, fuzz and access-leak suites need of the grid (docs/reliability.md): leak probes,
// fuzz fixtures, the crash/load workload, invariants and roll-up figures with their recounts.
import type { Db } from '../../db/connection.ts';
import type { ReliabilityHooks, ReliabilityRequest, WorkloadObject, WorkloadView } from '../../platform/module.ts';

const MISSING_ID = 9007199254740991;
/** Response bodies are JSON the suites received; each helper names the shape it reads. */
const bodyOf = <T>(body: unknown) => body as T;

async function unitRows(db: Db) {
  return db.selectFrom('org_unit').select(['id', 'parent_id', 'kind_code', 'path', 'depth', 'name', 'archived_at']).orderBy('id').execute();
}

/** Gap counts recounted from raw rows by walking parent ids: independent of paths and of the coverage SQL. */
async function recountCoverage(db: Db, unitId: number, today: string) {
  const units = (await unitRows(db)).filter((u) => u.archived_at === null);
  const kinds = new Map((await db.selectFrom('unit_kind').select(['code', 'requires_party_org']).execute()).map((k) => [k.code, k.requires_party_org]));
  const roles = await db.selectFrom('staff_role').select(['kind_code', 'code', 'required', 'leader']).execute();
  const withOrg = new Set((await db.selectFrom('party_org').select('unit_id').execute()).map((o) => Number(o.unit_id)));
  const posts = (await db.selectFrom('staff_post').select(['unit_id', 'kind_code', 'role_code', 'started_on', 'ended_on']).execute()).filter(
    (p) => p.started_on <= today && (p.ended_on === null || p.ended_on >= today),
  );
  const held = new Set(posts.map((p) => `${p.unit_id}:${p.role_code}`));
  const children = new Map<number, typeof units>();
  for (const u of units) if (u.parent_id !== null) children.set(Number(u.parent_id), [...(children.get(Number(u.parent_id)) ?? []), u]);
  const subtree = (id: number): typeof units => {
    const own = units.filter((u) => u.id === id);
    return [...own, ...(children.get(id) ?? []).flatMap((c) => subtree(c.id))];
  };
  const gapsOf = (u: (typeof units)[number]) => {
    const gaps: ('party_org' | 'leader' | 'role')[] = [];
    if (kinds.get(u.kind_code) && !withOrg.has(u.id)) gaps.push('party_org');
    for (const r of roles) if (r.kind_code === u.kind_code && (r.required || r.leader) && !held.has(`${u.id}:${r.code}`)) gaps.push(r.leader ? 'leader' : 'role');
    return gaps;
  };
  const count = (list: typeof units) => {
    const c = { missingPartyOrg: 0, missingLeader: 0, missingRole: 0, unitsWithGaps: 0 };
    for (const u of list) {
      const g = gapsOf(u);
      if (g.length) c.unitsWithGaps++;
      for (const x of g) c[x === 'party_org' ? 'missingPartyOrg' : x === 'leader' ? 'missingLeader' : 'missingRole']++;
    }
    return c;
  };
  const all = subtree(unitId);
  const ids = new Set(all.map((u) => u.id));
  const byKind = new Map<string, { units: number; withPartyOrg: number }>();
  for (const u of all) {
    const k = byKind.get(u.kind_code) ?? { units: 0, withPartyOrg: 0 };
    k.units++;
    if (withOrg.has(u.id)) k.withPartyOrg++;
    byKind.set(u.kind_code, k);
  }
  const holders = new Map<string, number>();
  for (const p of posts) if (ids.has(Number(p.unit_id))) holders.set(`${p.kind_code}:${p.role_code}`, (holders.get(`${p.kind_code}:${p.role_code}`) ?? 0) + 1);
  return {
    totals: { units: all.length, withPartyOrg: all.filter((u) => withOrg.has(u.id)).length, ...count(all) },
    own: count(all.filter((u) => u.id === unitId)),
    gapTotal: all.reduce((s, u) => s + gapsOf(u).length, 0),
    children: new Map((children.get(unitId) ?? []).map((c) => [c.id, count(subtree(c.id))])),
    byKind: [...byKind].map(([kind, v]) => `${kind}:${v.units}:${v.withPartyOrg}`).sort(),
    holders: [...holders].map(([k, n]) => `${k}:${n}`).sort(),
  };
}

function differences(what: string, api: unknown, recount: unknown): string[] {
  return JSON.stringify(api) === JSON.stringify(recount) ? [] : [`${what}: API ${JSON.stringify(api)} ≠ recount ${JSON.stringify(recount)}`];
}

type CoverageBody = {
  totals: Record<string, number>;
  own: Record<string, number>;
  gapTotal: number;
  children: { id: number; missingPartyOrg: number; missingLeader: number; missingRole: number; unitsWithGaps: number }[];
  byKind: { kind: string; units: number; withPartyOrg: number }[];
  holders: { kind: string; role: string; holders: number }[];
};
const pickCounts = (c: Record<string, number>) => ({ missingPartyOrg: c.missingPartyOrg, missingLeader: c.missingLeader, missingRole: c.missingRole, unitsWithGaps: c.unitsWithGaps });

export const gridReliability: ReliabilityHooks = {
  leakProbes: [
    { route: '/api/units/:id', permission: 'unit.read', missing: `/api/units/${MISSING_ID}`, objects: async (db) => (await unitRows(db)).map((u) => ({ url: `/api/units/${u.id}`, unitPath: u.path })) },
    {
      route: '/api/units/:id/children',
      permission: 'unit.read',
      missing: `/api/units/${MISSING_ID}/children?coverage=true`,
      objects: async (db) => (await unitRows(db)).map((u) => ({ url: `/api/units/${u.id}/children?coverage=true`, unitPath: u.path })),
    },
    {
      route: '/api/units/:id/coverage',
      permission: 'coverage.read',
      visibleWith: 'unit.read',
      missing: `/api/units/${MISSING_ID}/coverage`,
      objects: async (db) => (await unitRows(db)).map((u) => ({ url: `/api/units/${u.id}/coverage`, unitPath: u.path })),
    },
  ],
  leakListProbes: [
    {
      route: '/api/units',
      permission: 'unit.read',
      urls: async () => ['/api/units?limit=500', '/api/units?kind=grid&limit=500', '/api/units?search=%E7%BD%91%E6%A0%BC&limit=500'],
      itemUnitPaths: async (body) => bodyOf<{ items: { path: string }[] }>(body).items.map((i) => i.path),
    },
    {
      route: '/api/units/roots',
      permission: 'unit.read',
      urls: async () => ['/api/units/roots', '/api/units/roots?coverage=true'],
      itemUnitPaths: async (body) => bodyOf<{ items: { path: string }[] }>(body).items.map((i) => i.path),
    },
    {
      route: '/api/units/:id/children',
      permission: 'unit.read',
      urls: async (db) => (await unitRows(db)).map((u) => `/api/units/${u.id}/children`),
      itemUnitPaths: async (body) => bodyOf<{ items: { path: string }[] }>(body).items.map((i) => i.path),
    },
    {
      route: '/api/people',
      permission: 'person.read',
      urls: async (db) => ['/api/people?limit=500', ...(await unitRows(db)).map((u) => `/api/people?unitId=${u.id}&limit=500`)],
      itemUnitPaths: async (body, db) => {
        const paths = new Map((await unitRows(db)).map((u) => [u.id, u.path]));
        return bodyOf<{ items: { unitId: number }[] }>(body).items.map((i) => paths.get(i.unitId) ?? []);
      },
    },
  ],
  leakExempt: [{ route: '/api/unit-kinds', reason: "the deployment's unit kinds and roles: configuration, the same for everyone who may read presets" }],

  fuzzFixtures: async (db) => {
    const units = (await unitRows(db)).map((u) => u.id);
    const ids = async (table: 'party_org' | 'staff_post' | 'person' | 'linked_org') => (await db.selectFrom(table).select('id').orderBy('id').limit(50).execute()).map((r) => Number(r.id));
    const kinds = (await db.selectFrom('unit_kind').select('code').execute()).map((k) => k.code);
    const roles = (await db.selectFrom('staff_role').select('code').execute()).map((r) => r.code);
    const people = await ids('person');
    return {
      params: {
        '/api/units/:id': { id: units },
        '/api/party-orgs/:id': { id: await ids('party_org') },
        '/api/posts/:id': { id: await ids('staff_post') },
        '/api/people/:id': { id: people },
        '/api/linked-orgs/:id': { id: await ids('linked_org') },
        '/api/unit-kinds/:code': { code: kinds, role: roles },
      },
      fields: { parentId: units, unitId: units, personId: people, secretaryPersonId: people, kind: [...kinds, 'branch', 'group', 'committee', 'property_company'], role: roles, parents: kinds, children: kinds },
    };
  },

  workloadObjects: async (db) => {
    const units = (await unitRows(db)).filter((u) => u.archived_at === null);
    const withOrg = new Set((await db.selectFrom('party_org').select('unit_id').execute()).map((o) => Number(o.unit_id)));
    const led = new Set((await db.selectFrom('staff_post').select('unit_id').where('role_code', '=', 'building_leader').execute()).map((p) => Number(p.unit_id)));
    return units.flatMap((u) => {
      const parent = u.parent_id === null ? undefined : Number(u.parent_id);
      const objects: WorkloadObject[] = [{ type: `unit:${u.kind_code}`, id: u.id, parent }];
      if (u.kind_code === 'grid') objects.push({ type: 'rename:grid', id: u.id });
      if (u.kind_code === 'building') objects.push({ type: 'move:building', id: u.id, parent });
      if ((u.kind_code === 'grid' || u.kind_code === 'building') && !withOrg.has(u.id)) objects.push({ type: `bare:${u.kind_code}`, id: u.id });
      if (u.kind_code === 'building' && !led.has(u.id)) objects.push({ type: 'noleader:building', id: u.id });
      return objects;
    });
  },
  workload: [
    {
      name: 'create a grid',
      weight: 2,
      request: (v) => {
        const parentId = v.pick('unit:community');
        return parentId === undefined ? null : { method: 'POST', url: '/api/units', body: { parentId, kind: 'grid', name: v.uniqueName('网格') } };
      },
      made: (res, req) => {
        const { id } = bodyOf<{ id: number }>(res);
        const parent = bodyOf<{ parentId: number }>(req.body).parentId;
        return [{ type: 'unit:grid', id, parent }, { type: 'rename:grid', id }, { type: 'bare:grid', id }];
      },
      evidence: (res) => ({ action: 'unit.create', targetId: bodyOf<{ id: number }>(res).id }),
    },
    {
      name: 'create a building',
      weight: 3,
      request: (v) => {
        const parentId = v.pick('unit:grid');
        return parentId === undefined ? null : { method: 'POST', url: '/api/units', body: { parentId, kind: 'building', name: v.uniqueName('楼') } };
      },
      made: (res, req) => {
        const { id } = bodyOf<{ id: number }>(res);
        const parent = bodyOf<{ parentId: number }>(req.body).parentId;
        return [{ type: 'unit:building', id, parent }, { type: 'move:building', id, parent }, { type: 'bare:building', id }, { type: 'noleader:building', id }];
      },
      evidence: (res) => ({ action: 'unit.create', targetId: bodyOf<{ id: number }>(res).id }),
    },
    ...(['grid', 'building'] as const).map((kind) => ({
      name: `bind a party organisation to a ${kind}`,
      weight: 1.5,
      request: (v: WorkloadView): ReliabilityRequest | null => {
        const id = v.take(`bare:${kind}`);
        return id === undefined ? null : { method: 'POST', url: `/api/units/${id}/party-org`, body: { kind: kind === 'grid' ? 'branch' : 'group', name: v.uniqueName('党组织'), foundedOn: '2020-07-01' } };
      },
      evidence: (res: unknown) => ({ action: 'party_org.create', targetId: bodyOf<{ id: number }>(res).id }),
    })),
    {
      name: 'appoint a grid worker',
      weight: 2,
      request: (v) => {
        const id = v.pick('unit:grid');
        return id === undefined ? null : { method: 'POST', url: `/api/units/${id}/posts`, body: { role: 'grid_worker', personName: v.uniqueName('网格员'), startedOn: '2024-01-01' } };
      },
      evidence: (res) => ({ action: 'post.create', targetId: bodyOf<{ id: number }>(res).id }),
    },
    {
      name: 'appoint a building leader',
      weight: 1,
      request: (v) => {
        const id = v.take('noleader:building');
        return id === undefined ? null : { method: 'POST', url: `/api/units/${id}/posts`, body: { role: 'building_leader', personName: v.uniqueName('楼长'), startedOn: '2024-01-01' } };
      },
      evidence: (res) => ({ action: 'post.create', targetId: bodyOf<{ id: number }>(res).id }),
    },
    {
      name: 'rename a grid',
      weight: 1,
      request: (v) => {
        const id = v.take('rename:grid');
        return id === undefined ? null : { method: 'PATCH', url: `/api/units/${id}`, body: { name: v.uniqueName('网格') } };
      },
      made: (res) => [{ type: 'rename:grid', id: bodyOf<{ id: number }>(res).id }],
      evidence: (res, req) => ({ action: 'unit.update', targetId: bodyOf<{ id: number }>(res).id, after: { name: bodyOf<{ name: string }>(req.body).name } }),
    },
    {
      name: 'move a building to another grid',
      weight: 1,
      request: (v) => {
        const id = v.take('move:building');
        if (id === undefined) return null;
        for (let i = 0; i < 8; i++) {
          const parentId = v.pick('unit:grid');
          if (parentId !== undefined && parentId !== v.parentOf(id)) return { method: 'POST', url: `/api/units/${id}/move`, body: { parentId } };
        }
        return null;
      },
      made: (res) => {
        const unit = bodyOf<{ id: number; parentId: number }>(res);
        return [{ type: 'move:building', id: unit.id, parent: unit.parentId }];
      },
      evidence: (res) => {
        const unit = bodyOf<{ id: number; parentId: number }>(res);
        return { action: 'unit.move', targetId: unit.id, after: { parentId: unit.parentId } };
      },
    },
  ],
  loadReads: async (db) => {
    const units = (await unitRows(db)).filter((u) => u.archived_at === null && u.depth >= 2 && u.depth <= 4).slice(0, 200);
    return [
      ...units.flatMap((u) => [`/api/units/${u.id}`, `/api/units/${u.id}/children?coverage=true`, ...(u.depth <= 3 ? [`/api/units/${u.id}/coverage`] : [])]),
      '/api/units?search=%E7%BD%91%E6%A0%BC&limit=20',
      '/api/people?limit=50',
    ];
  },

  invariants: [
    {
      name: "a unit's path and depth follow its parent chain",
      sql: `select c.id, c.path, c.depth from org_unit c left join org_unit p on p.id = c.parent_id
            where (c.parent_id is null and (c.path <> '/' || c.id || '/' or c.depth <> 0))
               or (c.parent_id is not null and (p.id is null or c.path <> p.path || c.id || '/' or c.depth <> p.depth + 1))`,
    },
    {
      name: "a unit's district key is its own (district level and above) or its parent's",
      sql: `select c.id, c.district_id from org_unit c join unit_kind k on k.code = c.kind_code left join org_unit p on p.id = c.parent_id
            where c.district_id <> case when c.parent_id is null or k.is_district then c.id else p.district_id end`,
    },
    {
      name: 'every unit has its unit.create audit row, and every unit.create row its unit',
      sql: `select 'unit' as side, u.id::text as id from org_unit u where not exists (select 1 from audit_log a where a.action = 'unit.create' and a.target_id = u.id::text)
            union all
            select 'audit', a.target_id from audit_log a where a.action = 'unit.create' and not exists (select 1 from org_unit u where u.id::text = a.target_id)`,
    },
    {
      name: "a unit's name and parent are those its last audit row recorded",
      sql: `select u.id, u.name, u.parent_id, n.after ->> 'name' as audited_name, m.parent as audited_parent from org_unit u
            left join lateral (select a.after from audit_log a where a.target_type = 'unit' and a.target_id = u.id::text
                                 and a.action in ('unit.create', 'unit.update', 'unit.archive') order by a.id desc limit 1) n on true
            left join lateral (select coalesce(a.after ->> 'parentId', a.after ->> 'parent_id') as parent from audit_log a where a.target_type = 'unit'
                                 and a.target_id = u.id::text and a.action in ('unit.create', 'unit.move') order by a.id desc limit 1) m on true
            where n.after ->> 'name' is distinct from u.name or m.parent is distinct from u.parent_id::text`,
    },
    ...(
      [
        ['party_org', 'party_org.create', 'party_org.dissolve'],
        ['staff_post', 'post.create', 'post.delete'],
        ['linked_org', 'linked_org.create', 'linked_org.delete'],
        ['person', 'person.create', null],
      ] as const
    ).map(([table, created, removed]) => ({
      name: `every ${table} row has its ${created} audit row, and every ${created} row its ${table}${removed ? ` unless a later ${removed}` : ''}`,
      sql: `select 'row' as side, t.id::text as id from ${table} t where not exists (select 1 from audit_log a where a.action = '${created}' and a.target_id = t.id::text)
            union all
            select 'audit', a.target_id from audit_log a where a.action = '${created}' and not exists (select 1 from ${table} t where t.id::text = a.target_id)
            ${removed ? `and not exists (select 1 from audit_log d where d.action = '${removed}' and d.target_id = a.target_id and d.id > a.id)` : ''}`,
    })),
  ],
  figures: [
    {
      name: 'coverage report (totals, own, per child, by kind, holders) = recount from raw rows',
      urls: async (db) => (await unitRows(db)).filter((u) => u.archived_at === null && u.depth <= 2).slice(0, 40).map((u) => `/api/units/${u.id}/coverage?gapLimit=0`),
      compare: async (body, url, db) => {
        const report = bodyOf<CoverageBody & { asOf: string }>(body);
        const recount = await recountCoverage(db, Number(url.split('/')[3]), report.asOf);
        return [
          ...differences('totals', report.totals, recount.totals),
          ...differences('own', pickCounts(report.own), recount.own),
          ...differences('gapTotal', report.gapTotal, recount.gapTotal),
          ...differences('child ids', report.children.map((c) => c.id).sort((a, b) => a - b), [...recount.children.keys()].sort((a, b) => a - b)),
          ...report.children.flatMap((c) => differences(`child ${c.id}`, pickCounts(c), recount.children.get(c.id))),
          ...differences('byKind', report.byKind.map((k) => `${k.kind}:${k.units}:${k.withPartyOrg}`).sort(), recount.byKind),
          ...differences('holders', report.holders.map((h) => `${h.kind}:${h.role}:${h.holders}`).sort(), recount.holders),
        ];
      },
    },
    {
      name: 'child counts (unit page and tree) = recount from raw rows',
      urls: async (db) => (await unitRows(db)).filter((u) => u.archived_at === null && u.depth <= 3).slice(0, 60).flatMap((u) => [`/api/units/${u.id}`, `/api/units/${u.id}/children`]),
      compare: async (body, url, db) => {
        const active = (await unitRows(db)).filter((u) => u.archived_at === null);
        const childCount = (id: number) => active.filter((u) => u.parent_id !== null && Number(u.parent_id) === id).length;
        if (url.endsWith('/children')) return bodyOf<{ items: { id: number; childCount: number }[] }>(body).items.flatMap((i) => differences(`childCount of ${i.id}`, i.childCount, childCount(i.id)));
        const { unit } = bodyOf<{ unit: { id: number; childCount: number } }>(body);
        return differences(`childCount of ${unit.id}`, unit.childCount, childCount(unit.id));
      },
    },
  ],
};
