// The suites of `npm run bench`, by name. A module adds its benchmark with one line here.
import type { Suite } from '../harness.ts';
import { treeSuite } from './tree.ts';
import { rollupSuite } from './rollup.ts';
import { httpSuite } from './http.ts';
import { memorySuite } from './memory.ts';
import { importSuite } from './import.ts';
import { intakeSuite } from './intake.ts';

export const SUITES: Record<string, Suite> = {
  tree: treeSuite,
  rollup: rollupSuite,
  http: httpSuite,
  memory: memorySuite,
  import: importSuite,
  intake: intakeSuite,
};
