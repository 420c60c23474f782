/**
 * Ingestion in its own process (so its RSS is its own): the same items appended to one new run
 * through `ExecutionRunsService.appendItems` (batches, each awaited) and written to another new
 * run with one COPY of the same rows (fresh ids, same table and indexes). Prints one line
 * `BENCH_RESULT <json>` last.
 *
 * argv[2]: JSON of `IngestionRequest`. Env: DATABASE_URL.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { v7 as uuidv7 } from 'uuid';
import { loadDatabaseSettings } from '../src/config/app-config';
import { appendMethodFor, openDatabase, type OpenDatabase } from '../src/database/database-server';
import { buildTypeOrmOptions } from '../src/database/typeorm-options';
import { ExecutionItemsModule, ExecutionRunsService, type NewExecutionItem } from '../src/execution-items';
import {
  ITEM_COPY_COLUMNS,
  RunCounters,
  UPDATE_COUNTERS_SQL,
  itemCopyLine,
  seededRandom,
  syntheticItem,
  toNewExecutionItem,
  type BenchItem,
} from './items';
import {
  RESULT_MARKER,
  type IngestionMethod,
  type IngestionRequest,
  type IngestionResult,
  type MethodResult,
} from './ingestion';

const COPY_ROWS_PER_WRITE = 1000;

/** The module `src/cli/generate.ts` builds: the TypeORM root and the execution items module. */
@Module({})
class IngestionModule {
  static forRoot(database: OpenDatabase): DynamicModule {
    return {
      module: IngestionModule,
      imports: [
        TypeOrmModule.forRoot({ ...buildTypeOrmOptions(database), migrationsRun: true }),
        ExecutionItemsModule.forRoot({ appendMethod: appendMethodFor(database) }),
      ],
    };
  }
}

/** Samples this process's RSS every 100 ms while a measurement runs. */
class RssSampler {
  private peak = 0;
  private timer: NodeJS.Timeout | undefined;

  start(): number {
    const now = process.memoryUsage().rss;
    this.peak = now;
    this.timer = setInterval(() => (this.peak = Math.max(this.peak, process.memoryUsage().rss)), 100);
    return now;
  }

