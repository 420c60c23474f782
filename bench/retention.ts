/**
 * Retention at scale: purging the oldest third of 3,000,000 item rows (30 nightly runs of 100,000
 * items, one a day; the 10 oldest purged), two ways, on the same data:
 *
 * (a) the service's purge as built, `ExecutionRunsService.purgeRuns` (items deleted
 *     `--batch-size` sequence numbers per statement, then the activities);
 * (b) the same items in a copy of `execution_items` partitioned by the run's created day
 *     (`run_created`, copied from `activities.created`), purged with `DETACH PARTITION
 *     CONCURRENTLY` and `DROP TABLE` of the old days.
 *
 * For each: items/s, time, WAL written (`pg_current_wal_lsn` before and after: server-wide, so the
 * report also gives the WAL rate of the seconds before, when this bench wrote nothing), and the
 * latency of page reads of kept runs issued one after another while it runs, against the same
 * reads before it. Then what (a) leaves to do: the `VACUUM` of the deleted rows. And what (b)
 * costs the page index and a page read (the partition key in every unique key; a page that does
 * not name the partition probes every day's index).
 *
 *   npx ts-node --transpile-only bench/retention.ts [--items-per-run 100000] [--runs 30]
 *     [--purge-runs 10] [--batch-size 5000] [--report bench/results/retention.md] [--reuse]
 *
 * `npm run bench` runs it with these defaults (smoke: 2,000 items a run). Drops and creates
 * `ei_bench_retention` on postgres://postgres@127.0.0.1:5432 (`--reuse`: keeps the runs a previous
 * run loaded and stopped before purging, and builds the partitioned copy again).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { performance } from 'node:perf_hooks';
import { Client, Pool } from 'pg';
import { DataSource } from 'typeorm';
import { runCli } from '../src/cli/cli-context';
import { PAGE_BY_SEQUENCE_SQL } from '../src/execution-items/execution-items.query';
import { ExecutionRunsService } from '../src/execution-items/execution-runs.service';
import { databaseUrl, withClient, withServices } from './database';
import { loadDataset } from './dataset';
import type { DatasetPlan } from './settings';
import { percentile } from './stats';
import { loadAverage, option, textOption } from './arguments';

const SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'ei_bench_retention';
const PARTITIONED = 'execution_items_by_day';
/** The first run's day; run k is created on day k at 02:00 UTC. */
const FIRST_DAY_MS = Date.UTC(2025, 0, 1);
const DAY_MS = 86_400_000;
const PAGE_SIZE = 100;
/** Pause between two reads of the reader that runs beside each purge. */
const READ_PAUSE_MS = 10;
/** How long the reads before a purge (and the WAL rate of other work) are measured. */
const BEFORE_MS = 5_000;

const dayName = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');

/**
 * A page of the partitioned copy: the service's own page statement on the copy, with or without the
 * partition key (`$1` is the run).
 */
function partitionedPageSql(withPartitionKey: boolean): string {
  const from = 'FROM execution_items i';
  const join = 'WHERE i.activity_id = a.id';
  if (!PAGE_BY_SEQUENCE_SQL.includes(from) || !PAGE_BY_SEQUENCE_SQL.includes(join)) {
    throw new Error('PAGE_BY_SEQUENCE_SQL changed: update partitionedPageSql');
  }
  const onCopy = PAGE_BY_SEQUENCE_SQL.replace(from, `FROM ${PARTITIONED} i`);
  // The run's created time as an init plan: known when the scan starts, so only its day's partition is read
  // (`i.run_created = a.created` would be planned as a join, reading every day's index).
  return withPartitionKey
    ? onCopy.replace(join, `${join} AND i.run_created = (SELECT r.created FROM activities r WHERE r.id = $1)`)
    : onCopy;
}

interface Run {
  id: string;
  items: number;
  createdMs: number;
}

