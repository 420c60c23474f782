import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { v7 as uuidv7 } from 'uuid';
import { copyLine } from './copy-text';
import { connect, withClient } from './database';
import {
  ITEM_COPY_COLUMNS,
  RunCounters,
  UPDATE_COUNTERS_SQL,
  itemCopyLine,
  seededRandom,
  syntheticItem,
} from './items';
import type { DatasetPlan, PlannedRun } from './settings';

/** Where the dataset's clock starts: item ids are UUIDv7 one millisecond apart in load order. */
const DATASET_EPOCH_MS = Date.UTC(2026, 10, 1, 2, 0, 0);
/** Rows per string handed to the COPY stream. */
const ROWS_PER_WRITE = 1000;

export interface LoadedRun extends PlannedRun {
  id: string;
  errorItems: number;
}

export interface LoadedDataset {
  runs: LoadedRun[];
  target: LoadedRun;
  totalItems: number;
  otherActivities: number;
  /** Milliseconds of the COPY load; null when an existing dataset was reused. */
  loadMs: number | null;
}

/** A UUIDv7 for a given millisecond and counter, with the remaining bits from a seeded source. */
function deterministicUuidV7(msecs: number, seq: number, random: () => number): string {
  const bytes = new Uint8Array(16);
  for (let index = 10; index < 16; index++) bytes[index] = Math.floor(random() * 256);
  return uuidv7({ msecs, seq: seq >>> 0, random: bytes });
}

function runIds(plan: DatasetPlan): string[] {
  const random = seededRandom(plan.seed ^ 0x5eed);
  return plan.runs.map((_, index) => deterministicUuidV7(DATASET_EPOCH_MS - 60_000 + index, index, random));
}

/** Activities that are not runs (they have no items), so the table is not only runs. */
const OTHER_ACTIVITIES = [
  { targetType: 'ConnectedSystem', targetName: 'Corporate AD', minutesBefore: 30 },
  { targetType: 'Schedule', targetName: 'Nightly synchronisation', minutesBefore: 20 },
];

function activityLines(plan: DatasetPlan, ids: string[]): string {
  const random = seededRandom(plan.seed ^ 0xac7);
  const isoAt = (ms: number) => new Date(ms).toISOString();
  const runs = plan.runs.map((run, index) =>
    copyLine([
      ids[index],
      isoAt(DATASET_EPOCH_MS - 60_000 + index),
      isoAt(DATASET_EPOCH_MS + 3 * 3_600_000),
      'ConnectedSystemRunProfile',
      run.runProfileName,
      run.connectedSystemName,
      run.runType,
      plan.errorRate > 0 ? 'CompleteWithError' : 'Complete',
    ]),
  );
  const others = OTHER_ACTIVITIES.map((activity, index) => {
    const created = DATASET_EPOCH_MS - activity.minutesBefore * 60_000;
    return copyLine([
      deterministicUuidV7(created, 1000 + index, random),
      isoAt(created),
      isoAt(created + 1000),
      activity.targetType,
      activity.targetName,
      null,
      null,
      'Complete',
    ]);
  });
  return [...runs, ...others].join('');
}

interface RunCursor {
  id: string;
  run: PlannedRun;
  next: number;
  random: () => number;
  counters: RunCounters;
}

/**
 * The item rows of every run, interleaved: each run in turn writes `chunkRows` items, as runs
 * appending concurrently in batches would leave them in the table.
 */
function* interleavedItemLines(plan: DatasetPlan, cursors: RunCursor[]): Generator<string> {
  const idRandom = seededRandom(plan.seed ^ 0x1d);
  let position = 0;
  let pending = '';
  let pendingRows = 0;
  let active = cursors;
  while (active.length > 0) {
    for (const cursor of active) {
      const last = Math.min(cursor.next + plan.chunkRows - 1, cursor.run.items);
      for (let sequence = cursor.next; sequence <= last; sequence++) {
        const item = syntheticItem(sequence, cursor.random, plan.errorRate);
        cursor.counters.add(item);
        const id = deterministicUuidV7(DATASET_EPOCH_MS + position, position, idRandom);
        position += 1;
        pending += itemCopyLine(id, cursor.id, sequence, item);
        if (++pendingRows === ROWS_PER_WRITE) {
          yield pending;
          pending = '';
          pendingRows = 0;
        }
      }
      cursor.next = last + 1;
    }
    active = active.filter((cursor) => cursor.next <= cursor.run.items);
  }
  if (pending) yield pending;
}

