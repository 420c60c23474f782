/**
 * Reads across runs (contract §9-§11), timed in-process on the module's service (no HTTP):
 * storing the diffs of two large runs with 1% errors against their default baselines (what a
 * completion queues, `StoredDiffs.store`), the first page of those diffs from the stored copies
 * and computed (`against=`), with EXPLAIN (ANALYZE, BUFFERS) of each statement, one object's
 * history, the activity list's filtered forms among 10,000 activities; then ingestion
 * (appendItems against COPY, the bench's `runIngestionRound`) with the RunReads indexes, and
 * without the two it adds to items.
 *
 *   npx ts-node --transpile-only bench/reads.ts [--items 1000000] [--repeat 30] [--ingest 100000]
 *     [--database ei_bench_reads] [--reuse] [--report bench/results/reads.md]
 *
 * `npm run bench` runs it with its defaults: the diff of two 1,000,000-item runs among 3,000,000
 * rows. Drops and creates `--database` (default `ei_bench_reads_<items>`, one database per size,
 * so a smoke run never drops the full run's data) on postgres://postgres@127.0.0.1:5432
 * (`--reuse`: keeps the one a previous run loaded); prints a Markdown summary and writes it to
 * `--report`.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { INestApplicationContext } from '@nestjs/common';
import type { Client } from 'pg';
import { DataSource, type EntityManager } from 'typeorm';
import { runCli } from '../src/cli/cli-context';
import { seededRandom, syntheticItem } from '../src/demo/synthetic-items';
import { ExecutionItemsService } from '../src/execution-items/execution-items.service';
import { ExecutionRunsQueries } from '../src/execution-items/execution-runs.query';
import { prepareEach } from '../src/execution-items/new-items';
import type { ReadPool, ReadStatement } from '../src/execution-items/read-connections';
import { countersAfter, type RunCounters } from '../src/execution-items/run-counters';
import { RunHistoryQueries } from '../src/execution-items/run-history.query';
import { StoredDiffs } from '../src/execution-items/stored-diffs';
import { StoredDiffsQueries } from '../src/execution-items/stored-diffs.query';
import { DIFF_CHANGES } from '../src/execution-items/vocabulary';
import { databaseUrl, vacuumAnalyze, withClient, withServices } from './database';
import { runIngestionRound } from './ingestion';
import { loadAverage, option, textOption } from './arguments';

const SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';
const ERROR_RATE = 0.01;
const SEED = 20261129;

/** Three runs of one profile, an hour apart: B repeats A exactly (same seed), C differs (another seed). */
const RUNS = [
  { id: '0b0e0000-0000-4000-8000-00000000000a', seed: SEED, hour: 1 },
  { id: '0b0e0000-0000-4000-8000-00000000000b', seed: SEED, hour: 2 },
  { id: '0b0e0000-0000-4000-8000-00000000000c', seed: SEED + 1, hour: 3 },
];

