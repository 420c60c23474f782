/** What a bench run measures: the data it prepares, the checks before the rounds, the rounds. */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { PAGE_BY_SEQUENCE_SQL } from '../src/execution-items/execution-items.query';
import {
  checkpoint,
  ginPendingLists,
  itemIndexStats,
  prepareDatabase,
  serverFacts,
  tableSizes,
  vacuumAnalyze,
  withServices,
} from './database';
import { loadDataset, verifyDataset, type LoadedDataset } from './dataset';
import { measureFindingLatency, prepareFinding } from './finding';
import { measureHttpIngestion } from './http-ingestion';
import { runIngestionRound } from './ingestion';
import { measureExport } from './items-export';
import { checkPages, measureLatency, pagePoints } from './latency';
import { explainFinding, explainPages, observeServicePageSql, pageBufferSpread } from './plans';
import { PROJECT_ROOT, STARTED, log, machineBusyPercent, waitForQuietMachine } from './processes';
import { itemsPath, type Credentials, type HttpTarget } from './servers';
import type { BenchSettings } from './settings';
import { measureThroughputRound, warmUp } from './throughput';

export type PreparedData = Awaited<ReturnType<typeof prepareData>>;
export type Measured = Awaited<ReturnType<typeof measure>>;
export type RoundResult = Measured['rounds'][number];

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** The machine and the code, a fresh database (or BENCH_DATABASE_URL) with the dataset, VACUUM ANALYZE. */
export async function prepareData(settings: BenchSettings) {
  const database = await prepareDatabase();
  const environment = {
    startedAt: new Date(STARTED),
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    postgres: await serverFacts(database.url),
    // CPU busy on the machine over 2 s before the bench started anything.
    otherLoadPercent: await machineBusyPercent(),
    gitCommit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    changedSourceFiles: git(['status', '--porcelain', '--', 'src']).split('\n').filter(Boolean).length,
  };
  // The migrations run as the context starts; no statement timeout: a GIN pending-list merge may hold up a COPY.
  const dataset = await withServices(database.url, (app) => loadDataset(app, settings.dataset, log), {
    DATABASE_STATEMENT_TIMEOUT_MS: '0',
  });
  let vacuumMs: number | null = null;
  if (dataset.loadMs !== null) {
    log(`loaded in ${(dataset.loadMs / 1000).toFixed(1)} s; checking counters, VACUUM ANALYZE`);
    const vacuumStarted = Date.now();
    await vacuumAnalyze(database.url);
    vacuumMs = Date.now() - vacuumStarted;
  }
  return {
    environment,
    databaseUrl: database.url,
    /** True when the bench dropped and created the database. */
    databaseFresh: database.fresh,
    dataset,
    datasetProblems: await verifyDataset(database.url, dataset),
    vacuumMs,
    sizes: await tableSizes(database.url),
    indexStats: await itemIndexStats(database.url, database.fresh),
  };
}

/**
 * Checks the pages, warms both servers up, reads the service's page SQL, prepares the finding
 * requests, runs the rounds, and explains the finding statements after them.
 */
