// Starting a deployment: apply a preset, create the top of the tree and the first admin; seed the demo.
import type { Config } from '../config.ts';
import type { DbHandle } from '../db/connection.ts';
import { MODULES } from '../modules/index.ts';
import { loadPreset } from '../modules/grid/preset.ts';
import { KindsService } from '../modules/grid/kinds.service.ts';
import { GridService } from '../modules/grid/grid.service.ts';
import { UsersService } from '../modules/users/users.service.ts';
import { systemContext } from '../platform/context.ts';
import { Random } from '../platform/random.ts';
import type { DemoSeedContext } from '../platform/module.ts';
import type { PiiCipher } from '../platform/crypto/pii.ts';

export interface InitResult {
  presetId: string;
  root: { id: number; name: string };
  admin: { username: string; oneTimePassword: string };
}

export async function isInitialised(database: DbHandle) {
  return !!(await database.db.selectFrom('deployment').select('preset_id').executeTakeFirst());
}

/** Applies a preset to an empty database, creates the root unit and a district admin with a one-time password. */
export async function initDeployment(database: DbHandle, options: { preset: string; rootName?: string; adminUsername?: string; now?: () => Date }): Promise<InitResult> {
  const preset = loadPreset(options.preset);
  const now = options.now ?? (() => new Date());
  const ctx = systemContext('init');
  const kinds = new KindsService(database.db);
  const grid = new GridService(database.db, now);
  const users = new UsersService(database.db);
  return database.db.transaction().execute(async (trx) => {
    await kinds.applyPreset(trx, ctx, preset);
    for (const module of MODULES) if (module.applyPreset) await module.applyPreset(trx, preset);
    const rootKind = preset.rootKinds[0];
    const root = await grid.createRoot(trx, ctx, { kind: rootKind, name: options.rootName ?? preset.name['zh-CN'] });
    const adminUsername = options.adminUsername ?? 'admin';
    const created = await users.create(ctx, { username: adminUsername, displayName: '系统管理员', role: 'district_admin', unitId: root.id }, trx);
    return { presetId: preset.id, root: { id: root.id, name: root.name }, admin: { username: adminUsername, oneTimePassword: created.oneTimePassword! } };
  });
}

export interface DemoResult {
  init: InitResult;
  street: { id: number; name: string };
  logins: DemoSeedContext['logins'];
  plantedGaps: DemoSeedContext['plantedGaps'];
  data: Record<string, unknown>;
}

/**
 * The deterministic demo locality: liwan preset, one 区 with one 街道 and whatever each module seeds beneath
 * it. All in one transaction: a killed seed leaves nothing behind.
 */
export async function seedDemo(database: DbHandle, config: Config, options: { pii: PiiCipher; seed?: number; now?: () => Date }): Promise<DemoResult> {
  const now = options.now ?? (() => new Date());
  const init = await initDeployment(database, { preset: 'liwan', rootName: '荔湾区', now });
  const grid = new GridService(database.db, now);
  const ctx = systemContext('seed');
  return database.db.transaction().execute(async (trx) => {
    const street = await grid.createChild(ctx, { parentId: init.root.id, kind: 'street', name: '逢源街道', code: 'FY' }, trx);
    const seedCtx: DemoSeedContext = {
      trx,
      services: { db: database.db, config, pii: options.pii, now },
      rng: new Random(options.seed ?? 20261121),
      street: { id: street.id, district_id: street.district_id, path: street.path },
      data: {},
      logins: [],
      plantedGaps: [],
    };
    for (const module of MODULES) if (module.seedDemo) await module.seedDemo(seedCtx);
    return { init, street: { id: street.id, name: street.name }, logins: seedCtx.logins, plantedGaps: seedCtx.plantedGaps, data: seedCtx.data };
  });
}
