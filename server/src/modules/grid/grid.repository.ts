// The grid's SQL: units, kinds and roles, party organisations, people, posts, linked organisations.
// Only queries here; callers pass a transaction when the query belongs to a write.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../db/types.ts';

type Q = Kysely<Database> | Transaction<Database>;

export const UNIT_COLUMNS = [
  'u.district_id',
  'u.id',
  'u.parent_id',
  'u.kind_code',
  'u.name',
  'u.code',
  'u.path',
  'u.depth',
  'u.archived_at',
  'u.created_at',
  'u.updated_at',
] as const;

export type UnitRow = {
  district_id: number;
  id: number;
  parent_id: number | null;
  kind_code: string;
  name: string;
  code: string | null;
  path: string;
  depth: number;
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
};

export const likePrefix = (p: string) => `${p.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export class GridRepository {
  constructor(readonly db: Kysely<Database>) {}

  // ---- kinds and roles ----
  kinds(q: Q = this.db) {
    return q.selectFrom('unit_kind').selectAll().orderBy('sort_order').orderBy('code').execute();
  }
  kind(code: string, q: Q = this.db) {
    return q.selectFrom('unit_kind').selectAll().where('code', '=', code).executeTakeFirst();
  }
  kindChildren(q: Q = this.db) {
    return q.selectFrom('unit_kind_child').selectAll().orderBy('parent_code').orderBy('child_code').execute();
  }
  async childAllowed(parentCode: string, childCode: string, q: Q = this.db) {
    const row = await q.selectFrom('unit_kind_child').select('child_code').where('parent_code', '=', parentCode).where('child_code', '=', childCode).executeTakeFirst();
    return !!row;
  }
  roles(q: Q = this.db) {
    return q.selectFrom('staff_role').selectAll().orderBy('kind_code').orderBy('sort_order').orderBy('code').execute();
  }
  rolesOfKind(kindCode: string, q: Q = this.db) {
    return q.selectFrom('staff_role').selectAll().where('kind_code', '=', kindCode).orderBy('sort_order').orderBy('code').execute();
  }
  role(kindCode: string, code: string, q: Q = this.db) {
    return q.selectFrom('staff_role').selectAll().where('kind_code', '=', kindCode).where('code', '=', code).executeTakeFirst();
  }
  insertKind(values: { code: string; name_zh: string; name_en: string; is_root: boolean; is_district: boolean; is_grid: boolean; requires_party_org: boolean; party_org_kinds: string[]; sort_order: number }, q: Q) {
    return q.insertInto('unit_kind').values(values).execute();
  }
  updateKind(code: string, values: Partial<{ name_zh: string; name_en: string; is_grid: boolean; requires_party_org: boolean; party_org_kinds: string[] }>, q: Q) {
    return q.updateTable('unit_kind').set(values).where('code', '=', code).returningAll().executeTakeFirst();
  }
  replaceKindChildren(parentCode: string, children: string[], q: Q) {
    return (async () => {
      await q.deleteFrom('unit_kind_child').where('parent_code', '=', parentCode).execute();
      if (children.length) await q.insertInto('unit_kind_child').values(children.map((c) => ({ parent_code: parentCode, child_code: c }))).execute();
    })();
  }
  /** Units of kind `childCode` whose parent is of kind `parentCode`: what a removed child rule would orphan. */
  async countPlacements(parentCode: string, childCode: string, q: Q = this.db) {
    const row = await q
      .selectFrom('org_unit as c')
      .innerJoin('org_unit as p', 'p.id', 'c.parent_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('p.kind_code', '=', parentCode)
      .where('c.kind_code', '=', childCode)
      .where('c.archived_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
  upsertRole(values: { kind_code: string; code: string; name_zh: string; name_en: string; required: boolean; leader: boolean; max_holders: number | null; sort_order: number }, q: Q) {
    return q
      .insertInto('staff_role')
      .values(values)
      .onConflict((oc) => oc.columns(['kind_code', 'code']).doUpdateSet({ name_zh: values.name_zh, name_en: values.name_en, required: values.required, leader: values.leader, max_holders: values.max_holders }))
      .returningAll()
      .executeTakeFirstOrThrow();
  }
  clearLeader(kindCode: string, exceptCode: string, q: Q) {
    return q.updateTable('staff_role').set({ leader: false }).where('kind_code', '=', kindCode).where('code', '!=', exceptCode).execute();
  }
  async countPostsOfRole(kindCode: string, code: string, q: Q = this.db) {
    const row = await q.selectFrom('staff_post').select((eb) => eb.fn.countAll<number>().as('n')).where('kind_code', '=', kindCode).where('role_code', '=', code).executeTakeFirstOrThrow();
    return Number(row.n);
  }
  deleteRole(kindCode: string, code: string, q: Q) {
    return q.deleteFrom('staff_role').where('kind_code', '=', kindCode).where('code', '=', code).execute();
  }

  // ---- units ----
  unit(id: number, q: Q = this.db): Promise<UnitRow | undefined> {
    return q.selectFrom('org_unit as u').select(UNIT_COLUMNS).where('u.id', '=', id).executeTakeFirst();
  }
  unitForUpdate(id: number, q: Transaction<Database>): Promise<UnitRow | undefined> {
    return q.selectFrom('org_unit as u').select(UNIT_COLUMNS).where('u.id', '=', id).forUpdate().executeTakeFirst();
  }
  unitBoundary(districtId: number, id: number, q: Q = this.db) {
    return q.selectFrom('org_unit').select(['boundary']).where('district_id', '=', districtId).where('id', '=', id).executeTakeFirst();
  }
  unitsByIds(ids: number[], q: Q = this.db): Promise<UnitRow[]> {
    if (!ids.length) return Promise.resolve([]);
    return q.selectFrom('org_unit as u').select(UNIT_COLUMNS).where('u.id', 'in', ids).execute();
  }
  children(parentId: number, q: Q = this.db): Promise<UnitRow[]> {
    // Offices number their units (C01, C02…); the code orders them as they do, the name breaks ties.
    return q.selectFrom('org_unit as u').select(UNIT_COLUMNS).where('u.parent_id', '=', parentId).where('u.archived_at', 'is', null).orderBy(sql`u.code nulls last`).orderBy('u.name').execute();
  }
  async activeChildCount(parentId: number, q: Q = this.db) {
    const row = await q.selectFrom('org_unit').select((eb) => eb.fn.countAll<number>().as('n')).where('parent_id', '=', parentId).where('archived_at', 'is', null).executeTakeFirstOrThrow();
    return Number(row.n);
  }
  siblingWithName(parentId: number | null, name: string, exceptId: number | null, q: Q = this.db) {
    let query = q.selectFrom('org_unit').select('id').where('name', '=', name).where('archived_at', 'is', null);
    query = parentId === null ? query.where('parent_id', 'is', null) : query.where('parent_id', '=', parentId);
    if (exceptId !== null) query = query.where('id', '!=', exceptId);
    return query.executeTakeFirst();
  }
  async nextUnitId(q: Q) {
    const r = await sql<{ id: number }>`select nextval(pg_get_serial_sequence('org_unit', 'id'))::int8 as id`.execute(q);
    return Number(r.rows[0].id);
  }
  insertUnit(values: { district_id: number; id: number; parent_id: number | null; kind_code: string; name: string; code: string | null; path: string; depth: number }, q: Q) {
    return q.insertInto('org_unit').values(values).returning(['district_id', 'id', 'parent_id', 'kind_code', 'name', 'code', 'path', 'depth', 'archived_at', 'created_at', 'updated_at']).executeTakeFirstOrThrow();
  }
  updateUnit(districtId: number, id: number, values: Partial<{ name: string; code: string | null; archived_at: Date | null }>, now: Date, q: Q) {
    return q
      .updateTable('org_unit')
      .set({ ...values, updated_at: now })
      .where('district_id', '=', districtId)
      .where('id', '=', id)
      .returning(['district_id', 'id', 'parent_id', 'kind_code', 'name', 'code', 'path', 'depth', 'archived_at', 'created_at', 'updated_at'])
      .executeTakeFirstOrThrow();
  }
  setBoundary(districtId: number, id: number, boundary: unknown | null, bbox: { minLng: number; minLat: number; maxLng: number; maxLat: number } | null, now: Date, q: Q) {
    return q
      .updateTable('org_unit')
      .set({
        boundary: boundary === null ? null : JSON.stringify(boundary),
        bbox_min_lng: bbox?.minLng ?? null,
        bbox_min_lat: bbox?.minLat ?? null,
        bbox_max_lng: bbox?.maxLng ?? null,
        bbox_max_lat: bbox?.maxLat ?? null,
        updated_at: now,
      })
      .where('district_id', '=', districtId)
      .where('id', '=', id)
      .execute();
  }
  /** Child boundaries under a unit, to check a new parent boundary still contains them. */
  childBoundaries(parentId: number, q: Q = this.db) {
    return q.selectFrom('org_unit').select(['id', 'name', 'boundary']).where('parent_id', '=', parentId).where('archived_at', 'is', null).where('boundary', 'is not', null).execute();
  }
  /** Re-roots a subtree: every path under `oldPrefix` now starts with `newPrefix`. */
  async moveSubtree(oldPrefix: string, newPrefix: string, depthDelta: number, now: Date, q: Q) {
    await sql`update org_unit set path = ${newPrefix} || substr(path, ${oldPrefix.length + 1}), depth = depth + ${depthDelta}, updated_at = ${now}
      where path like ${likePrefix(oldPrefix)}`.execute(q);
  }
  setParent(districtId: number, id: number, parentId: number, q: Q) {
    return q.updateTable('org_unit').set({ parent_id: parentId }).where('district_id', '=', districtId).where('id', '=', id).execute();
  }
  async lockTree(q: Transaction<Database>) {
    // Moves are rare; one lock for all of them rules out two concurrent moves forming a cycle.
    await sql`select pg_advisory_xact_lock(727275)`.execute(q);
  }
  searchUnits(paths: string[], filter: { search?: string; kind?: string; limit: number; includeArchived?: boolean }, q: Q = this.db): Promise<UnitRow[]> {
    if (!paths.length) return Promise.resolve([]);
    let query = q.selectFrom('org_unit as u').select(UNIT_COLUMNS).where((eb) => eb.or(paths.map((p) => eb('u.path', 'like', likePrefix(p)))));
    if (!filter.includeArchived) query = query.where('u.archived_at', 'is', null);
    if (filter.kind) query = query.where('u.kind_code', '=', filter.kind);
    if (filter.search) {
      const like = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query = query.where((eb) => eb.or([eb('u.name', 'ilike', like), eb('u.code', 'ilike', like)]));
    }
    return query.orderBy('u.depth').orderBy('u.name').limit(filter.limit).execute();
  }

  // ---- party organisations ----
  partyOrgOfUnit(districtId: number, unitId: number, q: Q = this.db) {
    return q
      .selectFrom('party_org as o')
      .leftJoin('person as p', (j) => j.onRef('p.district_id', '=', 'o.district_id').onRef('p.id', '=', 'o.secretary_person_id'))
      .select(['o.district_id', 'o.id', 'o.unit_id', 'o.kind', 'o.name', 'o.secretary_person_id', 'p.name as secretary_name', 'o.founded_on', 'o.created_at', 'o.updated_at'])
      .where('o.district_id', '=', districtId)
      .where('o.unit_id', '=', unitId)
      .executeTakeFirst();
  }
  partyOrg(id: number, q: Q = this.db) {
    return q.selectFrom('party_org').selectAll().where('id', '=', id).executeTakeFirst();
  }
  insertPartyOrg(values: { district_id: number; unit_id: number; kind: string; name: string; secretary_person_id: number | null; founded_on: string | null }, q: Q) {
    return q.insertInto('party_org').values(values).returningAll().executeTakeFirstOrThrow();
  }
  updatePartyOrg(districtId: number, id: number, values: Partial<{ kind: string; name: string; secretary_person_id: number | null; founded_on: string | null }>, now: Date, q: Q) {
    return q.updateTable('party_org').set({ ...values, updated_at: now }).where('district_id', '=', districtId).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }
  deletePartyOrg(districtId: number, id: number, q: Q) {
    return q.deleteFrom('party_org').where('district_id', '=', districtId).where('id', '=', id).execute();
  }

  // ---- people ----
  person(id: number, q: Q = this.db) {
    return q.selectFrom('person').selectAll().where('id', '=', id).executeTakeFirst();
  }
  insertPerson(values: { district_id: number; unit_id: number; name: string; note: string | null; user_id: number | null }, q: Q) {
    return q.insertInto('person').values(values).returningAll().executeTakeFirstOrThrow();
  }
  updatePerson(districtId: number, id: number, values: Partial<{ name: string; note: string | null }>, q: Q) {
    return q.updateTable('person').set(values).where('district_id', '=', districtId).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }
  searchPeople(paths: string[], filter: { unitId?: number; search?: string; limit: number; offset: number }, q: Q = this.db) {
    if (!paths.length) return Promise.resolve([]);
    let query = q
      .selectFrom('person as p')
      .innerJoin('org_unit as u', (j) => j.onRef('u.district_id', '=', 'p.district_id').onRef('u.id', '=', 'p.unit_id'))
      .select(['p.id', 'p.district_id', 'p.unit_id', 'u.name as unit_name', 'p.name', 'p.note', 'p.user_id', 'p.created_at'])
      .where((eb) => eb.or(paths.map((path) => eb('u.path', 'like', likePrefix(path)))));
    if (filter.unitId) query = query.where('p.unit_id', '=', filter.unitId);
    if (filter.search) query = query.where('p.name', 'ilike', `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    return query.orderBy('p.name').orderBy('p.id').limit(filter.limit).offset(filter.offset).execute();
  }

  // ---- staff posts ----
  postsOfUnit(districtId: number, unitId: number, q: Q = this.db) {
    return q
      .selectFrom('staff_post as s')
      .innerJoin('person as p', (j) => j.onRef('p.district_id', '=', 's.district_id').onRef('p.id', '=', 's.person_id'))
      .select(['s.id', 's.unit_id', 's.kind_code', 's.role_code', 's.person_id', 'p.name as person_name', 's.started_on', 's.ended_on', 's.created_at'])
      .where('s.district_id', '=', districtId)
      .where('s.unit_id', '=', unitId)
      .orderBy('s.role_code')
      .orderBy('s.started_on', 'desc')
      .execute();
  }
  post(id: number, q: Q = this.db) {
    return q.selectFrom('staff_post').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async currentHolders(districtId: number, unitId: number, roleCode: string, today: string, q: Q = this.db) {
    const row = await q
      .selectFrom('staff_post')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('district_id', '=', districtId)
      .where('unit_id', '=', unitId)
      .where('role_code', '=', roleCode)
      .where('started_on', '<=', today)
      .where((eb) => eb.or([eb('ended_on', 'is', null), eb('ended_on', '>=', today)]))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
  insertPost(values: { district_id: number; unit_id: number; kind_code: string; role_code: string; person_id: number; started_on: string; ended_on: string | null }, q: Q) {
    return q.insertInto('staff_post').values(values).returningAll().executeTakeFirstOrThrow();
  }
  updatePost(districtId: number, id: number, values: Partial<{ started_on: string; ended_on: string | null }>, q: Q) {
    return q.updateTable('staff_post').set(values).where('district_id', '=', districtId).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }
  deletePost(districtId: number, id: number, q: Q) {
    return q.deleteFrom('staff_post').where('district_id', '=', districtId).where('id', '=', id).execute();
  }

  // ---- linked organisations ----
  linkedOrgsOfUnit(districtId: number, unitId: number, q: Q = this.db) {
    return q.selectFrom('linked_org').selectAll().where('district_id', '=', districtId).where('unit_id', '=', unitId).orderBy('kind').orderBy('name').execute();
  }
  linkedOrg(id: number, q: Q = this.db) {
    return q.selectFrom('linked_org').selectAll().where('id', '=', id).executeTakeFirst();
  }
  insertLinkedOrg(values: { district_id: number; unit_id: number; kind: string; name: string; contact_name: string | null; note: string | null; started_on: string | null; ended_on: string | null }, q: Q) {
    return q.insertInto('linked_org').values(values).returningAll().executeTakeFirstOrThrow();
  }
  updateLinkedOrg(districtId: number, id: number, values: Partial<{ kind: string; name: string; contact_name: string | null; note: string | null; started_on: string | null; ended_on: string | null }>, q: Q) {
    return q.updateTable('linked_org').set(values).where('district_id', '=', districtId).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }
  deleteLinkedOrg(districtId: number, id: number, q: Q) {
    return q.deleteFrom('linked_org').where('district_id', '=', districtId).where('id', '=', id).execute();
  }
}
