// 户联系 / 1+10: groups, household links, visits, and the counts coverage is built from. SQL only.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import { likePrefix } from '../grid/grid.repository.ts';
import type { Q } from '../basedata/structures.shared.ts';

export class ContactsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  // ---- groups ----
  group(id: number, q: Q = this.db) {
    return q
      .selectFrom('contact_group as g')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'g.district_id').onRef('u.id', '=', 'g.unit_id'))
      .select(['g.district_id', 'g.id', 'g.unit_id', 'g.name', 'g.leader_member_id', 'g.created_at', 'u.path as unit_path', 'u.name as unit_name'])
      .where('g.id', '=', id)
      .executeTakeFirst();
  }

  async lockGroup(id: number, q: Q) {
    await q.selectFrom('contact_group').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
  }

  groups(s: { paths: string[]; unitPath?: string; limit: number; offset: number }, q: Q = this.db) {
    if (!s.paths.length) return Promise.resolve([]);
    let query = q
      .selectFrom('contact_group as g')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'g.district_id').onRef('u.id', '=', 'g.unit_id'))
      .select(['g.district_id', 'g.id', 'g.unit_id', 'g.name', 'g.leader_member_id', 'g.created_at', 'u.path as unit_path', 'u.name as unit_name'])
      .select((eb) => eb.selectFrom('contact_group_member as gm').select(eb.fn.countAll<number>().as('n')).whereRef('gm.district_id', '=', 'g.district_id').whereRef('gm.group_id', '=', 'g.id').as('members'))
      .where((eb) => eb.or(s.paths.map((p) => eb('u.path', 'like', likePrefix(p)))));
    if (s.unitPath) query = query.where('u.path', 'like', likePrefix(s.unitPath));
    return query.orderBy('u.path').orderBy('g.name').orderBy('g.id').limit(s.limit).offset(s.offset).execute();
  }

  groupMembers(districtId: number, groupId: number, q: Q = this.db) {
    return q
      .selectFrom('contact_group_member as gm')
      .innerJoin('party_member as m', (j) => j.onRef('m.district_id', '=', 'gm.district_id').onRef('m.id', '=', 'gm.member_id'))
      .innerJoin('resident as r', (j) => j.onRef('r.district_id', '=', 'm.district_id').onRef('r.id', '=', 'm.resident_id'))
      .select(['m.id', 'r.name'])
      .select((eb) => eb.selectFrom('contact_link as l').select(eb.fn.countAll<number>().as('n')).whereRef('l.district_id', '=', 'm.district_id').whereRef('l.member_id', '=', 'm.id').as('households'))
      .where('gm.district_id', '=', districtId)
      .where('gm.group_id', '=', groupId)
      .orderBy('r.name')
      .orderBy('m.id')
      .execute();
  }

  insertGroup(values: { district_id: number; unit_id: number; name: string; leader_member_id: number | null }, q: Q) {
    return q.insertInto('contact_group').values(values).returning('id').executeTakeFirstOrThrow();
  }

  updateGroup(districtId: number, id: number, values: Partial<{ name: string; leader_member_id: number | null }>, q: Q) {
    return q.updateTable('contact_group').set(values).where('district_id', '=', districtId).where('id', '=', id).execute();
  }

  addGroupMember(districtId: number, groupId: number, memberId: number, q: Q) {
    return q.insertInto('contact_group_member').values({ district_id: districtId, group_id: groupId, member_id: memberId }).onConflict((oc) => oc.doNothing()).execute();
  }

  removeGroupMember(districtId: number, groupId: number, memberId: number, q: Q) {
    return q.deleteFrom('contact_group_member').where('district_id', '=', districtId).where('group_id', '=', groupId).where('member_id', '=', memberId).returningAll().executeTakeFirst();
  }

  // ---- links ----
  link(districtId: number, householdId: number, q: Q = this.db) {
    return q.selectFrom('contact_link').selectAll().where('district_id', '=', districtId).where('household_id', '=', householdId).executeTakeFirst();
  }

  upsertLink(values: { district_id: number; household_id: number; member_id: number; assigned_on: string; assigned_by: number | null }, q: Q) {
    return q
      .insertInto('contact_link')
      .values(values)
      .onConflict((oc) => oc.columns(['district_id', 'household_id']).doUpdateSet({ member_id: values.member_id, assigned_on: values.assigned_on, assigned_by: values.assigned_by }))
      .execute();
  }

  /** Inserts links for households still without one; returns the households it linked (a concurrent link wins). */
  insertLinksIfFree(rows: { district_id: number; household_id: number; member_id: number; assigned_on: string; assigned_by: number | null }[], q: Q) {
    if (!rows.length) return Promise.resolve([]);
    return q.insertInto('contact_link').values(rows).onConflict((oc) => oc.columns(['district_id', 'household_id']).doNothing()).returning(['household_id', 'member_id']).execute();
  }

  deleteLink(districtId: number, householdId: number, q: Q) {
    return q.deleteFrom('contact_link').where('district_id', '=', districtId).where('household_id', '=', householdId).returningAll().executeTakeFirst();
  }

  /** Links in a subtree (by the household's unit), with household and member names. */
  links(s: { paths: string[]; unitPath?: string; memberId?: number; limit: number; offset: number }, q: Q = this.db) {
    if (!s.paths.length) return Promise.resolve([]);
    let query = q
      .selectFrom('contact_link as l')
      .innerJoin('household as h', (j) => j.onRef('h.district_id', '=', 'l.district_id').onRef('h.id', '=', 'l.household_id'))
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'h.district_id').onRef('u.id', '=', 'h.unit_id'))
      .innerJoin('party_member as m', (j) => j.onRef('m.district_id', '=', 'l.district_id').onRef('m.id', '=', 'l.member_id'))
      .innerJoin('resident as r', (j) => j.onRef('r.district_id', '=', 'm.district_id').onRef('r.id', '=', 'm.resident_id'))
      .select(['l.household_id', 'h.name as household_name', 'h.unit_id', 'u.name as unit_name', 'u.path as unit_path', 'l.member_id', 'r.name as member_name', 'l.assigned_on'])
      .where((eb) => eb.or(s.paths.map((p) => eb('u.path', 'like', likePrefix(p)))));
    if (s.unitPath) query = query.where('u.path', 'like', likePrefix(s.unitPath));
    if (s.memberId) query = query.where('l.member_id', '=', s.memberId);
    return query.orderBy('u.path').orderBy('h.name').orderBy('l.household_id').limit(s.limit).offset(s.offset).execute();
  }

  /** A member's own households, with what a masked card shows. */
  ownHouseholds(memberIds: number[], q: Q = this.db) {
    if (!memberIds.length) return Promise.resolve([]);
    return q
      .selectFrom('contact_link as l')
      .innerJoin('household as h', (j) => j.onRef('h.district_id', '=', 'l.district_id').onRef('h.id', '=', 'l.household_id'))
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'h.district_id').onRef('u.id', '=', 'h.unit_id'))
      .leftJoin('house as ho', (j) => j.onRef('ho.district_id', '=', 'h.district_id').onRef('ho.id', '=', 'h.house_id'))
      .leftJoin('resident as head', (j) => j.onRef('head.district_id', '=', 'h.district_id').onRef('head.id', '=', 'h.head_resident_id'))
      .select([
        'l.household_id',
        'l.member_id',
        'l.assigned_on',
        'h.kind',
        'h.name',
        'h.address',
        'ho.address as house_address',
        'u.name as unit_name',
        'u.path as unit_path',
        'head.name as head_name',
        'head.phone_head',
        'head.phone_last4',
        'head.phone_cipher',
      ])
      .select((eb) => eb.selectFrom('resident as r').select(eb.fn.countAll<number>().as('n')).whereRef('r.district_id', '=', 'h.district_id').whereRef('r.household_id', '=', 'h.id').where('r.archived_at', 'is', null).as('members'))
      .select((eb) => eb.selectFrom('contact_visit as v').select((v) => v.fn.max('v.visited_on').as('d')).whereRef('v.district_id', '=', 'h.district_id').whereRef('v.household_id', '=', 'h.id').as('last_visit'))
      .where('l.member_id', 'in', memberIds)
      .orderBy('h.name')
      .orderBy('l.household_id')
      .execute();
  }

  membersOfUser(userId: number, q: Q = this.db) {
    return q.selectFrom('party_member').select(['id', 'district_id']).where('user_id', '=', userId).where('left_on', 'is', null).execute();
  }

  household(id: number, q: Q = this.db) {
    return q
      .selectFrom('household as h')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'h.district_id').onRef('u.id', '=', 'h.unit_id'))
      .select(['h.district_id', 'h.id', 'h.unit_id', 'h.name', 'h.archived_at', 'u.path as unit_path', 'u.name as unit_name'])
      .where('h.id', '=', id)
      .executeTakeFirst();
  }

  async lockHousehold(id: number, q: Q) {
    await q.selectFrom('household').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
  }

  // ---- visits ----
  insertVisit(values: { district_id: number; household_id: number; member_id: number; visited_on: string; note: string | null; created_by: number | null }, q: Q) {
    return q.insertInto('contact_visit').values(values).returningAll().executeTakeFirstOrThrow();
  }

  visits(s: { paths: string[]; unitPath?: string; householdId?: number; memberId?: number; from?: string; to?: string; limit: number; offset: number }, q: Q = this.db) {
    if (!s.paths.length) return Promise.resolve([]);
    let query = q
      .selectFrom('contact_visit as v')
      .innerJoin('household as h', (j) => j.onRef('h.district_id', '=', 'v.district_id').onRef('h.id', '=', 'v.household_id'))
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'h.district_id').onRef('u.id', '=', 'h.unit_id'))
      .innerJoin('party_member as m', (j) => j.onRef('m.district_id', '=', 'v.district_id').onRef('m.id', '=', 'v.member_id'))
      .innerJoin('resident as r', (j) => j.onRef('r.district_id', '=', 'm.district_id').onRef('r.id', '=', 'm.resident_id'))
      .select(['v.id', 'v.household_id', 'h.name as household_name', 'u.path as unit_path', 'v.member_id', 'r.name as member_name', 'v.visited_on', 'v.note', 'v.created_at'])
      .where((eb) => eb.or(s.paths.map((p) => eb('u.path', 'like', likePrefix(p)))));
    if (s.unitPath) query = query.where('u.path', 'like', likePrefix(s.unitPath));
    if (s.householdId) query = query.where('v.household_id', '=', s.householdId);
    if (s.memberId) query = query.where('v.member_id', '=', s.memberId);
    if (s.from) query = query.where('v.visited_on', '>=', s.from);
    if (s.to) query = query.where('v.visited_on', '<=', s.to);
    return query.orderBy('v.visited_on', 'desc').orderBy('v.id', 'desc').limit(s.limit).offset(s.offset).execute();
  }

  // ---- auto-assignment inputs ----
  /** Active households in the subtree without a link, with where they are (unit path, house coordinates). */
  unlinkedHouseholds(districtId: number, rootPath: string, q: Q) {
    return q
      .selectFrom('household as h')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'h.district_id').onRef('u.id', '=', 'h.unit_id'))
      .leftJoin('house as ho', (j) => j.onRef('ho.district_id', '=', 'h.district_id').onRef('ho.id', '=', 'h.house_id'))
      .select(['h.id', 'u.path', 'ho.lng', 'ho.lat'])
      .where('h.district_id', '=', districtId)
      .where('u.path', 'like', likePrefix(rootPath))
      .where('h.archived_at', 'is', null)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('contact_link as l').select('l.household_id').whereRef('l.district_id', '=', 'h.district_id').whereRef('l.household_id', '=', 'h.id'))))
      .orderBy('u.path')
      .orderBy('h.id')
      .execute();
  }

  /** Active members whose record or 报到 community is in the subtree, with their home (unit path, house coordinates) and current load. */
  candidateMembers(districtId: number, rootPath: string, q: Q) {
    return q
      .selectFrom('party_member as m')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'm.district_id').onRef('u.id', '=', 'm.unit_id'))
      .leftJoin('org_unit as ru', (j) => j.onRef('ru.district_id', '=', 'm.district_id').onRef('ru.id', '=', 'm.registered_unit_id'))
      .innerJoin('resident as r', (j) => j.onRef('r.district_id', '=', 'm.district_id').onRef('r.id', '=', 'm.resident_id'))
      .innerJoin('org_unit as hu', (j) => j.onRef('hu.district_id', '=', 'r.district_id').onRef('hu.id', '=', 'r.unit_id'))
      .leftJoin('house as ho', (j) => j.onRef('ho.district_id', '=', 'r.district_id').onRef('ho.id', '=', 'r.house_id'))
      .select(['m.id', 'u.path as unit_path', 'ru.path as registered_path', 'hu.path as home_path', 'ho.lng', 'ho.lat'])
      .select((eb) => eb.selectFrom('contact_link as l').select(eb.fn.countAll<number>().as('n')).whereRef('l.district_id', '=', 'm.district_id').whereRef('l.member_id', '=', 'm.id').as('load'))
      .where('m.district_id', '=', districtId)
      .where('m.left_on', 'is', null)
      .where((eb) => eb.or([eb('u.path', 'like', likePrefix(rootPath)), eb('ru.path', 'like', likePrefix(rootPath))]))
      .orderBy('m.id')
      .execute();
  }

  // ---- coverage ----
  /**
   * Per unit of the subtree: active households, those with a linked member, those with a visit in
   * [since, today], those with both. Grouped by the household's own unit; callers roll up by path.
   */
  async coverageByUnit(rootPath: string, since: string, today: string, q: Q = this.db) {
    const result = await sql<{ unit_id: number; path: string; households: number; linked: number; visited: number; covered: number }>`
      select u.id as unit_id, u.path,
             count(*)::int8 as households,
             count(l.household_id)::int8 as linked,
             count(*) filter (where vis.household_id is not null)::int8 as visited,
             count(*) filter (where l.household_id is not null and vis.household_id is not null)::int8 as covered
      from household h
      join org_unit u on u.district_id = h.district_id and u.id = h.unit_id
      left join contact_link l on l.district_id = h.district_id and l.household_id = h.id
      left join lateral (
        select v.household_id from contact_visit v
        where v.district_id = h.district_id and v.household_id = h.id and v.visited_on between ${since}::date and ${today}::date
        limit 1
      ) vis on true
      where u.path like ${likePrefix(rootPath)} and h.archived_at is null
      group by u.id, u.path`.execute(q);
    return result.rows;
  }
}
