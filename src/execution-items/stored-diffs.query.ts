import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  ACTIVITY_COLUMNS,
  toActivityFields,
  type ActivityRow,
  type ActivityWithKey,
} from './execution-items.query';
import { SqlParameters } from './item-sql';
import { DIFF_COUNTS, DIFF_OBJECTS, DIFF_ROWS, type Statements } from './run-history.query';
import { RUN_PROFILE_TARGET_TYPE } from './vocabulary';

/** The columns of `run_diff_rows` after `run_id`, in the order `DIFF_ROWS` answers them. */
const ROW_COLUMNS =
  'rank, external_id_value, display_name, object_type, current_item_id, current_error_type, ' +
  'current_change_type, baseline_item_id, baseline_error_type, baseline_change_type';

/** `manager`'s statements as the read queries run them (`{ rows }`); for SELECTs. */
export function statementsOf(manager: EntityManager): Statements {
  return {
    query: async <R>(statement: string | { text: string; values?: unknown[] }, values?: unknown[]) => {
      const text = typeof statement === 'string' ? statement : statement.text;
      const rows: R[] = await manager.query(text, typeof statement === 'string' ? values : statement.values);
      return { rows };
    },
  };
}

/**
 * The stored diffs' writes (`StoredDiffs`), each in the caller's transaction on the primary. The
 * diff is computed by the same SQL as the on-the-fly page (`DIFF_OBJECTS`, `DIFF_ROWS`), so a
 * stored row is the row the page would compute. Their reads are `RunHistoryQueries.pageStoredDiff`.
 */
@Injectable()
export class StoredDiffsQueries {
  /**
   * Locks a run's activity row for the rest of the transaction (`FOR NO KEY UPDATE`: appends
   * and completions of other runs, and foreign keys pointing at it, go on), so that stores of one
   * run queue; `null` when there is no such run.
   */
  async lockRun(manager: EntityManager, runId: string): Promise<ActivityWithKey | null> {
    const rows: ActivityRow[] = await manager.query(
      `SELECT ${ACTIVITY_COLUMNS} FROM activities a
        WHERE a.id = $1 AND a.target_type = '${RUN_PROFILE_TARGET_TYPE}'
          FOR NO KEY UPDATE`,
      [runId],
    );
    return rows.length === 0 ? null : toActivityFields(rows[0]);
  }

  /** The baseline a run's stored diff was computed against; `null` when none is stored. */
  async storedBaseline(manager: EntityManager, runId: string): Promise<string | null> {
    const rows: Array<{ baseline_id: string }> = await manager.query(
      'SELECT baseline_id FROM run_diffs WHERE run_id = $1',
      [runId],
    );
    return rows[0]?.baseline_id ?? null;
  }

  /** Deletes a run's stored diff; its rows go with it (foreign key, `ON DELETE CASCADE`). */
  async deleteStored(manager: EntityManager, runId: string): Promise<void> {
    await manager.query('DELETE FROM run_diffs WHERE run_id = $1', [runId]);
  }

  /**
   * Computes the diff of `runId` against `baselineId` and stores it, counts and every row, in one
   * statement (one snapshot); answers the counts. Nothing is stored, `null`, when either run has
   * lost its last item: a purge is deleting it (from the last item down), and a diff of what is
   * left would not stay true as the purge goes on.
   */
  async insertDiff(manager: EntityManager, runId: string, baselineId: string): Promise<number[] | null> {
    const params = new SqlParameters();
    const run = params.add(runId, 'uuid');
    const baseline = params.add(baselineId, 'uuid');
    // The statement's estimated cost passes jit_above_cost on large runs; compiling it (some
    // 60 ms on two 1,000,000-item runs) saves nothing on a plan of index probes.
    await manager.query('SET LOCAL jit = off');
    const rows: Array<{ counts: number[] }> = await manager.query(
      `WITH whole AS (
              SELECT count(*) = 2 AS whole
                FROM activities a
               WHERE a.id IN (${run}, ${baseline})
                 AND (a.item_count = 0 OR EXISTS (SELECT 1 FROM execution_items i
                                                   WHERE i.activity_id = a.id AND i.sequence = a.item_count))
            ),
            ${DIFF_OBJECTS(run, baseline)},
            h AS (
              INSERT INTO run_diffs (run_id, baseline_id, counts)
              SELECT ${run}, ${baseline}, ${DIFF_COUNTS} FROM d
              HAVING (SELECT whole FROM whole)
              RETURNING run_id, counts
            ),
            r AS (
              INSERT INTO run_diff_rows (run_id, ${ROW_COLUMNS})
              SELECT h.run_id, p.* FROM h CROSS JOIN (${DIFF_ROWS(run, baseline, 'd')}) p
               ORDER BY p.rank, p.external_id_value COLLATE "C"
            )
       SELECT counts FROM h`,
      params.values,
    );
    return rows[0]?.counts ?? null;
  }

  /**
   * The first run created after `run` (created, then id) with the same connected system, run
   * profile and run type that has ended: the one run whose default baseline `run` may have just
   * become, by ending. One probe of the run profile index (RunReads migration).
   */
  async nextEndedRun(manager: EntityManager, run: ActivityWithKey): Promise<string | null> {
    const rows: Array<{ id: string }> = await manager.query(
      `SELECT a.id
         FROM activities a
        WHERE a.target_context = $1 AND a.target_name = $2 AND a.run_type = $3
          AND (a.created, a.id) > ($4::timestamptz, $5::uuid)
          AND a.target_type = '${RUN_PROFILE_TARGET_TYPE}' AND a.status <> 'InProgress'
        ORDER BY a.created, a.id
        LIMIT 1`,
      [run.targetContext, run.targetName, run.runType, run.createdKey, run.id],
    );
    return rows[0]?.id ?? null;
  }
}
