/** The report of a bench run: its summary table with the targets, the problems seen, the method, each round's figures. */
import type { EmbeddedResult, IdleService } from './embedded';
import type { FindingKey, FindingSetup } from './finding';
import type { ExportResult } from './items-export';
import type { PagePoint, PointLatency } from './latency';
import type { Measured, PreparedData, RoundResult } from './measure';
import { countSource } from './plans';
import type { TargetName } from './servers';
import type { BenchSettings } from './settings';
import { fixed, median, megabytes, ratio, seconds, thousands } from './stats';
import type { ThroughputResult } from './throughput';

/** A bench run's result: what it measured (`measure.ts`), and its settings. */
export type BenchResult = PreparedData &
  Measured & { embedded: EmbeddedResult; settings: BenchSettings; finishedAt: Date };

export interface SummaryRow {
  what: string;
  measured: string;
  target: string;
  met: boolean | null;
}

const RSS_GROWTH_LIMIT = 0.1;
/** Above this share of CPU used by others while the bench idles, the report warns about noise. */
const BUSY_MACHINE_PERCENT = 15;
const FILTER_RATIO_LIMIT = 1.2;
const SEARCH_LIMIT_MS = 50;
const NO_MATCH_LIMIT_MS = 5;
const STATS_LIMIT_MS = 5;
const EXPORT_RSS_LIMIT_BYTES = 200 * 1024 * 1024;
const EMBEDDED_DIR_RATIO_LIMIT = 1.5;
/** The data directory's target is judged from this many generated items (the fixed part of a smaller folder outweighs its tables). */
const EMBEDDED_DIR_RATIO_ITEMS = 200_000;
const EMBEDDED_IDLE_RSS_LIMIT_BYTES = 350 * 1024 * 1024;
const EMBEDDED_GENERATE_LIMIT = 8000;
/** What `embedded.ts` waits for before it reads an idle service's memory. */
const IDLE_TICKS_LIMIT_TEXT = '2% of a core';
const FILTERED_KEYS: FindingKey[] = [
  'errorType-first',
  'errorType-deepest',
  'hasError-first',
  'hasError-deepest',
];

