import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { v7 as uuidv7 } from 'uuid';
import { copyRow } from './copy-format';
import {
  EXECUTION_ITEMS_OPTIONS,
  type ResolvedExecutionItemsOptions,
} from './execution-items.module-definition';
import type { CountsByKey } from './entities/activity.entity';
import type { OutcomeNode } from './entities/execution-item.entity';
import { isUnfiltered, type ItemQuery } from './item-query';
import {
  afterCondition,
  countedMatches,
  counterGuards,
  filterConditions,
  orderBy,
  sortExpressions,
  SqlParameters,
  type KeyValue,
} from './item-sql';
import type { PreparedItem } from './new-items';
import type { ActivityStatus, ActivityTargetType, ErrorType, ObjectChangeType } from './vocabulary';

/** The columns an append writes, in the order both write paths supply them. */
const ITEM_COLUMNS =
  'id, activity_id, sequence, object_change_type, error_type, external_id_value, display_name, object_type, ' +
  'outcome_summary, error_message, error_stack_trace, outcomes, outcome_types';

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
  rows: Array<ExecutionItemRow & { sequence: number }>;
}

/** A run's counters, kept by every append. */
export interface RunCounters {
  itemCount: number;
  errorItemCount: number;
  changeTypeCounts: CountsByKey;
  errorTypeCounts: CountsByKey;
  objectTypeCounts: CountsByKey;
  outcomeTypeCounts: CountsByKey;
}

/** The activity row as an append sees it, locked until the append commits. */
export interface LockedRun extends RunCounters {
  targetType: ActivityTargetType;
  status: ActivityStatus;
}

/** Which page of a query to read: by offset (page numbers) or after a cursor's position. */
export type PagePosition = { offset: string } | { after: KeyValue[] };

/** A page of a filtered or sorted query and the number of items it matches, from one statement. */
export interface QueryPage {
  targetType: ActivityTargetType;
  matchCount: number;
  /** Up to `limit + 1` rows: one more than the page tells whether another page follows. */
  rows: Array<ExecutionItemRow & { sequence: number; keys: KeyValue[] }>;
}

/** One item with everything stored about it. */
export interface ExecutionItemDetailRow extends ExecutionItemRow {
  sequence: number;
  error_message: string | null;
  error_stack_trace: string | null;
  outcomes: OutcomeNode[];
}

const LIST_COLUMNS = `i.sequence, i.id, i.external_id_value, i.display_name, i.object_type,
                i.object_change_type, i.error_type, i.outcome_summary`;

/**
 * The hot SQL of the module, written by hand where TypeORM's query builder costs time:
 * reading a page by sequence range, and writing a batch with COPY (or one INSERT on PGlite).
 */