export async function measure(
  settings: BenchSettings,
  { dataset, databaseUrl: url }: { dataset: LoadedDataset; databaseUrl: string },
  targets: [HttpTarget, HttpTarget],
  { token, secret }: Credentials,
) {
  const [service, baseline] = targets;
  const { target } = dataset;
  const points = pagePoints(target.items);
  // A deep page of the target run (three quarters in, pageSize 100): what throughput reads.
  const throughputPath = itemsPath(target.id, Math.ceil(Math.ceil(target.items / 100) * 0.75), 100);
  const exportPath = `/api/v1/activities/${target.id}/items/export?format=csv`;
  const pageProblems = await checkPages(targets, token, target.id, points, target.items);
  for (const problem of pageProblems) log(`page check: ${problem}`);
  log('warming up both servers');
  for (const server of targets)
    await warmUp(server, throughputPath, token, settings.throughput.warmupSeconds);
  const liveSql = await observeServicePageSql(url);
  // The page statement the plans are of: the service's as seen running, else the one it is built from.
  const explainedSql = liveSql.sql ?? PAGE_BY_SEQUENCE_SQL;
  log('buffers of the page query over pages spread across the target run');
  const bufferSpread = await pageBufferSpread(url, explainedSql, target.id, target.items);
  log('finding: most frequent error type, search share, walking nextCursor to the last page of each filter');
  const finding = await prepareFinding(url, service, token, target, settings.finding);
  const { search } = finding;
  log(
    `finding: errorType=${finding.errorType}; search=${search.term} matches ${search.matches.toLocaleString('en-US')} of ${search.runItems.toLocaleString('en-US')} items (${(search.fraction * 100).toFixed(2)}%)`,
  );
  for (const problem of finding.problems) log(`finding check: ${problem}`);

  const measureRound = async (round: number) => {
    const step = (what: string) => log(`round ${round}: ${what}`);
    const quiet = await waitForQuietMachine(settings.quiet.busyPercent, settings.quiet.maxWaitSeconds * 1000);
    step(`machine ${quiet.busyPercent.toFixed(0)}% busy while the bench idles; buffers of the page query`);
    const plans = await explainPages(url, explainedSql, target.id, points);
    step(`latency, ${settings.latency.requestsPerPoint} sequential requests per point and server`);
    const latency = await measureLatency(targets, token, target.id, points, settings.latency);
    step(
      `filters, search and stats on the service, ${settings.finding.requestsPerPoint} sequential requests per point`,
    );
    const findingLatency = await measureFindingLatency(service, token, finding.points, settings.finding);
    const order: [HttpTarget, HttpTarget] = round % 2 === 1 ? [service, baseline] : [baseline, service];
    step(`throughput, ${settings.throughput.seconds} s per server in ABBA slices, ${order[0].name} first`);
    const throughput = await measureThroughputRound(order, throughputPath, token, settings.throughput);
    step(`ingestion of ${settings.ingestion.items} items, appendItems vs COPY`);
    const { errorRate, seed } = settings.dataset;
    const ingestion = await runIngestionRound(url, {
      round,
      ...settings.ingestion,
      errorRate,
      seed: seed + 1000 + round,
    });
    step(`the same items over HTTP, NDJSON batches of ${settings.httpIngestion.batchSize} on one connection`);
    const httpIngestion = await measureHttpIngestion(
      service,
      secret,
      url,
      {
        round,
        items: settings.ingestion.items,
        ...settings.httpIngestion,
        errorRate,
        seed: seed + 1000 + round,
      },
      ingestion,
    );
    await checkpoint(url);
    // Last in the round: reading the whole run evicts most of shared_buffers, which the next
    // round's measurements warm up again before they keep any sample.
    step(`CSV export of the ${target.items.toLocaleString('en-US')} items of the target run`);
    return {
      round,
      // CPU busy on the machine over 2 s before the round while the bench idled, and how long it waited for that.
      otherLoadPercent: quiet.busyPercent,
      waitedMs: quiet.waitedMs,
      plans,
      latency,
      throughputOrder: order.map((server) => server.name),
      throughput,
      ingestion,
      httpIngestion,
      finding: findingLatency,
      export: await measureExport(service, exportPath, token),
    };
  };
  const rounds = [];
  for (let round = 1; round <= settings.rounds; round++) rounds.push(await measureRound(round));

  // Optional: a failure here costs the plans, not the measurements.
  log('plans of the filtered, searched and export statements');
  const findingPlans = await explainFinding(url, service, token, finding.points, exportPath).catch(
    (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
  );
  return {
    points,
    pageProblems,
    liveSql,
    explainedSql,
    bufferSpread,
    throughputPath,
    finding,
    exportPath,
    rounds,
    findingPlans,
    // GIN pending lists after the rounds (their ingestion writes).
    ginPending: await ginPendingLists(url),
  };
}
