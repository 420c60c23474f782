import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource, type EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { copyRow } from './copy-format';
import { AppendBatch } from './entities/append-batch.entity';
import type { PreparedItem } from './new-items';
import type { ActivityFields } from './responses/activity.response';
import type { RunCounters } from './run-counters';
import {
  RUN_PROFILE_TARGET_TYPE,
  type ActivityStatus,
  type ActivityTargetType,
  type FinalActivityStatus,
  type RunType,
} from './vocabulary';

/** The columns an append writes, in the order both write paths supply them. */
export const ITEM_COLUMNS =
  'id, activity_id, sequence, object_change_type, error_type, external_id_value, display_name, object_type, ' +
  'outcome_summary, error_message, error_stack_trace, outcomes, outcome_types';

/** The statement a COPY append streams its rows into (`itemCopyRow`). */
export const COPY_ITEMS_SQL = `COPY execution_items (${ITEM_COLUMNS}) FROM STDIN`;

/** One item as a row of `COPY_ITEMS_SQL`, in PostgreSQL's COPY text format. */
export function itemCopyRow(id: string, activityId: string, sequence: number, item: PreparedItem): string {
  return copyRow([
    id,
    activityId,
    sequence,
    item.objectChangeType,
    item.errorType,
    item.externalIdValue,
    item.displayName,
    item.objectType,
    item.outcomeSummary,
    item.errorMessage,
    item.errorStackTrace,
    item.outcomesJson,
    arrayLiteral(item.outcomeTypes),
  ]);
}

/** An activity's response columns, as `RETURNING` gives them. */
const ACTIVITY_FIELDS = `id, created, completed, status, target_type AS "targetType", target_name AS "targetName",
  target_context AS "targetContext", run_type AS "runType", item_count AS "itemCount",
  error_item_count AS "errorItemCount"`;

/** The items an append wrote, in order, with the ids it gave them. */
export interface WrittenItems {
  ids: string[];
  items: PreparedItem[];
}

/** The activity row as an append sees it, locked until the append commits. */
export interface LockedRun extends RunCounters {
  targetType: ActivityTargetType;
  status: ActivityStatus;
}

/** A new run's activity row. */
export interface NewRun {
  id: string;
  connectedSystemName: string;
  runProfileName: string;
  runType: RunType;
}

/** An activity old enough to purge, with `created` as PostgreSQL prints it (to the microsecond). */
export interface OldActivity {
  id: string;
  created: string;
}

/** Rows per chunk handed to the COPY stream. */
const COPY_CHUNK_ROWS = 256;

/**
 * The module's writes: a run's activity row, its items (COPY on a server, one INSERT on PGlite),
 * its counters and batch ids, in the caller's transaction where an append needs one; and the
 * purge's bounded deletes.
 */
@Injectable()
export class ExecutionRunsQueries {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Inserts a run in progress; `null` when an activity already has its id. */
  async insertRun(run: NewRun): Promise<ActivityFields | null> {
    const rows: ActivityFields[] = await this.dataSource.query(
      `INSERT INTO activities (id, target_type, target_name, target_context, run_type, status)
       VALUES ($1, $2, $3, $4, $5, 'InProgress')
       ON CONFLICT (id) DO NOTHING
       RETURNING ${ACTIVITY_FIELDS}`,
      [run.id, RUN_PROFILE_TARGET_TYPE, run.runProfileName, run.connectedSystemName, run.runType],
    );
    return rows[0] ?? null;
  }

  /**
   * Ends a run in progress with `status`, or, without one, `CompleteWithError` when it has error
   * items and `Complete` otherwise; `null` when no run in progress has that id.
   */
  async completeRun(activityId: string, status: FinalActivityStatus | null): Promise<ActivityFields | null> {
    // TypeORM answers an UPDATE with [rows, affected row count].
    const [rows]: [ActivityFields[], number] = await this.dataSource.query(
      `UPDATE activities
          SET status = coalesce($2::activity_status,
                                CASE WHEN error_item_count > 0 THEN 'CompleteWithError' ELSE 'Complete' END::activity_status),
              completed = now()
        WHERE id = $1 AND status = 'InProgress' AND target_type = $3
       RETURNING ${ACTIVITY_FIELDS}`,
      [activityId, status, RUN_PROFILE_TARGET_TYPE],
    );
    return rows[0] ?? null;
  }

