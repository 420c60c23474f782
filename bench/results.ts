import type { LoadedDataset } from './dataset';
import type { FindingLatency, FindingSetup } from './finding';
import type { FindingPlan } from './finding-plans';
import type { ExportResult } from './items-export';
import type { GinPending, IndexStats, ServerFacts, TableSizes } from './database';
import type { IngestionResult } from './ingestion';
import type { PagePoint, PointLatency } from './latency';
import type { LivePageSql, PagePlan } from './page-plans';
import type { BenchSettings } from './settings';

export interface RoundResult {
  round: number;
  /** CPU busy on the machine over 2 s before the round, while the bench itself was idle. */
  otherLoadPercent: number;
  /** How long the bench waited for the machine to become quiet before the round. */
  waitedMs: number;
  plans: PagePlan[];
  latency: PointLatency[];
  throughputOrder: TargetName[];
  throughput: ThroughputResult[];
  ingestion: IngestionResult;
  /** Filtered, searched and stats requests to the service, sequential. */
  finding: FindingLatency[];
  /** The CSV export of the whole target run, once. */
  export: ExportResult;
}

export interface Environment {
  startedAt: Date;
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  postgres: ServerFacts;
  /** CPU busy on the machine over 2 s before the bench started anything. */
  otherLoadPercent: number;
  gitCommit: string;
  changedSourceFiles: number;
}

export interface BenchResult {
  settings: BenchSettings;
  environment: Environment;
  finishedAt: Date;
  databaseUrl: string;
  /** True when the bench dropped and created the database. */
  databaseFresh: boolean;
  dataset: LoadedDataset;
  datasetProblems: string[];
  sizes: TableSizes;
  indexStats: IndexStats[];
  vacuumMs: number | null;
  points: PagePoint[];
  pageProblems: string[];
  liveSql: LivePageSql;
  explainedSql: string;
  throughputPath: string;
  finding: FindingSetup;
  exportPath: string;
  rounds: RoundResult[];
  /** Plans of the filtered, searched and export statements, after the rounds; or why there are none. */
  findingPlans: FindingPlan[] | { error: string };
  /** GIN pending lists after the rounds (their ingestion writes). */
  ginPending: GinPending[];
}

export type TargetName = 'service' | 'baseline';

export interface ThroughputResult {
  target: TargetName;
  requestsPerSecond: number;
  requests2xx: number;
  non2xx: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  /** Median and largest VmRSS sampled every 250 ms during the target's slices. */
  rssMedianBytes: number;
  rssMaxBytes: number;
}
