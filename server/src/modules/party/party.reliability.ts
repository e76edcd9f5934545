// What the reliability suites need of the party module (docs/reliability.md): members, groups, 1+10 links,
// visits and posts in the suites' localities; leak probes for every GET route; fuzz fixtures; a workload
// step; invariants; and the 1+10 coverage roll-up compared with a recount from raw rows.
import type { Db } from '../../db/connection.ts';
import type { ReliabilityHooks } from '../../platform/module.ts';
import { systemContext } from '../../platform/context.ts';
import { businessDate } from '../../platform/clock.ts';
import { MembersService } from './members.service.ts';
import { MemberPostsService } from './member-posts.service.ts';
import { ContactsService, DEFAULT_COVERAGE_DAYS, shiftDate } from './contacts.service.ts';

const MISSING_ID = 9007199254740991;

async function unitPaths(db: Db) {
  return new Map((await db.selectFrom('org_unit').select(['id', 'path']).execute()).map((u) => [Number(u.id), u.path]));
}
async function householdPaths(db: Db) {
  const rows = await db.selectFrom('household as h').innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'h.district_id').onRef('u.id', '=', 'h.unit_id')).select(['h.id', 'u.path']).execute();
  return new Map(rows.map((r) => [Number(r.id), r.path]));
}

export interface CoverageCounts {
  households: number;
  linked: number;
  visited: number;
  covered: number;
}

/**
 * 1+10 coverage recounted from raw rows, independently of the service's SQL: the subtree is found by walking
 * parent ids (not paths), households, links and visits are read whole and counted here.
 */
export async function recountContactCoverage(db: Db, unitId: number, today: string, days: number): Promise<{ totals: CoverageCounts; children: Map<number, CoverageCounts> }> {
  const units = (await db.selectFrom('org_unit').select(['id', 'parent_id', 'archived_at']).execute()).map((u) => ({ id: Number(u.id), parent: u.parent_id === null ? null : Number(u.parent_id), archived: u.archived_at !== null }));
  const kids = new Map<number, number[]>();
  for (const u of units) if (u.parent !== null) kids.set(u.parent, [...(kids.get(u.parent) ?? []), u.id]);
  const subtree = (id: number): Set<number> => {
    const out = new Set<number>([id]);
    const stack = [id];
    while (stack.length) for (const c of kids.get(stack.pop()!) ?? []) if (!out.has(c)) (out.add(c), stack.push(c));
    return out;
  };
  const since = shiftDate(today, -(days - 1));
  const households = (await db.selectFrom('household').select(['id', 'unit_id', 'archived_at']).execute()).filter((h) => h.archived_at === null);
  const linked = new Set((await db.selectFrom('contact_link').select('household_id').execute()).map((l) => Number(l.household_id)));
  const visited = new Set(
    (await db.selectFrom('contact_visit').select(['household_id', 'visited_on']).execute()).filter((v) => v.visited_on >= since && v.visited_on <= today).map((v) => Number(v.household_id)),
  );
  const count = (unitsIn: Set<number>): CoverageCounts => {
    const c = { households: 0, linked: 0, visited: 0, covered: 0 };
    for (const h of households) {
      if (!unitsIn.has(Number(h.unit_id))) continue;
      const id = Number(h.id);
      c.households++;
      if (linked.has(id)) c.linked++;
      if (visited.has(id)) c.visited++;
      if (linked.has(id) && visited.has(id)) c.covered++;
    }
    return c;
  };
  const activeKids = (kids.get(unitId) ?? []).filter((k) => !units.find((u) => u.id === k)!.archived);
  return { totals: count(subtree(unitId)), children: new Map(activeKids.map((k) => [k, count(subtree(k))])) };
}

type CoverageBody = { asOf: string; days: number; totals: CoverageCounts; children: (CoverageCounts & { id: number })[] };
const pick = (c: CoverageCounts) => ({ households: c.households, linked: c.linked, visited: c.visited, covered: c.covered });

