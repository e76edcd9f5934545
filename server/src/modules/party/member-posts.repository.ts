// 设岗定责 posts and their claims: SQL only.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import { likePrefix } from '../grid/grid.repository.ts';
import type { Q } from '../basedata/structures.shared.ts';

const POST_COLUMNS = ['p.district_id', 'p.id', 'p.unit_id', 'p.title', 'p.duties', 'p.capacity', 'p.created_at', 'p.archived_at', 'u.path as unit_path', 'u.name as unit_name'] as const;

export class MemberPostsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  private base(q: Q) {
    return q
      .selectFrom('member_post as p')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'p.district_id').onRef('u.id', '=', 'p.unit_id'))
      .select(POST_COLUMNS)
      .select((eb) =>
        eb
          .selectFrom('member_post_claim as c')
          .select(eb.fn.countAll<number>().as('n'))
          .whereRef('c.district_id', '=', 'p.district_id')
          .whereRef('c.post_id', '=', 'p.id')
          .where('c.ended_on', 'is', null)
          .as('holders'),
      );
  }

  byId(id: number, q: Q = this.db) {
    return this.base(q).where('p.id', '=', id).executeTakeFirst();
  }

  /** Claims on one post queue here: the row lock is what keeps a post from taking more than its capacity. */
  async lock(id: number, q: Q) {
    await q.selectFrom('member_post').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
  }

  search(s: { paths: string[]; unitPath?: string; open?: boolean; includeArchived?: boolean; limit: number; offset: number }, q: Q = this.db) {
    if (!s.paths.length) return Promise.resolve([]);
    let query = this.base(q).where((eb) => eb.or(s.paths.map((p) => eb('u.path', 'like', likePrefix(p)))));
    if (s.unitPath) query = query.where('u.path', 'like', likePrefix(s.unitPath));
    if (!s.includeArchived) query = query.where('p.archived_at', 'is', null);
    return query.orderBy('u.path').orderBy('p.title').orderBy('p.id').limit(s.limit).offset(s.offset).execute();
  }

  insert(values: { district_id: number; unit_id: number; title: string; duties: string | null; capacity: number }, q: Q) {
    return q.insertInto('member_post').values(values).returning('id').executeTakeFirstOrThrow();
  }

  update(districtId: number, id: number, values: Partial<{ title: string; duties: string | null; capacity: number; archived_at: Date | null }>, q: Q) {
    return q.updateTable('member_post').set(values).where('district_id', '=', districtId).where('id', '=', id).execute();
  }

  claims(districtId: number, postId: number, q: Q = this.db) {
    return q
      .selectFrom('member_post_claim as c')
      .innerJoin('party_member as m', (j) => j.onRef('m.district_id', '=', 'c.district_id').onRef('m.id', '=', 'c.member_id'))
      .innerJoin('resident as r', (j) => j.onRef('r.district_id', '=', 'm.district_id').onRef('r.id', '=', 'm.resident_id'))
      .select(['c.id', 'c.member_id', 'r.name', 'c.claimed_on', 'c.ended_on'])
      .where('c.district_id', '=', districtId)
      .where('c.post_id', '=', postId)
      .orderBy('c.ended_on', (ob) => ob.desc().nullsFirst())
      .orderBy('c.claimed_on')
      .orderBy('c.id')
      .execute();
  }

  claim(id: number, q: Q = this.db) {
    return q.selectFrom('member_post_claim').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async lockClaim(id: number, q: Q) {
    await q.selectFrom('member_post_claim').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
  }

  activeClaimsOfMember(districtId: number, memberId: number, q: Q = this.db) {
    return q.selectFrom('member_post_claim').select(['id', 'post_id']).where('district_id', '=', districtId).where('member_id', '=', memberId).where('ended_on', 'is', null).execute();
  }

  insertClaim(values: { district_id: number; post_id: number; member_id: number; claimed_on: string }, q: Q) {
    return q.insertInto('member_post_claim').values({ ...values, ended_on: null }).returningAll().executeTakeFirstOrThrow();
  }

  endClaim(districtId: number, id: number, on: string, q: Q) {
    return q.updateTable('member_post_claim').set({ ended_on: on }).where('district_id', '=', districtId).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }
}
