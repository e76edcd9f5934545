import path from 'node:path';
import type { ModuleManifest } from '../../platform/module.ts';
import { basedataReliability } from './basedata.reliability.ts';
import { basedataRoutes } from './basedata.routes.ts';
import { combineHooks, structuresReliability } from './structures.reliability.ts';
import { importReliability } from './import/import.reliability.ts';

// Base data (四清): houses, households, residents, facilities, hazards. Residents' ID and phone numbers are
// stored sealed (platform/crypto) and shown masked unless revealed.
export const basedataModule: ModuleManifest = {
  name: 'basedata',
  migrationsDir: path.join(import.meta.dirname, 'migrations'),
  permissions: ['resident.read', 'resident.write', 'resident.reveal', 'resident.sensitive', 'resident.export', 'resident.import', 'house.read', 'house.write', 'household.read', 'household.write', 'facility.read', 'facility.write', 'hazard.read', 'hazard.write'],
  menu: [
    { path: '/basedata/residents', title: { 'zh-CN': '居民', en: 'Residents' }, permission: 'resident.read', icon: 'UserFilled', order: 20 },
    { path: '/basedata/import', title: { 'zh-CN': '批量导入', en: 'Import' }, permission: 'resident.import', icon: 'Files', order: 25 },
  ],
  routes: basedataRoutes,
  reliability: combineHooks(combineHooks(basedataReliability, structuresReliability), importReliability),
  tag: { name: 'basedata', description: 'Base data (四清): residents, households, houses, facilities, hazards' },
};
