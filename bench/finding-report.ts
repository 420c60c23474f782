import type { CursorWalk, FindingKey } from './finding';
import type { ExportResult } from './items-export';
import type { SummaryRow } from './report';
import type { BenchResult, RoundResult } from './results';
import { fixed, median, megabytes, ratio, seconds, thousands } from './stats';

/** The report's parts for filters, search, stats and the export (service only). */

export const FILTER_RATIO_LIMIT = 1.2;
export const SEARCH_LIMIT_MS = 50;
export const NO_MATCH_LIMIT_MS = 5;
export const STATS_LIMIT_MS = 5;
export const EXPORT_RSS_LIMIT_BYTES = 200 * 1024 * 1024;

function table(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

function roundsText(values: number[]): string {
  return values.length > 1 ? ` (rounds: ${values.map((value) => fixed(value)).join(', ')})` : '';
}

function millisecondsText(values: number[]): string {
  return `${fixed(median(values))} ms${values.length > 1 ? ` (rounds: ${values.map((value) => fixed(value)).join(', ')})` : ''}`;
}

function medianMs(round: RoundResult, key: FindingKey): number {
  return round.finding.find((entry) => entry.key === key)?.medianMs ?? NaN;
}

function perRound(result: BenchResult, key: FindingKey): number[] {
  return result.rounds.map((round) => medianMs(round, key));
}

function ratiosPerRound(result: BenchResult, numerator: FindingKey, denominator: FindingKey): number[] {
  return result.rounds.map((round) => ratio(medianMs(round, numerator), medianMs(round, denominator)));
}

/** The true peak when the kernel let the bench reset VmHWM, else the largest 100 ms sample. */
export function exportPeakBytes(run: ExportResult): number {
  return run.rssPeakBytes ?? run.rssMaxBytes;
}

const FILTERED_KEYS: FindingKey[] = [
  'errorType-first',
  'errorType-deepest',
  'hasError-first',
  'hasError-deepest',
];

function filterRows(result: BenchResult): SummaryRow[] {
  const { pageSize } = result.finding;
  const rows: SummaryRow[] = [];
  for (const [walk, prefix] of result.finding.walks.map(
    (walk, index) => [walk, index === 0 ? 'errorType' : 'hasError'] as const,
  )) {
    const first = `${prefix}-first` as FindingKey;
    const deepest = `${prefix}-deepest` as FindingKey;
    const ratios = ratiosPerRound(result, deepest, first);
    rows.push({
      what: `${walk.filter} (${thousands(walk.expectedItems)} items): deepest page (${thousands(walk.deepest.page)}, by cursor) / page 1, pageSize ${pageSize}, service medians`,
      measured: `${fixed(median(ratios))}${roundsText(ratios)}; page 1 ${fixed(median(perRound(result, first)))} ms, deepest ${fixed(median(perRound(result, deepest)))} ms`,
      target: `≤ ${FILTER_RATIO_LIMIT}`,
      met: median(ratios) <= FILTER_RATIO_LIMIT,
    });
  }
  // The slowest filtered page against the unfiltered page 1, per round.
  const worst = result.rounds.map((round) =>
    ratio(Math.max(...FILTERED_KEYS.map((key) => medianMs(round, key))), medianMs(round, 'unfiltered')),
  );
  const spread = result.rounds.map((round) => {
    const values = [...FILTERED_KEYS, 'unfiltered' as const].map((key) => medianMs(round, key));
    return ratio(Math.max(...values), Math.min(...values));
  });
  rows.push({
    what: `filtered pages (errorType and hasError, page 1 and deepest) / unfiltered page 1 (${fixed(median(perRound(result, 'unfiltered')))} ms), the slowest of the four, service medians`,
    measured: `${fixed(median(worst))}${roundsText(worst)}; slowest / fastest of all five: ${fixed(median(spread))}`,
    target: `≤ ${FILTER_RATIO_LIMIT}`,
    met: median(worst) <= FILTER_RATIO_LIMIT,
  });
  return rows;
}

export function findingSummaryRows(result: BenchResult): SummaryRow[] {
  const { search, noMatchTerm } = result.finding;
  const searchMs = perRound(result, 'search');
  const noMatchMs = perRound(result, 'search-none');
  const statsMs = perRound(result, 'stats');
  // Not `exports`: the CommonJS emit refers to this module's constants through that name.
  const exportRuns = result.rounds.map((round) => round.export);
  const peaks = exportRuns.map(exportPeakBytes);
  const worstPeak = Math.max(...peaks);
  const growth = exportRuns.map((run, index) => peaks[index] - run.rssBeforeBytes);
  const rates = exportRuns.map((run) => run.rowsPerSecond);
  return [
    ...filterRows(result),
    {
      what: `search=${search.term}, page 1 (matches ${thousands(search.matches)} of ${thousands(search.runItems)} items, ${fixed(search.fraction * 100)}% by SQL), service median`,
      measured: millisecondsText(searchMs),
      target: `< ${SEARCH_LIMIT_MS} ms`,
      met: median(searchMs) < SEARCH_LIMIT_MS,
    },
    {
      what: `search=${noMatchTerm} (matches nothing), page 1, service median`,
      measured: millisecondsText(noMatchMs),
      target: `< ${NO_MATCH_LIMIT_MS} ms`,
      met: median(noMatchMs) < NO_MATCH_LIMIT_MS,
    },
    {
      what: 'GET /activities/{id}/stats, service median',
      measured: millisecondsText(statsMs),
      target: `< ${STATS_LIMIT_MS} ms`,
      met: median(statsMs) < STATS_LIMIT_MS,
    },
    {
      what: `CSV export of all ${thousands(result.dataset.target.items)} items (streamed): rows/s`,
      measured: `${thousands(median(rates))}${exportRuns.length > 1 ? ` (rounds: ${rates.map(thousands).join(', ')})` : ''}; ${seconds(median(exportRuns.map((run) => run.ms)))}, ${megabytes(median(exportRuns.map((run) => run.bytes)))} of CSV`,
      target: '(no target)',
      met: null,
    },
    {
      what: `CSV export of all ${thousands(result.dataset.target.items)} items: service peak VmRSS (${exportRuns[0]?.rssPeakBytes === null ? 'largest 100 ms sample' : 'VmHWM reset before each export'}), worst round`,
      measured: `${megabytes(worstPeak)}${peaks.length > 1 ? ` (rounds: ${peaks.map(megabytes).join(', ')})` : ''}; before each export: ${exportRuns.map((run) => megabytes(run.rssBeforeBytes)).join(', ')} (growth during it at most +${megabytes(Math.max(...growth))})`,
      target: `< ${megabytes(EXPORT_RSS_LIMIT_BYTES)}`,
      met: worstPeak < EXPORT_RSS_LIMIT_BYTES,
    },
  ];
}

function walkText(walk: CursorWalk): string {
  return `\`${walk.filter}\`: ${thousands(walk.expectedItems)} items by the counters, walked in ${thousands(walk.pages)} pages by \`nextCursor\` (${thousands(walk.items)} items, ${walk.duplicates} twice, ${walk.wrongItems} not matching); the last cursor leads to page ${thousands(walk.deepest.page)} with ${walk.deepest.items} items`;
}

export function findingMethod(result: BenchResult): string[] {
  const { finding, settings } = result;
  return [
    `- Filters, search, stats (service only; the baseline serves none of them): sequential GETs over one keep-alive connection, ${settings.finding.requestsPerPoint} per request per round after ${settings.finding.warmupPerPoint} warm-up, the requests interleaved (order reversed every other repetition), pageSize ${finding.pageSize}; a request that has taken ${settings.finding.secondsPerPoint} s in a round and holds ${settings.finding.minSamples} samples is not sampled further that round (the samples column shows it). Before the rounds: the target run's most frequent error type from its counters (\`${finding.errorType}\`); each filter's cursors collected once by walking \`nextCursor\` from page 1 to the end (${finding.walks.map(walkText).join('; ')}); the deepest request is the one with the last cursor (with the filter's parameters repeated, as the contract allows). The search term's share counted by PostgreSQL (\`display_name ILIKE '%${finding.search.term}%' OR external_id_value ILIKE ...\` over the run): ${thousands(finding.search.matches)} of ${thousands(finding.search.runItems)} (${fixed(finding.search.fraction * 100)}%). Answers checked against the counters and that count: ${finding.problems.length === 0 ? 'all correct' : `**problems**: ${finding.problems.join('; ')}`}.`,
    `- Export: \`${result.exportPath}\` once per round, last in the round, on a connection of its own; the body consumed as a stream, CSV records counted as chunks arrive (line ends outside quoted fields); the service's VmRSS sampled every 100 ms, and its VmHWM reset (\`5\` > /proc/<pid>/clear_refs) before the request and read after the last byte (the true peak).`,
  ];
}

export function findingDetail(result: BenchResult): string {
  const unfiltered = (round: RoundResult) => medianMs(round, 'unfiltered');
  const rows = result.rounds.flatMap((round) =>
    result.finding.points.map((point) => {
      const entry = round.finding.find((candidate) => candidate.key === point.key)!;
      return [
        String(round.round),
        point.label,
        point.items === null ? '-' : thousands(point.items),
        String(entry.samples),
        fixed(entry.medianMs),
        fixed(entry.p99Ms),
        point.key === 'unfiltered' ? '1' : fixed(ratio(entry.medianMs, unfiltered(round))),
      ];
    }),
  );
  return table(['round', 'request', 'items', 'samples', 'median ms', 'p99 ms', '/ unfiltered page 1'], rows);
}

export function exportDetail(result: BenchResult): string {
  const rows = result.rounds.map((round) => {
    const run = round.export;
    return [
      String(round.round),
      `${thousands(run.rows)} of ${thousands(result.dataset.target.items)}`,
      megabytes(run.bytes),
      fixed(run.firstByteMs, 1),
      seconds(run.ms),
      thousands(run.rowsPerSecond),
      [run.rssBeforeBytes, run.rssMedianBytes, run.rssMaxBytes, run.rssAfterBytes].map(megabytes).join(' / '),
      run.rssPeakBytes === null ? 'n/a' : megabytes(run.rssPeakBytes),
    ];
  });
  const first = result.rounds[0]?.export;
  return [
    first ? `Content-Type \`${first.contentType}\`; header row \`${first.header}\`.` : '',
    '',
    table(
      [
        'round',
        'rows',
        'body',
        'first byte ms',
        'time',
        'rows/s',
        'service VmRSS before / median / max / after',
        'service peak (VmHWM)',
      ],
      rows,
    ),
  ].join('\n');
}

/** What the plans show beyond their table: the indexes each reads, scans repeated per row. */
function planObservations(result: BenchResult): string[] {
  const plans = result.findingPlans;
  if ('error' in plans) return [];
  return plans
    .filter((plan) => plan.problem === null)
    .map((plan) => {
      const repeated =
        plan.itemScanLoops > 1
          ? `; **a scan of execution_items runs ${thousands(plan.itemScanLoops)} times** (a correlated subplan evaluated once per row of the page)`
          : '';
      return `- plan of \`${plan.label}\`: ${plan.indexes.length > 0 ? plan.indexes.map((index) => `\`${index}\``).join(', ') : 'no index'}; ${thousands(plan.sharedHit + plan.sharedRead)} buffers, ${fixed(plan.executionMs, 1)} ms${repeated}`;
    });
}

export function findingProblems(result: BenchResult): string[] {
  const failures = result.rounds.flatMap((round) =>
    round.finding
      .filter((entry) => entry.failures > 0)
      .map(
        (entry) =>
          `- round ${round.round}: \`${result.finding.points.find((point) => point.key === entry.key)?.label}\` failed ${entry.failures} times, first: ${entry.firstFailure}`,
      ),
  );
  const pending = result.ginPending
    .filter((index) => index.pendingPages > 0)
    .map(
      (index) =>
        `- after the rounds the GIN index \`${index.name}\` has ${thousands(index.pendingPages)} pending-list pages, which every scan of it reads (autovacuum ${result.environment.postgres.autovacuum}; the list empties when it passes gin_pending_list_limit ${result.environment.postgres.ginPendingListLimit} or at a vacuum)`,
    );
  return [
    ...failures,
    ...planObservations(result),
    ...pending,
    ...result.finding.problems.map((problem) => `- finding check: ${problem}`),
    ...result.rounds
      .filter((round) => round.export.rows !== result.dataset.target.items)
      .map(
        (round) =>
          `- round ${round.round}: the export held ${thousands(round.export.rows)} rows, not ${thousands(result.dataset.target.items)}`,
      ),
  ];
}