  /** An activity's type and status, to tell why a write found no run in progress. */
  async findState(
    activityId: string,
  ): Promise<{ targetType: ActivityTargetType; status: ActivityStatus } | null> {
    const rows: Array<{ targetType: ActivityTargetType; status: ActivityStatus }> =
      await this.dataSource.query(
        `SELECT target_type AS "targetType", status FROM activities WHERE id = $1`,
        [activityId],
      );
    return rows[0] ?? null;
  }

  /** Locks the activity row for an append; appends to one run queue here, other runs go on. */
  async lockRun(manager: EntityManager, activityId: string): Promise<LockedRun | null> {
    const rows: LockedRun[] = await manager.query(
      `SELECT target_type AS "targetType", status, item_count AS "itemCount", error_item_count AS "errorItemCount",
              change_type_counts AS "changeTypeCounts", error_type_counts AS "errorTypeCounts",
              object_type_counts AS "objectTypeCounts", outcome_type_counts AS "outcomeTypeCounts"
         FROM activities WHERE id = $1 FOR UPDATE`,
      [activityId],
    );
    return rows[0] ?? null;
  }

  /** A batch appended to the run under `batchId` before; `null` when there is none. */
  findBatch(manager: EntityManager, activityId: string, batchId: string): Promise<AppendBatch | null> {
    return manager.findOneBy(AppendBatch, { activityId, batchId });
  }

  /** The ids of a run's items `firstSequence .. lastSequence`, in order. */
  async itemIds(manager: EntityManager, activityId: string, firstSequence: number, lastSequence: number) {
    const rows: Array<{ id: string }> = await manager.query(
      `SELECT id FROM execution_items WHERE activity_id = $1 AND sequence BETWEEN $2 AND $3 ORDER BY sequence`,
      [activityId, firstSequence, lastSequence],
    );
    return rows.map((row) => row.id);
  }

  /** Stores the run's counters after an append (`countersAfter`). */
  async saveCounters(manager: EntityManager, activityId: string, counters: RunCounters): Promise<void> {
    await manager.query(
      `UPDATE activities
          SET item_count = $2, error_item_count = $3, change_type_counts = $4, error_type_counts = $5,
              object_type_counts = $6, outcome_type_counts = $7
        WHERE id = $1`,
      [
        activityId,
        counters.itemCount,
        counters.errorItemCount,
        counters.changeTypeCounts,
        counters.errorTypeCounts,
        counters.objectTypeCounts,
        counters.outcomeTypeCounts,
      ],
    );
  }

  /** Records a batch written under a batch id, so that a retry is answered from it. */
  async recordBatch(manager: EntityManager, batch: Omit<AppendBatch, 'activity' | 'created'>): Promise<void> {
    await manager.insert(AppendBatch, batch);
  }

  /**
   * Writes a batch with `COPY ... FROM STDIN`, numbering it from `afterSequence + 1` in order.
   * Items are encoded as the database consumes them, so preparing, encoding and writing overlap;
   * an error from `items` aborts the COPY. Returns what was written, with the new ids.
   */
  async copyItems(
    manager: EntityManager,
    activityId: string,
    afterSequence: number,
    items: Iterable<PreparedItem>,
  ): Promise<WrittenItems> {
    const client = (await manager.queryRunner!.connect()) as PoolClient;
    const written: WrittenItems = { ids: [], items: [] };
    const chunks = function* () {
      let chunk = '';
      for (const item of items) {
        const id = uuidv7();
        written.ids.push(id);
        written.items.push(item);
        chunk += itemCopyRow(id, activityId, afterSequence + written.ids.length, item);
        if (written.ids.length % COPY_CHUNK_ROWS === 0) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk) yield chunk;
    };
    await pipeline(Readable.from(chunks()), client.query(copyFrom(COPY_ITEMS_SQL)));
    return written;
  }

