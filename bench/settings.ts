/** The bench's settings, full or smoke (`--smoke`, `--rounds n`). */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { RunType } from '../src/execution-items/vocabulary';

/**
 * What the loader writes: a 1,000,000-item target run (the first, the one every measurement
 * reads) among 3,000,000 rows of 12 runs, written in turns of `chunkRows` (the append batch size
 * of the engine), as concurrent appenders would leave them. The smoke plan is 50 times smaller.
 */
function datasetPlan(scale: number) {
  const run = (connectedSystemName: string, runProfileName: string, runType: RunType, items: number) => ({
    connectedSystemName,
    runProfileName,
    runType,
    items: items / scale,
  });
  return {
    seed: 20261127,
    errorRate: 0.01,
    chunkRows: Math.max(100, 5000 / scale),
    runs: [
      run('Corporate AD', 'Full Synchronisation', 'FullSynchronisation', 1_000_000),
      run('HR Feed', 'Full Import', 'FullImport', 1_000_000),
      ...Array.from({ length: 10 }, (_, index) =>
        index % 3 === 0
          ? run(index % 2 === 0 ? 'Corporate AD' : 'SCIM Payroll', 'Export', 'Export', 100_000)
          : run(
              index % 2 === 0 ? 'Corporate AD' : 'SCIM Payroll',
              'Delta Synchronisation',
              'DeltaSynchronisation',
              100_000,
            ),
      ),
    ],
  };
}

export type DatasetPlan = ReturnType<typeof datasetPlan>;
export type PlannedRun = DatasetPlan['runs'][number];
export type BenchSettings = ReturnType<typeof loadSettings>;
/** The filtered, searched and stats requests (service only: the baseline has none of them). */
export type FindingSettings = BenchSettings['finding'];

export function loadSettings(argv: string[]) {
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
    latency: { requestsPerPoint: smoke ? 50 : 200, warmupPerPoint: smoke ? 10 : 30 },
    throughput: { seconds: smoke ? 4 : 10, warmupSeconds: smoke ? 1 : 3, connections: 10 },
    /** Before each round, wait up to `maxWaitSeconds` for the machine's other load to drop below `busyPercent`. */
    quiet: { busyPercent: 25, maxWaitSeconds: smoke ? 0 : 120 },
    ingestion: { items: smoke ? 10_000 : 100_000, batchSize: 5000 },
    /**
     * `npm run generate -- --items <items>` into a fresh PGlite data directory, the idle service on
     * PGlite and (`serverToo`) on the server (`embedded.ts`). The data directory's target is for
     * 200,000 items: at 10,000 the folder's fixed part (three databases' catalogs) outweighs them.
     */
    embedded: { items: smoke ? 10_000 : 200_000, serverToo: !smoke },
    /** The same items sent to the service over HTTP as NDJSON, one batch after another. */
    httpIngestion: { batchSize: 5000 },
    finding: {
      requestsPerPoint: smoke ? 30 : 100,
      warmupPerPoint: smoke ? 5 : 10,
      /**
       * A request slower than this budget allows (seconds per round, warm-up included) stops being
       * sampled once it has `minSamples`: a slow search must not stretch the round to many minutes.
       */
      secondsPerPoint: smoke ? 5 : 20,
      minSamples: 10,
      /** Page size of every filtered and searched page (the larger of the latency points' sizes). */
      pageSize: 100,
      /**
       * A search term matching about 1% of the target run: the group name "Helpdesk" (groups are
       * 10% of the items, over 7 names), lower-cased so the match is case-insensitive. A last name
       * would match 7.5% (12 names over 90% users), a full name 0.6%. The bench measures the real share.
       */
      searchTerm: 'helpdesk',
      /** A term no item holds, whose trigrams are absent too. */
      noMatchTerm: 'zzqxj',
    },
    reportPath: resolve(__dirname, 'results', smoke ? 'smoke.md' : 'latest.md'),
    /**
     * The benches that run after this one, each a script of its own with its own database and
     * report: reads across runs (diff, object history, run lists, ingestion with their indexes),
     * live follow (contract §8-§11), retention (the purge against dropping day partitions) and
     * one service instance against two.
     */
    sections: {
      reads: smoke
        ? [
            '--items',
            '10000',
            '--repeat',
            '3',
            '--ingest',
            '5000',
            '--report',
            'bench/results/reads-smoke.md',
          ]
        : [
            '--items',
            '1000000',
            '--repeat',
            '30',
            '--ingest',
            '100000',
            '--report',
            'bench/results/reads.md',
          ],
      follow: smoke
        ? ['--followers=5', '--items=2000', '--batch=500', '--report=bench/results/follow-smoke.md']
        : ['--followers=50', '--items=20000', '--batch=500', '--report=bench/results/follow.md'],
      retention: smoke
        ? ['--items-per-run', '2000', '--report', 'bench/results/retention-smoke.md']
        : ['--items-per-run', '100000', '--report', 'bench/results/retention.md'],
      instances: smoke
        ? [
            '--items',
            '10000',
            '--seconds',
            '4',
            '--warmup',
            '1',
            '--report',
            'bench/results/instances-smoke.md',
          ]
        : ['--items', '200000', '--seconds', '20', '--warmup', '3', '--report', 'bench/results/instances.md'],
    },
  };
}