/** Loads the runs with the bench's loader (the module's COPY writer), then gives run k day k. */
async function load(url: string, runCount: number, itemsPerRun: number): Promise<Run[]> {
  const plan: DatasetPlan = {
    seed: 20261130,
    errorRate: 0.01,
    // Nightly runs: each written whole, one after the other.
    chunkRows: itemsPerRun,
    runs: Array.from({ length: runCount }, (_, index) => ({
      connectedSystemName: 'Corporate AD',
      runProfileName: `Nightly Synchronisation ${index % 3}`,
      runType: 'FullSynchronisation' as const,
      items: itemsPerRun,
    })),
  };
  const dataset = await withServices(
    url,
    (app) =>
      loadDataset(app, plan, (line) => console.error(line)).then(async (loaded) => {
        const runs = loaded.runs.map((run, index) => ({
          id: run.id,
          items: run.items,
          createdMs: FIRST_DAY_MS + index * DAY_MS + 2 * 3_600_000,
        }));
        await app.get(DataSource).query(
          `UPDATE activities a SET created = r.created, completed = r.created + interval '1 hour'
           FROM unnest($1::uuid[], $2::timestamptz[]) AS r(id, created) WHERE a.id = r.id`,
          [runs.map((run) => run.id), runs.map((run) => new Date(run.createdMs))],
        );
        return runs;
      }),
    // A run is one COPY of all its items: longer than the default statement timeout.
    { DATABASE_STATEMENT_TIMEOUT_MS: '0' },
  );
  return dataset;
}

/**
 * The partitioned copy: `execution_items`' columns plus `run_created`, a partition a day, every
 * index of `execution_items` as its migrations made it, the unique ones (the primary key and the
 * page index) with `run_created` added, as PostgreSQL requires of a partitioned table. Filled run
 * by run, as nightly runs arrive, with every index in place.
 */
async function buildPartitionedCopy(client: Client, runs: readonly Run[]): Promise<string[]> {
  await client.query(`DROP TABLE IF EXISTS ${PARTITIONED}`);
  await client.query(
    `CREATE TABLE ${PARTITIONED} (LIKE execution_items INCLUDING DEFAULTS, run_created timestamptz NOT NULL)
       PARTITION BY RANGE (run_created)`,
  );
  const partitions: string[] = [];
  const firstDay = Math.floor(runs[0].createdMs / DAY_MS) * DAY_MS;
  const lastDay = Math.floor(runs[runs.length - 1].createdMs / DAY_MS) * DAY_MS;
  for (let day = firstDay; day <= lastDay; day += DAY_MS) {
    const name = `${PARTITIONED}_${dayName(day)}`;
    partitions.push(name);
    await client.query(
      `CREATE TABLE ${name} PARTITION OF ${PARTITIONED}
         FOR VALUES FROM ('${new Date(day).toISOString()}') TO ('${new Date(day + DAY_MS).toISOString()}')`,
    );
  }
  const { rows } = await client.query<{ indexdef: string }>(
    `SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'execution_items' ORDER BY indexname`,
  );
  for (const { indexdef } of rows) {
    let definition = indexdef.replace(
      /^CREATE (UNIQUE )?INDEX (\S+) ON public\.execution_items /,
      `CREATE $1INDEX $2_by_day ON public.${PARTITIONED} `,
    );
    if (indexdef.startsWith('CREATE UNIQUE')) {
      // The key columns of a unique index on a partitioned table must include the partition key.
      definition = definition.replace(/USING btree \(([^()]*)\)/, 'USING btree ($1, run_created)');
    }
    await client.query(definition);
  }
  for (const run of runs) {
    await client.query(
      `INSERT INTO ${PARTITIONED}
       SELECT i.*, a.created FROM execution_items i JOIN activities a ON a.id = i.activity_id
        WHERE i.activity_id = $1 ORDER BY i.sequence`,
      [run.id],
    );
  }
  await client.query(`VACUUM ANALYZE ${PARTITIONED}`);
  return partitions;
}

