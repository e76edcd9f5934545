// One build: generate a locality and feed its stream to the writers (database, files), timing each phase.
// Used by the command line (cli.ts) and the tests.
import { createHash } from 'node:crypto';
import type { DbHandle } from '../../server/src/db/connection.ts';
import type { Preset } from '../../server/src/modules/grid/preset.ts';
import { Locality, type GeneratorSummary } from './locality.ts';
import type { Scale } from './scales.ts';
import type { Batch, RecordType } from './records.ts';
import { DbWriter } from './db-writer.ts';
import { FileWriter, type FileFormat, type WrittenFile } from './file-writer.ts';

export type PhaseName = 'generate structure' | 'structure' | 'population' | 'history' | 'finish';
const PHASE_OF: Record<RecordType, PhaseName> = {
  unit: 'structure',
  staff: 'structure',
  party_org: 'structure',
  house: 'population',
  household: 'population',
  resident: 'population',
  party_member: 'population',
  demand: 'history',
  council_vote: 'history',
};

export interface Phase {
  name: PhaseName;
  rows: number;
  ms: number;
}

export interface Progress {
  phase: PhaseName;
  counts: Record<RecordType, number>;
  residentsTarget: number;
  elapsedMs: number;
  rssMiB: number;
}

export interface BuildOptions {
  preset: Preset;
  scale: Scale;
  seed: number;
  asOf?: string;
  gapRate?: number;
  withHistory?: boolean;
  demandsPer1000?: number;
  /** an open, migrated, empty database; omit for files only */
  db?: DbHandle;
  filesDir?: string;
  formats?: FileFormat[];
  maxRowsPerSheet?: number;
  /** sha256 over the JSON of every batch, to compare streams */
  hash?: boolean;
  onProgress?: (p: Progress) => void;
  progressEveryMs?: number;
}

export interface BuildResult {
  summary: GeneratorSummary;
  phases: Phase[];
  totalMs: number;
  files: WrittenFile[];
  /** rows written per table */
  dbRows: Record<string, number>;
  /** database id of the root unit, and of any generated unit by seq */
  rootId: number | null;
  unitId: (seq: number) => number;
  locality: Locality;
  streamHash: string | null;
}

export async function build(options: BuildOptions): Promise<BuildResult> {
  const started = performance.now();
  const phases = new Map<PhaseName, Phase>();
  const phase = (name: PhaseName) => {
    let p = phases.get(name);
    if (!p) phases.set(name, (p = { name, rows: 0, ms: 0 }));
    return p;
  };
  let t = performance.now();
  const locality = new Locality(options.preset, options.scale, {
    seed: options.seed,
    asOf: options.asOf,
    gapRate: options.gapRate,
    withHistory: options.withHistory,
    demandsPer1000: options.demandsPer1000,
  });
  const gen = phase('generate structure');
  gen.ms += performance.now() - t;
  gen.rows += locality.units.length + locality.staff.length + locality.partyOrgs.length;

  // Registered table writers get each batch as the generator emits it (batchRows 1): a grid's houses, then its
  // households, residents and party members. Buffering per type would flush a grid's residents before the
  // households they refer to (basedata-writers.ts relies on the order).
  const dbWriter = options.db ? new DbWriter(options.db, options.preset, { batchRows: 1 }) : null;
  const fileWriter = options.filesDir ? new FileWriter(options.filesDir, { formats: options.formats ?? ['csv'], maxRowsPerSheet: options.maxRowsPerSheet }) : null;
  const hash = options.hash ? createHash('sha256') : null;
  let lastProgress = performance.now();
  let current: PhaseName = 'structure';
  try {
    if (dbWriter) {
      t = performance.now();
      await dbWriter.open();
      phase('structure').ms += performance.now() - t;
    }
    t = performance.now();
    for (const batch of locality.batches()) {
      current = PHASE_OF[batch.type];
      hash?.update(batch.type).update(JSON.stringify(batch.rows));
      await Promise.all([dbWriter?.write(batch), fileWriter?.write(batch)]);
      const now = performance.now();
      const p = phase(current);
      p.ms += now - t;
      p.rows += batch.rows.length;
      t = now;
      if (options.onProgress && now - lastProgress >= (options.progressEveryMs ?? 2000)) {
        lastProgress = now;
        options.onProgress(progressOf(locality, current, started));
      }
    }
    t = performance.now();
    const summary = locality.summary();
    if (dbWriter) await dbWriter.finish(summary);
    const files = fileWriter ? await fileWriter.finish(summary) : [];
    phase('finish').ms += performance.now() - t;
    return {
      summary,
      phases: [...phases.values()],
      totalMs: performance.now() - started,
      files,
      dbRows: dbWriter ? { ...dbWriter.written } : {},
      rootId: dbWriter ? dbWriter.rootId() : null,
      unitId: (seq) => (dbWriter ? dbWriter.unitIdOf(seq) : seq),
      locality,
      streamHash: hash ? hash.digest('hex') : null,
    };
  } catch (err) {
    await dbWriter?.abort().catch(() => {});
    throw err;
  }
}

function progressOf(locality: Locality, phase: PhaseName, started: number): Progress {
  return {
    phase,
    counts: { ...locality.counts },
    residentsTarget: locality.scale.residents,
    elapsedMs: performance.now() - started,
    rssMiB: process.memoryUsage.rss() / 2 ** 20,
  };
}

/** Streams a locality's batches without writing anything (hashing, counting). */
export function* stream(preset: Preset, scale: Scale, seed: number, extra: { withHistory?: boolean; gapRate?: number; asOf?: string } = {}): Generator<Batch> {
  yield* new Locality(preset, scale, { seed, ...extra }).batches();
}