async function load(app: INestApplicationContext, items: number): Promise<void> {
  const dataSource = app.get(DataSource);
  const queries = app.get(ExecutionRunsQueries);
  await dataSource.transaction(async (manager) => {
    for (const run of RUNS) {
      await manager.query(
        `INSERT INTO activities (id, created, completed, target_type, target_name, target_context, run_type, status)
         VALUES ($1, timestamptz '2026-11-28' + $2 * interval '1 hour', timestamptz '2026-11-28' + $2 * interval '1 hour' + interval '50 minutes',
                 'ConnectedSystemRunProfile', 'Full Synchronisation', 'Corporate AD', 'FullSynchronisation', 'CompleteWithError')`,
        [run.id, run.hour],
      );
      const random = seededRandom(run.seed);
      let counters: RunCounters = (await queries.lockRun(manager, run.id))!;
      for (let written = 0; written < items;) {
        const batch = Array.from({ length: Math.min(5000, items - written) }, (_, index) =>
          syntheticItem(written + index + 1, random, ERROR_RATE),
        );
        const result = await queries.copyItems(manager, run.id, written, prepareEach(batch));
        counters = countersAfter(counters, result.items);
        written += result.items.length;
      }
      await queries.saveCounters(manager, run.id, counters);
    }
    // 10,000 runs over 35 days: 20 systems × 5 profiles, one in ten with errors.
    await manager.query(`
      INSERT INTO activities (id, created, completed, target_type, target_name, target_context, run_type, status, item_count, error_item_count)
      SELECT md5('run' || n)::uuid,
             timestamptz '2026-09-01' + n * interval '5 minutes',
             timestamptz '2026-09-01' + n * interval '5 minutes' + interval '1 minute',
             'ConnectedSystemRunProfile',
             (ARRAY['Full Import','Delta Import','Full Synchronisation','Delta Synchronisation','Export'])[n % 5 + 1],
             'System ' || (n / 5 % 20),
             (ARRAY['FullImport','DeltaImport','FullSynchronisation','DeltaSynchronisation','Export']::run_type[])[n % 5 + 1],
             CASE WHEN n % 10 = 0 THEN 'CompleteWithError' ELSE 'Complete' END::activity_status,
             1000, CASE WHEN n % 10 = 0 THEN 10 ELSE 0 END
        FROM generate_series(1, 10000) AS n`);
  });
}

/** The RunReads item indexes, as its migration makes them (the ingestion rounds drop them). */
async function restoreObjectIndexes(url: string): Promise<void> {
  await withClient(url, async (client) => {
    await client.query(
      'CREATE INDEX IF NOT EXISTS execution_items_object_idx ON execution_items (external_id_value, activity_id, sequence) WHERE external_id_value IS NOT NULL',
    );
    await client.query(
      'CREATE INDEX IF NOT EXISTS execution_items_object_name_idx ON execution_items (lower(display_name)) WHERE display_name IS NOT NULL',
    );
  });
}

async function serverVersion(url: string): Promise<string> {
  return withClient(
    url,
    async (client) =>
      (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0].v,
  );
}

/** Median and 95th percentile in ms of `repeat` calls, after 3 unmeasured ones. */
async function time(repeat: number, call: () => Promise<unknown>) {
  for (let i = 0; i < 3; i++) await call();
  const samples: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { median: at(0.5), p95: at(0.95) };
}

async function measureReads(app: INestApplicationContext, repeat: number) {
  const service = app.get(ExecutionItemsService);
  const [a, b, c] = RUNS.map((run) => run.id);
  const rows: Array<[string, string, number, { median: number; p95: number }]> = [];
  const add = async (name: string, target: number, call: () => Promise<{ totalCount: number }>) => {
    const { totalCount } = await call();
    rows.push([name, `${totalCount} rows`, target, await time(repeat, call)]);
  };
  const loadDuringDiffs = loadAverage();
  // The default-baseline diffs, from the copies the stores left (see measureStores).
  await add(
    'diff, first page with counts: B, default baseline A, stored (same errors: all StillFailing)',
    50,
    () => service.diffRuns(b),
  );
  await add('diff, first page with counts: C, default baseline B, stored (errors on other objects)', 50, () =>
    service.diffRuns(c),
  );
  const first = await service.diffRuns(c, { pageSize: 100 });
  await add('diff, second page by cursor: C, stored', 50, () =>
    service.diffRuns(c, { cursor: first.nextCursor! }),
  );
  await add('diff, change=NotSeen: C, stored', 50, () => service.diffRuns(c, { change: ['NotSeen'] }));
  await add('diff, page 100 by number (offset 2,475): C, stored', 50, () =>
    service.diffRuns(c, { page: 100 }),
  );
  // Computed: against= a run with no copy for the pair; for the same pairs, their copies set aside.
  await add('diff, first page with counts: C against=A, computed', 50, () =>
    service.diffRuns(c, { against: a }),
  );
  await withoutCopies(app, [b, c], async () => {
    await add('diff, first page with counts: B against=A, computed (no copy)', 50, () =>
      service.diffRuns(b, { against: a }),
    );
    await add('diff, first page with counts: C against=B, computed (no copy)', 50, () =>
      service.diffRuns(c, { against: b }),
    );
  });
  await add('object history, externalIdValue (a user in the three runs)', 10, () =>
    service.objectHistory({ externalIdValue: 'E100042' }),
  );
  const someone = (await service.listItems(c, { pageSize: 1 })).items[0].displayName!;
  await add(`object history, displayName=${someone.toUpperCase()} (a common name)`, 10, () =>
    service.objectHistory({ displayName: someone.toUpperCase() }),
  );
  const lists: Array<[string, Parameters<ExecutionItemsService['listActivities']>[0]]> = [
    ['activities, connectedSystemName', { connectedSystemName: ['System 7'] }],
    [
      'activities, connectedSystemName + runProfileName + runType',
      { connectedSystemName: ['System 7'], runProfileName: ['Export'], runType: ['Export'] },
    ],
    ['activities, runProfileName', { runProfileName: ['Export'] }],
    ['activities, runType', { runType: ['DeltaImport'] }],
    ['activities, createdFrom/createdTo (one day)', { createdFrom: '2026-09-10', createdTo: '2026-09-11' }],
    ['activities, hasErrors=true', { hasErrors: true }],
    ['activities, unfiltered', {}],
  ];
  for (const [name, request] of lists) await add(name, 5, () => service.listActivities(request));
  const page = await service.listActivities({ hasErrors: true, pageSize: 100 });
  await add('activities, hasErrors=true, next page by cursor', 5, () =>
    service.listActivities({ cursor: page.nextCursor! }),
  );
  return { rows, loadDuringDiffs };
}

