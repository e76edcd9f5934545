import path from 'node:path';
import type { ModuleManifest } from '../../platform/module.ts';

// Base data (四清): houses, households, residents, facilities, hazards. The tables come first so the
// locality generator and the import can fill them; the routes, search, reveal and import follow.
export const basedataModule: ModuleManifest = {
  name: 'basedata',
  migrationsDir: path.join(import.meta.dirname, 'migrations'),
  permissions: [],
};
