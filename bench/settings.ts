import { parseArgs } from 'node:util';
import { resolve } from 'node:path';

/** One run-profile activity of the loaded dataset. */
export interface PlannedRun {
  connectedSystemName: string;
  runProfileName: string;
  runType: 'FullImport' | 'DeltaImport' | 'FullSynchronisation' | 'DeltaSynchronisation' | 'Export';
  items: number;
}

/** What the loader writes: runs interleaved in chunks, as concurrent appenders would leave them. */
export interface DatasetPlan {
  seed: number;
  errorRate: number;
  /** Rows a run writes before the next run gets its turn (the append batch size of the engine). */
  chunkRows: number;
  /** The first run is the target run, the one every measurement reads. */
  runs: PlannedRun[];
}

export interface BenchSettings {
  mode: 'full' | 'smoke';
  rounds: number;
  dataset: DatasetPlan;
  latency: { requestsPerPoint: number; warmupPerPoint: number };
  throughput: { seconds: number; warmupSeconds: number; connections: number };
  /** Before each round, wait up to `maxWaitSeconds` for the machine's other load to drop below `busyPercent`. */
  quiet: { busyPercent: number; maxWaitSeconds: number };
  ingestion: { items: number; batchSize: number };
  reportPath: string;
}

const RESULTS_DIR = resolve(__dirname, 'results');

/** 1,000,000-item target run among 3,000,000 rows; the smoke plan is the same shape, 50 times smaller. */
function datasetPlan(scale: number): DatasetPlan {
  const smallRuns: PlannedRun[] = Array.from({ length: 10 }, (_, index) => ({
    connectedSystemName: index % 2 === 0 ? 'Corporate AD' : 'SCIM Payroll',
    runProfileName: index % 3 === 0 ? 'Export' : 'Delta Synchronisation',
    runType: index % 3 === 0 ? 'Export' : 'DeltaSynchronisation',
    items: 100_000 / scale,
  }));
  return {
    seed: 20261127,
    errorRate: 0.01,
    chunkRows: 5000 / scale < 100 ? 100 : 5000 / scale,
    runs: [
      {
        connectedSystemName: 'Corporate AD',
        runProfileName: 'Full Synchronisation',
        runType: 'FullSynchronisation',
        items: 1_000_000 / scale,
      },
      {
        connectedSystemName: 'HR Feed',
        runProfileName: 'Full Import',
        runType: 'FullImport',
        items: 1_000_000 / scale,
      },
      ...smallRuns,
    ],
  };
}

export function loadSettings(argv: string[]): BenchSettings {
  const { values } = parseArgs({
    args: argv,
    options: { smoke: { type: 'boolean', default: false }, rounds: { type: 'string' } },
  });
  const smoke = values.smoke === true;
  // An even number of rounds gives each server and each ingestion method the lead equally often.
  const rounds = values.rounds === undefined ? (smoke ? 1 : 4) : Number(values.rounds);
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
  return {
    mode: smoke ? 'smoke' : 'full',
    rounds,
    dataset: datasetPlan(smoke ? 50 : 1),
    latency: smoke
      ? { requestsPerPoint: 50, warmupPerPoint: 10 }
      : { requestsPerPoint: 200, warmupPerPoint: 30 },
    throughput: smoke
      ? { seconds: 4, warmupSeconds: 1, connections: 10 }
      : { seconds: 10, warmupSeconds: 3, connections: 10 },
    quiet: { busyPercent: 25, maxWaitSeconds: smoke ? 0 : 120 },
    ingestion: { items: smoke ? 10_000 : 100_000, batchSize: 5000 },
    reportPath: resolve(RESULTS_DIR, smoke ? 'smoke.md' : 'latest.md'),
  };
}