/** Runs `work` without the stored diffs of `runIds`, which are stored again after. */
async function withoutCopies(app: INestApplicationContext, runIds: string[], work: () => Promise<void>) {
  await app.get(DataSource).query('DELETE FROM run_diffs WHERE run_id = ANY($1)', [runIds]);
  try {
    await work();
  } finally {
    for (const runId of runIds) await app.get(StoredDiffs).store(runId);
    await app.get(DataSource).query('VACUUM ANALYZE run_diffs, run_diff_rows');
  }
}

/**
 * What storing a diff costs at completion: `StoredDiffs.store` (the transaction a completion
 * queues: lock, baseline, compute, insert) of B and of C, `repeat` times each after deleting the
 * copy; the copies stay for the reads.
 */
async function measureStores(app: INestApplicationContext, items: number, repeat: number) {
  const dataSource = app.get(DataSource);
  const storedDiffs = app.get(StoredDiffs);
  const [, b, c] = RUNS.map((run) => run.id);
  const results: Array<[string, number, { median: number; p95: number }]> = [];
  const size = items.toLocaleString('en-US');
  for (const [name, runId] of [
    [`B (${size} items) against A`, b],
    [`C (${size} items) against B`, c],
  ] as const) {
    const samples: number[] = [];
    let objects = 0;
    for (let i = 0; i < repeat; i++) {
      await dataSource.query('DELETE FROM run_diffs WHERE run_id = $1', [runId]);
      const result = await storedDiffs.store(runId);
      if (result.outcome !== 'stored')
        throw new Error(`the diff of ${runId} was not stored: ${result.outcome}`);
      objects = result.counts!.reduce((sum, count) => sum + count, 0);
      samples.push(result.durationMs);
    }
    samples.sort((x, y) => x - y);
    const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
    results.push([name, objects, { median: at(0.5), p95: at(0.95) }]);
  }
  await dataSource.query('VACUUM ANALYZE run_diffs, run_diff_rows');
  return results;
}

interface PlanNode {
  'Shared Hit Blocks': number;
  'Shared Read Blocks': number;
  'Shared Dirtied Blocks'?: number;
  'Shared Written Blocks'?: number;
}

interface Explained {
  name: string;
  executionMs: number;
  planningMs: number;
  hit: number;
  read: number;
}

/**
 * A pool that runs each statement under EXPLAIN (ANALYZE, BUFFERS) on `client`, keeps the figures,
 * then runs it again for its rows (so the caller goes on as usual).
 */
