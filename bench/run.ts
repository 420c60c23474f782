/**
 * The benchmark of the execution items service: `npm run bench` (full) or `npm run bench:smoke`.
 * Loads a dataset with COPY, starts the built service and a minimal baseline server, measures
 * page latency, throughput, ingestion and page-query buffers in interleaved rounds, and writes
 * bench/results/latest.md (smoke: bench/results/smoke.md). Exits 0 even when a target is missed.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, relative } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { loadDataset, verifyDataset, type LoadedDataset } from './dataset';
import {
  checkpoint,
  ginPendingLists,
  itemIndexStats,
  type IndexStats,
  type TableSizes,
  prepareDatabase,
  runMigrations,
  serverFacts,
  tableSizes,
  vacuumAnalyze,
} from './database';
import { measureFindingLatency, prepareFinding, type FindingSetup } from './finding';
import { explainFinding } from './finding-plans';
import { closeHttpAgents } from './http-client';
import { runIngestionRound } from './ingestion';
import { measureExport } from './items-export';
import { checkPages, measureLatency, pagePoints, type PagePoint } from './latency';
import { explainPages, observeServicePageSql } from './page-plans';
import { PAGE_SQL } from './page-query';
import {
  PROJECT_ROOT,
  installCleanupHandlers,
  machineBusyPercent,
  stopAllChildren,
  waitForQuietMachine,
} from './processes';
import { renderReport, summaryRows, summaryTable } from './report';
import type { BenchResult, Environment, RoundResult } from './results';
import {
  benchCredentials,
  itemsPath,
  startBaseline,
  startService,
  stopTargets,
  type Credentials,
  type HttpTarget,
} from './servers';
import { loadSettings, type BenchSettings } from './settings';
import { measureThroughputRound, warmUp } from './throughput';

const started = Date.now();

function log(line: string): void {
  const elapsed = Math.round((Date.now() - started) / 1000);
  process.stdout.write(
    `[${String(Math.floor(elapsed / 60)).padStart(2, '0')}:${String(elapsed % 60).padStart(2, '0')}] ${line}\n`,
  );
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

async function describeEnvironment(databaseUrl: string): Promise<Environment> {
  return {
    startedAt: new Date(started),
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    postgres: await serverFacts(databaseUrl),
    otherLoadPercent: await machineBusyPercent(),
    gitCommit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    changedSourceFiles: git(['status', '--porcelain', '--', 'src']).split('\n').filter(Boolean).length,
  };
}

/** The whole target run as CSV, streamed. */
function exportPath(dataset: LoadedDataset): string {
  return `/api/v1/activities/${dataset.target.id}/items/export?format=csv`;
}

function serviceOf(targets: HttpTarget[]): HttpTarget {
  return targets.find((target) => target.name === 'service')!;
}

/** A deep page of the target run (three quarters in, pageSize 100): what throughput reads. */
function throughputPath(dataset: LoadedDataset): string {
  const lastPage = Math.ceil(dataset.target.items / 100);
  return itemsPath(dataset.target.id, Math.ceil(lastPage * 0.75), 100);
}

async function measureRound(
  round: number,
  settings: BenchSettings,
  context: {
    url: string;
    dataset: LoadedDataset;
    targets: HttpTarget[];
    credentials: Credentials;
    points: PagePoint[];
    sql: string;
    finding: FindingSetup;
  },
): Promise<RoundResult> {
  const { url, dataset, targets, credentials, points, sql, finding } = context;
  const quiet = await waitForQuietMachine(settings.quiet.busyPercent, settings.quiet.maxWaitSeconds * 1000);
  const otherLoadPercent = quiet.busyPercent;
  log(
    `round ${round}: machine ${otherLoadPercent.toFixed(0)}% busy while the bench idles; buffers of the page query`,
  );
  const plans = await explainPages(url, sql, dataset.target.id, points);

  log(
    `round ${round}: latency, ${settings.latency.requestsPerPoint} sequential requests per point and server`,
  );
  const latency = await measureLatency(
    targets,
    credentials.token,
    dataset.target.id,
    points,
    settings.latency,
  );

  log(
    `round ${round}: filters, search and stats on the service, ${settings.finding.requestsPerPoint} sequential requests per point`,
  );
  const findingLatency = await measureFindingLatency(
    serviceOf(targets),
    credentials.token,
    finding.points,
    settings.finding,
  );

  const throughputOrder: [HttpTarget, HttpTarget] =
    round % 2 === 1 ? [targets[0], targets[1]] : [targets[1], targets[0]];
  log(
    `round ${round}: throughput, ${settings.throughput.seconds} s per server in ABBA slices, ${throughputOrder[0].name} first`,
  );
  const throughput = await measureThroughputRound(
    throughputOrder,
    throughputPath(dataset),
    credentials.token,
    settings.throughput,
  );

  log(`round ${round}: ingestion of ${settings.ingestion.items} items, appendItems vs COPY`);
  const ingestion = await runIngestionRound(url, {
    round,
    items: settings.ingestion.items,
    batchSize: settings.ingestion.batchSize,
    errorRate: settings.dataset.errorRate,
    seed: settings.dataset.seed + 1000 + round,
  });
  await checkpoint(url);

  // Last in the round: reading the whole run evicts most of shared_buffers, which the next
  // round's measurements warm up again before they keep any sample.
  log(
    `round ${round}: CSV export of the ${dataset.target.items.toLocaleString('en-US')} items of the target run`,
  );
  const exported = await measureExport(serviceOf(targets), exportPath(dataset), credentials.token);
  return {
    round,
    otherLoadPercent,
    waitedMs: quiet.waitedMs,
    plans,
    latency,
    throughputOrder: throughputOrder.map((target) => target.name),
    throughput,
    ingestion,
    finding: findingLatency,
    export: exported,
  };
}

