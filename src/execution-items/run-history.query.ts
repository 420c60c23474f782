import { Injectable } from '@nestjs/common';
import {
  ACTIVITY_COLUMNS,
  toActivityFields,
  type ActivityRow,
  type ActivityWithKey,
} from './execution-items.query';
import { SqlParameters } from './item-sql';
import type { PagePosition } from './paging';
import type { ReadPool } from './read-connections';
import type { ObjectHistoryRow } from './responses/object-history.response';
import type { DiffRow } from './responses/run-diff.response';
import { EXACT_UTC } from './run-filters';
import { DIFF_CHANGES, RUN_PROFILE_TARGET_TYPE, type DiffChange } from './vocabulary';

/** Which items of one object to list across runs; at least one of the first two is given. */
export interface ObjectHistoryFilters {
  /** Exact. */
  externalIdValue?: string;
  /** Case-insensitive (lower-cased on both sides), otherwise exact. */
  displayName?: string;
  connectedSystemName?: readonly string[];
  hasError?: boolean;
  /** ISO 8601 UTC, as `parseTimestamp` writes it: the run was created at or after. */
  createdFrom?: string;
  /** The run was created before. */
  createdTo?: string;
}

/** Where a statement runs: a read's pool, or (to store a diff) the primary's transaction. */
export type Statements = Pick<ReadPool, 'query'>;

/** A page of a diff (up to `limit + 1` rows) and the objects per change over the whole diff. */
export interface DiffPage {
  /** In `DIFF_CHANGES` order. */
  counts: number[];
  rows: DiffRow[];
}

/** A page of an object's history (up to `limit + 1` rows) and how many items match. */
export interface ObjectHistoryPage {
  totalCount: number;
  rows: ObjectHistoryRow[];
}

/**
 * The last error item of each object (by external id) in one run, `$run` the run: read from the
 * run's part of the errors index (ItemQueries migration), which carries the list columns.
 */
const ERRORS_BY_OBJECT = (run: string) => `
  SELECT DISTINCT ON (i.external_id_value)
         i.external_id_value AS x, i.id, i.error_type, i.object_change_type, i.display_name, i.object_type
    FROM execution_items i
   WHERE i.activity_id = ${run} AND i.error_type IS NOT NULL AND i.external_id_value IS NOT NULL
   ORDER BY i.external_id_value, i.sequence DESC`;

/**
 * The last item of the object `d.x` in run `run`, for a row of a page whose run has no error
 * item for it (`d.<side>_id IS NULL`): one probe of the object index (RunReads migration).
 */
const LAST_ITEM = (run: string, side: 'c' | 'b') => `
  SELECT i.id, i.object_change_type, i.display_name, i.object_type
    FROM execution_items i
   WHERE d.${side}_id IS NULL AND i.external_id_value = d.x AND i.activity_id = ${run}
   ORDER BY i.sequence DESC
   LIMIT 1`;

/**
 * The objects of the diff of run `current` against run `baseline` (parameters), each classified:
 * the CTEs `ce`, `be` and `d`, `d` one row per object with an error item in either run, its
 * `rank` the change's index in `DIFF_CHANGES` (NewError, Resolved, ChangedError, StillFailing,
 * NotSeen). Only an object with an error in the baseline alone needs a look at this run to be
 * classified (Resolved or NotSeen): an index-only probe.
 */
export const DIFF_OBJECTS = (current: string, baseline: string) => `
  ce AS (${ERRORS_BY_OBJECT(current)}),
  be AS (${ERRORS_BY_OBJECT(baseline)}),
  d AS MATERIALIZED (
    SELECT coalesce(ce.x, be.x) AS x,
           ce.id AS c_id, ce.error_type AS c_error, ce.object_change_type AS c_change,
           ce.display_name AS c_name, ce.object_type AS c_type,
           be.id AS b_id, be.error_type AS b_error, be.object_change_type AS b_change,
           be.display_name AS b_name, be.object_type AS b_type,
           CASE
             WHEN ce.error_type IS NOT NULL AND be.error_type IS NULL THEN 0
             WHEN ce.error_type IS NOT NULL AND ce.error_type <> be.error_type THEN 2
             WHEN ce.error_type IS NOT NULL THEN 3
             WHEN EXISTS (SELECT 1 FROM execution_items i
                           WHERE i.external_id_value = be.x AND i.activity_id = ${current}) THEN 1
             ELSE 4
           END AS rank
      FROM ce FULL JOIN be ON be.x = ce.x
  )`;