function explainingPool(client: Client, name: string, plans: Explained[], rerun = true): ReadPool {
  const query = async <R>(statement: ReadStatement, values?: unknown[]) => {
    const text = typeof statement === 'string' ? statement : statement.text;
    const params = typeof statement === 'string' ? values : statement.values;
    const { rows } = await client.query<{
      'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number; 'Planning Time': number }>;
    }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, params);
    const [plan] = rows[0]['QUERY PLAN'];
    plans.push({
      name,
      executionMs: plan['Execution Time'],
      planningMs: plan['Planning Time'],
      hit: plan.Plan['Shared Hit Blocks'],
      read: plan.Plan['Shared Read Blocks'],
    });
    return { rows: rerun ? ((await client.query(text, params)).rows as R[]) : [] };
  };
  return { query, connect: () => Promise.reject(new Error('not used')) };
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of the diff statements the reads above run (the module's own query
 * classes on an explaining pool): buffers do not depend on the machine's load. Each is run
 * twice first, so the figures are those of a warm cache, as the timed reads are.
 */
async function explainDiffs(app: INestApplicationContext, url: string): Promise<Explained[]> {
  const history = app.get(RunHistoryQueries);
  const storeQueries = app.get(StoredDiffsQueries);
  const [a, b, c] = RUNS.map((run) => run.id);
  const first = { offset: '0' };
  const explained: Explained[] = [];
  await withClient(url, async (client) => {
    const explain = async (name: string, work: (pool: ReadPool) => Promise<unknown>, rerun = true) => {
      const plans: Explained[] = [];
      for (let i = 0; i < 3; i++) {
        plans.length = 0;
        await work(explainingPool(client, name, plans, rerun));
      }
      explained.push(...plans);
    };
    await explain('stored first page with counts: C (default baseline B)', (pool) =>
      history.pageStoredDiff(pool, c, b, DIFF_CHANGES, first, 25),
    );
    await explain('stored page 100 by number: C', (pool) =>
      history.pageStoredDiff(pool, c, b, DIFF_CHANGES, { offset: '2475' }, 25),
    );
    await explain('computed first page with counts: C against B', (pool) =>
      history.pageDiff(pool, c, b, DIFF_CHANGES, first, 25),
    );
    await explain('computed first page with counts: B against A', (pool) =>
      history.pageDiff(pool, b, a, DIFF_CHANGES, first, 25),
    );
    // The store's statement (EXPLAIN ANALYZE runs it), in a transaction rolled back: the copy stays.
    await client.query('BEGIN');
    try {
      await client.query('DELETE FROM run_diffs WHERE run_id = $1', [c]);
      await explain(
        'store: compute and insert C against B (rolled back)',
        async (pool) => {
          // Settings (SET LOCAL) are run, not explained.
          const manager = {
            query: async (sql: string, values?: unknown[]) =>
              sql.startsWith('SET ') ? (await client.query(sql)).rows : (await pool.query(sql, values)).rows,
          };
          await client.query('SAVEPOINT store');
          await storeQueries.insertDiff(manager as unknown as EntityManager, c, b);
          await client.query('ROLLBACK TO SAVEPOINT store');
        },
        false,
      );
    } finally {
      await client.query('ROLLBACK');
    }
  });
  return explained;
}

async function ingestion(url: string, items: number) {
  const rounds: string[] = [];
  for (const round of [1, 2]) {
    const result = await runIngestionRound(url, {
      round,
      items,
      batchSize: 1000,
      seed: SEED + round,
      errorRate: ERROR_RATE,
    });
    const rate = (method: string) => result.results.find((entry) => entry.method === method)!.rowsPerSecond;
    rounds.push(
      `${(rate('service') / rate('copy')).toFixed(3)} (appendItems ${rate('service').toFixed(0)} rows/s, COPY ${rate('copy').toFixed(0)} rows/s)`,
    );
  }
  return rounds;
}

