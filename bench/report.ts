import {
  exportDetail,
  findingDetail,
  findingMethod,
  findingPlansDetail,
  findingProblems,
  findingSummaryRows,
} from './finding-report';
import { countSource, type PlanNodeSummary } from './page-plans';
import { PAGE_SQL } from './page-query';
import type { PagePoint, PointLatency } from './latency';
import type { BenchResult, RoundResult, TargetName, ThroughputResult } from './results';
import { fixed, median, megabytes, ratio, seconds, thousands } from './stats';

export interface SummaryRow {
  what: string;
  measured: string;
  target: string;
  met: boolean | null;
}

const RSS_GROWTH_LIMIT = 0.1;
/** Above this share of CPU used by others while the bench idles, the report warns about noise. */
const BUSY_MACHINE_PERCENT = 15;

function table(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

function latencyAt(round: RoundResult, target: TargetName, point: PagePoint): PointLatency {
  const found = round.latency.find(
    (entry) =>
      entry.target === target && entry.point.page === point.page && entry.point.pageSize === point.pageSize,
  );
  if (!found) throw new Error(`no latency for ${target} page ${point.page}`);
  return found;
}

function pointOf(result: BenchResult, pageSize: number, label: PagePoint['label']): PagePoint {
  return result.points.find((point) => point.pageSize === pageSize && point.label === label)!;
}

/** Median service latency of the last page over the first, per round. */
function lastFirstRatios(result: BenchResult, pageSize: number, target: TargetName = 'service'): number[] {
  const first = pointOf(result, pageSize, 'first');
  const last = pointOf(result, pageSize, 'last');
  return result.rounds.map((round) =>
    ratio(latencyAt(round, target, last).medianMs, latencyAt(round, target, first).medianMs),
  );
}

function requestsPerSecond(round: RoundResult, target: TargetName): number {
  return round.throughput.find((entry) => entry.target === target)?.requestsPerSecond ?? NaN;
}

function throughputRatios(result: BenchResult): number[] {
  return result.rounds.map((round) =>
    ratio(requestsPerSecond(round, 'service'), requestsPerSecond(round, 'baseline')),
  );
}

function ingestionRate(round: RoundResult, method: 'service' | 'copy'): number {
  return round.ingestion.results.find((entry) => entry.method === method)?.rowsPerSecond ?? NaN;
}

function ingestionRatios(result: BenchResult): number[] {
  return result.rounds.map((round) => ratio(ingestionRate(round, 'service'), ingestionRate(round, 'copy')));
}

/** The service's VmRSS during each round's throughput run (median of 250 ms samples), and before the first. */
function serviceRss(result: BenchResult): { medians: number[]; maxima: number[]; before: number } {
  const runs = result.rounds.flatMap((round) =>
    round.throughput.filter((entry) => entry.target === 'service'),
  );
  return {
    medians: runs.map((run) => run.rssMedianBytes),
    maxima: runs.map((run) => run.rssMaxBytes),
    before: runs[0]?.rssBeforeBytes ?? NaN,
  };
}

/** Worst shared hit + read over the first, middle and last page, per round. */
function worstBuffersPerRound(result: BenchResult, pageSize: number): number[] {
  return result.rounds.map((round) =>
    Math.max(
      ...round.plans
        .filter((plan) => plan.point.pageSize === pageSize)
        .map((plan) => plan.sharedHit + plan.sharedRead),
    ),
  );
}

function roundsText(values: number[]): string {
  return values.length > 1 ? ` (rounds: ${values.map((value) => fixed(value)).join(', ')})` : '';
}

export function summaryRows(result: BenchResult): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const pageSize of [100, 25]) {
    const ratios = lastFirstRatios(result, pageSize);
    const baseline = median(lastFirstRatios(result, pageSize, 'baseline'));
    const last = pointOf(result, pageSize, 'last');
    rows.push({
      what: `latency, last page (${thousands(last.page)}) / first page, pageSize ${pageSize}, service medians`,
      measured: `${fixed(median(ratios))}${roundsText(ratios)}; baseline ${fixed(baseline)}`,
      target: '≤ 1.1',
      met: median(ratios) <= 1.1,
    });
  }
  const rps = throughputRatios(result);
  const serviceRps = median(result.rounds.map((round) => requestsPerSecond(round, 'service')));
  const baselineRps = median(result.rounds.map((round) => requestsPerSecond(round, 'baseline')));
  rows.push({
    what: `throughput, service / baseline req/s (${thousands(serviceRps)} / ${thousands(baselineRps)})`,
    measured: `${fixed(median(rps))}${roundsText(rps)}`,
    target: '≥ 0.9',
    met: median(rps) >= 0.9,
  });
  const sql = result.liveSql.sql ?? PAGE_SQL;
  const source = countSource(sql);
  rows.push({
    what: 'totalCount read with the page (no COUNT(*))',
    measured: `${result.liveSql.sql ? 'observed service SQL' : 'copied SQL (service SQL not observed)'}: ${
      source.readsCounter ? 'reads a.item_count in the page statement' : 'does not read a.item_count'
    }; ${source.usesCountStar ? 'contains COUNT(' : 'no COUNT('}`,
    target: 'counter in the same statement, no COUNT(*)',
    met: source.readsCounter && !source.usesCountStar,
  });
  for (const pageSize of [25, 100]) {
    const perRound = worstBuffersPerRound(result, pageSize);
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
  const parallel = result.rounds.some((round) => round.plans.some((plan) => plan.parallel));
  rows.push({
    what: 'parallel plan nodes (Gather) in the page plan',
    measured: parallel ? 'yes' : 'none',
    target: 'none',
    met: !parallel,
  });
  const ingestion = ingestionRatios(result);
  const serviceRows = median(result.rounds.map((round) => ingestionRate(round, 'service')));
  const copyRows = median(result.rounds.map((round) => ingestionRate(round, 'copy')));
  rows.push({
    what: `ingestion, appendItems / COPY rows/s (${thousands(serviceRows)} / ${thousands(copyRows)})`,
    measured: `${fixed(median(ingestion))}${roundsText(ingestion)}`,
    target: '≥ 0.8',
    met: median(ingestion) >= 0.8,
  });
  const rss = serviceRss(result);
  const several = rss.medians.length > 1;
  const from = several ? rss.medians[0] : rss.before;
  const to = rss.medians[rss.medians.length - 1];
  const growth = ratio(to - from, from);
  rows.push({
    what: several
      ? 'service VmRSS under load, median of 250 ms samples: first → last round'
      : 'service VmRSS before → median under load (one round: warm-up growth, not judged)',
    measured:
      `${megabytes(from)} → ${megabytes(to)} (${growth >= 0 ? '+' : ''}${fixed(growth * 100, 1)}%); ` +
      `per round median/max: ${rss.medians.map((value, index) => `${megabytes(value)}/${megabytes(rss.maxima[index])}`).join(', ')}; ` +
      `${megabytes(rss.before)} before the first run`,
    target: `flat (growth ≤ ${RSS_GROWTH_LIMIT * 100}%)`,
    met: several ? growth <= RSS_GROWTH_LIMIT : null,
  });
  rows.push(...findingSummaryRows(result));
  return rows;
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
  return [
    `- date: ${env.startedAt.toISOString()} (finished ${result.finishedAt.toISOString()}, ${seconds(result.finishedAt.getTime() - env.startedAt.getTime())})`,
    `- mode: ${settings.mode}, ${settings.rounds} round${settings.rounds > 1 ? 's' : ''}`,
    `- machine: ${env.cores} cores (${env.cpuModel}), ${megabytes(env.memoryBytes)} RAM; CPU busy with other work before the start: ${fixed(env.otherLoadPercent, 0)}%, before each round: ${result.rounds.map((round) => `${fixed(round.otherLoadPercent, 0)}%${round.waitedMs > 2500 ? ` (after waiting ${seconds(round.waitedMs)} for < ${result.settings.quiet.busyPercent}%)` : ''}`).join(', ')} (2 s samples of /proc/stat while the bench idled)`,
    `- Node ${env.node}; PostgreSQL ${env.postgres.version} (shared_buffers ${env.postgres.sharedBuffers}, max_parallel_workers_per_gather ${env.postgres.maxParallelWorkersPerGather}, jit ${env.postgres.jit}, autovacuum ${env.postgres.autovacuum}, gin_pending_list_limit ${env.postgres.ginPendingListLimit})`,
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
    `- runs interleaved in chunks of ${thousands(plan.chunkRows)} rows (as runs appending concurrently in batches leave them); ${plan.errorRate * 100}% errors (errorType set), users and groups, weighted change types with small outcome trees (jsonb), their outcome_summary and outcome_types (the distinct types of the tree); dense sequence 1..n per run; counters (item_count, error_item_count, change/error/object/outcome type counts; outcome type counts against the rows' outcome_types, and outcome_types against the tree on every 100th item) consistent: ${result.datasetProblems.length === 0 ? 'checked, yes' : `**no**: ${result.datasetProblems.join('; ')}`}.`,
    `- ids: UUIDv7, deterministic (seeded), 1 ms apart in load order. execution_items: ${result.sizes.itemsTable} heap, ${result.sizes.itemsIndexes} indexes at the start.`,
    ...result.indexStats.map((index) =>
      index.leafPages === null
        ? `- index \`${index.name}\` (${index.method}) after the load: ${index.size}.`
        : `- index \`${index.name}\` (${index.method}) after the load: ${index.size}, ${thousands(index.leafPages)} leaf pages, average leaf density ${fixed(index.avgLeafDensity ?? NaN, 1)}% (≈ ${fixed(index.entriesPerLeaf ?? NaN, 0)} entries per leaf page; pgstatindex).`,
    ),
    '',
    runs,
  ].join('\n');
}

