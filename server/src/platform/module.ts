// A module manifest is the one place that says what a capability contributes. The app is the set of
// registered manifests; a new capability is a new folder plus one line in modules/index.ts.
import type { FastifyInstance } from 'fastify';
import type { Permission } from '../../../shared/permissions.ts';
import type { Db } from '../db/connection.ts';
import type { Config } from '../config.ts';
import type { PiiCipher } from './crypto/pii.ts';

export interface MenuItem {
  /** web route path the entry opens */
  path: string;
  title: { 'zh-CN': string; en: string };
  /** shown when the user holds this permission somewhere */
  permission: Permission;
  icon?: string;
  order: number;
}

export interface AppServices {
  db: Db;
  config: Config;
  /** encryption and lookup hashes for ID and phone numbers */
  pii: PiiCipher;
  /** the clock every business rule reads; tests replace it */
  now: () => Date;
}

/** What a module's demo seed receives; modules run in registry order, so later ones find earlier ones' data. */
export interface DemoSeedContext {
  trx: import('kysely').Transaction<import('../db/types.ts').Database>;
  services: AppServices;
  rng: import('./random.ts').Random;
  /** the demo street, under which everything is seeded */
  street: { id: number; district_id: number; path: string };
  /** shared between module seeds: e.g. the grid seed records its communities and grids for later modules */
  data: Record<string, unknown>;
  /** logins to print: username → role and where */
  logins: { username: string; password: string; role: string; unit: string }[];
  /** gaps the seed leaves on purpose, so tests can check the coverage report lists exactly these */
  plantedGaps: { unitId: number; gap: 'party_org' | 'leader' | 'role'; role: string | null }[];
}

/** A response field only callers holding `permission` at the object's unit may see (non-empty). */
export interface RestrictedField {
  field: string;
  permission: Permission;
}

/** A request a reliability client sends: a path under the server root and a JSON body. */
export interface ReliabilityRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  body?: unknown;
}

/** What the crash and load workloads know when they build the next write: the objects made so far, by type. */
export interface WorkloadView {
  /** uniform in [0, 1), seeded */
  random(): number;
  /** a name no other request of the run uses (sibling names must be unique) */
  uniqueName(prefix: string): string;
  /** a random known object of the type (e.g. 'unit:grid'), or undefined when there is none yet */
  pick(type: string): number | undefined;
  /**
   * like pick, but the object leaves the view until a step's `made` gives it back: no two requests in flight
   * act on it, so the workload knows each object's state (e.g. its parent) exactly
   */
  take(type: string): number | undefined;
  /** the parent the workload last saw for an object (as `made` or `workloadObjects` reported it) */
  parentOf(id: number): number | undefined;
}

/** An object the workload knows: its type as steps use it, and its parent where that matters. */
export interface WorkloadObject {
  type: string;
  id: number;
  parent?: number;
}

/** One kind of write a module's API accepts, for the crash and load suites. */
export interface WorkloadStep {
  name: string;
  /** relative frequency among every module's steps */
  weight: number;
  /** the request, or null when it cannot be made yet (nothing to act on) */
  request(view: WorkloadView): ReliabilityRequest | null;
  /** after a 2xx: the objects the write made, so later steps can act on them */
  made?(response: unknown, request: ReliabilityRequest): WorkloadObject[];
  /**
   * after a 2xx: the audit row that must exist for ever once the client saw the answer. With the module's
   * `invariants` tying state to its audit rows, this is what proves an acknowledged write survived.
   */
  evidence?(response: unknown, request: ReliabilityRequest): { action: string; targetId: number | string; after?: Record<string, unknown> } | null;
}

/**
 * What the reliability suites need to know of a module (see docs/reliability.md). The access-leak suite asks
 * every role at every level for each probe's objects; the fuzz suite generates requests from every route's
 * schema on its own and only needs `fuzzFixtures` to find ids worth aiming at; the crash and load suites
 * send the modules' `workload` and check `invariants` and `figures` after every kill -9.
 */