runCli(
  async () => {
    const items = option('items', 1_000_000);
    const repeat = option('repeat', 30);
    const ingestItems = option('ingest', 100_000);
    // One database per size by default: a smoke run never drops the full run's data.
    const database = textOption('database', `ei_bench_reads_${items}`);
    if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error('--database must be a plain lower-case name');
    const url = databaseUrl(SERVER, database);
    const loadBefore = loadAverage();
    if (process.argv.includes('--reuse')) {
      // A run stopped during its ingestion may have left the two indexes dropped.
      await restoreObjectIndexes(url);
    } else {
      await withClient(SERVER, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        await client.query(`CREATE DATABASE ${database}`);
      });
      const started = Date.now();
      await withServices(url, (app) => load(app, items));
      console.error(`loaded ${3 * items} items in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
    await vacuumAnalyze(url);
    const { stores, reads, loadDuringDiffs, plans } = await withServices(url, async (app) => {
      const loadBeforeStores = loadAverage();
      const storeTimes = await measureStores(app, items, 5);
      const measured = await measureReads(app, repeat);
      return {
        stores: { loadBefore: loadBeforeStores, times: storeTimes },
        reads: measured.rows,
        loadDuringDiffs: measured.loadDuringDiffs,
        plans: await explainDiffs(app, url),
      };
    });
    const withIndexes = await ingestion(url, ingestItems);
    await withClient(url, async (client) => {
      await client.query('DROP INDEX execution_items_object_idx');
      await client.query('DROP INDEX execution_items_object_name_idx');
    });
    const withoutIndexes = await ingestion(url, ingestItems);
    await restoreObjectIndexes(url);
    const ms = (value: number) => value.toFixed(2);
    const lines = [
      `Reads across runs: 3 runs of ${items.toLocaleString('en-US')} items (1% errors), 10,000 other runs; ${repeat} calls each, in-process service calls (no HTTP). Load average when the diff reads began: ${loadDuringDiffs}.`,
      '',
      `Storing a diff at completion (\`StoredDiffs.store\`: the background transaction a completion queues; lock, baseline, compute, insert), 5 times each after deleting the copy; load average before: ${stores.loadBefore}:`,
      '',
      '| run | objects | median ms | p95 ms |',
      '|---|---|---|---|',
      ...stores.times.map(
        ([name, objects, t]) => `| ${name} | ${objects} | ${ms(t.median)} | ${ms(t.p95)} |`,
      ),
      '',
      '| read | answer | target ms | median ms | p95 ms |',
      '|---|---|---|---|---|',
      ...reads.map(
        ([name, answer, target, t]) =>
          `| ${name} | ${answer} | < ${target} | ${ms(t.median)} | ${ms(t.p95)} |`,
      ),
      '',
      'EXPLAIN (ANALYZE, BUFFERS) of the diff statements (warm cache; shared buffers of the whole statement):',
      '',
      '| statement | execution ms | planning ms | shared hit | shared read |',
      '|---|---|---|---|---|',
      ...plans.map(
        (plan) =>
          `| ${plan.name} | ${ms(plan.executionMs)} | ${ms(plan.planningMs)} | ${plan.hit} | ${plan.read} |`,
      ),
      '',
      `Ingestion of ${ingestItems.toLocaleString('en-US')} items, appendItems rows/s ÷ COPY rows/s (target ≥ 0.8), rounds in ABBA order:`,
      `- with the RunReads item indexes: ${withIndexes.join('; ')}`,
      `- without them (dropped): ${withoutIndexes.join('; ')}`,
    ];
    const report = [
      '# Reads across runs (bench/reads.ts)',
      '',
      `Run ${new Date().toISOString()}, PostgreSQL ${await serverVersion(url)} on 127.0.0.1; machine load average before / after: ${loadBefore} / ${loadAverage()}.`,
      `Command: \`npx ts-node --transpile-only bench/reads.ts ${process.argv.slice(2).join(' ')}\``,
      '',
      ...lines,
      '',
    ].join('\n');
    writeFileSync(resolve(__dirname, '..', textOption('report', 'bench/results/reads.md')), report);
    console.log(lines.join('\n'));
  },
  (error) => (error instanceof Error ? (error.stack ?? error.message) : String(error)),
);
