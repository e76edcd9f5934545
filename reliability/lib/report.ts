// What a suite found: named checks (pass/fail with the evidence) and measured figures, printed as a table
// and handed back so the planted-fault tests can assert which check caught the fault.
export interface CheckResult {
  name: string;
  ok: boolean;
  /** on failure, the first problems found (capped) and how many there were */
  problems: string[];
  count: number;
}

export interface FigureResult {
  name: string;
  value: number | string;
  unit?: string;
}

const MAX_PROBLEMS = 12;

export class Report {
  readonly checks: CheckResult[] = [];
  readonly figures: FigureResult[] = [];
  readonly notes: string[] = [];
  readonly started = Date.now();

  constructor(
    readonly suite: string,
    readonly engine: string,
    readonly mode: 'ci' | 'full',
    readonly seed: number,
  ) {}

  /** Records a check; problems empty means it held. Repeated names accumulate. */
  check(name: string, problems: string[]): boolean {
    let c = this.checks.find((x) => x.name === name);
    if (!c) {
      c = { name, ok: true, problems: [], count: 0 };
      this.checks.push(c);
    }
    if (problems.length) {
      c.ok = false;
      c.count += problems.length;
      for (const p of problems) if (c.problems.length < MAX_PROBLEMS) c.problems.push(p);
    }
    return problems.length === 0;
  }

  figure(name: string, value: number | string, unit?: string) {
    const existing = this.figures.find((f) => f.name === name);
    if (existing) existing.value = value;
    else this.figures.push({ name, value, unit });
  }

  note(text: string) {
    this.notes.push(text);
  }

  get ok(): boolean {
    return this.checks.length > 0 && this.checks.every((c) => c.ok);
  }

  failed(name: string): boolean {
    return this.checks.some((c) => c.name === name && !c.ok);
  }

  print(out: (line: string) => void = (l) => console.log(l)) {
    const secs = ((Date.now() - this.started) / 1000).toFixed(1);
    out(`\n== ${this.suite} on ${this.engine} (${this.mode}, seed ${this.seed}) — ${this.ok ? 'PASS' : 'FAIL'} in ${secs} s`);
    for (const c of this.checks) {
      out(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.ok ? '' : ` (${c.count} problem${c.count === 1 ? '' : 's'})`}`);
      for (const p of c.problems) out(`         - ${p}`);
    }
    for (const f of this.figures) out(`  ${f.name.padEnd(44)} ${typeof f.value === 'number' ? round(f.value) : f.value}${f.unit ? ` ${f.unit}` : ''}`);
    for (const n of this.notes) out(`  note: ${n}`);
  }

  toJSON() {
    return { suite: this.suite, engine: this.engine, mode: this.mode, seed: this.seed, ok: this.ok, seconds: (Date.now() - this.started) / 1000, checks: this.checks, figures: this.figures, notes: this.notes };
  }
}

const round = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1));

/** Runs a suite once per engine from the command line; exit code 1 when any check failed. */
export async function runFromCli(engines: string[], run: (engine: string) => Promise<Report>) {
  let ok = true;
  for (const engine of engines) {
    const report = await run(engine);
    report.print();
    if (process.env.RELIABILITY_JSON) console.log(JSON.stringify(report.toJSON()));
    ok &&= report.ok;
  }
  process.exit(ok ? 0 : 1);
}
