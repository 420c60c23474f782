/**
 * Ingestion, appendItems vs COPY. `runIngestionRound` runs this file again as a child process (so
 * the RSS it measures is its own), which appends the same items to one new run through
 * `ExecutionRunsService.appendItems` (batches, each awaited) and writes them to another new run
 * with the module's own COPY writer in one transaction (`ExecutionRunsQueries.copyItems` of all
 * rows, then the counters: the floor under appendItems, without its checks and batch records).
 * The child prints one line `BENCH_RESULT <json>` last.
 */
import { performance } from 'node:perf_hooks';
import type { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { executionItemsServices, runCli, withCliContext } from '../src/cli/cli-context';
import { seededRandom, syntheticItem } from '../src/demo/synthetic-items';
import {
  EXECUTION_ITEMS_OPTIONS,
  type ResolvedExecutionItemsOptions,
} from '../src/execution-items/execution-items.options';
import { ExecutionRunsQueries } from '../src/execution-items/execution-runs.query';
import { ExecutionRunsService } from '../src/execution-items/execution-runs.service';
import { prepareEach, type NewExecutionItem } from '../src/execution-items/new-items';
import { countersAfter } from '../src/execution-items/run-counters';
import { childEnv, runToCompletion } from './processes';

export type IngestionMethod = 'service' | 'copy';
export type IngestionResult = Awaited<ReturnType<typeof ingestionRound>>;
type IngestionRequest = Parameters<typeof runIngestionRound>[1] & { order: IngestionMethod[] };

const RESULT_MARKER = 'BENCH_RESULT ';

/** Runs one ingestion round in a child process (this file) and returns its result. */
export async function runIngestionRound(
  databaseUrl: string,
  options: { round: number; items: number; batchSize: number; seed: number; errorRate: number },
): Promise<IngestionResult> {
  const order: IngestionMethod[] = options.round % 2 === 1 ? ['service', 'copy'] : ['copy', 'service'];
  const stdout = await runToCompletion(
    'ingestion',
    process.execPath,
    [
      '--expose-gc',
      '-r',
      'ts-node/register/transpile-only',
      __filename,
      JSON.stringify({ ...options, order }),
    ],
    // No statement timeout: the one COPY of all rows may take longer than the service's 10 s.
    {
      env: childEnv({
        DATABASE_URL: databaseUrl,
        DATABASE_POOL_SIZE: '10',
        DATABASE_STATEMENT_TIMEOUT_MS: '0',
      }),
    },
  );
  const line = stdout.split('\n').find((candidate) => candidate.startsWith(RESULT_MARKER));
  if (!line) throw new Error(`ingestion worker printed no result:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice(RESULT_MARKER.length)) as IngestionResult;
}

/** Times `work`, with this process's RSS sampled every 100 ms (after a forced GC). */
async function measured(
  method: IngestionMethod,
  activityId: string,
  rows: number,
  work: () => Promise<unknown>,
) {
  (globalThis as { gc?: () => void }).gc?.();
  const rssBeforeBytes = process.memoryUsage().rss;
  let rssPeakBytes = rssBeforeBytes;
  const sampler = setInterval(() => (rssPeakBytes = Math.max(rssPeakBytes, process.memoryUsage().rss)), 100);
  const started = performance.now();
  await work().finally(() => clearInterval(sampler));
  const ms = performance.now() - started;
  const rssAfterBytes = process.memoryUsage().rss;
  const rowsPerSecond = rows / (ms / 1000);
  return {
    method,
    activityId,
    rows,
    ms,
    rowsPerSecond,
    rssBeforeBytes,
    rssAfterBytes,
    rssPeakBytes: Math.max(rssPeakBytes, rssAfterBytes),
  };
}

/** Ingests `items` into a new run by `method`; startRun and completeRun are not timed. */
async function ingest(
  app: INestApplicationContext,
  request: IngestionRequest,
  method: IngestionMethod,
  items: NewExecutionItem[],
) {
  const runs = app.get(ExecutionRunsService);
  const queries = app.get(ExecutionRunsQueries);
  const { id } = await runs.startRun({
    connectedSystemName: 'Bench Directory',
    runProfileName: `Bench ingestion round ${request.round} (${method})`,
    runType: 'FullSynchronisation',
  });
  const prepared = method === 'copy' ? [...prepareEach(items)] : [];
  const result = await measured(method, id, items.length, async () => {
    if (method === 'service') {
      for (let from = 0; from < items.length; from += request.batchSize)
        await runs.appendItems(id, items.slice(from, from + request.batchSize));
      return;
    }
    await app.get(DataSource).transaction(async (manager) => {
      const run = (await queries.lockRun(manager, id))!;
      const { items: written } = await queries.copyItems(manager, id, 0, prepared);
      await queries.saveCounters(manager, id, countersAfter(run, written));
    });
  });
  await runs.completeRun(id, { status: 'CompleteWithError' });
  return result;
}

/** Rows of the two runs that differ in any column but id (outcome_types, a set, compared sorted), and their counters. */
export async function compareRuns(dataSource: DataSource, serviceRun: string, copyRun: string) {
  const [{ differing }]: Array<{ differing: number }> = await dataSource.query(
    `WITH items AS (
            SELECT *, ARRAY(SELECT t FROM unnest(outcome_types) t ORDER BY t) AS types_sorted
              FROM execution_items WHERE activity_id IN ($1, $2))
     SELECT count(*)::int AS differing
       FROM (SELECT * FROM items WHERE activity_id = $1) s
       FULL JOIN (SELECT * FROM items WHERE activity_id = $2) c ON c.sequence = s.sequence
      WHERE (s.object_change_type, s.error_type, s.external_id_value, s.display_name, s.object_type,
             s.outcome_summary, s.error_message, s.error_stack_trace, s.outcomes, s.types_sorted)
            IS DISTINCT FROM
            (c.object_change_type, c.error_type, c.external_id_value, c.display_name, c.object_type,
             c.outcome_summary, c.error_message, c.error_stack_trace, c.outcomes, c.types_sorted)`,
    [serviceRun, copyRun],
  );
  const counters: Array<{ same: boolean }> = await dataSource.query(
    `SELECT (s.item_count, s.error_item_count, s.change_type_counts, s.error_type_counts, s.object_type_counts,
             s.outcome_type_counts)
            IS NOT DISTINCT FROM
            (c.item_count, c.error_item_count, c.change_type_counts, c.error_type_counts, c.object_type_counts,
             c.outcome_type_counts) AS same
       FROM activities s, activities c WHERE s.id = $1 AND c.id = $2`,
    [serviceRun, copyRun],
  );
  return { differingRows: differing, countersIdentical: counters[0]?.same === true };
}

/** Both methods in the request's order, each after a CHECKPOINT (so neither flushes the other's dirty buffers). */
async function ingestionRound(app: INestApplicationContext, request: IngestionRequest) {
  const random = seededRandom(request.seed);
  const items = Array.from({ length: request.items }, (_, index) =>
    syntheticItem(index + 1, random, request.errorRate),
  );
  const dataSource = app.get(DataSource);
  const results: Array<Awaited<ReturnType<typeof ingest>>> = [];
  for (const method of request.order) {
    await dataSource.query('CHECKPOINT');
    results.push(await ingest(app, request, method, items));
  }
  const runOf = (method: IngestionMethod) => results.find((entry) => entry.method === method)!.activityId;
  return {
    round: request.round,
    order: request.order,
    appendMethod: app.get<ResolvedExecutionItemsOptions>(EXECUTION_ITEMS_OPTIONS).appendMethod,
    results,
    ...(await compareRuns(dataSource, runOf('service'), runOf('copy'))),
  };
}

// The child: argv[2] is the request, DATABASE_URL the database.
if (require.main === module) {
  runCli(
    async () => {
      const request = JSON.parse(process.argv[2] ?? '') as IngestionRequest;
      const result = await withCliContext(executionItemsServices, (app) => ingestionRound(app, request));
      process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
    },
    (error) => (error instanceof Error ? (error.stack ?? error.message) : String(error)),
  );
}
