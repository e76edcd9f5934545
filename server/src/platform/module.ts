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
  /** OpenAPI tag */
  tag?: { name: string; description: string };
}