@Injectable()
export class ExecutionItemsQueries {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(EXECUTION_ITEMS_OPTIONS) private readonly options: ResolvedExecutionItemsOptions,
  ) {}

  /**
   * Items `offset + 1 .. offset + limit` of a run, by their sequence numbers: an index-only range
   * scan on (activity_id, sequence), whose index carries the list columns, at any depth. The
   * activity row comes in the same statement, so the count and the page are one snapshot.
   * `null` when the activity does not exist.
   */
  async pageBySequence(activityId: string, offset: string, limit: number): Promise<ItemPage | null> {
    // A named (prepared) statement: planning it costs ten times executing it, and after a few
    // runs on a connection PostgreSQL keeps its generic plan, which is the same index range.
    const { rows } = await this.pool().query<
      ExecutionItemRow & { target_type: ActivityTargetType; item_count: number; sequence: number }
    >({
      name: this.options.preparedStatements ? 'execution_items_page_by_sequence' : undefined,
      text: `SELECT a.target_type, a.item_count, i.sequence,
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
      values: [activityId, offset, limit],
    });
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

  /**
   * A page of the items matching `query`, in its order, with the number of matches, in one
   * statement (one snapshot). The number comes from the run's counters when one kind of filter
   * allows it, else from counting the matches. Each filter and sort key has an index led by the
   * activity (ItemQueries migration); a position after a cursor is a row comparison on it, so
   * cursor pages cost the same at any depth. `null` when the activity does not exist.
   */
  async pageItems(
    activityId: string,
    query: ItemQuery,
    position: PagePosition,
    limit: number,
  ): Promise<QueryPage | null> {
    const { filters, sortBy, sortDirection } = query;
    const params = new SqlParameters();
    const id = params.add(activityId, 'uuid');
    const guards = counterGuards(filters, params);
    const conditions = [`i.activity_id = a.id`, ...guards, ...filterConditions(filters, 'i', params)];
    let offset = '';
    if ('after' in position) {
      conditions.push(afterCondition(sortBy, sortDirection, position.after, 'i', params));
    } else if (isUnfiltered(filters) && sortBy === 'sequence' && sortDirection === 'desc') {
      // Newest first over the whole run: page N starts at a known sequence, no OFFSET needed.
      conditions.push(`i.sequence <= a.item_count - ${params.add(position.offset, 'bigint')}`);
    } else {
      offset = `OFFSET ${params.add(position.offset, 'bigint')}`;
    }
    const keys = sortExpressions(sortBy, 'i').slice(0, -1);
    const keyColumns = keys.map((key, index) => `, ${key} AS k${index}`).join('');
    // A lateral subquery runs once for the activity row; in the select list a count would run
    // once per item row of the page. OFFSET 0 keeps the planner from pulling it up there.
    const matchCount =
      countedMatches(filters, params) ??
      `(SELECT count(*) FROM execution_items c
         WHERE ${['c.activity_id = a.id', ...guards, ...filterConditions(filters, 'c', params)].join(' AND ')})`;
    const rows: Array<
      ExecutionItemRow & { target_type: ActivityTargetType; match_count: number; sequence: number } & Record<
          string,
          KeyValue
        >
    > = await this.dataSource.query(
      `SELECT a.target_type, c.match_count, i.*
         FROM activities a
         CROSS JOIN LATERAL (SELECT (${matchCount})::int AS match_count OFFSET 0) c
         LEFT JOIN LATERAL (
              SELECT ${LIST_COLUMNS}${keyColumns}
                FROM execution_items i
               WHERE ${conditions.join(' AND ')}
               ORDER BY ${orderBy(sortBy, sortDirection, 'i')}
               LIMIT ${params.add(limit + 1, 'int')} ${offset}
         ) i ON true
        WHERE a.id = ${id}
        ORDER BY ${[...keys.map((_, index) => `i.k${index}`), 'i.sequence'].map((key) => `${key} ${sortDirection.toUpperCase()}`).join(', ')}`,
      params.values,
    );
    if (rows.length === 0) return null;
    const [first] = rows;
    return {
      targetType: first.target_type,
      matchCount: first.match_count,
      rows:
        first.id === null
          ? []
          : rows.map((row) => ({
              ...row,
              keys: [...keys.map((_, index) => row[`k${index}`]), row.sequence],
            })),
    };
  }

  /** An activity's type with one of its items; `null` when the activity does not exist. */
  async findItem(
    activityId: string,
    itemId: string,
  ): Promise<{ targetType: ActivityTargetType; item: ExecutionItemDetailRow | null } | null> {
    const rows: Array<ExecutionItemDetailRow & { target_type: ActivityTargetType }> =
      await this.dataSource.query(
        `SELECT a.target_type, ${LIST_COLUMNS}, i.error_message, i.error_stack_trace, i.outcomes
         FROM activities a
         LEFT JOIN execution_items i ON i.activity_id = a.id AND i.id = $2
        WHERE a.id = $1`,
        [activityId, itemId],
      );
    if (rows.length === 0) return null;
    const [row] = rows;
    return { targetType: row.target_type, item: row.id === null ? null : row };
  }

  /**
   * Streams every item matching `query`, in its order, from a server-side cursor: rows arrive in
   * batches as the consumer reads, so memory stays flat whatever the run's size. The connection
   * goes back to the pool when the stream ends, fails or is destroyed.
   */
  async streamItems(activityId: string, query: ItemQuery): Promise<Readable> {
    const params = new SqlParameters();
    const conditions = [
      `i.activity_id = ${params.add(activityId, 'uuid')}`,
      ...filterConditions(query.filters, 'i', params),
    ];
    const sql = `SELECT i.sequence, i.id, i.external_id_value AS "externalIdValue", i.display_name AS "displayName",
                        i.object_type AS "connectedSystemObjectType", i.object_change_type AS "objectChangeType",
                        i.error_type AS "errorType", i.outcome_summary AS "outcomeSummary", i.error_message AS "errorMessage"
                   FROM execution_items i
                  WHERE ${conditions.join(' AND ')}
                  ORDER BY ${orderBy(query.sortBy, query.sortDirection, 'i')}`;
    const runner = this.dataSource.createQueryRunner('slave');
    const end = () =>
      runner
        .query('ROLLBACK')
        .catch(() => undefined)
        .finally(() => runner.release());
    try {
      // An export may stream for minutes: its own read-only transaction lifts the statement
      // timeout for it alone. It should also stream in index order from the first row: without
      // a LIMIT the planner would rather scan the table and sort it all (in parallel, too),
      // which delays the first byte by seconds on a large run.
      await runner.query('BEGIN READ ONLY');
      await runner.query('SET LOCAL statement_timeout = 0');
      await runner.query('SET LOCAL enable_sort = off');
      await runner.query('SET LOCAL max_parallel_workers_per_gather = 0');
      const rows: Readable = await runner.stream(sql, params.values);
      rows.once('close', () => void end());
      return rows;
    } catch (error) {
      await end();
      throw error;
    }
  }

  /** The driver's pool, for statements TypeORM cannot name (prepare). */
  private pool(): Pool {
    return (this.dataSource.driver as PostgresDriver).master as Pool;
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
          arrayLiteral(item.outcomeTypes),
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
}

/** An array literal of outcome type names (identifiers: nothing to quote). */
function arrayLiteral(values: readonly string[]): string {
  return `{${values.join(',')}}`;
}