function methodSection(result: BenchResult): string {
  const { settings } = result;
  return [
    `- **Baseline**: bench/baseline-server.ts, transpiled and run on plain node (no ts-node in the measured process), plain Fastify + a pg Pool of 10 connections, the page SQL copied from \`pageBySequence\` and the same envelope. It **does verify the bearer token** (jsonwebtoken, HS256, the same secret, \`exp\` required, role \`Administrator\`), so both servers do the same authentication work. The service's pool is also 10 (DATABASE_POOL_SIZE=10); its rate limit is off (RATE_LIMIT_ENABLED=false).`,
    `- Service page SQL observed in pg_stat_activity: ${result.liveSql.sql ? (result.liveSql.sameAsBaseline ? "identical to the baseline's copy (whitespace aside)" : "**differs from the baseline's copy** (the baseline may no longer do the same work)") : 'not observed'}. Plans below are of ${result.explainedSql}.`,
    `- Pages checked before measuring (every point, both servers; the baseline's body must equal the service's): ${result.pageProblems.length === 0 ? 'all correct and identical' : `**problems**: ${result.pageProblems.join('; ')}`}.`,
    `- Latency: sequential GETs over one keep-alive connection, ${settings.latency.requestsPerPoint} per point per server per round after ${settings.latency.warmupPerPoint} warm-up, points and servers interleaved; time to the last body byte.`,
    `- Throughput: autocannon 8 in a separate process, ${settings.throughput.connections} connections, ${settings.throughput.seconds} s per server per round (after a ${settings.throughput.warmupSeconds} s warm-up of each), URL \`${result.throughputPath}\`; in ABBA order (two slices of ${settings.throughput.seconds / 2} s per server per round; the server that leads alternates by round); req/s = 2xx responses / summed duration; p50/p99 = the worse of the two slices.`,
    `- Ingestion: ${thousands(settings.ingestion.items)} items per round in a child process (bench/ingestion-worker.ts, Nest application context built like src/cli/generate.ts): \`ExecutionItemsService.appendItems\` in batches of ${thousands(settings.ingestion.batchSize)}, each awaited, into a new run vs one COPY (text) of the same rows (fresh UUIDv7 ids, same columns and values) + the counter UPDATE in one transaction into another new run, on the same table with all its indexes; the order alternates by round and a CHECKPOINT precedes each method (so neither pays for flushing the other's dirty buffers). Time excludes startRun/completeRun. RSS is the worker's \`process.memoryUsage().rss\` sampled every 100 ms (after a forced GC before each method).`,
    '- Server RSS: VmRSS from /proc/<pid>/status just before and after each throughput run and every 250 ms during it; "flat" compares the median under load of the last round with that of the first (a single sample swings with garbage collection by ±25%).',
    '- Buffers: EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) with the parameters as literals (the custom plan an unnamed statement gets), run twice, the second kept; shared hit + read of the top plan node.',
    ...findingMethod(result),
  ].join('\n');
}

