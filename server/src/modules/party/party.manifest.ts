import path from 'node:path';
import type { ModuleManifest } from '../../platform/module.ts';
import { partyRoutes } from './party.routes.ts';
import { seedPartyDemo } from './party.seed.ts';
import { partyReliability } from './party.reliability.ts';

// Party members, 户联系 / 1+10 links and visits, 设岗定责 posts.
export const partyModule: ModuleManifest = {
  name: 'party',
  migrationsDir: path.join(import.meta.dirname, 'migrations'),
  permissions: ['party_member.read', 'party_member.write', 'contact.read', 'contact.write', 'contact.read_own', 'contact.visit_own', 'member_post.read', 'member_post.write', 'member_post.claim_own'],
  menu: [{ path: '/party/contacts', title: { 'zh-CN': '户联系', en: 'Household contacts' }, permission: 'contact.read', icon: 'House', order: 30 }],
  routes: partyRoutes,
  seedDemo: seedPartyDemo,
  reliability: partyReliability,
  tag: { name: 'party', description: 'Party members, 户联系 / 1+10 groups, links, visits and coverage, 设岗定责 posts' },
};
