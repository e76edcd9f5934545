import path from 'node:path';
import type { ModuleManifest } from '../../platform/module.ts';
import { basedataRoutes } from './basedata.routes.ts';

// Base data (四清): houses, households, residents, facilities, hazards. Residents' ID and phone numbers are
// stored sealed (platform/crypto) and shown masked unless revealed.
export const basedataModule: ModuleManifest = {
  name: 'basedata',
  migrationsDir: path.join(import.meta.dirname, 'migrations'),
  permissions: ['resident.read', 'resident.write', 'resident.reveal', 'resident.sensitive'],
  routes: basedataRoutes,
  tag: { name: 'basedata', description: 'Base data (四清): residents, households, houses, facilities, hazards' },
};