function latencyDetail(result: BenchResult): string {
  const rows = result.rounds.flatMap((round) =>
    result.points.map((point) => {
      const service = latencyAt(round, 'service', point);
      const baseline = latencyAt(round, 'baseline', point);
      return [
        String(round.round),
        String(point.pageSize),
        `${thousands(point.page)} (${point.label})`,
        fixed(service.medianMs),
        fixed(service.p99Ms),
        fixed(baseline.medianMs),
        fixed(baseline.p99Ms),
      ];
    }),
  );
  const ratios = result.rounds.flatMap((round) =>
    [100, 25].map((pageSize) => {
      const first = pointOf(result, pageSize, 'first');
      const last = pointOf(result, pageSize, 'last');
      const of = (target: TargetName) =>
        ratio(latencyAt(round, target, last).medianMs, latencyAt(round, target, first).medianMs);
      return [String(round.round), String(pageSize), fixed(of('service')), fixed(of('baseline'))];
    }),
  );
  return [
    table(
      [
        'round',
        'pageSize',
        'page',
        'service median ms',
        'service p99 ms',
        'baseline median ms',
        'baseline p99 ms',
      ],
      rows,
    ),
    '',
    table(['round', 'pageSize', 'service last/first', 'baseline last/first'], ratios),
  ].join('\n');
}