/** The objects per change over `d` (`DIFF_OBJECTS`), in `DIFF_CHANGES` order: an int[] aggregate. */
export const DIFF_COUNTS = `ARRAY[${DIFF_CHANGES.map((_, rank) => `count(*) FILTER (WHERE rank = ${rank})::int`).join(', ')}]`;

/**
 * The rows (`DiffRow`) of the objects `source`, rows of `d` (`DIFF_OBJECTS`) aliased `d`. The
 * items without an error that stand for an object (`current` of a Resolved row, `baseline` of a
 * NewError row) are read here, one probe each: for the rows of a page only when paging on the
 * fly, for every row when the diff is stored.
 */
export const DIFF_ROWS = (current: string, baseline: string, source: string) => `
  SELECT d.rank, d.x AS external_id_value,
         CASE WHEN d.c_id IS NOT NULL THEN d.c_name WHEN co.id IS NOT NULL THEN co.display_name ELSE d.b_name END AS display_name,
         CASE WHEN d.c_id IS NOT NULL THEN d.c_type WHEN co.id IS NOT NULL THEN co.object_type ELSE d.b_type END AS object_type,
         coalesce(d.c_id, co.id) AS current_id, d.c_error AS current_error_type,
         coalesce(d.c_change, co.object_change_type) AS current_change_type,
         coalesce(d.b_id, bo.id) AS baseline_id, d.b_error AS baseline_error_type,
         coalesce(d.b_change, bo.object_change_type) AS baseline_change_type
    FROM ${source} d
    LEFT JOIN LATERAL (${LAST_ITEM(current, 'c')}) co ON true
    LEFT JOIN LATERAL (${LAST_ITEM(baseline, 'b')}) bo ON true`;

/**
 * Reads across runs: a run's baseline, the diff of two runs' errors, and one object's items in
 * every run. Each runs on the pool it is given (see `ExecutionItemsQueries`).
 */
@Injectable()
export class RunHistoryQueries {
  /** An activity with its exact created time; `null` when there is none with that id. */
  async findActivity(pool: Statements, activityId: string): Promise<ActivityWithKey | null> {
    const { rows } = await pool.query<ActivityRow>(
      `SELECT ${ACTIVITY_COLUMNS} FROM activities a WHERE a.id = $1`,
      [activityId],
    );
    return rows.length === 0 ? null : toActivityFields(rows[0]);
  }

  /**
   * The latest run created before `run` (created, then id) with the same connected system, run
   * profile and run type that has ended (any status but `InProgress`); `null` when there is none.
   * One probe of the run profile index (RunReads migration).
   */
  async findBaseline(pool: Statements, run: ActivityWithKey): Promise<ActivityWithKey | null> {
    const { rows } = await pool.query<ActivityRow>(
      `SELECT ${ACTIVITY_COLUMNS}
         FROM activities a
        WHERE a.target_context = $1 AND a.target_name = $2 AND a.run_type = $3
          AND (a.created, a.id) < ($4::timestamptz, $5::uuid)
          AND a.target_type = '${RUN_PROFILE_TARGET_TYPE}' AND a.status <> 'InProgress'
        ORDER BY a.created DESC, a.id DESC
        LIMIT 1`,
      [run.targetContext, run.targetName, run.runType, run.createdKey, run.id],
    );
    return rows.length === 0 ? null : toActivityFields(rows[0]);
  }