interface Sizes {
  tableBytes: number;
  indexBytes: number;
  pageIndexBytes: number;
}

async function sizes(client: Client): Promise<{ plain: Sizes; partitioned: Sizes }> {
  const { rows } = await client.query<{ plain: Sizes; partitioned: Sizes }>(
    `SELECT json_build_object(
              'tableBytes', pg_table_size('execution_items'),
              'indexBytes', pg_indexes_size('execution_items'),
              'pageIndexBytes', pg_relation_size('execution_items_activity_sequence_key')) AS plain,
            json_build_object(
              'tableBytes', (SELECT sum(pg_table_size(relid)) FROM pg_partition_tree('${PARTITIONED}') WHERE isleaf),
              'indexBytes', (SELECT sum(pg_indexes_size(relid)) FROM pg_partition_tree('${PARTITIONED}') WHERE isleaf),
              'pageIndexBytes', (SELECT sum(pg_relation_size(relid)) FROM pg_partition_tree('execution_items_activity_sequence_key_by_day') WHERE isleaf)
            ) AS partitioned`,
  );
  const toNumbers = (value: Sizes): Sizes => ({
    tableBytes: Number(value.tableBytes),
    indexBytes: Number(value.indexBytes),
    pageIndexBytes: Number(value.pageIndexBytes),
  });
  return { plain: toNumbers(rows[0].plain), partitioned: toNumbers(rows[0].partitioned) };
}

/**
 * A page read's buffers, execution and planning time (each time the best of 5), from EXPLAIN
 * (ANALYZE, BUFFERS): an unnamed statement is planned at every execution, and planning a
 * partitioned table weighs every partition and its indexes.
 */
async function pagePlan(client: Client, sql: string, params: unknown[]) {
  const best = { buffers: 0, ms: Infinity, planningMs: Infinity };
  for (let i = 0; i < 5; i++) {
    const { rows } = await client.query<{
      'QUERY PLAN': Array<{
        Plan: Record<string, number>;
        'Execution Time': number;
        'Planning Time': number;
      }>;
    }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, params);
    const [plan] = rows[0]['QUERY PLAN'];
    if (plan['Execution Time'] < best.ms) {
      best.ms = plan['Execution Time'];
      best.buffers = plan.Plan['Shared Hit Blocks'] + plan.Plan['Shared Read Blocks'];
    }
    best.planningMs = Math.min(best.planningMs, plan['Planning Time']);
  }
  return best;
}

