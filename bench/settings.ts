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
  finding: FindingSettings;
  reportPath: string;
}

/** The filtered, searched and stats requests (service only: the baseline has none of them). */
export interface FindingSettings {
  requestsPerPoint: number;
  warmupPerPoint: number;
  /**
   * A request slower than this budget allows (seconds per round, warm-up included) stops being
   * sampled once it has `minSamples`: a slow search must not stretch the round to many minutes.
   */
  secondsPerPoint: number;
  minSamples: number;
  /** Page size of every filtered and searched page (the larger of the latency points' sizes). */
  pageSize: number;
  /**
   * A search term matching about 1% of the target run: the group name "Helpdesk" (groups are 10%
   * of the items, over 7 names), lower-cased so the match is case-insensitive. A last name would
   * match 7.5% (12 names over 90% users), a full name 0.6%. The bench measures the real share.
   */
  searchTerm: string;
  /** A term no item holds, whose trigrams are absent too. */
  noMatchTerm: string;
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
    finding: {
      requestsPerPoint: smoke ? 30 : 100,
      warmupPerPoint: smoke ? 5 : 10,
      secondsPerPoint: smoke ? 5 : 20,
      minSamples: 10,
      pageSize: 100,
      searchTerm: 'helpdesk',
      noMatchTerm: 'zzqxj',
    },
    reportPath: resolve(RESULTS_DIR, smoke ? 'smoke.md' : 'latest.md'),
  };
}