  /**
   * A page of the diff of run `currentId` against `baselineId`, only `changes`, ordered by
   * change then external id (code point order), with the counts of the whole diff, in one
   * statement. The objects are those with an error item in either run; each run's item for an
   * object is its last error item, or without one its last item. So the work follows the two
   * runs' errors, plus one index probe per object that has an error in one run only.
   */
  async pageDiff(
    pool: ReadPool,
    currentId: string,
    baselineId: string,
    changes: readonly DiffChange[],
    position: PagePosition,
    limit: number,
  ): Promise<DiffPage> {
    const params = new SqlParameters();
    const current = params.add(currentId, 'uuid');
    const baseline = params.add(baselineId, 'uuid');
    const ranks = params.add(
      changes.map((change) => DIFF_CHANGES.indexOf(change)),
      'int[]',
    );
    const { after, offset } = diffPosition(
      position,
      params,
      (rank, x) => `(d.rank, d.x COLLATE "C") > (${rank}::int, ${x} COLLATE "C")`,
    );
    const pageConditions = [`d.rank = ANY(${ranks})`, ...after];
    const { rows } = await pool.query<DiffRow & { counts: number[] }>(
      `WITH ${DIFF_OBJECTS(current, baseline)}
       SELECT k.counts, pg.*
         FROM (SELECT ${DIFF_COUNTS} AS counts FROM d) k
         LEFT JOIN LATERAL (${DIFF_ROWS(
           current,
           baseline,
           `(SELECT * FROM d
              WHERE ${pageConditions.join(' AND ')}
              ORDER BY d.rank, d.x COLLATE "C"
              LIMIT ${params.add(limit + 1, 'int')} ${offset})`,
         )}
         ) pg ON true
        ORDER BY pg.rank, pg.external_id_value COLLATE "C"`,
      params.values,
    );
    return toDiffPage(rows);
  }

  /**
   * The page `pageDiff` answers, read from the stored diff of run `currentId` (`StoredDiffs`)
   * when it was computed against `baselineId`; `null` when there is no such stored diff. One
   * probe of `run_diffs` for the counts, and one ordered range of `run_diff_rows_pkey` from the
   * first change asked for (or the cursor's position) that stops at the limit: a page costs its
   * rows, whatever the size of the diff (a page number reads the rows before it too, and a
   * `change` list with a gap steps over the rows of the changes left out).
   */
  async pageStoredDiff(
    pool: ReadPool,
    currentId: string,
    baselineId: string,
    changes: readonly DiffChange[],
    position: PagePosition,
    limit: number,
  ): Promise<DiffPage | null> {
    const params = new SqlParameters();
    const current = params.add(currentId, 'uuid');
    const baseline = params.add(baselineId, 'uuid');
    const ranks = DIFF_CHANGES.flatMap((change, rank) => (changes.includes(change) ? [rank] : []));
    const conditions = [`r.run_id = ${current}`];
    if (ranks.length === 0) conditions.push('false');
    else {
      // Bounds the index range; the list itself only when it leaves a gap.
      const [first, last] = [ranks[0], ranks[ranks.length - 1]];
      if (first > 0) conditions.push(`r.rank >= ${first}`);
      if (last < DIFF_CHANGES.length - 1) conditions.push(`r.rank <= ${last}`);
      if (ranks.length < last - first + 1)
        conditions.push(`r.rank = ANY(${params.add(ranks, 'smallint[]')})`);
    }
    const { after, offset } = diffPosition(
      position,
      params,
      (rank, x) => `(r.rank, r.external_id_value) > (${rank}::smallint, ${x})`,
    );
    conditions.push(...after);
    const { rows } = await pool.query<DiffRow & { counts: number[] }>(
      `SELECT h.counts, pg.*
         FROM run_diffs h
         LEFT JOIN LATERAL (
              SELECT r.rank, r.external_id_value, r.display_name, r.object_type,
                     r.current_item_id AS current_id, r.current_error_type, r.current_change_type,
                     r.baseline_item_id AS baseline_id, r.baseline_error_type, r.baseline_change_type
                FROM run_diff_rows r
               WHERE ${conditions.join(' AND ')}
               ORDER BY r.rank, r.external_id_value
               LIMIT ${params.add(limit + 1, 'int')} ${offset}
         ) pg ON true
        WHERE h.run_id = ${current} AND h.baseline_id = ${baseline}
        ORDER BY pg.rank, pg.external_id_value`,
      params.values,
    );
    return rows.length === 0 ? null : toDiffPage(rows);
  }

