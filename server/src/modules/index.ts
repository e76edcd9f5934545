// The registry: the app is the set of manifests listed here. A new capability is a folder plus one line.
import type { ModuleManifest } from '../platform/module.ts';
import { authModule } from './auth/auth.manifest.ts';
import { gridModule } from './grid/grid.manifest.ts';
import { usersModule } from './users/users.manifest.ts';
import { auditModule } from './audit/audit.manifest.ts';
import { basedataModule } from './basedata/basedata.manifest.ts';
import { partyModule } from './party/party.manifest.ts';
import { demandsModule } from './demands/demands.manifest.ts';
import { open311Module } from './open311/open311.manifest.ts';

export const MODULES: ModuleManifest[] = [authModule, gridModule, usersModule, auditModule, basedataModule, partyModule, demandsModule, open311Module];