  /**
   * Writes a batch in one `INSERT ... SELECT FROM unnest(...)` statement, for databases whose
   * wire protocol lacks COPY FROM STDIN (PGlite behind pglite-socket).
   */
  async insertItems(
    manager: EntityManager,
    activityId: string,
    afterSequence: number,
    items: PreparedItem[],
  ): Promise<WrittenItems> {
    const ids = items.map(() => uuidv7());
    const column = <K extends keyof PreparedItem>(key: K) => items.map((item) => item[key]);
    await manager.query(
      `INSERT INTO execution_items (${ITEM_COLUMNS})
       SELECT u.id, $1, $2::int + u.ordinal, u.object_change_type, u.error_type, u.external_id_value,
              u.display_name, u.object_type, u.outcome_summary, u.error_message, u.error_stack_trace, u.outcomes,
              u.outcome_types::text[]
         FROM unnest($3::uuid[], $4::object_change_type[], $5::error_type[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::text[], $11::text[], $12::jsonb[], $13::text[])
              WITH ORDINALITY AS u(id, object_change_type, error_type, external_id_value, display_name, object_type,
                                   outcome_summary, error_message, error_stack_trace, outcomes, outcome_types, ordinal)`,
      [
        activityId,
        afterSequence,
        ids,
        column('objectChangeType'),
        column('errorType'),
        column('externalIdValue'),
        column('displayName'),
        column('objectType'),
        column('outcomeSummary'),
        column('errorMessage'),
        column('errorStackTrace'),
        column('outcomesJson'),
        // unnest would flatten an array of arrays: each item's types travel as an array literal.
        items.map((item) => arrayLiteral(item.outcomeTypes)),
      ],
    );
    return { ids, items };
  }

  /** The next old, ended activities in (created, id) order, through `activities_created_idx`. */
  oldActivities(cutoff: Date, after: OldActivity | null, limit: number): Promise<OldActivity[]> {
    // `created` travels as text: a Date would drop its microseconds and the keyset would repeat rows.
    return this.dataSource.query(
      `SELECT id, created::text AS created FROM activities
        WHERE created < $1 AND status <> 'InProgress' ${after ? 'AND (created, id) > ($3::timestamptz, $4::uuid)' : ''}
        ORDER BY created, id LIMIT $2`,
      after ? [cutoff, limit, after.created, after.id] : [cutoff, limit],
    );
  }

  /** The sequence number of a run's last item; 0 for a run without items. */
  async lastSequence(activityId: string): Promise<number> {
    const [{ last }]: Array<{ last: number | null }> = await this.dataSource.query(
      'SELECT max(sequence) AS last FROM execution_items WHERE activity_id = $1',
      [activityId],
    );
    return last ?? 0;
  }

  /** Deletes a run's items `after + 1 .. upTo`: one short statement on the (activity_id, sequence) index. */
  deleteItems(activityId: string, after: number, upTo: number): Promise<number> {
    return this.deleteCount(
      'DELETE FROM execution_items WHERE activity_id = $1 AND sequence > $2 AND sequence <= $3',
      [activityId, after, upTo],
    );
  }

  /** Deletes ended activities; the cascade takes their append batches and anything left. */
  deleteActivities(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return Promise.resolve(0);
    return this.deleteCount(`DELETE FROM activities WHERE id = ANY($1::uuid[]) AND status <> 'InProgress'`, [
      ids,
    ]);
  }

  private async deleteCount(sql: string, parameters: unknown[]): Promise<number> {
    // TypeORM answers a DELETE with [rows, affected row count].
    const [, count] = (await this.dataSource.query(sql, parameters)) as [unknown[], number];
    return count;
  }
}

/** An array literal of outcome type names (identifiers: nothing to quote). */
function arrayLiteral(values: readonly string[]): string {
  return `{${values.join(',')}}`;
}
