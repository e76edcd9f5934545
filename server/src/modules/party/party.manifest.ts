import path from 'node:path';
import type { ModuleManifest } from '../../platform/module.ts';

// Party members, 户联系 / 1+10 links and visits, 设岗定责 posts. Tables first; routes follow.
export const partyModule: ModuleManifest = {
  name: 'party',
  migrationsDir: path.join(import.meta.dirname, 'migrations'),
  permissions: [],
};