function rssText(run: ThroughputResult): string {
  return [run.rssBeforeBytes, run.rssMedianBytes, run.rssMaxBytes, run.rssAfterBytes]
    .map(megabytes)
    .join(' / ');
}

function throughputDetail(result: BenchResult): string {
  const ratioWhenLeading = (target: TargetName) =>
    fixed(
      median(
        result.rounds
          .filter((round) => round.throughputOrder[0] === target)
          .map((round) => ratio(requestsPerSecond(round, 'service'), requestsPerSecond(round, 'baseline'))),
      ),
    );
  const note = `Ratio in rounds the service led (its slices first and last): ${ratioWhenLeading('service')}; the baseline led: ${ratioWhenLeading('baseline')}.`;
  const rows = result.rounds.map((round) => {
    const of = (target: TargetName) => round.throughput.find((entry) => entry.target === target)!;
    const service = of('service');
    const baseline = of('baseline');
    return [
      String(round.round),
      [...round.throughputOrder, ...[...round.throughputOrder].reverse()].join(' '),
      thousands(service.requestsPerSecond),
      thousands(baseline.requestsPerSecond),
      fixed(ratio(service.requestsPerSecond, baseline.requestsPerSecond)),
      `${service.p50Ms} / ${service.p99Ms}`,
      `${baseline.p50Ms} / ${baseline.p99Ms}`,
      `${service.non2xx + service.errors} / ${baseline.non2xx + baseline.errors}`,
      rssText(service),
      rssText(baseline),
    ];
  });
  const headers = [
    'round',
    'order',
    'service req/s',
    'baseline req/s',
    'ratio',
    'service p50/p99 ms',
    'baseline p50/p99 ms',
    'non-2xx+errors (service/baseline)',
    'service VmRSS before / median / max / after',
    'baseline VmRSS before / median / max / after',
  ];
  return [note, '', table(headers, rows)].join('\n');
}

function ingestionDetail(result: BenchResult): string {
  const rows = result.rounds.map((round) => {
    const of = (method: 'service' | 'copy') =>
      round.ingestion.results.find((entry) => entry.method === method)!;
    const memory = (method: 'service' | 'copy') =>
      `${megabytes(of(method).rssBeforeBytes)} / ${megabytes(of(method).rssAfterBytes)} / ${megabytes(of(method).rssPeakBytes)}`;
    return [
      String(round.round),
      round.ingestion.order.join(' → '),
      `${thousands(of('service').rowsPerSecond)} (${seconds(of('service').ms)})`,
      `${thousands(of('copy').rowsPerSecond)} (${seconds(of('copy').ms)})`,
      fixed(ratio(of('service').rowsPerSecond, of('copy').rowsPerSecond)),
      memory('service'),
      memory('copy'),
      `${round.ingestion.differingRows === 0 ? 'yes' : `**no** (${round.ingestion.differingRows} rows differ)`}; counters ${round.ingestion.countersIdentical ? 'equal' : '**differ**'}`,
    ];
  });
  const appendMethod = result.rounds[0]?.ingestion.appendMethod ?? 'n/a';
  const ratioWhen = (first: 'service' | 'copy') =>
    fixed(
      median(
        result.rounds
          .filter((round) => round.ingestion.order[0] === first)
          .map((round) => ratio(ingestionRate(round, 'service'), ingestionRate(round, 'copy'))),
      ),
    );
  return [
    `Service append method (appendMethodFor of the database): \`${appendMethod}\`. Ratio when appendItems ran first: ${ratioWhen('service')}; when COPY ran first: ${ratioWhen('copy')}.`,
    '',
    table(
      [
        'round',
        'order',
        'appendItems rows/s',
        'COPY rows/s',
        'ratio',
        'RSS appendItems before/after/peak',
        'RSS COPY before/after/peak',
        'same rows',
      ],
      rows,
    ),
  ].join('\n');
}

function describeNode(node: PlanNodeSummary): string {
  return `${node.type}${node.relation ? ` on ${node.relation}` : ''} (${node.buffers})`;
}