async function walLsn(client: Client): Promise<string> {
  return (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn;
}

async function walBytesSince(client: Client, lsn: string): Promise<number> {
  const { rows } = await client.query<{ bytes: string }>(
    'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint AS bytes',
    [lsn],
  );
  return Number(rows[0].bytes);
}

/**
 * Page reads of the kept runs, one after another with a short pause, on a pool of their own,
 * while `work` runs; their times in ms (the reads still in flight when `work` ends included).
 */
async function readWhile<T>(
  pool: Pool,
  sql: string,
  runs: readonly Run[],
  work: () => Promise<T>,
): Promise<{ result: T; readsMs: number[] }> {
  const readsMs: number[] = [];
  let done = false;
  let turn = 0;
  const reader = (async () => {
    while (!done) {
      const run = runs[turn % runs.length];
      // Pages spread over each run: every 7th page, from the first to the last.
      const pages = Math.ceil(run.items / PAGE_SIZE);
      const offset = ((turn * 7) % pages) * PAGE_SIZE;
      turn++;
      const started = performance.now();
      const { rows } = await pool.query(sql, [run.id, offset, PAGE_SIZE]);
      readsMs.push(performance.now() - started);
      if (rows.length !== Math.min(PAGE_SIZE, run.items - offset)) {
        throw new Error(`a page of kept run ${run.id} had ${rows.length} rows`);
      }
      await new Promise((resolveSleep) => setTimeout(resolveSleep, READ_PAUSE_MS));
    }
  })();
  try {
    const result = await work();
    return { result, readsMs };
  } finally {
    done = true;
    await reader;
  }
}

const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

/** The reads and the WAL rate of the `BEFORE_MS` before a purge, when this bench writes nothing. */
async function before(client: Client, pool: Pool, sql: string, kept: readonly Run[]) {
  const lsn = await walLsn(client);
  const started = performance.now();
  const { readsMs } = await readWhile(pool, sql, kept, () => sleep(BEFORE_MS));
  const seconds = (performance.now() - started) / 1000;
  return { readsMs, otherWalBytesPerSecond: (await walBytesSince(client, lsn)) / seconds };
}

runCli(
  async () => {
    const itemsPerRun = option('items-per-run', 100_000);
    const runCount = option('runs', 30);
    const purgeRuns = option('purge-runs', 10);
    const batchSize = option('batch-size', 5_000);
    const reportPath = textOption('report', 'bench/results/retention.md');
    const url = databaseUrl(SERVER, DATABASE);
    const loads: string[] = [`start ${loadAverage()}`];

    if (!process.argv.includes('--reuse')) {
      await withClient(SERVER, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
        await client.query(`CREATE DATABASE ${DATABASE}`);
      });
    }
    let started = performance.now();
    const runs = await load(url, runCount, itemsPerRun);
    const loadSeconds = (performance.now() - started) / 1000;
    console.error(`loaded ${runCount * itemsPerRun} items in ${loadSeconds.toFixed(0)} s`);
    const old = runs.slice(0, purgeRuns);
    const kept = runs.slice(purgeRuns);
    const cutoff = new Date(Math.floor(kept[0].createdMs / DAY_MS) * DAY_MS);
    const removed = old.reduce((sum, run) => sum + run.items, 0);

    const client = new Client({ connectionString: url });
    await client.connect();
    const pool = new Pool({ connectionString: url, max: 2 });
    try {
      const settings = (
        await client.query<{ version: string; autovacuum: string; shared_buffers: string }>(
          `SELECT current_setting('server_version') AS version, current_setting('autovacuum') AS autovacuum,
                  current_setting('shared_buffers') AS shared_buffers`,
        )
      ).rows[0];
      started = performance.now();
      const partitions = await buildPartitionedCopy(client, runs);
      const copySeconds = (performance.now() - started) / 1000;
      await client.query('VACUUM ANALYZE execution_items');
      await client.query('VACUUM ANALYZE activities');
      loads.push(`after load and copy ${loadAverage()}`);
      const sizesBefore = await sizes(client);

      // What a page costs: the middle page of a kept run, on each table.
      const middle = kept[Math.floor(kept.length / 2)];
      const pageParams = [middle.id, Math.floor(middle.items / PAGE_SIZE / 2) * PAGE_SIZE, PAGE_SIZE];
      const pages = {
        plain: await pagePlan(client, PAGE_BY_SEQUENCE_SQL, pageParams),
        pinned: await pagePlan(client, partitionedPageSql(true), pageParams),
        unpinned: await pagePlan(client, partitionedPageSql(false), pageParams),
      };

      // (b) DETACH PARTITION CONCURRENTLY + DROP TABLE of the old days, on the partitioned copy.
      const oldPartitions = partitions.filter((name) => name < `${PARTITIONED}_${dayName(cutoff.getTime())}`);
      await client.query('CHECKPOINT');
      const partitionedBefore = await before(client, pool, partitionedPageSql(true), kept);
      loads.push(`before the partition purge ${loadAverage()}`);
      const lsn = await walLsn(client);
      started = performance.now();
      const dropped = await readWhile(pool, partitionedPageSql(true), kept, async () => {
        for (const name of oldPartitions) {
          await client.query(`ALTER TABLE ${PARTITIONED} DETACH PARTITION ${name} CONCURRENTLY`);
          await client.query(`DROP TABLE ${name}`);
        }
      });
      const dropSeconds = (performance.now() - started) / 1000;
      const dropWal = await walBytesSince(client, lsn);
      loads.push(`after the partition purge ${loadAverage()}`);

      // (a) the service's purge, on execution_items, timed from the call (the application context is up).
      const { plainBefore, purged, purgeSeconds, purgeWal } = await withServices(url, async (app) => {
        const service = app.get(ExecutionRunsService);
        await client.query('CHECKPOINT');
        const readsBefore = await before(client, pool, PAGE_BY_SEQUENCE_SQL, kept);
        loads.push(`before the service's purge ${loadAverage()}`);
        const lsnBefore = await walLsn(client);
        const startedAt = performance.now();
        const reads = await readWhile(pool, PAGE_BY_SEQUENCE_SQL, kept, () =>
          service.purgeRuns({ olderThanDays: 0, batchSize, now: cutoff }),
        );
        return {
          plainBefore: readsBefore,
          purged: reads,
          purgeSeconds: (performance.now() - startedAt) / 1000,
          purgeWal: await walBytesSince(client, lsnBefore),
        };
      });
      if (purged.result.items !== removed || purged.result.activities !== purgeRuns) {
        throw new Error(`the purge removed ${purged.result.items} items of ${purged.result.activities} runs`);
      }
      loads.push(`after the service's purge ${loadAverage()}`);
      // What the deletes leave: the dead rows, until VACUUM removes them from the heap and every index.
      const vacuumLsn = await walLsn(client);
      started = performance.now();
      await client.query('VACUUM execution_items');
      const vacuumSeconds = (performance.now() - started) / 1000;
      const vacuumWal = await walBytesSince(client, vacuumLsn);
      loads.push(`after VACUUM ${loadAverage()}`);
      const sizesAfter = await sizes(client);

      const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(0)} MB`;
      const ms = (value: number) => value.toFixed(2);
      const p95 = (samples: number[]) => ms(percentile(samples, 95));
      const page = (plan: { buffers: number; ms: number; planningMs: number }) =>
        `${plan.buffers}, ${ms(plan.ms)}, ${ms(plan.planningMs)}`;
      const times = (value: number) => value.toFixed(value < 10 ? 2 : 0);
      const rate = (seconds: number) => Math.round(removed / seconds).toLocaleString('en-US');
      const lines = [
        `${(runCount * itemsPerRun).toLocaleString('en-US')} item rows: ${runCount} runs of ${itemsPerRun.toLocaleString('en-US')} items, one a day; the ${purgeRuns} oldest (${removed.toLocaleString('en-US')} items, the oldest third) purged. ${process.argv.includes('--reuse') ? 'Loaded by an earlier run (`--reuse`)' : `Loaded in ${loadSeconds.toFixed(0)} s`}; the partitioned copy (${partitions.length} day partitions, every index) built in ${copySeconds.toFixed(0)} s.`,
        '',
        '| | (a) service purge, batched DELETE | (b) DETACH CONCURRENTLY + DROP TABLE | (a) ÷ (b) |',
        '|---|---|---|---|',
        `| time | ${purgeSeconds.toFixed(2)} s | ${dropSeconds.toFixed(2)} s | ${times(purgeSeconds / dropSeconds)} |`,
        `| items/s | ${rate(purgeSeconds)} | ${rate(dropSeconds)} | |`,
        `| statements | ${Math.ceil(itemsPerRun / batchSize) * purgeRuns} DELETEs of up to ${batchSize.toLocaleString('en-US')} items, ${2 * purgeRuns + 2} others | ${2 * oldPartitions.length} (a DETACH and a DROP per day) | |`,
        `| WAL written (server-wide) | ${mb(purgeWal)} | ${(dropWal / 1024).toFixed(0)} kB | ${times(purgeWal / Math.max(dropWal, 1))} |`,
        `| WAL rate of other work before (bytes/s) | ${Math.round(plainBefore.otherWalBytesPerSecond).toLocaleString('en-US')} | ${Math.round(partitionedBefore.otherWalBytesPerSecond).toLocaleString('en-US')} | |`,
        `| page reads of kept runs during: count, p95 ms | ${purged.readsMs.length}, ${p95(purged.readsMs)} | ${dropped.readsMs.length}, ${p95(dropped.readsMs)} | |`,
        `| the same reads before: count, p95 ms | ${plainBefore.readsMs.length}, ${p95(plainBefore.readsMs)} | ${partitionedBefore.readsMs.length}, ${p95(partitionedBefore.readsMs)} | |`,
        `| left to do | VACUUM of the dead rows: ${vacuumSeconds.toFixed(1)} s, ${mb(vacuumWal)} of WAL | nothing | |`,
        `| table + indexes before → after | ${mb(sizesBefore.plain.tableBytes + sizesBefore.plain.indexBytes)} → ${mb(sizesAfter.plain.tableBytes + sizesAfter.plain.indexBytes)} (space kept for reuse, not returned) | ${mb(sizesBefore.partitioned.tableBytes + sizesBefore.partitioned.indexBytes)} → ${mb(sizesAfter.partitioned.tableBytes + sizesAfter.partitioned.indexBytes)} (files removed) | |`,
        '',
        'What partitioning costs, measured before the purges:',
        '',
        '| | execution_items | partitioned by day |',
        '|---|---|---|',
        `| table | ${mb(sizesBefore.plain.tableBytes)} | ${mb(sizesBefore.partitioned.tableBytes)} |`,
        `| indexes | ${mb(sizesBefore.plain.indexBytes)} | ${mb(sizesBefore.partitioned.indexBytes)} |`,
        `| page index (activity_id, sequence[, run_created]) INCLUDE (list columns) | ${mb(sizesBefore.plain.pageIndexBytes)} | ${mb(sizesBefore.partitioned.pageIndexBytes)} |`,
        `| middle page of a kept run (pageSize 100): buffers, execution ms, planning ms (best of 5) | ${page(pages.plain)} | with the partition key: ${page(pages.pinned)}; without: ${page(pages.unpinned)} |`,
      ];
      const report = [
        '# Retention at scale (bench/retention.ts)',
        '',
        `Run ${new Date().toISOString()}, PostgreSQL ${settings.version} on 127.0.0.1 (shared_buffers ${settings.shared_buffers}, autovacuum ${settings.autovacuum}), database \`${DATABASE}\`; machine load average (1, 5, 15 min): ${loads.join('; ')}.`,
        `Command: \`npx ts-node --transpile-only ${['bench/retention.ts', ...process.argv.slice(2)].join(' ')}\``,
        '',
        ...lines,
        '',
        'WAL is the server-wide `pg_current_wal_lsn()` difference: other databases on the server write into it too (their rate in the seconds before is given). Reads: `PAGE_BY_SEQUENCE_SQL` (on the copy: the same statement on the partitioned table, with `i.run_created = (SELECT r.created FROM activities r WHERE r.id = $1)` so that only the run’s day is read), one after another with a 10 ms pause, pages spread over the kept runs; each purge starts after a `CHECKPOINT`.',
        '',
      ].join('\n');
      // Formatted by the project's prettier, as run.ts writes its report, so `prettier --check bench` stays clean.
      const path = resolve(__dirname, '..', reportPath);
      writeFileSync(path, await format(report, { ...((await resolveConfig(path)) ?? {}), filepath: path }));
      console.log(lines.join('\n'));
    } finally {
      await pool.end();
      await client.end();
    }
  },
  (error) => (error instanceof Error ? (error.stack ?? error.message) : String(error)),
);
