import path from 'node:path';
import type { ModuleManifest } from '../../platform/module.ts';
import { gridReliability } from './grid.reliability.ts';
import { gridRoutes } from './grid.routes.ts';
import { seedGridDemo } from './grid.seed.ts';

export const gridModule: ModuleManifest = {
  name: 'grid',
  migrationsDir: path.join(import.meta.dirname, 'migrations'),
  permissions: ['unit.read', 'unit.create', 'unit.update', 'unit.move', 'unit.archive', 'party_org.read', 'party_org.write', 'person.read', 'person.write', 'post.read', 'post.write', 'linked_org.read', 'linked_org.write', 'coverage.read', 'preset.read', 'preset.write'],
  menu: [
    { path: '/grid', title: { 'zh-CN': '一张网', en: 'Grid' }, permission: 'unit.read', icon: 'Share', order: 10 },
    { path: '/grid/kinds', title: { 'zh-CN': '层级与岗位', en: 'Levels & roles' }, permission: 'preset.read', icon: 'Setting', order: 80 },
  ],
  routes: gridRoutes,
  seedDemo: seedGridDemo,
  reliability: gridReliability,
  tag: { name: 'grid', description: 'The unified grid: units, party organisations, posts, linked organisations, boundaries, coverage' },
};