function table(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A table of `items`, one column per header and cell. */
function columns<T>(items: T[], spec: Array<[string, (item: T) => string]>): string {
  return table(
    spec.map(([header]) => header),
    items.map((item) => spec.map(([, cell]) => cell(item))),
  );
}

/** Each round's own value, when there are several rounds. */
function roundsText(values: number[], format: (value: number) => string = (value) => fixed(value)): string {
  return values.length > 1 ? ` (rounds: ${values.map(format).join(', ')})` : '';
}

const medianText = (values: number[]) => `${fixed(median(values))}${roundsText(values)}`;
const msText = (values: number[]) => `${fixed(median(values))} ms${roundsText(values)}`;
const rssText = (values: number[]) => values.map(megabytes).join(' / ');

function pointOf(result: BenchResult, pageSize: number, label: PagePoint['label']): PagePoint {
  return result.points.find((point) => point.pageSize === pageSize && point.label === label)!;
}

function latencyAt(round: RoundResult, target: TargetName, point: PagePoint): PointLatency {
  const found = round.latency.find(
    (entry) =>
      entry.target === target && entry.point.page === point.page && entry.point.pageSize === point.pageSize,
  );
  if (!found) throw new Error(`no latency for ${target} page ${point.page}`);
  return found;
}

/** Median latency of the last page over the first, at one page size. */
function lastFirstRatio(
  result: BenchResult,
  round: RoundResult,
  pageSize: number,
  target: TargetName,
): number {
  const of = (label: PagePoint['label']) =>
    latencyAt(round, target, pointOf(result, pageSize, label)).medianMs;
  return ratio(of('last'), of('first'));
}

const throughputOf = (round: RoundResult, target: TargetName) =>
  round.throughput.find((entry) => entry.target === target)!;
const requestsPerSecond = (round: RoundResult, target: TargetName) =>
  round.throughput.find((entry) => entry.target === target)?.requestsPerSecond ?? NaN;
const throughputRatio = (round: RoundResult) =>
  ratio(requestsPerSecond(round, 'service'), requestsPerSecond(round, 'baseline'));
const ingestionOf = (round: RoundResult, method: 'service' | 'copy') =>
  round.ingestion.results.find((entry) => entry.method === method)!;
const ingestionRate = (round: RoundResult, method: 'service' | 'copy') =>
  round.ingestion.results.find((entry) => entry.method === method)?.rowsPerSecond ?? NaN;
const ingestionRatio = (round: RoundResult) =>
  ratio(ingestionRate(round, 'service'), ingestionRate(round, 'copy'));
const findingMs = (round: RoundResult, key: FindingKey) =>
  round.finding.find((entry) => entry.key === key)?.medianMs ?? NaN;
/** The true peak when the kernel let the bench reset VmHWM, else the largest 100 ms sample. */
const exportPeakBytes = (run: ExportResult) => run.rssPeakBytes ?? run.rssMaxBytes;

function pageRows(result: BenchResult): SummaryRow[] {
  const { rounds } = result;
  const rows: SummaryRow[] = [100, 25].map((pageSize) => {
    const ratios = rounds.map((round) => lastFirstRatio(result, round, pageSize, 'service'));
    const baseline = median(rounds.map((round) => lastFirstRatio(result, round, pageSize, 'baseline')));
    return {
      what: `latency, last page (${thousands(pointOf(result, pageSize, 'last').page)}) / first page, pageSize ${pageSize}, service medians`,
      measured: `${medianText(ratios)}; baseline ${fixed(baseline)}`,
      target: '≤ 1.1',
      met: median(ratios) <= 1.1,
    };
  });
  const rps = rounds.map(throughputRatio);
  const [serviceRps, baselineRps] = (['service', 'baseline'] as const).map((target) =>
    median(rounds.map((round) => requestsPerSecond(round, target))),
  );
  rows.push({
    what: `throughput, service / baseline req/s (${thousands(serviceRps)} / ${thousands(baselineRps)})`,
    measured: medianText(rps),
    target: '≥ 0.95',
    met: median(rps) >= 0.95,
  });
  const source = countSource(result.explainedSql);
  rows.push({
    what: 'totalCount read with the page (no COUNT(*))',
    measured: `${result.liveSql.sql ? 'observed service SQL' : 'PAGE_BY_SEQUENCE_SQL (service SQL not observed)'}: ${
      source.readsCounter ? 'reads a.item_count in the page statement' : 'does not read a.item_count'
    }; ${source.usesCountStar ? 'contains COUNT(' : 'no COUNT('}`,
    target: 'counter in the same statement, no COUNT(*)',
    met: source.readsCounter && !source.usesCountStar,
  });
  for (const pageSize of [25, 100]) {
    // Worst shared hit + read over the first, middle and last page, per round.
    const perRound = rounds.map((round) =>
      Math.max(
        ...round.plans
          .filter((plan) => plan.point.pageSize === pageSize)
          .map((plan) => plan.sharedHit + plan.sharedRead),
      ),
    );
    const worst = Math.max(...perRound);
    rows.push({
      what: `buffers (shared hit + read, top plan node), pageSize ${pageSize}, worst of first/middle/last over the rounds`,
      measured:
        perRound.length > 1
          ? `${worst} (per round: ${perRound.join(', ')}; round 1 is the freshly vacuumed table, later rounds follow the ingestion writes)`
          : String(worst),
      target: '≤ 10',
      met: worst <= 10,
    });
  }
  for (const spread of result.bufferSpread) {
    rows.push({
      what: `buffers (shared hit + read, top plan node), pageSize ${spread.pageSize}, over ${spread.pages} pages spread evenly across the run before the rounds: median / 90th percentile / worst`,
      measured: `${spread.median} / ${spread.p90} / ${spread.max}`,
      target: 'median ≤ 10',
      met: spread.median <= 10,
    });
  }
  const parallel = rounds.some((round) => round.plans.some((plan) => plan.parallel));
  rows.push({
    what: 'parallel plan nodes (Gather) in the page plan',
    measured: parallel ? 'yes' : 'none',
    target: 'none',
    met: !parallel,
  });
  const ingestion = rounds.map(ingestionRatio);
  const [serviceRows, copyRows] = (['service', 'copy'] as const).map((method) =>
    median(rounds.map((round) => ingestionRate(round, method))),
  );
  rows.push({
    what: `ingestion, appendItems / COPY rows/s (${thousands(serviceRows)} / ${thousands(copyRows)})`,
    measured: medianText(ingestion),
    target: '≥ 0.8',
    met: median(ingestion) >= 0.8,
  });
  const overHttp = rounds.map((round) => round.httpIngestion.ratio);
  const httpRows = median(rounds.map((round) => round.httpIngestion.rowsPerSecond));
  rows.push({
    what: `ingestion over HTTP, NDJSON batches of ${thousands(rounds[0]?.httpIngestion.batchSize ?? NaN)} on one connection / COPY rows/s (${thousands(httpRows)} / ${thousands(copyRows)})`,
    measured: medianText(overHttp),
    target: '≥ 0.6',
    met: median(overHttp) >= 0.6,
  });
  // The service's VmRSS during each round's throughput run (median of 250 ms samples), and before the first.
  const runs = rounds.map((round) => throughputOf(round, 'service'));
  const medians = runs.map((run) => run.rssMedianBytes);
  const before = runs[0]?.rssBeforeBytes ?? NaN;
  const several = medians.length > 1;
  const from = several ? medians[0] : before;
  const to = medians[medians.length - 1];
  const growth = ratio(to - from, from);
  rows.push({
    what: several
      ? 'service VmRSS under load, median of 250 ms samples: first → last round'
      : 'service VmRSS before → median under load (one round: warm-up growth, not judged)',
    measured:
      `${megabytes(from)} → ${megabytes(to)} (${growth >= 0 ? '+' : ''}${fixed(growth * 100, 1)}%); ` +
      `per round median/max: ${runs.map((run) => `${megabytes(run.rssMedianBytes)}/${megabytes(run.rssMaxBytes)}`).join(', ')}; ` +
      `${megabytes(before)} before the first run`,
    target: `flat (growth ≤ ${RSS_GROWTH_LIMIT * 100}%)`,
    met: several ? growth <= RSS_GROWTH_LIMIT : null,
  });
  return rows;
}

function findingRows(result: BenchResult): SummaryRow[] {
  const { rounds, finding } = result;
  const perRound = (key: FindingKey) => rounds.map((round) => findingMs(round, key));
  const rows: SummaryRow[] = finding.walks.map((walk, index) => {
    const prefix = index === 0 ? 'errorType' : 'hasError';
    const [first, deepest] = [`${prefix}-first`, `${prefix}-deepest`] as FindingKey[];
    const ratios = rounds.map((round) => ratio(findingMs(round, deepest), findingMs(round, first)));
    return {
      what: `${walk.filter} (${thousands(walk.expectedItems)} items): deepest page (${thousands(walk.deepest.page)}, by cursor) / page 1, pageSize ${finding.pageSize}, service medians`,
      measured: `${medianText(ratios)}; page 1 ${fixed(median(perRound(first)))} ms, deepest ${fixed(median(perRound(deepest)))} ms`,
      target: `≤ ${FILTER_RATIO_LIMIT}`,
      met: median(ratios) <= FILTER_RATIO_LIMIT,
    };
  });
  // The slowest filtered page against the unfiltered page 1, per round.
  const worst = rounds.map((round) =>
    ratio(Math.max(...FILTERED_KEYS.map((key) => findingMs(round, key))), findingMs(round, 'unfiltered')),
  );
  const spread = rounds.map((round) => {
    const values = [...FILTERED_KEYS, 'unfiltered' as const].map((key) => findingMs(round, key));
    return ratio(Math.max(...values), Math.min(...values));
  });
  const exports = rounds.map((round) => round.export);
  const peaks = exports.map(exportPeakBytes);
  const worstPeak = Math.max(...peaks);
  const rates = exports.map((run) => run.rowsPerSecond);
  const targetItems = thousands(result.dataset.target.items);
  const timed = (what: string, key: FindingKey, limit: number): SummaryRow => ({
    what,
    measured: msText(perRound(key)),
    target: `< ${limit} ms`,
    met: median(perRound(key)) < limit,
  });
  const { search } = finding;
  return [
    ...rows,
    {
      what: `filtered pages (errorType and hasError, page 1 and deepest) / unfiltered page 1 (${fixed(median(perRound('unfiltered')))} ms), the slowest of the four, service medians`,
      measured: `${medianText(worst)}; slowest / fastest of all five: ${fixed(median(spread))}`,
      target: `≤ ${FILTER_RATIO_LIMIT}`,
      met: median(worst) <= FILTER_RATIO_LIMIT,
    },
    timed(
      `search=${search.term}, page 1 (matches ${thousands(search.matches)} of ${thousands(search.runItems)} items, ${fixed(search.fraction * 100)}% by SQL), service median`,
      'search',
      SEARCH_LIMIT_MS,
    ),
    timed(
      `search=${finding.noMatchTerm} (matches nothing), page 1, service median`,
      'search-none',
      NO_MATCH_LIMIT_MS,
    ),
    timed('GET /activities/{id}/stats, service median', 'stats', STATS_LIMIT_MS),
    {
      what: `CSV export of all ${targetItems} items (streamed): rows/s`,
      measured: `${thousands(median(rates))}${roundsText(rates, thousands)}; ${seconds(median(exports.map((run) => run.ms)))}, ${megabytes(median(exports.map((run) => run.bytes)))} of CSV`,
      target: '(no target)',
      met: null,
    },
    {
      what: `CSV export of all ${targetItems} items: service peak VmRSS (${exports[0]?.rssPeakBytes === null ? 'largest 100 ms sample' : 'VmHWM reset before each export'}), worst round`,
      measured: `${megabytes(worstPeak)}${roundsText(peaks, megabytes)}; before each export: ${exports.map((run) => megabytes(run.rssBeforeBytes)).join(', ')} (growth during it at most +${megabytes(Math.max(...exports.map((run, index) => peaks[index] - run.rssBeforeBytes)))})`,
      target: `< ${megabytes(EXPORT_RSS_LIMIT_BYTES)}`,
      met: worstPeak < EXPORT_RSS_LIMIT_BYTES,
    },
  ];
}

function embeddedRows(result: BenchResult): SummaryRow[] {
  const { embedded, rounds } = result;
  const { generate, sizes, idle } = embedded;
  const dirRatio = ratio(generate.after.dirBytes, sizes.tablesBytes);
  const serverRate = median(rounds.map((round) => ingestionRate(round, 'service')));
  return [
    {
      what: `PGlite: data directory (bytes on disk) / its tables with their indexes (pg_total_relation_size), after \`npm run generate -- --items ${embedded.items}\``,
      measured:
        `${fixed(dirRatio)} (${megabytes(generate.after.dirBytes)} / ${megabytes(sizes.tablesBytes)}; pg_database_size ${megabytes(sizes.databaseBytes)}, pg_wal ${megabytes(generate.after.walBytes)}); ` +
        `while it wrote: at most ${megabytes(generate.peak.dirBytes)}, ${fixed(ratio(generate.peak.dirBytes, sizes.tablesBytes))}× (pg_wal at most ${megabytes(generate.peak.walBytes)})`,
      target: `≤ ${EMBEDDED_DIR_RATIO_LIMIT} (for ${thousands(EMBEDDED_DIR_RATIO_ITEMS)} items)`,
      met: embedded.items >= EMBEDDED_DIR_RATIO_ITEMS ? dirRatio <= EMBEDDED_DIR_RATIO_LIMIT : null,
    },
    {
      what: 'PGlite: service (`node dist/main`) VmRSS once idle, started as `npm start` on a fresh data directory with demo data',
      measured:
        `${megabytes(idle.embedded.rssBytes)} (peak ${megabytes(idle.embedded.peakBytes)})` +
        (idle.server
          ? `; on PostgreSQL ${megabytes(idle.server.rssBytes)} (peak ${megabytes(idle.server.peakBytes)})`
          : ''),
      target: `≤ ${megabytes(EMBEDDED_IDLE_RSS_LIMIT_BYTES)}`,
      met: idle.embedded.rssBytes <= EMBEDDED_IDLE_RSS_LIMIT_BYTES,
    },
    {
      what: `PGlite: \`npm run generate -- --items ${embedded.items}\` items/s (as it prints them)`,
      measured: `${thousands(generate.itemsPerSecond)} (${fixed(generate.seconds, 1)} s; the whole command ${seconds(generate.processMs)}); PostgreSQL appendItems this run: ${thousands(serverRate)} rows/s`,
      target: `≥ ${thousands(EMBEDDED_GENERATE_LIMIT)}`,
      met: generate.itemsPerSecond >= EMBEDDED_GENERATE_LIMIT,
    },
  ];
}

/** Bytes per item of execution_items, heap (with TOAST and maps) plus indexes, before the rounds write. */
const STORAGE_PER_ITEM_LIMIT = 800;

function storageRow(result: BenchResult): SummaryRow {
  const { itemRows, tableBytes, indexBytes } = result.sizes;
  const perItem = (bytes: number) => bytes / itemRows;
  const total = perItem(tableBytes + indexBytes);
  return {
    what: `storage per item of execution_items at ${thousands(itemRows)} rows after the load: (table + indexes) / rows (pg_table_size, pg_indexes_size)`,
    measured: `${fixed(total, 0)} B (table ${fixed(perItem(tableBytes), 0)} B + indexes ${fixed(perItem(indexBytes), 0)} B; ${megabytes(tableBytes)} + ${megabytes(indexBytes)})`,
    target: `< ${STORAGE_PER_ITEM_LIMIT} B`,
    met: total < STORAGE_PER_ITEM_LIMIT,
  };
}

export function summaryRows(result: BenchResult): SummaryRow[] {
  return [storageRow(result), ...pageRows(result), ...findingRows(result), ...embeddedRows(result)];
}

function embeddedSection(result: BenchResult): string {
  const { embedded } = result;
  const { generate, sizes, idle } = embedded;
  const idleText = (service: IdleService) =>
    `answered ${seconds(service.answeredMs)} after its start, idle ${seconds(service.idleAfterMs)} later: VmRSS ${megabytes(service.rssBytes)}, VmHWM ${megabytes(service.peakBytes)}`;
  return [
    `- \`npm run generate -- --items ${embedded.items}\` (ts-node, as the script runs it) into a fresh \`PGLITE_DATA_DIR\`: ${thousands(generate.itemsPerSecond)} items/s as it prints them (${fixed(generate.seconds, 1)} s of writing; the whole command with ts-node, PGlite's start, initdb in a child process, the migrations and the shutdown checkpoint ${seconds(generate.processMs)}; its own RSS ${generate.generateRssMb} MB at the end).`,
    `- The data directory, measured every 250 ms while generate ran: at most ${megabytes(generate.peak.dirBytes)}, of it pg_wal at most ${megabytes(generate.peak.walBytes)}; after it: ${megabytes(generate.after.dirBytes)}, pg_wal ${megabytes(generate.after.walBytes)} (bytes on disk: allocated blocks, as du). Opened again: ${thousands(sizes.itemRows)} item rows; the service's tables with their indexes and TOAST ${megabytes(sizes.tablesBytes)} (pg_total_relation_size, schema public), pg_database_size ${megabytes(sizes.databaseBytes)} (the other two databases of the folder, template0 and template1, are not in it).`,
    `- The built service as \`npm start\` runs it (\`node dist/main\`, no NODE_ENV: demo data, a development token), VmRSS from /proc once its CPU use stayed under ${IDLE_TICKS_LIMIT_TEXT} for 3 s: on a fresh PGlite data directory ${idleText(idle.embedded)}${idle.server ? `; on an empty database of the PostgreSQL server ${idleText(idle.server)}` : ' (the service on the server: full run only)'}.`,
    '',
    'Settings in force on PGlite (`SHOW`; PGlite runs a single-user backend, which has no checkpointer, autovacuum launcher or WAL writer: `checkpoint_timeout`, `max_wal_size` and `autovacuum` start nothing by themselves, and the service runs CHECKPOINT when pg_wal passes `max_wal_size`):',
    '',
    table(
      ['setting', 'value'],
      Object.entries(sizes.settings).map(([name, value]) => [`\`${name}\``, value]),
    ),
  ].join('\n');
}

export function summaryTable(rows: SummaryRow[]): string {
  return table(
    ['what', 'measured', 'target', 'met?'],
    rows.map((row) => [
      row.what,
      row.measured,
      row.target,
      row.met === null ? 'n/a' : row.met ? 'yes' : '**no**',
    ]),
  );
}

function environmentSection(result: BenchResult): string {
  const { environment: env, settings } = result;
  const pg = env.postgres;
  return [
    `- date: ${env.startedAt.toISOString()} (finished ${result.finishedAt.toISOString()}, ${seconds(result.finishedAt.getTime() - env.startedAt.getTime())})`,
    `- mode: ${settings.mode}, ${settings.rounds} round${settings.rounds > 1 ? 's' : ''}`,
    `- machine: ${env.cores} cores (${env.cpuModel}), ${megabytes(env.memoryBytes)} RAM; CPU busy with other work before the start: ${fixed(env.otherLoadPercent, 0)}%, before each round: ${result.rounds.map((round) => `${fixed(round.otherLoadPercent, 0)}%${round.waitedMs > 2500 ? ` (after waiting ${seconds(round.waitedMs)} for < ${settings.quiet.busyPercent}%)` : ''}`).join(', ')} (2 s samples of /proc/stat while the bench idled)`,
    `- Node ${env.node}; PostgreSQL ${pg.version} (shared_buffers ${pg.sharedBuffers}, max_parallel_workers_per_gather ${pg.maxParallelWorkersPerGather}, jit ${pg.jit}, autovacuum ${pg.autovacuum}, gin_pending_list_limit ${pg.ginPendingListLimit})`,
    `- code: commit ${env.gitCommit}, ${env.changedSourceFiles} files under src/ changed or new in the working tree; service = \`node dist/main\` built by \`npm run build\` at the start of this run`,
  ].join('\n');
}

function datasetSection(result: BenchResult): string {
  const { dataset, settings } = result;
  const plan = settings.dataset;
  const load =
    dataset.loadMs === null
      ? 'reused from an earlier run (BENCH_DATABASE_URL)'
      : `loaded with COPY (text format) in ${seconds(dataset.loadMs)} (${thousands(dataset.totalItems / (dataset.loadMs / 1000))} rows/s)` +
        (result.vacuumMs === null ? '' : `, then VACUUM ANALYZE + CHECKPOINT in ${seconds(result.vacuumMs)}`);
  const runs = table(
    ['run', 'activity id', 'items', 'errors'],
    dataset.runs.map((run, index) => [
      `${index === 0 ? '**target** ' : ''}${run.runProfileName} of ${run.connectedSystemName} (${run.runType})`,
      `\`${run.id}\``,
      thousands(run.items),
      thousands(run.errorItems),
    ]),
  );
  return [
    `- ${thousands(dataset.totalItems)} item rows in ${dataset.runs.length} run-profile activities (+ ${dataset.otherActivities} activities without items), ${load}; database \`${new URL(result.databaseUrl).pathname.slice(1)}\` (${result.databaseFresh ? 'dropped and created' : 'given by BENCH_DATABASE_URL'}).`,
    `- items made by the service's generator (src/demo/synthetic-items.ts, seeded), prepared and written by the module's own code (\`prepareEach\`, \`ExecutionRunsQueries.copyItems\`, counters by \`countersAfter\`); runs interleaved in chunks of ${thousands(plan.chunkRows)} rows (as runs appending concurrently in batches leave them); ${plan.errorRate * 100}% errors (errorType set), users and groups, weighted change types with small outcome trees (jsonb), their outcome_summary and outcome_types (the distinct types of the tree); dense sequence 1..n per run; counters (item_count, error_item_count, change/error/object/outcome type counts; outcome type counts against the rows' outcome_types, and outcome_types against the tree on every 100th item) consistent: ${result.datasetProblems.length === 0 ? 'checked, yes' : `**no**: ${result.datasetProblems.join('; ')}`}.`,
    `- ids: UUIDv7 (run ids deterministic, item ids given by the writer in load order). execution_items: ${result.sizes.itemsTable} heap, ${result.sizes.itemsIndexes} indexes at the start.`,
    ...result.indexStats.map(
      (index) =>
        `- index \`${index.name}\` (${index.method}) after the load: ${index.size} (${fixed(index.bytes / result.sizes.itemRows, 1)} B per item)` +
        (index.leafPages === null
          ? '.'
          : `, ${thousands(index.leafPages)} leaf pages, average leaf density ${fixed(index.avgLeafDensity ?? NaN, 1)}% (≈ ${fixed(index.entriesPerLeaf ?? NaN, 0)} entries per leaf page; pgstatindex).`),
    ),
    '',
    runs,
  ].join('\n');
}

function walkText(walk: FindingSetup['walks'][number]): string {
  return `\`${walk.filter}\`: ${thousands(walk.expectedItems)} items by the counters, walked in ${thousands(walk.pages)} pages by \`nextCursor\` (${thousands(walk.items)} items, ${walk.duplicates} twice, ${walk.wrongItems} not matching); the last cursor leads to page ${thousands(walk.deepest.page)} with ${walk.deepest.items} items`;
}

function methodSection(result: BenchResult): string {
  const { settings, finding, liveSql } = result;
  const { latency, throughput, ingestion } = settings;
  return [
    `- **Baseline**: bench/baseline-server.ts, transpiled and run on plain node (no ts-node in the measured process), plain Fastify + a pg Pool of 10 connections, serving the service's own \`PAGE_BY_SEQUENCE_SQL\`, paging (\`clampPage\`, \`offsetOf\`, \`pagingFields\`, \`encodeCursor\`) and item mapper (\`toExecutionItemResponse\`), loaded from the build in dist/. It **does verify the bearer token** (jsonwebtoken, HS256, the same secret, \`exp\` required, role \`Administrator\`), so both servers do the same authentication work. The service's pool is also 10 (DATABASE_POOL_SIZE=10); every production layer is on: request logs (to a file), security headers, validation, the authentication guard and the rate limit (1,000,000 requests a minute per principal, far above what the bench sends).`,
    `- Service page SQL observed in pg_stat_activity: ${liveSql.sql ? (liveSql.sameAsProduction ? 'identical to `PAGE_BY_SEQUENCE_SQL` (whitespace aside)' : '**differs from `PAGE_BY_SEQUENCE_SQL`** (the running build is not the source the bench imports)') : 'not observed'}. Plans below are of ${liveSql.sql ? 'the SQL the service was seen running' : '`PAGE_BY_SEQUENCE_SQL` (the service’s was not observed)'}.`,
    `- Pages checked before measuring (every point, both servers; the baseline's body must equal the service's): ${result.pageProblems.length === 0 ? 'all correct and identical' : `**problems**: ${result.pageProblems.join('; ')}`}.`,
    `- Latency: sequential GETs over one keep-alive connection, ${latency.requestsPerPoint} per point per server per round after ${latency.warmupPerPoint} warm-up, points and servers interleaved (order reversed every other repetition); time to the last body byte.`,
    `- Throughput: autocannon 8 in a separate process, ${throughput.connections} connections, ${throughput.seconds} s per server per round (after a ${throughput.warmupSeconds} s warm-up of each), URL \`${result.throughputPath}\`; in ABBA order (two slices of ${throughput.seconds / 2} s per server per round; the server that leads alternates by round); req/s = 2xx responses / summed duration; p50/p99 = the worse of the two slices.`,
    `- Ingestion: ${thousands(ingestion.items)} items per round (src/demo/synthetic-items.ts) in a child process (bench/ingestion.ts, in the Nest application context of \`withCliContext\`, src/cli/cli-context.ts): \`ExecutionRunsService.appendItems\` in batches of ${thousands(ingestion.batchSize)}, each awaited, into a new run vs the module's COPY writer in one transaction into another new run (\`lockRun\`, one \`ExecutionRunsQueries.copyItems\` of all the rows prepared beforehand by \`prepareEach\`: fresh UUIDv7 ids, same columns and values; \`countersAfter\`, \`saveCounters\`), on the same table with all its indexes; the order alternates by round and a CHECKPOINT precedes each method (so neither pays for flushing the other's dirty buffers). Time excludes startRun/completeRun. RSS is the worker's \`process.memoryUsage().rss\` sampled every 100 ms (after a forced GC before each method).`,
    `- Ingestion over HTTP (bench/http-ingestion.ts): the same items (same seed), sent by this process to the built service as an engine (a \`SyncEngine\` token) would: NDJSON batches of ${thousands(settings.httpIngestion.batchSize)} to \`POST /api/v1/activities/{id}/items\`, each awaited, over one keep-alive connection, into a new run; the NDJSON is encoded before the clock starts, start and complete are not timed. Its rows are compared with the appendItems run's. The ratio is against the same round's COPY rows/s.`,
    '- Server RSS: VmRSS from /proc/<pid>/status just before and after each throughput run and every 250 ms during it; "flat" compares the median under load of the last round with that of the first (a single sample swings with garbage collection by ±25%).',
    '- Buffers: EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) with the parameters bound (an unnamed statement: the custom plan), run twice, the second kept; shared hit + read of the top plan node.',
    `- Filters, search, stats (service only; the baseline serves none of them): sequential GETs over one keep-alive connection, ${settings.finding.requestsPerPoint} per request per round after ${settings.finding.warmupPerPoint} warm-up, the requests interleaved (order reversed every other repetition), pageSize ${finding.pageSize}; a request that has taken ${settings.finding.secondsPerPoint} s in a round and holds ${settings.finding.minSamples} samples is not sampled further that round (the samples column shows it). Before the rounds: the target run's most frequent error type from its counters (\`${finding.errorType}\`); each filter's cursors collected once by walking \`nextCursor\` from page 1 to the end (${finding.walks.map(walkText).join('; ')}); the deepest request is the one with the last cursor (with the filter's parameters repeated, as the contract allows). The search term's share counted by PostgreSQL (\`display_name ILIKE '%${finding.search.term}%' OR external_id_value ILIKE ...\` over the run): ${thousands(finding.search.matches)} of ${thousands(finding.search.runItems)} (${fixed(finding.search.fraction * 100)}%). Answers checked against the counters and that count: ${finding.problems.length === 0 ? 'all correct' : `**problems**: ${finding.problems.join('; ')}`}.`,
    `- Export: \`${result.exportPath}\` once per round, last in the round, on a connection of its own; the body consumed as a stream, CSV records counted as chunks arrive (line ends outside quoted fields); the service's VmRSS sampled every 100 ms, and its VmHWM reset (\`5\` > /proc/<pid>/clear_refs) before the request and read after the last byte (the true peak).`,
  ].join('\n');
}

function latencyDetail(result: BenchResult): string {
  const cells = result.rounds.flatMap((round) => result.points.map((point) => ({ round, point })));
  const at = (target: TargetName, key: 'medianMs' | 'p99Ms') => (cell: (typeof cells)[number]) =>
    fixed(latencyAt(cell.round, target, cell.point)[key]);
  const ratios = result.rounds.flatMap((round) => [100, 25].map((pageSize) => ({ round, pageSize })));
  const lastFirst = (target: TargetName) => (cell: (typeof ratios)[number]) =>
    fixed(lastFirstRatio(result, cell.round, cell.pageSize, target));
  return [
    columns(cells, [
      ['round', (cell) => String(cell.round.round)],
      ['pageSize', (cell) => String(cell.point.pageSize)],
      ['page', (cell) => `${thousands(cell.point.page)} (${cell.point.label})`],
      ['service median ms', at('service', 'medianMs')],
      ['service p99 ms', at('service', 'p99Ms')],
      ['baseline median ms', at('baseline', 'medianMs')],
      ['baseline p99 ms', at('baseline', 'p99Ms')],
    ]),
    '',
    columns(ratios, [
      ['round', (cell) => String(cell.round.round)],
      ['pageSize', (cell) => String(cell.pageSize)],
      ['service last/first', lastFirst('service')],
      ['baseline last/first', lastFirst('baseline')],
    ]),
  ].join('\n');
}

function throughputDetail(result: BenchResult): string {
  const ratioWhenLeading = (target: TargetName) =>
    fixed(median(result.rounds.filter((round) => round.throughputOrder[0] === target).map(throughputRatio)));
  const of = (target: TargetName, cell: (run: ThroughputResult) => string) => (round: RoundResult) =>
    cell(throughputOf(round, target));
  const memory = (run: ThroughputResult) =>
    rssText([run.rssBeforeBytes, run.rssMedianBytes, run.rssMaxBytes, run.rssAfterBytes]);
  return [
    `Ratio in rounds the service led (its slices first and last): ${ratioWhenLeading('service')}; the baseline led: ${ratioWhenLeading('baseline')}.`,
    '',
    columns(result.rounds, [
      ['round', (round) => String(round.round)],
      ['order', (round) => [...round.throughputOrder, ...[...round.throughputOrder].reverse()].join(' ')],
      ['service req/s', of('service', (run) => thousands(run.requestsPerSecond))],
      ['baseline req/s', of('baseline', (run) => thousands(run.requestsPerSecond))],
      ['ratio', (round) => fixed(throughputRatio(round))],
      ['service p50/p99 ms', of('service', (run) => `${run.p50Ms} / ${run.p99Ms}`)],
      ['baseline p50/p99 ms', of('baseline', (run) => `${run.p50Ms} / ${run.p99Ms}`)],
      [
        'non-2xx+errors (service/baseline)',
        (round) => round.throughput.map((run) => run.non2xx + run.errors).join(' / '),
      ],
      ['service VmRSS before / median / max / after', of('service', memory)],
      ['baseline VmRSS before / median / max / after', of('baseline', memory)],
    ]),
  ].join('\n');
}

function ingestionDetail(result: BenchResult): string {
  const ratioWhen = (first: 'service' | 'copy') =>
    fixed(median(result.rounds.filter((round) => round.ingestion.order[0] === first).map(ingestionRatio)));
  const rate = (method: 'service' | 'copy') => (round: RoundResult) => {
    const run = ingestionOf(round, method);
    return `${thousands(run.rowsPerSecond)} (${seconds(run.ms)})`;
  };
  const memory = (method: 'service' | 'copy') => (round: RoundResult) => {
    const run = ingestionOf(round, method);
    return rssText([run.rssBeforeBytes, run.rssAfterBytes, run.rssPeakBytes]);
  };
  const same = ({ ingestion }: RoundResult) =>
    `${ingestion.differingRows === 0 ? 'yes' : `**no** (${ingestion.differingRows} rows differ)`}; counters ${ingestion.countersIdentical ? 'equal' : '**differ**'}`;
  return [
    `Service append method (the module's \`appendMethod\`): \`${result.rounds[0]?.ingestion.appendMethod ?? 'n/a'}\`. Ratio when appendItems ran first: ${ratioWhen('service')}; when COPY ran first: ${ratioWhen('copy')}.`,
    '',
    columns(result.rounds, [
      ['round', (round) => String(round.round)],
      ['order', (round) => round.ingestion.order.join(' → ')],
      ['appendItems rows/s', rate('service')],
      ['COPY rows/s', rate('copy')],
      ['ratio', (round) => fixed(ingestionRatio(round))],
      ['RSS appendItems before/after/peak', memory('service')],
      ['RSS COPY before/after/peak', memory('copy')],
      ['same rows', same],
      [
        'over HTTP rows/s (batches, connections)',
        ({ httpIngestion: http }) =>
          `${thousands(http.rowsPerSecond)} (${seconds(http.ms)}; ${http.batches} × ${thousands(http.batchSize)}, ${http.connections})`,
      ],
      ['HTTP / COPY', (round) => fixed(round.httpIngestion.ratio)],
      [
        'HTTP rows = appendItems rows',
        ({ httpIngestion: http }) =>
          `${http.differingRows === 0 ? 'yes' : `**no** (${http.differingRows} rows differ)`}; counters ${http.countersIdentical ? 'equal' : '**differ**'}`,
      ],
    ]),
  ].join('\n');
}

function findingDetail(result: BenchResult): string {
  const cells = result.rounds.flatMap((round) =>
    result.finding.points.map((point) => ({
      round,
      point,
      entry: round.finding.find((candidate) => candidate.key === point.key)!,
    })),
  );
  return columns(cells, [
    ['round', ({ round }) => String(round.round)],
    ['request', ({ point }) => point.label],
    ['items', ({ point }) => (point.items === null ? '-' : thousands(point.items))],
    ['samples', ({ entry }) => String(entry.samples)],
    ['median ms', ({ entry }) => fixed(entry.medianMs)],
    ['p99 ms', ({ entry }) => fixed(entry.p99Ms)],
    [
      '/ unfiltered page 1',
      ({ round, point, entry }) =>
        point.key === 'unfiltered' ? '1' : fixed(ratio(entry.medianMs, findingMs(round, 'unfiltered'))),
    ],
  ]);
}

function exportDetail(result: BenchResult): string {
  const first = result.rounds[0]?.export;
  return [
    first ? `Content-Type \`${first.contentType}\`; header row \`${first.header}\`.` : '',
    '',
    columns(result.rounds, [
      ['round', (round) => String(round.round)],
      ['rows', (round) => `${thousands(round.export.rows)} of ${thousands(result.dataset.target.items)}`],
      ['body', (round) => megabytes(round.export.bytes)],
      ['first byte ms', (round) => fixed(round.export.firstByteMs, 1)],
      ['time', (round) => seconds(round.export.ms)],
      ['rows/s', (round) => thousands(round.export.rowsPerSecond)],
      [
        'service VmRSS before / median / max / after',
        ({ export: run }) =>
          rssText([run.rssBeforeBytes, run.rssMedianBytes, run.rssMaxBytes, run.rssAfterBytes]),
      ],
      [
        'service peak (VmHWM)',
        ({ export: run }) => (run.rssPeakBytes === null ? 'n/a' : megabytes(run.rssPeakBytes)),
      ],
    ]),
  ].join('\n');
}

const indexList = (indexes: string[]) => indexes.map((index) => `\`${index}\``).join(', ');

function findingPlansDetail(result: BenchResult): string {
  const plans = result.findingPlans;
  if ('error' in plans) return `No plans: ${plans.error}.`;
  // One block per distinct statement, with the requests that ran it.
  const statements = new Map<string, string[]>();
  for (const plan of plans)
    if (plan.sql) statements.set(plan.sql, [...(statements.get(plan.sql) ?? []), plan.label]);
  const pending = result.ginPending.map(
    (index) =>
      `\`${index.name}\` ${thousands(index.pendingPages)} pages (${thousands(index.pendingTuples)} tuples)`,
  );
  return [
    ...(pending.length > 0
      ? [
          `GIN pending lists after the rounds (pgstatginindex; every scan of the index reads its whole list): ${pending.join(', ')}.`,
          '',
        ]
      : []),
    'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) once, after the rounds, of the statement the service was seen running for each request (pg_stat_activity), with its parameters bound as the service binds them (filled from the request by their casts); run twice, the second kept.',
    '',
    columns(plans, [
      ['request', (plan) => plan.label],
      ['exec ms', (plan) => (plan.problem ? '-' : fixed(plan.executionMs, 3))],
      ['hit', (plan) => (plan.problem ? '-' : String(plan.sharedHit))],
      ['read', (plan) => (plan.problem ? '-' : String(plan.sharedRead))],
      [
        'indexes',
        (plan) => (plan.problem ? '-' : plan.indexes.length > 0 ? indexList(plan.indexes) : 'none'),
      ],
      [
        'plan nodes, pre-order (buffers incl. children and loops, rows per loop)',
        (plan) => (plan.problem ? `no plan: ${plan.problem}` : plan.nodes.join(' > ')),
      ],
    ]),
    '',
    ...[...statements].flatMap(([sql, labels]) => [
      `${labels.join('; ')}:`,
      '',
      '```sql',
      sql.trim(),
      '```',
      '',
    ]),
  ].join('\n');
}

function buffersDetail(result: BenchResult): string {
  const plans = result.rounds.flatMap((round) =>
    round.plans.map((plan) => ({ round: round.round, ...plan })),
  );
  return columns(plans, [
    ['round', (plan) => String(plan.round)],
    ['pageSize', (plan) => String(plan.point.pageSize)],
    ['page', (plan) => `${thousands(plan.point.page)} (${plan.point.label})`],
    ['hit', (plan) => String(plan.sharedHit)],
    ['read', (plan) => String(plan.sharedRead)],
    ['total', (plan) => String(plan.sharedHit + plan.sharedRead)],
    ['exec ms', (plan) => fixed(plan.executionMs, 3)],
    ['heap fetches', (plan) => String(plan.heapFetches)],
    ['parallel', (plan) => (plan.parallel ? '**yes**' : 'no')],
    [
      'plan nodes, pre-order (buffers incl. children)',
      (plan) =>
        plan.nodes
          .map((node) => `${node.type}${node.relation ? ` on ${node.relation}` : ''} (${node.buffers})`)
          .join(' > '),
    ],
  ]);
}

/** Things worth knowing that the targets do not show, read off the measurements. */
function observations(result: BenchResult): string[] {
  const found: string[] = [];
  const seqScans = result.rounds.map((round) => {
    const nodes = round.plans.flatMap((plan) => plan.nodes.filter((node) => node.type === 'Seq Scan'));
    return nodes.length > 0 ? Math.max(...nodes.map((node) => node.buffers)) : null;
  });
  if (seqScans.some((pages) => pages !== null)) {
    const grows = (seqScans[seqScans.length - 1] ?? 0) > (seqScans[0] ?? 0);
    found.push(
      `- the page plan reads \`activities\` with a Seq Scan (the table is small, so the planner skips its primary key); its buffers per round: ${seqScans.map((pages) => pages ?? '-').join(', ')}${grows ? " — they grow as appends update the runs' counter rows (a new row version per batch) and add runs" : ''}`,
    );
  }
  for (const round of result.rounds) {
    const fetched = round.plans.filter((plan) => plan.heapFetches > 0);
    if (fetched.length > 0) {
      found.push(
        `- round ${round.round}: the index-only scan visited the heap (${fetched.map((plan) => `page ${thousands(plan.point.page)} of size ${plan.point.pageSize}: ${plan.heapFetches} fetches`).join('; ')}): heap pages of the run stopped being all-visible after the ingestion rounds wrote into the table`,
      );
    }
  }
  const rps = median(result.rounds.map(throughputRatio));
  if (rps > 1.05) {
    found.push(
      `- the baseline is slower than the service (service/baseline ${fixed(rps)}): for this route the framework layers cost nothing measurable here, and the ≥ 0.95 target bounds little`,
    );
  }
  const plans = 'error' in result.findingPlans ? [] : result.findingPlans;
  for (const plan of plans.filter((candidate) => candidate.problem === null)) {
    const repeated =
      plan.itemScanLoops > 1
        ? `; **a scan of execution_items runs ${thousands(plan.itemScanLoops)} times** (a correlated subplan evaluated once per row of the page)`
        : '';
    found.push(
      `- plan of \`${plan.label}\`: ${plan.indexes.length > 0 ? indexList(plan.indexes) : 'no index'}; ${thousands(plan.sharedHit + plan.sharedRead)} buffers, ${fixed(plan.executionMs, 1)} ms${repeated}`,
    );
  }
  return found;
}

function problemsSection(rows: SummaryRow[], result: BenchResult): string {
  const { rounds, environment } = result;
  const labelOf = (key: FindingKey) => result.finding.points.find((point) => point.key === key)?.label;
  const busy = Math.max(environment.otherLoadPercent, ...rounds.map((round) => round.otherLoadPercent));
  const all = [
    ...rows
      .filter((row) => row.met === false)
      .map((row) => `- target missed: ${row.what}: ${row.measured} (target ${row.target})`),
    ...result.pageProblems.map((problem) => `- page check: ${problem}`),
    ...rounds.flatMap((round) =>
      round.finding
        .filter((entry) => entry.failures > 0)
        .map(
          (entry) =>
            `- round ${round.round}: \`${labelOf(entry.key)}\` failed ${entry.failures} times, first: ${entry.firstFailure}`,
        ),
    ),
    ...result.ginPending
      .filter((index) => index.pendingPages > 0)
      .map(
        (index) =>
          `- after the rounds the GIN index \`${index.name}\` has ${thousands(index.pendingPages)} pending-list pages, which every scan of it reads (autovacuum ${environment.postgres.autovacuum}; the list empties when it passes gin_pending_list_limit ${environment.postgres.ginPendingListLimit} or at a vacuum)`,
      ),
    ...result.finding.problems.map((problem) => `- finding check: ${problem}`),
    ...rounds
      .filter((round) => round.export.rows !== result.dataset.target.items)
      .map(
        (round) =>
          `- round ${round.round}: the export held ${thousands(round.export.rows)} rows, not ${thousands(result.dataset.target.items)}`,
      ),
    ...result.datasetProblems.map((problem) => `- dataset: ${problem}`),
    ...(result.liveSql.sql && !result.liveSql.sameAsProduction
      ? ['- the service page SQL differs from `PAGE_BY_SEQUENCE_SQL`']
      : []),
    ...rounds
      .filter((round) => round.ingestion.differingRows > 0 || !round.ingestion.countersIdentical)
      .map((round) => `- round ${round.round}: the appendItems and COPY runs differ`),
    ...rounds.flatMap((round) =>
      round.throughput
        .filter((entry) => entry.non2xx + entry.errors > 0)
        .map(
          (entry) =>
            `- round ${round.round}: ${entry.target} answered ${entry.non2xx} non-2xx and ${entry.errors} errors under load`,
        ),
    ),
    ...(busy > BUSY_MACHINE_PERCENT
      ? [
          `- the machine was busy with other work (up to ${fixed(busy, 0)}% CPU while the bench idled): absolute figures are noisy, ratios less so`,
        ]
      : []),
    ...observations(result),
  ];
  return all.length === 0 ? 'None: every target met and every check passed.' : all.join('\n');
}

export function renderReport(result: BenchResult): string {
  const rows = summaryRows(result);
  const sections: Array<[string, string]> = [
    ['## Dataset', datasetSection(result)],
    [
      '## Summary',
      `${summaryTable(rows)}\n\nMeasured values are medians over the rounds of each round's figure (each round's own value in brackets).`,
    ],
    ['## Problems seen', problemsSection(rows, result)],
    ['## Method', methodSection(result)],
    ['## Embedded database (PGlite)', embeddedSection(result)],
    ['## Rounds', ''],
    ['### Latency through HTTP (sequential)', latencyDetail(result)],
    ['### Throughput (autocannon)', throughputDetail(result)],
    ['### Ingestion', ingestionDetail(result)],
    ['### Filters, search and stats (service, sequential)', findingDetail(result)],
    ['### CSV export of the target run', exportDetail(result)],
    ['### Plans of the filtered, searched and export statements', findingPlansDetail(result)],
    ['### Buffers of the page query', buffersDetail(result)],
    [
      '### Page SQL the service was seen running',
      ['```sql', result.liveSql.sql ?? '(not observed)', '```'].join('\n'),
    ],
  ];
  return [
    `# Execution items benchmark (${result.settings.mode})`,
    '',
    environmentSection(result),
    ...sections.flatMap(([heading, body]) => ['', heading, ...(body ? ['', body] : [])]),
    '',
  ].join('\n');
}
