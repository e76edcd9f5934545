// Party members: SQL only.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import { likePrefix } from '../grid/grid.repository.ts';
import { escapeLike, type Q } from '../basedata/structures.shared.ts';

export interface MemberValues {
  resident_id: number;
  party_org_id: number | null;
  unit_id: number;
  category: string;
  status: string;
  joined_on: string | null;
  work_unit: string | null;
  registered_unit_id: number | null;
  registered_on: string | null;
  left_on: string | null;
  user_id: number | null;
}

export class MembersRepository {
  constructor(private readonly db: Kysely<Database>) {}

  base(q: Q = this.db) {
    return q
      .selectFrom('party_member as m')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'm.district_id').onRef('u.id', '=', 'm.unit_id'))
      .innerJoin('resident as r', (j) => j.onRef('r.district_id', '=', 'm.district_id').onRef('r.id', '=', 'm.resident_id'))
      .leftJoin('party_org as o', (j) => j.onRef('o.district_id', '=', 'm.district_id').onRef('o.id', '=', 'm.party_org_id'))
      .leftJoin('org_unit as ru', (j) => j.onRef('ru.district_id', '=', 'm.district_id').onRef('ru.id', '=', 'm.registered_unit_id'))
      .leftJoin('org_unit as hu', (j) => j.onRef('hu.district_id', '=', 'r.district_id').onRef('hu.id', '=', 'r.unit_id'))
      .select([
        'm.district_id',
        'm.id',
        'm.resident_id',
        'm.party_org_id',
        'm.unit_id',
        'm.category',
        'm.status',
        'm.joined_on',
        'm.work_unit',
        'm.registered_unit_id',
        'm.registered_on',
        'm.left_on',
        'm.user_id',
        'r.name',
        'r.unit_id as home_unit_id',
        'hu.path as home_unit_path',
        'r.house_id as home_house_id',
        'o.name as party_org_name',
        'u.path as unit_path',
        'u.name as unit_name',
        'ru.path as registered_unit_path',
        'ru.name as registered_unit_name',
      ]);
  }

  byId(id: number, q: Q = this.db) {
    return this.base(q).where('m.id', '=', id).executeTakeFirst();
  }

  async lock(id: number, q: Q) {
    await q.selectFrom('party_member').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
  }

  byResident(districtId: number, residentId: number, q: Q = this.db) {
    return q.selectFrom('party_member').select(['id']).where('district_id', '=', districtId).where('resident_id', '=', residentId).executeTakeFirst();
  }

  byUser(districtId: number, userId: number, q: Q = this.db) {
    return q.selectFrom('party_member').select(['id']).where('district_id', '=', districtId).where('user_id', '=', userId).executeTakeFirst();
  }

  /** Members whose record (branch unit) or 报到 community lies in one of the paths. */
  search(s: { paths: string[]; unitPath?: string; q?: string; category?: string; status?: string; includeLeft?: boolean; limit: number; offset: number }, q: Q = this.db) {
    if (!s.paths.length) return Promise.resolve([]);
    let query = this.base(q).where((eb) => eb.or(s.paths.flatMap((p) => [eb('u.path', 'like', likePrefix(p)), eb('ru.path', 'like', likePrefix(p))])));
    if (s.unitPath) query = query.where((eb) => eb.or([eb('u.path', 'like', likePrefix(s.unitPath!)), eb('ru.path', 'like', likePrefix(s.unitPath!))]));
    if (!s.includeLeft) query = query.where('m.left_on', 'is', null);
    if (s.category) query = query.where('m.category', '=', s.category);
    if (s.status) query = query.where('m.status', '=', s.status);
    if (s.q) query = query.where((eb) => eb.or([eb('r.name', 'like', `${escapeLike(s.q!)}%`), eb('r.name_initials', 'like', `${escapeLike(s.q!.toLowerCase())}%`)]));
    return query.orderBy('r.name').orderBy('m.id').limit(s.limit).offset(s.offset).execute();
  }

  insert(districtId: number, v: MemberValues, q: Q) {
    return q.insertInto('party_member').values({ district_id: districtId, ...v }).returning('id').executeTakeFirstOrThrow();
  }

  update(districtId: number, id: number, v: Partial<MemberValues>, now: Date, q: Q) {
    return q.updateTable('party_member').set({ ...v, updated_at: now }).where('district_id', '=', districtId).where('id', '=', id).execute();
  }

  resident(id: number, q: Q = this.db) {
    return q
      .selectFrom('resident as r')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'r.district_id').onRef('u.id', '=', 'r.unit_id'))
      .select(['r.id', 'r.district_id', 'r.archived_at', 'u.path as unit_path'])
      .where('r.id', '=', id)
      .executeTakeFirst();
  }

  partyOrg(id: number, q: Q = this.db) {
    return q
      .selectFrom('party_org as o')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'o.district_id').onRef('u.id', '=', 'o.unit_id'))
      .select(['o.id', 'o.district_id', 'o.unit_id', 'o.name', 'u.path as unit_path', 'u.archived_at'])
      .where('o.id', '=', id)
      .executeTakeFirst();
  }

  /** The user's grants' unit paths: whether the caller may tie an account to a member. */
  userGrantPaths(userId: number, q: Q = this.db) {
    return q
      .selectFrom('role_grant as g')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'g.district_id').onRef('u.id', '=', 'g.unit_id'))
      .select(['u.path', 'g.district_id'])
      .where('g.user_id', '=', userId)
      .execute();
  }

  async activeClaims(districtId: number, memberId: number, q: Q = this.db) {
    return q
      .selectFrom('member_post_claim as c')
      .innerJoin('member_post as p', (j) => j.onRef('p.district_id', '=', 'c.district_id').onRef('p.id', '=', 'c.post_id'))
      .select(['c.id', 'c.post_id', 'p.title', 'c.claimed_on'])
      .where('c.district_id', '=', districtId)
      .where('c.member_id', '=', memberId)
      .where('c.ended_on', 'is', null)
      .execute();
  }

  async linkedHouseholds(districtId: number, memberId: number, q: Q = this.db) {
    const row = await q.selectFrom('contact_link').select((eb) => eb.fn.countAll<number>().as('n')).where('district_id', '=', districtId).where('member_id', '=', memberId).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  unlinkAll(districtId: number, memberId: number, q: Q) {
    return q.deleteFrom('contact_link').where('district_id', '=', districtId).where('member_id', '=', memberId).returning(['household_id']).execute();
  }

  endClaims(districtId: number, memberId: number, on: string, q: Q) {
    // a claim made after the given date ends the day it was made (ended_on >= claimed_on)
    return q.updateTable('member_post_claim').set({ ended_on: sql<string>`greatest(${on}::date, claimed_on)` }).where('district_id', '=', districtId).where('member_id', '=', memberId).where('ended_on', 'is', null).returning(['id', 'post_id']).execute();
  }
}