function buffersDetail(result: BenchResult): string {
  const rows = result.rounds.flatMap((round) =>
    round.plans.map((plan) => [
      String(round.round),
      String(plan.point.pageSize),
      `${thousands(plan.point.page)} (${plan.point.label})`,
      String(plan.sharedHit),
      String(plan.sharedRead),
      String(plan.sharedHit + plan.sharedRead),
      fixed(plan.executionMs, 3),
      String(plan.heapFetches),
      plan.parallel ? '**yes**' : 'no',
      plan.nodes.map(describeNode).join(' > '),
    ]),
  );
  return table(
    [
      'round',
      'pageSize',
      'page',
      'hit',
      'read',
      'total',
      'exec ms',
      'heap fetches',
      'parallel',
      'plan nodes, pre-order (buffers incl. children)',
    ],
    rows,
  );
}

/** Things worth knowing that the targets do not show, read off the measurements. */
function observations(result: BenchResult): string[] {
  const found: string[] = [];
  const seqScans = result.rounds.map((round) => {
    const nodes = round.plans.flatMap((plan) => plan.nodes.filter((node) => node.type === 'Seq Scan'));
    return nodes.length > 0 ? Math.max(...nodes.map((node) => node.buffers)) : null;
  });
  const grows = (seqScans[seqScans.length - 1] ?? 0) > (seqScans[0] ?? 0);
  if (seqScans.some((pages) => pages !== null)) {
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
  const rps = median(throughputRatios(result));
  if (rps > 1.05) {
    found.push(
      `- the baseline is slower than the service (service/baseline ${fixed(rps)}): for this route the framework layers cost nothing measurable here, and the ≥ 0.9 target bounds little`,
    );
  }
  return found;
}

function problemsSection(rows: SummaryRow[], result: BenchResult): string {
  const missed = rows
    .filter((row) => row.met === false)
    .map((row) => `- target missed: ${row.what}: ${row.measured} (target ${row.target})`);
  const other = [
    ...result.pageProblems.map((problem) => `- page check: ${problem}`),
    ...findingProblems(result),
    ...result.datasetProblems.map((problem) => `- dataset: ${problem}`),
    ...(result.liveSql.sql && !result.liveSql.sameAsBaseline
      ? ['- the service page SQL differs from the baseline copy']
      : []),
    ...result.rounds
      .filter((round) => round.ingestion.differingRows > 0 || !round.ingestion.countersIdentical)
      .map((round) => `- round ${round.round}: the appendItems and COPY runs differ`),
    ...result.rounds.flatMap((round) =>
      round.throughput
        .filter((entry) => entry.non2xx + entry.errors > 0)
        .map(
          (entry) =>
            `- round ${round.round}: ${entry.target} answered ${entry.non2xx} non-2xx and ${entry.errors} errors under load`,
        ),
    ),
  ];
  const busy = [result.environment.otherLoadPercent, ...result.rounds.map((round) => round.otherLoadPercent)];
  if (Math.max(...busy) > BUSY_MACHINE_PERCENT) {
    other.push(
      `- the machine was busy with other work (up to ${fixed(Math.max(...busy), 0)}% CPU while the bench idled): absolute figures are noisy, ratios less so`,
    );
  }
  const all = [...missed, ...other, ...observations(result)];
  return all.length === 0 ? 'None: every target met and every check passed.' : all.join('\n');
}

export function renderReport(result: BenchResult): string {
  const rows = summaryRows(result);
  return [
    `# Execution items benchmark (${result.settings.mode})`,
    '',
    environmentSection(result),
    '',
    '## Dataset',
    '',
    datasetSection(result),
    '',
    '## Summary',
    '',
    summaryTable(rows),
    '',
    "Measured values are medians over the rounds of each round's figure (each round's own value in brackets).",
    '',
    '## Problems seen',
    '',
    problemsSection(rows, result),
    '',
    '## Method',
    '',
    methodSection(result),
    '',
    '## Rounds',
    '',
    '### Latency through HTTP (sequential)',
    '',
    latencyDetail(result),
    '',
    '### Throughput (autocannon)',
    '',
    throughputDetail(result),
    '',
    '### Ingestion',
    '',
    ingestionDetail(result),
    '',
    '### Filters, search and stats (service, sequential)',
    '',
    findingDetail(result),
    '',
    '### CSV export of the target run',
    '',
    exportDetail(result),
    '',
    '### Plans of the filtered, searched and export statements',
    '',
    findingPlansDetail(result),
    '',
    '### Buffers of the page query',
    '',
    buffersDetail(result),
    '',
    '### Page SQL the service was seen running',
    '',
    '```sql',
    result.liveSql.sql ?? '(not observed)',
    '```',
    '',
  ].join('\n');
}
