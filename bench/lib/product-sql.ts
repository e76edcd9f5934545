// The SQL the product's repositories send, written out by hand for the baselines: the same statements run
// on the bare driver, with nothing around them (no Kysely, no services, no audit, no HTTP). Each suite checks
// once per run that a baseline answers exactly what the product path answers, so a repository change that
// is not mirrored here fails the run instead of silently comparing different questions.
//
// Mirrors: server/src/modules/grid/grid.repository.ts (units, children, moveSubtree, lockTree),
// server/src/modules/grid/coverage.repository.ts (gaps, unitCounts, holderCounts) and
// server/src/modules/demands/demands.repository.ts (inbox).

export const likePrefix = (p: string) => `${p.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const UNIT_COLUMNS = `u.district_id, u.id, u.parent_id, u.kind_code, u.name, u.code, u.path, u.depth, u.archived_at, u.created_at, u.updated_at`;

/** GridRepository.unit */
export const UNIT_BY_ID = `select ${UNIT_COLUMNS} from org_unit as u where u.id = $1`;

/** GridRepository.unitsByIds */
export const unitsByIds = (n: number) => `select ${UNIT_COLUMNS} from org_unit as u where u.id in (${Array.from({ length: n }, (_, i) => `$${i + 1}`).join(', ')})`;

/** GridRepository.searchUnits for one scope path, active units only ($1 prefix, $2 limit) */
export const SUBTREE = `select ${UNIT_COLUMNS} from org_unit as u where (u.path like $1) and u.archived_at is null order by u.depth, u.name limit $2`;

/** GridRepository.children (offices' codes first, the name breaks ties) */
export const CHILDREN = `select ${UNIT_COLUMNS} from org_unit as u where u.parent_id = $1 and u.archived_at is null order by u.code nulls last, u.name`;

/** GridService.withChildCounts */
export const childCounts = (n: number) =>
  `select parent_id, count(*) as n from org_unit where parent_id in (${Array.from({ length: n }, (_, i) => `$${i + 1}`).join(', ')}) and archived_at is null group by parent_id`;

/** CoverageRepository.gaps ($1 prefix, $2 today) */
export const GAPS = `
  with sub as (
    select u.district_id, u.id, u.name, u.kind_code, u.path
    from org_unit u
    where u.path like $1 and u.archived_at is null
  ),
  current_post as (
    select s.district_id, s.unit_id, s.role_code
    from staff_post s
    join sub on sub.district_id = s.district_id and sub.id = s.unit_id
    where s.started_on <= $2::date and (s.ended_on is null or s.ended_on >= $2::date)
  )
  select sub.district_id, sub.id as unit_id, sub.name as unit_name, sub.kind_code, sub.path, 'party_org' as gap, null as role_code
  from sub join unit_kind k on k.code = sub.kind_code
  where k.requires_party_org
    and not exists (select 1 from party_org o where o.district_id = sub.district_id and o.unit_id = sub.id)
  union all
  select sub.district_id, sub.id, sub.name, sub.kind_code, sub.path, case when r.leader then 'leader' else 'role' end, r.code
  from sub join staff_role r on r.kind_code = sub.kind_code and (r.required or r.leader)
  where not exists (select 1 from current_post c where c.district_id = sub.district_id and c.unit_id = sub.id and c.role_code = r.code)
  order by 5, 6, 7`;

/** CoverageRepository.unitCounts ($1 prefix) */
export const UNIT_COUNTS = `
  select u.kind_code, count(*)::int8 as units, count(o.id)::int8 as with_party_org
  from org_unit u
  left join party_org o on o.district_id = u.district_id and o.unit_id = u.id
  where u.path like $1 and u.archived_at is null
  group by u.kind_code order by u.kind_code`;

/** GridRepository.lockTree */
export const LOCK_TREE = `select pg_advisory_xact_lock(727275)`;

/** GridRepository.setParent ($1 parent, $2 district, $3 id) */
export const SET_PARENT = `update org_unit set parent_id = $1 where district_id = $2 and id = $3`;

/** GridRepository.moveSubtree ($1 new prefix, $2 old prefix length + 1, $3 depth delta, $4 now, $5 old prefix pattern) */
export const MOVE_SUBTREE = `update org_unit set path = $1 || substr(path, $2), depth = depth + $3, updated_at = $4 where path like $5`;

/** One INSERT creating a child unit with its path: the data a createChild writes, without checks or audit. */
export const INSERT_UNIT = `
  insert into org_unit (district_id, id, parent_id, kind_code, name, code, path, depth)
  select $1, n.id, $2, $3, $4, null, $5 || n.id || '/', $6
  from (select nextval(pg_get_serial_sequence('org_unit', 'id'))::int8 as id) n
  returning id`;

const INBOX_SELECT = `select d.*, a.id as assignment_id, a.status as assignment_status, a.handler_type, a.handler_name, a.created_at as assigned_at
  from demand_assignment as a inner join demand as d on d.district_id = a.district_id and d.id = a.demand_id
  where a.status in ($1, $2)`;

/** DemandsRepository.inbox of a user who handles for one unit subtree ($1 'pending', $2 'accepted', $3 user id, $4 path prefix pattern, $5 limit) */
export const INBOX_WITH_UNIT = `${INBOX_SELECT} and (a.handler_user_id = $3 or (a.handler_user_id is null and a.handler_unit_path like $4)) order by d.level_due_at limit $5`;

/** DemandsRepository.inbox of a user who handles for no unit, only what is assigned to them ($1 'pending', $2 'accepted', $3 user id, $4 limit) */
export const INBOX_OWN = `${INBOX_SELECT} and a.handler_user_id = $3 order by d.level_due_at limit $4`;
