// A module manifest is the one place that says what a capability contributes. The app is the set of
// registered manifests; a new capability is a new folder plus one line in modules/index.ts.
import type { FastifyInstance } from 'fastify';
import type { Permission } from '../../../shared/permissions.ts';
import type { Db } from '../db/connection.ts';
import type { Config } from '../config.ts';

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
  pii: import('./crypto/pii.ts').PiiCipher;
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

/**
 * What the reliability suites need to know of a module (see docs/reliability.md). The access-leak suite asks
 * every role at every level for each probe's objects; the fuzz suite generates requests from every route's
 * schema on its own and only needs `fuzzFixtures` to find ids worth aiming at.
 */
export interface ReliabilityHooks {
  /** read routes serving one object: the objects to try, each with its URL and the path of its unit */
  leakProbes?: { route: string; permission: Permission; objects: (db: Db) => Promise<{ url: string; unitPath: string }[]> }[];
  /** list routes: the paths of the units of every item the caller was given must lie in their scope */
  leakListProbes?: { route: string; permission: Permission; urls: (db: Db) => Promise<string[]>; itemUnitPaths: (body: unknown, db: Db) => Promise<string[]> }[];
}

export interface ModuleManifest {
  name: string;
  /** folder of plain .sql migrations, applied with everyone else's in file-name order */
  migrationsDir?: string;
  permissions: readonly Permission[];
  menu?: MenuItem[];
  /** registers the module's routes under /api */
  routes?: (app: FastifyInstance, services: AppServices) => void | Promise<void>;
  /** adds the module's part of the deterministic demo locality */
  seedDemo?: (ctx: DemoSeedContext) => Promise<void>;
  reliability?: ReliabilityHooks;
  /** OpenAPI tag */
  tag?: { name: string; description: string };
}