async function copyText(
  client: Client,
  table: string,
  columns: string,
  lines: Iterable<string>,
): Promise<void> {
  await pipeline(Readable.from(lines), client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`)));
}

async function existingItemCount(client: Client, activityId: string): Promise<number | null> {
  const { rows } = await client.query<{ item_count: number }>(
    'SELECT item_count FROM activities WHERE id = $1',
    [activityId],
  );
  return rows[0]?.item_count ?? null;
}

function describe(plan: DatasetPlan, ids: string[], errorItems: number[]): LoadedDataset {
  const runs = plan.runs.map((run, index) => ({ ...run, id: ids[index], errorItems: errorItems[index] }));
  return {
    runs,
    target: runs[0],
    totalItems: plan.runs.reduce((sum, run) => sum + run.items, 0),
    otherActivities: OTHER_ACTIVITIES.length + HISTORY_ACTIVITIES,
    loadMs: null,
  };
}

/**
 * Activities without items, as a service's history holds thousands of them (schedules, settings
 * changes) beside its runs; with a handful of rows the planner would scan `activities` instead of
 * looking the run up by its key as it does in production.
 */
export const HISTORY_ACTIVITIES = 10_000;

async function insertHistory(client: Client): Promise<void> {
  await client.query(
    `INSERT INTO activities (id, created, completed, target_type, target_name, status)
     SELECT gen_random_uuid(), now() - n * interval '15 minutes', now() - n * interval '15 minutes',
            'Schedule', 'Delta synchronisation every 15 minutes', 'Complete'
       FROM generate_series(1, $1::int) AS n`,
    [HISTORY_ACTIVITIES],
  );
}

/**
 * Writes the dataset with COPY (text format) in one transaction: the activities, the items of
 * every run interleaved, then each run's counters. Reuses the dataset when the target run is
 * already there with its planned size (a database given by `BENCH_DATABASE_URL`).
 */
export async function loadDataset(
  url: string,
  plan: DatasetPlan,
  log: (line: string) => void,
): Promise<LoadedDataset> {
  const ids = runIds(plan);
  const client = await connect(url, 'ei-bench-loader');
  try {
    const existing = await existingItemCount(client, ids[0]);
    if (existing === plan.runs[0].items) {
      const { rows } = await client.query<{ error_item_count: number }>(
        'SELECT error_item_count FROM activities WHERE id = ANY($1::uuid[]) ORDER BY id',
        [ids],
      );
      log('dataset already present: reusing it');
      return describe(
        plan,
        ids,
        rows.map((row) => row.error_item_count),
      );
    }
    if (existing !== null)
      throw new Error(`the target run ${ids[0]} exists with ${existing} items: use a fresh database`);

    log(
      `loading ${plan.runs.reduce((sum, run) => sum + run.items, 0).toLocaleString('en-US')} items with COPY`,
    );
    const started = Date.now();
    const cursors: RunCursor[] = plan.runs.map((run, index) => ({
      id: ids[index],
      run,
      next: 1,
      random: seededRandom(plan.seed + index),
      counters: new RunCounters(),
    }));
    await client.query('BEGIN');
    await copyText(
      client,
      'activities',
      'id, created, completed, target_type, target_name, target_context, run_type, status',
      [activityLines(plan, ids)],
    );
    await insertHistory(client);
    await copyText(client, 'execution_items', ITEM_COPY_COLUMNS, interleavedItemLines(plan, cursors));
    for (const cursor of cursors)
      await client.query(UPDATE_COUNTERS_SQL, [cursor.id, ...cursor.counters.asParameters()]);
    await client.query('COMMIT');
    const loaded = describe(
      plan,
      ids,
      cursors.map((cursor) => cursor.counters.errorItemCount),
    );
    return { ...loaded, loadMs: Date.now() - started };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

/**
 * Checks the loaded runs against their items: counts, error counts, dense sequences 1..n,
 * counts per change type, items per outcome type (`outcome_type_counts` against the rows'
 * `outcome_types`), and on a sample `outcome_types` against the tree. Returns the problems found
 * (none expected).
 */
export async function verifyDataset(url: string, dataset: LoadedDataset): Promise<string[]> {
  return withClient(url, async (client) => {
    const ids = dataset.runs.map((run) => run.id);
    const counts = await client.query<{ id: string }>(
      `SELECT a.id
         FROM activities a
         JOIN (SELECT activity_id, count(*) AS n, count(error_type) AS errors, min(sequence) AS first, max(sequence) AS last
                 FROM execution_items WHERE activity_id = ANY($1::uuid[]) GROUP BY activity_id) i ON i.activity_id = a.id
        WHERE a.item_count <> i.n OR a.error_item_count <> i.errors OR i.first <> 1 OR i.last <> i.n`,
      [ids],
    );
    const changeTypes = await client.query<{ id: string }>(
      `SELECT a.id
         FROM activities a
        WHERE a.id = ANY($1::uuid[])
          AND a.change_type_counts IS DISTINCT FROM (
                SELECT jsonb_object_agg(object_change_type, n)
                  FROM (SELECT object_change_type, count(*) AS n FROM execution_items
                         WHERE activity_id = a.id GROUP BY object_change_type) t)`,
      [ids],
    );
    const outcomeTypes = await client.query<{ id: string }>(
      `SELECT a.id
         FROM activities a
        WHERE a.id = ANY($1::uuid[])
          AND a.outcome_type_counts IS DISTINCT FROM coalesce((
                SELECT jsonb_object_agg(type, n)
                  FROM (SELECT type, count(*) AS n FROM execution_items i, unnest(i.outcome_types) AS type
                         WHERE i.activity_id = a.id GROUP BY type) t), '{}'::jsonb)`,
      [ids],
    );
    // The column against the tree it is derived from, on every 100th item (walking all 3M trees
    // would add seconds for what the loader computes from the very tree it writes).
    const treeTypes = await client.query<{ wrong: string }>(
      `SELECT count(*) AS wrong
         FROM execution_items i
        WHERE i.activity_id = ANY($1::uuid[]) AND i.sequence % 100 = 1
          AND ARRAY(SELECT t FROM unnest(i.outcome_types) AS t ORDER BY t)
              IS DISTINCT FROM ARRAY(SELECT DISTINCT v #>> '{}' FROM jsonb_path_query(i.outcomes, 'lax $.**.type') AS v ORDER BY 1)`,
      [ids],
    );
    const wrongTrees = Number(treeTypes.rows[0].wrong);
    return [
      ...counts.rows.map((row) => `run ${row.id}: item/error counts or sequences disagree with its items`),
      ...changeTypes.rows.map((row) => `run ${row.id}: change_type_counts disagree with its items`),
      ...outcomeTypes.rows.map(
        (row) => `run ${row.id}: outcome_type_counts disagree with its items' outcome_types`,
      ),
      ...(wrongTrees > 0
        ? [`${wrongTrees} sampled items: outcome_types differ from their outcome tree`]
        : []),
    ];
  });
}
