// The crash and load workloads: the modules' write steps, chosen by weight, built from what the workload has
// seen, and the audit evidence of every write the server acknowledged.
import type { ReliabilityRequest, WorkloadObject, WorkloadStep, WorkloadView } from '../../server/src/platform/module.ts';
import { Random } from '../../server/src/platform/random.ts';

export interface Evidence {
  step: string;
  action: string;
  targetId: string;
  after?: Record<string, unknown>;
}

export class Workload implements WorkloadView {
  private pools = new Map<string, number[]>();
  private parents = new Map<number, number>();
  private counter = 0;
  readonly evidence: Evidence[] = [];
  readonly rng: Random;
  private readonly total: number;

  constructor(
    readonly steps: WorkloadStep[],
    seed: number,
    private readonly tag: string,
  ) {
    this.rng = new Random(seed);
    this.total = steps.reduce((s, x) => s + x.weight, 0);
  }

  /** Forgets everything and starts from these objects (after a restart: the database is the truth). */
  load(objects: WorkloadObject[]) {
    this.pools.clear();
    this.parents.clear();
    for (const o of objects) this.add(o);
  }

  private add(o: WorkloadObject) {
    const pool = this.pools.get(o.type) ?? [];
    pool.push(o.id);
    this.pools.set(o.type, pool);
    if (o.parent !== undefined) this.parents.set(o.id, o.parent);
  }

  random = () => this.rng.next();
  uniqueName = (prefix: string) => `${prefix}-${this.tag}-${++this.counter}`;
  pick(type: string) {
    const pool = this.pools.get(type);
    return pool?.length ? pool[Math.floor(this.rng.next() * pool.length)] : undefined;
  }
  take(type: string) {
    const pool = this.pools.get(type);
    if (!pool?.length) return undefined;
    const i = Math.floor(this.rng.next() * pool.length);
    const [id] = pool.splice(i, 1);
    return id;
  }
  parentOf = (id: number) => this.parents.get(id);

  /** The next write: a step by weight whose request can be made now; null when none can. */
  next(): { step: WorkloadStep; request: ReliabilityRequest } | null {
    for (let attempt = 0; attempt < 20; attempt++) {
      let r = this.rng.next() * this.total;
      const step = this.steps.find((s) => (r -= s.weight) < 0) ?? this.steps[this.steps.length - 1];
      const request = step.request(this);
      if (request) return { step, request };
    }
    return null;
  }

  /** After a 2xx: learn what the write made and keep the evidence that must survive a crash. */
  acknowledged(step: WorkloadStep, request: ReliabilityRequest, response: unknown) {
    for (const o of step.made?.(response, request) ?? []) this.add(o);
    const e = step.evidence?.(response, request);
    if (e) this.evidence.push({ step: step.name, action: e.action, targetId: String(e.targetId), after: e.after });
  }
}
