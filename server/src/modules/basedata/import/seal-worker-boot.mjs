// Worker-thread entry of sealer.ts: Node 20 runs a worker's entry without the parent's TypeScript loader,
// so the worker registers tsx itself, then loads the worker written in TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./seal-worker.ts');