export interface ReliabilityHooks {
  /**
   * the suites' localities: adds the module's own objects once the tree, party organisations, posts and
   * accounts are there (through the module's services, so every row has its audit row)
   */
  seed?: (ctx: { db: Db; pii: PiiCipher; now: () => Date; units: { id: number; kind: string; path: string }[] }) => Promise<void>;
  /**
   * read routes serving one object: the objects to try, each with its URL and the path of its unit (or the
   * paths of its units, any one of which puts it in scope — a user with several grants)
   */
  leakProbes?: {
    route: string;
    permission: Permission;
    objects: (db: Db) => Promise<{ url: string; unitPath: string | string[] }[]>;
    /** the URL of an object that does not exist: a caller who may not know an object exists must get exactly this answer */
    missing?: string;
    /** who may know the object exists (a 403 then reveals nothing); default: the probe's permission */
    visibleWith?: Permission;
    /** fields only some callers may see (e.g. sensitive tags): absent or empty unless the caller holds the permission at the object's unit */
    restrictedFields?: RestrictedField[];
  }[];
  /** list routes: the units of every item the caller was given must lie in their scope (per item: a path, or paths of which one must) */
  leakListProbes?: {
    route: string;
    permission: Permission;
    urls: (db: Db) => Promise<string[]>;
    itemUnitPaths: (body: unknown, db: Db) => Promise<(string | string[])[]>;
    /** as for leakProbes, per item of `body.items` (in the order itemUnitPaths gives their units) */
    restrictedFields?: RestrictedField[];
  }[];
  /** GET routes that serve nothing scoped (deployment-wide settings, one's own session), with the reason; every other GET needs a probe */
  leakExempt?: { route: string; reason: string }[];
  /** fuzz: values worth aiming at — per route, per path parameter; and per body/query field name */
  fuzzFixtures?: (db: Db) => Promise<{ params?: Record<string, Record<string, (string | number)[]>>; fields?: Record<string, (string | number)[]> }>;
  /** crash and load: the seeded objects the workload starts from, typed as its steps use them */
  workloadObjects?: (db: Db) => Promise<WorkloadObject[]>;
  /** crash and load: the writes */
  workload?: WorkloadStep[];
  /** load: read URLs to mix with the writes */
  loadReads?: (db: Db) => Promise<string[]>;
  /** crash: rules every committed state obeys, each as SQL returning the rows that break it (none = it holds) */
  invariants?: { name: string; sql: string }[];
  /** crash: rolled-up figures the API serves, each compared with a recount from raw rows; compare returns the differences */
  figures?: { name: string; urls: (db: Db) => Promise<string[]>; compare: (body: unknown, url: string, db: Db) => Promise<string[]> }[];
}

export interface ModuleManifest {
  name: string;
  /** folder of plain .sql migrations, applied with everyone else's in file-name order */
  migrationsDir?: string;
  permissions: readonly Permission[];
  menu?: MenuItem[];
  /** registers the module's routes under /api */
  routes?: (app: FastifyInstance, services: AppServices) => void | Promise<void>;
  /** routes outside /api (a standard API with its own path, such as Open311's /open311/v2) */
  rootRoutes?: (app: FastifyInstance, services: AppServices) => void | Promise<void>;
  /** at `init`: what the module takes from the governance-model preset (e.g. the demand categories) */
  applyPreset?: (trx: import('kysely').Transaction<import('../db/types.ts').Database>, preset: import('../modules/grid/preset.ts').Preset) => Promise<void>;
  /** work the serving process does on its own (the demand loop's deadline clock); stopped when the app closes */
  background?: (services: AppServices, log: (message: string, detail?: unknown) => void) => { stop(): void };
  /** adds the module's part of the deterministic demo locality */
  seedDemo?: (ctx: DemoSeedContext) => Promise<void>;
  reliability?: ReliabilityHooks;
  /** OpenAPI tag */
  tag?: { name: string; description: string };
}