export function findingPlansDetail(result: BenchResult): string {
  const plans = result.findingPlans;
  if ('error' in plans) return `No plans: ${plans.error}.`;
  const rows = plans.map((plan) =>
    plan.problem
      ? [plan.label, '-', '-', '-', '-', `no plan: ${plan.problem}`]
      : [
          plan.label,
          fixed(plan.executionMs, 3),
          String(plan.sharedHit),
          String(plan.sharedRead),
          plan.indexes.length > 0 ? plan.indexes.map((index) => `\`${index}\``).join(', ') : 'none',
          plan.nodes.join(' > '),
        ],
  );
  // One block per distinct statement, with the requests that ran it.
  const statements = new Map<string, string[]>();
  for (const plan of plans) {
    if (plan.sql) statements.set(plan.sql, [...(statements.get(plan.sql) ?? []), plan.label]);
  }
  const blocks = [...statements].flatMap(([sql, labels]) => [
    `${labels.join('; ')}:`,
    '',
    '```sql',
    sql.trim(),
    '```',
    '',
  ]);
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
    table(
      [
        'request',
        'exec ms',
        'hit',
        'read',
        'indexes',
        'plan nodes, pre-order (buffers incl. children and loops, rows per loop)',
      ],
      rows,
    ),
    '',
    ...blocks,
  ].join('\n');
}