interface PreparedData {
  databaseUrl: string;
  databaseFresh: boolean;
  dataset: LoadedDataset;
  datasetProblems: string[];
  vacuumMs: number | null;
  sizes: TableSizes;
  indexStats: IndexStats[];
}

/** A fresh database (or BENCH_DATABASE_URL), the migrations, the dataset by COPY, VACUUM ANALYZE. */
async function prepareData(settings: BenchSettings): Promise<PreparedData & { environment: Environment }> {
  const database = await prepareDatabase();
  const environment = await describeEnvironment(database.url);
  await runMigrations(database.url);
  const dataset = await loadDataset(database.url, settings.dataset, log);
  if (dataset.loadMs !== null) log(`loaded in ${(dataset.loadMs / 1000).toFixed(1)} s; checking counters`);
  const datasetProblems = await verifyDataset(database.url, dataset);
  let vacuumMs: number | null = null;
  if (dataset.loadMs !== null) {
    log('VACUUM ANALYZE');
    const vacuumStarted = Date.now();
    await vacuumAnalyze(database.url);
    vacuumMs = Date.now() - vacuumStarted;
  }
  return {
    environment,
    databaseUrl: database.url,
    databaseFresh: database.fresh,
    dataset,
    datasetProblems,
    vacuumMs,
    sizes: await tableSizes(database.url),
    indexStats: await itemIndexStats(database.url, database.fresh),
  };
}

/** Checks the pages, warms both servers up, finds the service's SQL, then runs the rounds. */
async function measure(
  settings: BenchSettings,
  data: PreparedData,
  targets: HttpTarget[],
  credentials: Credentials,
) {
  const { dataset, databaseUrl: url } = data;
  const points = pagePoints(dataset.target.items);
  const pageProblems = await checkPages(
    targets,
    credentials.token,
    dataset.target.id,
    points,
    dataset.target.items,
  );
  for (const problem of pageProblems) log(`page check: ${problem}`);
  log('warming up both servers');
  for (const target of targets) {
    await warmUp(target, throughputPath(dataset), credentials.token, settings.throughput.warmupSeconds);
  }
  const liveSql = await observeServicePageSql(url);
  const sql = liveSql.sql ?? PAGE_SQL;
  log('finding: most frequent error type, search share, walking nextCursor to the last page of each filter');
  const finding = await prepareFinding(
    url,
    serviceOf(targets),
    credentials.token,
    dataset.target,
    settings.finding,
  );
  log(
    `finding: errorType=${finding.errorType}; search=${finding.search.term} matches ${finding.search.matches.toLocaleString('en-US')} of ${finding.search.runItems.toLocaleString('en-US')} items (${(finding.search.fraction * 100).toFixed(2)}%)`,
  );
  for (const problem of finding.problems) log(`finding check: ${problem}`);
  const rounds: RoundResult[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    rounds.push(
      await measureRound(round, settings, { url, dataset, targets, credentials, points, sql, finding }),
    );
  }
  // Optional: a failure here costs the plans, not the measurements.
  log('plans of the filtered, searched and export statements');
  const findingPlans = await explainFinding(
    url,
    serviceOf(targets),
    credentials.token,
    finding.points,
    exportPath(dataset),
  ).catch((error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }));
  const ginPending = await ginPendingLists(url);
  return {
    points,
    pageProblems,
    liveSql,
    explainedSql: liveSql.sql
      ? 'the SQL the service was seen running'
      : "the baseline's copy of the SQL (the service's was not observed)",
    throughputPath: throughputPath(dataset),
    finding,
    exportPath: exportPath(dataset),
    rounds,
    findingPlans,
    ginPending,
  };
}

/** Writes the report formatted by the project's prettier, so `prettier --check bench` stays clean. */
async function writeReport(result: BenchResult): Promise<void> {
  const path = result.settings.reportPath;
  const options = (await resolveConfig(path)) ?? {};
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, await format(renderReport(result), { ...options, filepath: path }));
  process.stdout.write(`\n${summaryTable(summaryRows(result))}\n\n`);
  log(`report written to ${relative(PROJECT_ROOT, result.settings.reportPath)}`);
}

async function main(): Promise<void> {
  installCleanupHandlers();
  const settings = loadSettings(process.argv.slice(2));
  log(`execution items benchmark, ${settings.mode} mode, ${settings.rounds} round(s)`);
  const { environment, ...data } = await prepareData(settings);

  const credentials = benchCredentials(randomBytes(48).toString('base64url'));
  log('starting the service (node dist/main) and the baseline');
  const targets = await Promise.all([
    startService(data.databaseUrl, credentials),
    startBaseline(data.databaseUrl, credentials),
  ]);
  try {
    const measured = await measure(settings, data, targets, credentials);
    await writeReport({ settings, environment, finishedAt: new Date(), ...data, ...measured });
  } finally {
    closeHttpAgents();
    await stopTargets(targets);
  }
}

main()
  .catch((error: unknown) => {
    process.stderr.write(
      `\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  })
  .finally(() => stopAllChildren());