  stop(): { after: number; peak: number } {
    clearInterval(this.timer);
    const after = process.memoryUsage().rss;
    return { after, peak: Math.max(this.peak, after) };
  }
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function measured(
  method: IngestionMethod,
  activityId: string,
  rows: number,
  work: () => Promise<void>,
): Promise<MethodResult> {
  collectGarbage();
  const sampler = new RssSampler();
  const rssBeforeBytes = sampler.start();
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  const { after, peak } = sampler.stop();
  return {
    method,
    activityId,
    rows,
    ms,
    rowsPerSecond: rows / (ms / 1000),
    rssBeforeBytes,
    rssAfterBytes: after,
    rssPeakBytes: peak,
  };
}

async function startRun(service: ExecutionRunsService, request: IngestionRequest, method: IngestionMethod) {
  const run = await service.startRun({
    connectedSystemName: 'Bench Directory',
    runProfileName: `Bench ingestion round ${request.round} (${method})`,
    runType: 'FullSynchronisation',
  });
  return run.id;
}

async function appendThroughService(
  service: ExecutionRunsService,
  request: IngestionRequest,
  items: NewExecutionItem[],
): Promise<MethodResult> {
  const activityId = await startRun(service, request, 'service');
  const batches: NewExecutionItem[][] = [];
  for (let from = 0; from < items.length; from += request.batchSize)
    batches.push(items.slice(from, from + request.batchSize));
  const result = await measured('service', activityId, items.length, async () => {
    for (const batch of batches) await service.appendItems(activityId, batch);
  });
  await service.completeRun(activityId, { status: 'CompleteWithError' });
  return result;
}

function* copyLines(activityId: string, items: BenchItem[], counters: RunCounters): Generator<string> {
  for (let from = 0; from < items.length; from += COPY_ROWS_PER_WRITE) {
    let text = '';
    for (let index = from; index < Math.min(from + COPY_ROWS_PER_WRITE, items.length); index++) {
      counters.add(items[index]);
      text += itemCopyLine(uuidv7(), activityId, index + 1, items[index]);
    }
    yield text;
  }
}

/** One COPY of all rows plus the run's counters, in one transaction, on a connection of its own. */
async function copyDirectly(
  service: ExecutionRunsService,
  request: IngestionRequest,
  url: string,
  items: BenchItem[],
): Promise<MethodResult> {
  const activityId = await startRun(service, request, 'copy');
  const client = new Client({ connectionString: url, application_name: 'ei-bench-copy' });
  await client.connect();
  try {
    const result = await measured('copy', activityId, items.length, async () => {
      const counters = new RunCounters();
      await client.query('BEGIN');
      await pipeline(
        Readable.from(copyLines(activityId, items, counters)),
        client.query(copyFrom(`COPY execution_items (${ITEM_COPY_COLUMNS}) FROM STDIN`)),
      );
      await client.query(UPDATE_COUNTERS_SQL, [activityId, ...counters.asParameters()]);
      await client.query('COMMIT');
    });
    await service.completeRun(activityId, { status: 'CompleteWithError' });
    return result;
  } finally {
    await client.end();
  }
}

/** Writes out dirty buffers, so each method starts without the other's pages left to flush. */
async function checkpoint(url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
}

async function compareRuns(url: string, serviceRun: string, copyRun: string) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    // outcome_types is a set (any order), so it is compared sorted.
    const rows = await client.query<{ differing: string }>(
      `WITH items AS (
              SELECT *, ARRAY(SELECT t FROM unnest(outcome_types) t ORDER BY t) AS types_sorted
                FROM execution_items WHERE activity_id IN ($1, $2))
       SELECT count(*) AS differing
         FROM (SELECT * FROM items WHERE activity_id = $1) s
         FULL JOIN (SELECT * FROM items WHERE activity_id = $2) c ON c.sequence = s.sequence
        WHERE (s.object_change_type, s.error_type, s.external_id_value, s.display_name, s.object_type,
               s.outcome_summary, s.error_message, s.error_stack_trace, s.outcomes, s.types_sorted)
              IS DISTINCT FROM
              (c.object_change_type, c.error_type, c.external_id_value, c.display_name, c.object_type,
               c.outcome_summary, c.error_message, c.error_stack_trace, c.outcomes, c.types_sorted)`,
      [serviceRun, copyRun],
    );
    const counters = await client.query<{ same: boolean }>(
      `SELECT (s.item_count, s.error_item_count, s.change_type_counts, s.error_type_counts, s.object_type_counts,
               s.outcome_type_counts)
              IS NOT DISTINCT FROM
              (c.item_count, c.error_item_count, c.change_type_counts, c.error_type_counts, c.object_type_counts,
               c.outcome_type_counts) AS same
         FROM activities s, activities c WHERE s.id = $1 AND c.id = $2`,
      [serviceRun, copyRun],
    );
    return {
      differingRows: Number(rows.rows[0].differing),
      countersIdentical: counters.rows[0]?.same === true,
    };
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '') as IngestionRequest;
  const database = await openDatabase(loadDatabaseSettings(process.env));
  const app = await NestFactory.createApplicationContext(IngestionModule.forRoot(database), {
    logger: ['error', 'warn'],
  });
  try {
    const service = app.get(ExecutionRunsService);
    const random = seededRandom(request.seed);
    const items = Array.from({ length: request.items }, (_, index) =>
      syntheticItem(index + 1, random, request.errorRate),
    );
    const newItems = items.map(toNewExecutionItem);
    const results: MethodResult[] = [];
    for (const method of request.order) {
      await checkpoint(database.url);
      results.push(
        method === 'service'
          ? await appendThroughService(service, request, newItems)
          : await copyDirectly(service, request, database.url, items),
      );
    }
    const byMethod = (method: IngestionMethod) => results.find((result) => result.method === method)!;
    const comparison = await compareRuns(
      database.url,
      byMethod('service').activityId,
      byMethod('copy').activityId,
    );
    const result: IngestionResult = {
      round: request.round,
      order: request.order,
      appendMethod: appendMethodFor(database),
      results,
      ...comparison,
    };
    process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
  } finally {
    await app.close();
    await database.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
