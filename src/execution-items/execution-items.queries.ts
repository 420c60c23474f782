import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource, EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { copyRow } from './copy-format';
import type { CountsByKey } from './entities/activity.entity';
import type { PreparedItem } from './new-items';
import type { ActivityStatus, ActivityTargetType, ErrorType, ObjectChangeType } from './vocabulary';

/** The columns an append writes, in the order both write paths supply them. */
const ITEM_COLUMNS =
  'id, activity_id, sequence, object_change_type, error_type, external_id_value, display_name, object_type, ' +
  'outcome_summary, error_message, error_stack_trace, outcomes';

/** The items an append wrote, in order, with the ids it gave them. */
export interface WrittenItems {
  ids: string[];
  items: PreparedItem[];
}

/** Rows per chunk handed to the COPY stream. */
const COPY_CHUNK_ROWS = 256;

/** The list columns of an item, as PostgreSQL returns them. */
export interface ExecutionItemRow {
  id: string;
  external_id_value: string | null;
  display_name: string | null;
  object_type: string | null;
  object_change_type: ObjectChangeType;
  error_type: ErrorType | null;
  outcome_summary: string | null;
}

/** A run's page of items and its item count, read in one statement (one snapshot). */
export interface ItemPage {
  targetType: ActivityTargetType;
  itemCount: number;
  rows: ExecutionItemRow[];
}

/** The activity row as an append sees it, locked until the append commits. */
export interface LockedRun {
  targetType: ActivityTargetType;
  status: ActivityStatus;
  itemCount: number;
  errorItemCount: number;
  changeTypeCounts: CountsByKey;
  errorTypeCounts: CountsByKey;
  objectTypeCounts: CountsByKey;
  outcomeTypeCounts: CountsByKey;
}

/**
 * The hot SQL of the module, written by hand where TypeORM's query builder costs time:
 * reading a page by sequence range, and writing a batch with COPY (or one INSERT on PGlite).
 */
@Injectable()
export class ExecutionItemsQueries {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Items `offset + 1 .. offset + limit` of a run, by their sequence numbers: an index-only range
   * scan on (activity_id, sequence), whose index carries the list columns, at any depth. The
   * activity row comes in the same statement, so the count and the page are one snapshot.
   * `null` when the activity does not exist.
   */
  async pageBySequence(activityId: string, offset: string, limit: number): Promise<ItemPage | null> {
    const rows: Array<
      ExecutionItemRow & { target_type: ActivityTargetType; item_count: number; sequence: number }
    > = await this.dataSource.query(
      `SELECT a.target_type, a.item_count, i.sequence,
                i.id, i.external_id_value, i.display_name, i.object_type,
                i.object_change_type, i.error_type, i.outcome_summary
           FROM activities a
           LEFT JOIN LATERAL (
                SELECT i.sequence, i.id, i.external_id_value, i.display_name, i.object_type,
                       i.object_change_type, i.error_type, i.outcome_summary
                  FROM execution_items i
                 WHERE i.activity_id = a.id
                   AND i.sequence > $2::bigint AND i.sequence <= $2::bigint + $3::int
           ) i ON true
          WHERE a.id = $1`,
      [activityId, offset, limit],
    );
    if (rows.length === 0) return null;
    const [first] = rows;
    // The index scan yields sequence order; sorting here (linear on sorted input) keeps that true
    // whatever plan the database picks, without a Sort node in the statement.
    return {
      targetType: first.target_type,
      itemCount: first.item_count,
      rows: first.id === null ? [] : rows.sort((a, b) => a.sequence - b.sequence),
    };
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
        chunk += copyRow([
          id,
          activityId,
          afterSequence + written.ids.length,
          item.objectChangeType,
          item.errorType,
          item.externalIdValue,
          item.displayName,
          item.objectType,
          item.outcomeSummary,
          item.errorMessage,
          item.errorStackTrace,
          item.outcomesJson,
        ]);
        if (written.ids.length % COPY_CHUNK_ROWS === 0) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk) yield chunk;
    };
    await pipeline(
      Readable.from(chunks()),
      client.query(copyFrom(`COPY execution_items (${ITEM_COLUMNS}) FROM STDIN`)),
    );
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
              u.display_name, u.object_type, u.outcome_summary, u.error_message, u.error_stack_trace, u.outcomes
         FROM unnest($3::uuid[], $4::object_change_type[], $5::error_type[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::text[], $11::text[], $12::jsonb[])
              WITH ORDINALITY AS u(id, object_change_type, error_type, external_id_value, display_name, object_type,
                                   outcome_summary, error_message, error_stack_trace, outcomes, ordinal)`,
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
      ],
    );
    return { ids, items };
  }
}