  /**
   * A page of the items of one object (by external id, or lower-cased display name) in every
   * run, newest run first (created, then id), each run's items in processing order, with the
   * number that match. The object indexes (RunReads migration) find its items across runs;
   * there are as many as the runs that saw it, so they are counted and ordered whole.
   */
  async pageObjectHistory(
    pool: ReadPool,
    filters: ObjectHistoryFilters,
    position: PagePosition,
    limit: number,
  ): Promise<ObjectHistoryPage> {
    const params = new SqlParameters();
    const conditions: string[] = [];
    if (filters.externalIdValue !== undefined) {
      conditions.push(`i.external_id_value = ${params.add(filters.externalIdValue, 'text')}`);
    }
    if (filters.displayName !== undefined) {
      conditions.push(
        `i.display_name IS NOT NULL AND lower(i.display_name) = lower(${params.add(filters.displayName, 'text')})`,
      );
    }
    if (filters.connectedSystemName) {
      conditions.push(`a.target_context = ANY(${params.add(filters.connectedSystemName, 'text[]')})`);
    }
    if (filters.hasError !== undefined) {
      conditions.push(`i.error_type IS ${filters.hasError ? 'NOT NULL' : 'NULL'}`);
    }
    if (filters.createdFrom !== undefined) {
      conditions.push(`a.created >= ${params.add(filters.createdFrom, 'timestamptz')}`);
    }
    if (filters.createdTo !== undefined) {
      conditions.push(`a.created < ${params.add(filters.createdTo, 'timestamptz')}`);
    }
    const pageConditions = ['true'];
    let offset = '';
    if ('after' in position) {
      const [created, activityId, sequence] = position.after;
      const c = params.add(created, 'timestamptz');
      const id = params.add(activityId, 'uuid');
      const s = params.add(sequence, 'int');
      pageConditions.push(
        `(m.activity_created < ${c} OR (m.activity_created = ${c} AND (m.activity_id < ${id} OR (m.activity_id = ${id} AND m.sequence > ${s}))))`,
      );
    } else {
      offset = `OFFSET ${params.add(position.offset, 'bigint')}`;
    }
    const order = 'activity_created DESC, activity_id DESC, sequence ASC';
    const { rows } = await pool.query<ObjectHistoryRow & { total: number }>(
      `WITH m AS MATERIALIZED (
              SELECT i.sequence, i.id, i.external_id_value, i.display_name, i.object_type,
                     i.object_change_type, i.error_type, i.outcome_summary,
                     a.id AS activity_id, a.created AS activity_created,
                     to_char(a.created AT TIME ZONE 'UTC', ${EXACT_UTC}) AS activity_created_key,
                     a.status AS activity_status, a.target_name AS activity_target_name,
                     a.target_context AS activity_target_context, a.run_type AS activity_run_type
                FROM execution_items i
                JOIN activities a ON a.id = i.activity_id
               WHERE ${conditions.join(' AND ')}
       )
       SELECT c.total, pg.*
         FROM (SELECT count(*)::int AS total FROM m) c
         LEFT JOIN LATERAL (
              SELECT m.* FROM m
               WHERE ${pageConditions.join(' AND ')}
               ORDER BY ${order}
               LIMIT ${params.add(limit + 1, 'int')} ${offset}
         ) pg ON true
        ORDER BY pg.${order.replaceAll(', ', ', pg.')}`,
      params.values,
    );
    return { totalCount: rows[0].total, rows: rows.filter((row) => row.id !== null) };
  }
}

/**
 * Where a diff page starts: after a cursor's (rank, external id), as the condition `after` makes
 * of their placeholders, or at an offset.
 */
function diffPosition(
  position: PagePosition,
  params: SqlParameters,
  after: (rank: string, externalId: string) => string,
): { after: string[]; offset: string } {
  if (!('after' in position)) return { after: [], offset: `OFFSET ${params.add(position.offset, 'bigint')}` };
  const [rank, externalId] = position.after;
  return { after: [after(params.add(rank), params.add(externalId, 'text'))], offset: '' };
}

/** A diff page from its statement's rows: the counts on every row, and a null row for an empty page. */
function toDiffPage(rows: Array<DiffRow & { counts: number[] }>): DiffPage {
  return { counts: rows[0].counts, rows: rows.filter((row) => row.external_id_value !== null) };
}