/** Differences between a coverage answer and the recount (none = exact). */
export async function coverageDifferences(body: unknown, db: Db, unitId: number): Promise<string[]> {
  const b = body as CoverageBody;
  const recount = await recountContactCoverage(db, unitId, b.asOf, b.days);
  const problems: string[] = [];
  const same = (what: string, api: CoverageCounts, re: CoverageCounts | undefined) => {
    if (JSON.stringify(pick(api)) !== JSON.stringify(re && pick(re))) problems.push(`${what}: API ${JSON.stringify(pick(api))} ≠ recount ${JSON.stringify(re)}`);
  };
  same(`unit ${unitId} totals`, b.totals, recount.totals);
  if (b.children.length !== recount.children.size) problems.push(`unit ${unitId}: ${b.children.length} children ≠ ${recount.children.size}`);
  for (const c of b.children) same(`unit ${unitId} child ${c.id}`, c, recount.children.get(c.id));
  return problems;
}

export const partyReliability: ReliabilityHooks = {
  seed: async ({ db, units, now }) => {
    const sys = systemContext('reliability-seed');
    const members = new MembersService(db, now);
    const posts = new MemberPostsService(db, now);
    const contacts = new ContactsService(db, now);
    const today = businessDate(now());
    for (const grid of units.filter((u) => u.kind === 'grid')) {
      const org = await db.selectFrom('party_org').select('id').where('unit_id', '=', grid.id).executeTakeFirst();
      if (!org) continue;
      // the first resident of the grid's subtree who is not a member yet joins the grid's branch
      const resident = await db
        .selectFrom('resident as r')
        .innerJoin('org_unit as u', 'u.id', 'r.unit_id')
        .select('r.id')
        .where('u.path', 'like', `${grid.path}%`)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('party_member as m').select('m.id').whereRef('m.resident_id', '=', 'r.id'))))
        .orderBy('r.id')
        .executeTakeFirst();
      if (!resident) continue;
      const member = await members.create(sys, { residentId: Number(resident.id), partyOrgId: Number(org.id), category: 'ordinary', status: 'full', joinedOn: '2001-07-01' });
      await contacts.createGroup(sys, { unitId: grid.id, name: `可靠户联系小组${grid.id}`, leaderMemberId: member.id });
      const result = await contacts.autoAssign(sys, grid.id, { maxPerMember: 10 });
      for (const [k, l] of result.links.entries()) if (k % 2 === 0) await contacts.logVisit(sys, l.householdId, { visitedOn: shiftDate(today, -k), note: '可靠走访' });
      const post = await posts.create(sys, { unitId: grid.id, title: `可靠岗位${grid.id}`, capacity: 2 });
      await posts.claim(sys, post.id, { memberId: member.id, claimedOn: '2025-01-01' });
    }
  },
  leakProbes: [
    {
      route: '/api/party-members/:id',
      permission: 'party_member.read',
      missing: `/api/party-members/${MISSING_ID}`,
      objects: async (db) => {
        const paths = await unitPaths(db);
        const rows = await db.selectFrom('party_member').select(['id', 'unit_id', 'registered_unit_id']).orderBy('id').execute();
        return rows.map((m) => ({ url: `/api/party-members/${m.id}`, unitPath: [paths.get(Number(m.unit_id))!, ...(m.registered_unit_id ? [paths.get(Number(m.registered_unit_id))!] : [])] }));
      },
    },
    {
      route: '/api/member-posts/:id',
      permission: 'member_post.read',
      missing: `/api/member-posts/${MISSING_ID}`,
      objects: async (db) => {
        const paths = await unitPaths(db);
        return (await db.selectFrom('member_post').select(['id', 'unit_id']).orderBy('id').execute()).map((p) => ({ url: `/api/member-posts/${p.id}`, unitPath: paths.get(Number(p.unit_id))! }));
      },
    },
    {
      route: '/api/contact-groups/:id',
      permission: 'contact.read',
      missing: `/api/contact-groups/${MISSING_ID}`,
      objects: async (db) => {
        const paths = await unitPaths(db);
        return (await db.selectFrom('contact_group').select(['id', 'unit_id']).orderBy('id').execute()).map((g) => ({ url: `/api/contact-groups/${g.id}`, unitPath: paths.get(Number(g.unit_id))! }));
      },
    },
    {
      route: '/api/units/:id/contact-coverage',
      permission: 'contact.read',
      visibleWith: 'unit.read',
      missing: `/api/units/${MISSING_ID}/contact-coverage`,
      objects: async (db) => [...(await unitPaths(db))].map(([id, path]) => ({ url: `/api/units/${id}/contact-coverage?days=30`, unitPath: path })),
    },
  ],
  leakListProbes: [
    {
      route: '/api/party-members',
      permission: 'party_member.read',
      urls: async () => ['/api/party-members?limit=200', '/api/party-members?includeLeft=true&limit=200', '/api/party-members?category=ordinary&limit=200'],
      // the JSON the suite received: a member is in scope at its branch's unit or its 报到 community
      itemUnitPaths: async (body, db) => {
        const paths = await unitPaths(db);
        return (body as { items: { unitId: number; registeredUnitId: number | null }[] }).items.map((i) => [paths.get(i.unitId) ?? '(unknown)', ...(i.registeredUnitId ? [paths.get(i.registeredUnitId) ?? '(unknown)'] : [])]);
      },
    },
    {
      route: '/api/member-posts',
      permission: 'member_post.read',
      urls: async () => ['/api/member-posts?limit=200', '/api/member-posts?includeArchived=true&limit=200'],
      itemUnitPaths: async (body, db) => {
        const paths = await unitPaths(db);
        return (body as { items: { unitId: number }[] }).items.map((i) => paths.get(i.unitId) ?? '(unknown)');
      },
    },
    {
      route: '/api/contact-groups',
      permission: 'contact.read',
      urls: async () => ['/api/contact-groups?limit=200'],
      itemUnitPaths: async (body, db) => {
        const paths = await unitPaths(db);
        return (body as { items: { unitId: number }[] }).items.map((i) => paths.get(i.unitId) ?? '(unknown)');
      },
    },
    {
      route: '/api/contact-links',
      permission: 'contact.read',
      urls: async () => ['/api/contact-links?limit=500'],
      itemUnitPaths: async (body, db) => {
        const paths = await householdPaths(db);
        return (body as { items: { householdId: number }[] }).items.map((i) => paths.get(i.householdId) ?? '(unknown)');
      },
    },
    {
      route: '/api/contact-visits',
      permission: 'contact.read',
      urls: async () => ['/api/contact-visits?limit=500', '/api/contact-visits?from=2000-01-01&limit=500'],
      itemUnitPaths: async (body, db) => {
        const paths = await householdPaths(db);
        return (body as { items: { householdId: number }[] }).items.map((i) => paths.get(i.householdId) ?? '(unknown)');
      },
    },
    {
      route: '/api/my/contacts',
      permission: 'contact.read_own',
      urls: async () => ['/api/my/contacts'],
      itemUnitPaths: async (body, db) => {
        const paths = await householdPaths(db);
        return (body as { items: { householdId: number }[] }).items.map((i) => paths.get(i.householdId) ?? '(unknown)');
      },
    },
  ],
  fuzzFixtures: async (db) => {
    const ids = async (table: 'party_member' | 'member_post' | 'member_post_claim' | 'contact_group') => (await db.selectFrom(table).select('id').orderBy('id').limit(30).execute()).map((r) => Number(r.id));
    const [members, posts, claims, groups] = await Promise.all([ids('party_member'), ids('member_post'), ids('member_post_claim'), ids('contact_group')]);
    const households = (await db.selectFrom('household').select('id').orderBy('id').limit(30).execute()).map((r) => Number(r.id));
    const units = (await db.selectFrom('org_unit').select('id').orderBy('id').limit(40).execute()).map((r) => Number(r.id));
    const orgs = (await db.selectFrom('party_org').select('id').orderBy('id').limit(30).execute()).map((r) => Number(r.id));
    return {
      params: {
        '/api/party-members/:id': { id: members },
        '/api/party-members/:id/registration': { id: members },
        '/api/member-posts/:id': { id: posts },
        '/api/member-posts/:id/claims': { id: posts },
        '/api/member-post-claims/:id/end': { id: claims },
        '/api/contact-groups/:id': { id: groups },
        '/api/contact-groups/:id/members/:memberId': { id: groups, memberId: members },
        '/api/households/:id/contact': { id: households },
        '/api/households/:id/contact-visits': { id: households },
        '/api/units/:id/contacts/auto-assign': { id: units },
        '/api/units/:id/contact-coverage': { id: units },
      },
      fields: { memberId: members, leaderMemberId: members, memberIds: members, partyOrgId: orgs, registeredUnitId: units, householdId: households },
    };
  },
  workloadObjects: async (db) => (await db.selectFrom('contact_link').select('household_id').orderBy('household_id').execute()).map((l) => ({ type: 'household:linked', id: Number(l.household_id) })),
  workload: [
    {
      name: 'log a 1+10 visit',
      weight: 0.5,
      request: (v) => {
        const id = v.pick('household:linked');
        return id === undefined ? null : { method: 'POST', url: `/api/households/${id}/contact-visits`, body: { visitedOn: '2026-01-20', note: v.uniqueName('走访') } };
      },
      evidence: (res) => ({ action: 'contact.visit', targetId: (res as { id: number }).id }),
    },
  ],
  loadReads: async (db) => {
    const communities = await db.selectFrom('org_unit').select('id').where('kind_code', '=', 'community').orderBy('id').limit(3).execute();
    return ['/api/party-members?limit=20', '/api/contact-links?limit=50', ...communities.map((c) => `/api/units/${c.id}/contact-coverage`)];
  },
  invariants: [
    {
      name: 'a household is linked only to an active member, and every link has the contact.link audit row that made it',
      sql: `select l.household_id from contact_link l join party_member m on m.district_id = l.district_id and m.id = l.member_id where m.left_on is not null
            union all
            select l.household_id from contact_link l where not exists (
              select 1 from audit_log a where a.action = 'contact.link' and a.target_type = 'household' and a.target_id = l.household_id::text and (a.after ->> 'memberId')::bigint = l.member_id)`,
    },
    {
      name: 'a post has no more active claims than its capacity, and a member holds at most one post',
      sql: `select p.id from member_post p where (select count(*) from member_post_claim c where c.district_id = p.district_id and c.post_id = p.id and c.ended_on is null) > p.capacity
            union all
            select member_id from member_post_claim where ended_on is null group by district_id, member_id having count(*) > 1`,
    },
    {
      name: "a contact group's leader is one of its members",
      sql: `select g.id from contact_group g where g.leader_member_id is not null
              and not exists (select 1 from contact_group_member gm where gm.district_id = g.district_id and gm.group_id = g.id and gm.member_id = g.leader_member_id)`,
    },
    {
      name: 'every visit has its contact.visit audit row',
      sql: `select v.id from contact_visit v where not exists (select 1 from audit_log a where a.action = 'contact.visit' and a.target_id = v.id::text)`,
    },
  ],
  figures: [
    {
      name: '1+10 coverage (households, linked, visited, covered; per child) = recount from raw rows',
      urls: async (db) => {
        const units = await db.selectFrom('org_unit').select('id').where('kind_code', 'in', ['district', 'street', 'community', 'grid']).orderBy('id').limit(30).execute();
        return units.map((u) => `/api/units/${u.id}/contact-coverage?days=${DEFAULT_COVERAGE_DAYS}`);
      },
      compare: async (body, url, db) => coverageDifferences(body, db, Number(/\/units\/(\d+)\//.exec(url)![1])),
    },
  ],
};
