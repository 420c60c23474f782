/**
 * Reads across runs (contract §9-§11), timed in-process on the module's service (no HTTP):
 * the first page of a diff of two large runs with 1% errors, one object's history, the activity
 * list's filtered forms among 10,000 activities; then ingestion (appendItems against COPY, the
 * bench's `runIngestionRound`) with the RunReads indexes, and without the two it adds to items.
 *
 *   npx ts-node --transpile-only bench/reads.ts [--items 1000000] [--repeat 30] [--ingest 100000]
 *     [--reuse] [--report bench/results/reads.md]
 *
 * `npm run bench` runs it with its defaults: the diff of two 1,000,000-item runs among 3,000,000
 * rows. Drops and creates `ei_bench_reads_<items>` on postgres://postgres@127.0.0.1:5432
 * (`--reuse`: keeps the one a previous run loaded); prints a Markdown summary and writes it to
 * `--report`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runCli } from '../src/cli/cli-context';
import { seededRandom, syntheticItem } from '../src/demo/synthetic-items';
import { ExecutionItemsService } from '../src/execution-items/execution-items.service';
import { ExecutionRunsQueries } from '../src/execution-items/execution-runs.query';
import { prepareEach } from '../src/execution-items/new-items';
import { countersAfter, type RunCounters } from '../src/execution-items/run-counters';
import { databaseUrl, vacuumAnalyze, withClient, withServices } from './database';
import { runIngestionRound } from './ingestion';

const SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';
const ERROR_RATE = 0.01;
const SEED = 20261129;

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
}

function textOption(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1];
}

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

/** The machine's load average over 1, 5 and 15 minutes. */
function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
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
  await add('diff, first page: B against A (same errors: all StillFailing)', 50, () =>
    service.diffRuns(b, { against: a }),
  );
  await add('diff, first page: C against B (default baseline; errors on other objects)', 50, () =>
    service.diffRuns(c),
  );
  const first = await service.diffRuns(c, { pageSize: 100 });
  await add('diff, second page by cursor: C against B', 50, () =>
    service.diffRuns(c, { cursor: first.nextCursor! }),
  );
  await add('diff, change=NotSeen: C against B', 50, () => service.diffRuns(c, { change: ['NotSeen'] }));
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
  return rows;
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
    // One database per size: a smoke run never drops the full run's data.
    const database = `ei_bench_reads_${items}`;
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
    const reads = await withServices(url, (app) => measureReads(app, repeat));
    const withIndexes = await ingestion(url, ingestItems);
    await withClient(url, async (client) => {
      await client.query('DROP INDEX execution_items_object_idx');
      await client.query('DROP INDEX execution_items_object_name_idx');
    });
    const withoutIndexes = await ingestion(url, ingestItems);
    await restoreObjectIndexes(url);
    const ms = (value: number) => value.toFixed(2);
    const lines = [
      `Reads across runs: 3 runs of ${items.toLocaleString('en-US')} items (1% errors), 10,000 other runs; ${repeat} calls each, in-process service calls (no HTTP).`,
      '',
      '| read | answer | target ms | median ms | p95 ms |',
      '|---|---|---|---|---|',
      ...reads.map(
        ([name, answer, target, t]) =>
          `| ${name} | ${answer} | < ${target} | ${ms(t.median)} | ${ms(t.p95)} |`,
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
