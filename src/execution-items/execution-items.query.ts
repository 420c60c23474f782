import { Inject, Injectable } from '@nestjs/common';
import type { CountsByKey } from './entities/activity.entity';
import type { ExecutionItemDetailRow, ExecutionItemRow } from './entities/execution-item.entity';
import { EXECUTION_ITEMS_OPTIONS, type ResolvedExecutionItemsOptions } from './execution-items.options';
import { isUnfiltered, type ItemFilters, type ItemQuery } from './item-query';
import {
  afterCondition,
  filterConditions,
  orderBy,
  runConditions,
  sortExpressions,
  sortParts,
  SqlParameters,
  usesRunKey,
  type KeyValue,
} from './item-sql';
import type { FollowBatch } from './follow-items';
import type { PagePosition } from './paging';
import type { ReadPool } from './read-connections';
import type { ActivityFields } from './responses/activity.response';
import { countedMatches, counterGuards, type RunCounters } from './run-counters';
import { EXACT_UTC, type ActivityFilters } from './run-filters';
import type { ActivityStatus, ActivityTargetType, RunType } from './vocabulary';

/** A run's page of items and its item count, read in one statement (one snapshot). */
export interface ItemPage {
  targetType: ActivityTargetType;
  itemCount: number;
  rows: Array<ExecutionItemRow & { sequence: number }>;
}

/** A page of a filtered or sorted query and the number of items it matches, from one statement. */
export interface QueryPage {
  targetType: ActivityTargetType;
  matchCount: number;
  /** Up to `limit + 1` rows: one more than the page tells whether another page follows. */
  rows: Array<ExecutionItemRow & { sequence: number }>;
  /** A row's position in the query's order (its sort key values, then its sequence), for a cursor. */
  positionOf(row: ExecutionItemRow & { sequence: number }): KeyValue[];
}

const LIST_COLUMNS = `i.sequence, i.id, i.external_id_value, i.display_name, i.object_type,
                i.object_change_type, i.error_type, i.outcome_summary`;

/**
 * The page statement of the unfiltered list, `$1` the activity, `$2` the offset, `$3` the page
 * size: items `offset + 1 .. offset + limit` by their sequence numbers, a range scan of the
 * (activity_id, sequence) key and the run's heap pages, where its items lie together, at any
 * depth. The activity
 * row comes in the same statement, so the count and the page are one snapshot; no row when the
 * activity does not exist, one row with null item columns when the page is empty.
 */
export const PAGE_BY_SEQUENCE_SQL = `SELECT a.target_type, a.item_count, i.sequence,
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
          WHERE a.id = $1`;

/** A row of `PAGE_BY_SEQUENCE_SQL`. */
export type PageBySequenceRow = ExecutionItemRow & {
  target_type: ActivityTargetType;
  item_count: number;
  sequence: number;
};

/** The columns of an activity that responses show, and its exact created time (a cursor key). */
export const ACTIVITY_COLUMNS = `a.id, a.created, to_char(a.created AT TIME ZONE 'UTC', ${EXACT_UTC}) AS created_key,
                a.completed, a.status, a.target_type, a.target_name, a.target_context, a.run_type,
                a.item_count, a.error_item_count`;

/** A row of `ACTIVITY_COLUMNS`. */
export interface ActivityRow {
  id: string;
  created: Date;
  created_key: string;
  completed: Date | null;
  status: ActivityStatus;
  target_type: ActivityTargetType;
  target_name: string | null;
  target_context: string | null;
  run_type: RunType | null;
  item_count: number;
  error_item_count: number;
}

/** An activity with its run's counters. */
export type ActivityWithCounters = ActivityFields & RunCounters;

/** An activity as responses take it, with its cursor key. */
export type ActivityWithKey = ActivityFields & { createdKey: string };

export function toActivityFields(row: ActivityRow): ActivityWithKey {
  return {
    id: row.id,
    created: row.created,
    createdKey: row.created_key,
    completed: row.completed,
    status: row.status,
    targetType: row.target_type,
    targetName: row.target_name,
    targetContext: row.target_context,
    runType: row.run_type,
    itemCount: row.item_count,
    errorItemCount: row.error_item_count,
  };
}

/** A page of activities (up to `limit + 1`: the look-ahead row) and how many match. */
export interface ActivityPage {
  totalCount: number;
  rows: ActivityWithKey[];
}

/** The conditions an activity must meet, for rows of `alias`; each matches an index's leading column. */
export function activityConditions(filters: ActivityFilters, alias: string, params: SqlParameters): string[] {
  const conditions: string[] = [];
  if (filters.targetType)
    conditions.push(
      `${alias}.target_type = ANY(${params.add(filters.targetType, 'activity_target_type[]')})`,
    );
  if (filters.status)
    conditions.push(`${alias}.status = ANY(${params.add(filters.status, 'activity_status[]')})`);
  if (filters.runType)
    conditions.push(`${alias}.run_type = ANY(${params.add(filters.runType, 'run_type[]')})`);
  if (filters.connectedSystemName) {
    conditions.push(`${alias}.target_context = ANY(${params.add(filters.connectedSystemName, 'text[]')})`);
  }
  if (filters.runProfileName) {
    conditions.push(`${alias}.target_name = ANY(${params.add(filters.runProfileName, 'text[]')})`);
  }
  if (filters.createdFrom !== undefined)
    conditions.push(`${alias}.created >= ${params.add(filters.createdFrom, 'timestamptz')}`);
  if (filters.createdTo !== undefined)
    conditions.push(`${alias}.created < ${params.add(filters.createdTo, 'timestamptz')}`);
  if (filters.hasErrors !== undefined)
    conditions.push(`${alias}.error_item_count ${filters.hasErrors ? '> 0' : '= 0'}`);
  return conditions;
}

/**
 * The statement of a page of activities: the number that match, then up to `limit + 1`
 * activities newest first, from (created, id) after a cursor's position or at an offset.
 */
export function activityPageStatement(
  filters: ActivityFilters,
  position: PagePosition,
  limit: number,
): { sql: string; values: unknown[] } {
  const params = new SqlParameters();
  const conditions = activityConditions(filters, 'a', params);
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const pageConditions = [...conditions];
  let offset = '';
  if ('after' in position) {
    const [created, id] = position.after;
    pageConditions.push(
      `(a.created, a.id) < (${params.add(created, 'timestamptz')}, ${params.add(id, 'uuid')})`,
    );
  } else {
    offset = `OFFSET ${params.add(position.offset, 'bigint')}`;
  }
  const sql = `SELECT c.total, p.*
         FROM (SELECT count(*)::int AS total FROM activities a ${where}) c
         LEFT JOIN LATERAL (
              SELECT ${ACTIVITY_COLUMNS}
                FROM activities a
               ${pageConditions.length > 0 ? `WHERE ${pageConditions.join(' AND ')}` : ''}
               ORDER BY a.created DESC, a.id DESC
               LIMIT ${params.add(limit + 1, 'int')} ${offset}
         ) p ON true
        ORDER BY p.created DESC, p.id DESC`;
  return { sql, values: params.values };
}

/**
 * The module's reads, written by hand: the hot statements cost less so than through TypeORM's
 * query builder (a page by sequence range, a filtered page with its count). Each runs on the pool
 * it is given: a replica's or the primary's, as `ReadConnections` decides for the caller.
 */
@Injectable()
export class ExecutionItemsQueries {
  constructor(@Inject(EXECUTION_ITEMS_OPTIONS) private readonly options: ResolvedExecutionItemsOptions) {}

  /** A page of a run in processing order (`PAGE_BY_SEQUENCE_SQL`); `null` when there is no such activity. */
  async pageBySequence(
    pool: ReadPool,
    activityId: string,
    offset: string,
    limit: number,
  ): Promise<ItemPage | null> {
    // A named (prepared) statement: planning it costs ten times executing it, and after a few
    // runs on a connection PostgreSQL keeps its generic plan, which is the same index range.
    const { rows } = await pool.query<PageBySequenceRow>({
      name: this.options.preparedStatements ? 'execution_items_page_by_sequence' : undefined,
      text: PAGE_BY_SEQUENCE_SQL,
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
   * run (ItemQueries and LeanItemIndexes migrations); a position after a cursor is a row
   * comparison on it, so cursor pages cost the same at any depth (`sortBy=errorType` reads two
   * indexes, `sortParts`). `null` when the activity does not exist.
   */
  async pageItems(
    pool: ReadPool,
    activityId: string,
    query: ItemQuery,
    position: PagePosition,
    limit: number,
  ): Promise<QueryPage | null> {
    const { filters, sortBy, sortDirection } = query;
    const params = new SqlParameters();
    const id = params.add(activityId, 'uuid');
    const guards = counterGuards(filters, params);
    // The run by its parameter rather than by `a.id`: restriction clauses on a value, which the
    // planner estimates with the table's statistics (see `runConditions`).
    const conditions = [
      ...runConditions('i', id, usesRunKey(filters, sortBy)),
      ...guards,
      ...filterConditions(filters, 'i', params),
    ];
    const parts = sortParts(sortBy, sortDirection, 'after' in position ? position.after : null, 'i', params);
    let offset: string | null = null;
    if ('after' in position) {
      if (!parts) conditions.push(afterCondition(sortBy, sortDirection, position.after, 'i', params));
    } else if (isUnfiltered(filters) && sortBy === 'sequence' && sortDirection === 'desc') {
      // Newest first over the whole run: page N starts at a known sequence, no OFFSET needed.
      conditions.push(`i.sequence <= a.item_count - ${params.add(position.offset, 'bigint')}`);
    } else {
      offset = params.add(position.offset, 'bigint');
    }
    const keys = sortExpressions(sortBy, 'i').slice(0, -1);
    const keyColumns = keys.map((key, index) => `, ${key} AS k${index}`).join('');
    const keyOrder = (prefix: string) =>
      [...keys.map((_, index) => `${prefix}k${index}`), `${prefix}sequence`]
        .map((key) => `${key} ${sortDirection.toUpperCase()}`)
        .join(', ');
    const pageLimit = params.add(limit + 1, 'int');
    const pageOffset = offset === null ? '' : `OFFSET ${offset}`;
    // Each part of a two-part order reads up to the rows the page needs, in its index's order.
    const partLimit = offset === null ? pageLimit : `${pageLimit} + ${offset}`;
    const pageRows = parts
      ? `SELECT * FROM (${parts
          .map(
            (part) => `(SELECT ${LIST_COLUMNS}${keyColumns}
                FROM execution_items i
               WHERE ${[...conditions, ...part.conditions].join(' AND ')}
               ORDER BY ${part.orderBy}
               LIMIT ${partLimit})`,
          )
          .join(' UNION ALL ')}) i
               ORDER BY ${keyOrder('')}
               LIMIT ${pageLimit} ${pageOffset}`
      : `SELECT ${LIST_COLUMNS}${keyColumns}
                FROM execution_items i
               WHERE ${conditions.join(' AND ')}
               ORDER BY ${orderBy(sortBy, sortDirection, 'i')}
               LIMIT ${pageLimit} ${pageOffset}`;
    // A lateral subquery runs once for the activity row; in the select list a count would run
    // once per item row of the page. OFFSET 0 keeps the planner from pulling it up there.
    const matchCount =
      countedMatches(filters, params) ??
      `(SELECT count(*) FROM execution_items c
         WHERE ${[...runConditions('c', id, usesRunKey(filters)), ...guards, ...filterConditions(filters, 'c', params)].join(' AND ')})`;
    const { rows } = await pool.query<
      ExecutionItemRow & { target_type: ActivityTargetType; match_count: number; sequence: number } & Record<
          string,
          KeyValue
        >
    >(
      `SELECT a.target_type, c.match_count, i.*
         FROM activities a
         CROSS JOIN LATERAL (SELECT (${matchCount})::int AS match_count OFFSET 0) c
         LEFT JOIN LATERAL (
              ${pageRows}
         ) i ON true
        WHERE a.id = ${id}
        ORDER BY ${keyOrder('i.')}`,
      params.values,
    );
    if (rows.length === 0) return null;
    const [first] = rows;
    return {
      targetType: first.target_type,
      matchCount: first.match_count,
      rows: first.id === null ? [] : rows,
      positionOf: (row) => [
        ...keys.map((_, index) => (row as (typeof rows)[number])[`k${index}`]),
        row.sequence,
      ],
    };
  }

  /** An activity's type with one of its items; `null` when the activity does not exist. */
  async findItem(
    pool: ReadPool,
    activityId: string,
    itemId: string,
  ): Promise<{ targetType: ActivityTargetType; item: ExecutionItemDetailRow | null } | null> {
    const { rows } = await pool.query<ExecutionItemDetailRow & { target_type: ActivityTargetType }>(
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
   * The next matching items of a run after `after`, at most `limit`, looking through at most
   * `window` sequence numbers, with the activity row, in one statement (one snapshot): items
   * up to the row's `item_count` are all there. An index range on (activity_id, sequence);
   * `null` when the activity does not exist.
   */
  async followBatch(
    pool: ReadPool,
    activityId: string,
    filters: ItemFilters,
    after: number,
    limit: number,
    window: number,
  ): Promise<FollowBatch | null> {
    const params = new SqlParameters();
    const id = params.add(activityId, 'uuid');
    const from = params.add(after, 'bigint');
    const upTo = `least(a.item_count, ${from} + ${params.add(window, 'bigint')})`;
    const conditions = [
      'i.activity_id = a.id',
      `i.sequence > ${from}`,
      `i.sequence <= ${upTo}`,
      ...filterConditions(filters, 'i', params),
    ];
    const { rows } = await pool.query<
      ExecutionItemRow &
        Omit<ActivityRow, 'id' | 'created_key'> & { sequence: number; run_id: string; up_to: string }
    >(
      `SELECT a.id AS run_id, a.created, a.completed, a.status, a.target_type, a.target_name,
              a.target_context, a.run_type, a.item_count, a.error_item_count, ${upTo} AS up_to, i.*
         FROM activities a
         LEFT JOIN LATERAL (
              SELECT ${LIST_COLUMNS}
                FROM execution_items i
               WHERE ${conditions.join(' AND ')}
               ORDER BY i.sequence
               LIMIT ${params.add(limit, 'int')}
         ) i ON true
        WHERE a.id = ${id}`,
      params.values,
    );
    if (rows.length === 0) return null;
    const [first] = rows;
    const run: ActivityFields = {
      id: first.run_id,
      created: first.created,
      completed: first.completed,
      status: first.status,
      targetType: first.target_type,
      targetName: first.target_name,
      targetContext: first.target_context,
      runType: first.run_type,
      itemCount: first.item_count,
      errorItemCount: first.error_item_count,
    };
    const items = first.id === null ? [] : rows.sort((a, b) => a.sequence - b.sequence);
    // A full batch may stop short of the window; otherwise everything up to it has been seen.
    const scannedTo = items.length === limit ? items[items.length - 1].sequence : Number(first.up_to);
    return { run, rows: items, scannedTo };
  }

  /** An activity with its counters; `null` when there is none with that id. */
  async findActivity(pool: ReadPool, activityId: string): Promise<ActivityWithCounters | null> {
    const { rows } = await pool.query<
      ActivityRow & {
        change_type_counts: CountsByKey;
        error_type_counts: CountsByKey;
        object_type_counts: CountsByKey;
        outcome_type_counts: CountsByKey;
      }
    >(
      `SELECT ${ACTIVITY_COLUMNS}, a.change_type_counts, a.error_type_counts, a.object_type_counts,
              a.outcome_type_counts
         FROM activities a
        WHERE a.id = $1`,
      [activityId],
    );
    if (rows.length === 0) return null;
    const [row] = rows;
    const { createdKey: _createdKey, ...fields } = toActivityFields(row);
    return {
      ...fields,
      changeTypeCounts: row.change_type_counts,
      errorTypeCounts: row.error_type_counts,
      objectTypeCounts: row.object_type_counts,
      outcomeTypeCounts: row.outcome_type_counts,
    };
  }

  /**
   * A page of activities, newest first (created, then id), with the number that match, in one
   * statement. After a cursor's position the page is a row comparison on (created, id), the same
   * cost at any depth; each filter has an index (RunReads migration).
   */
  async pageActivities(
    pool: ReadPool,
    filters: ActivityFilters,
    position: PagePosition,
    limit: number,
  ): Promise<ActivityPage> {
    const { sql, values } = activityPageStatement(filters, position, limit);
    const { rows } = await pool.query<ActivityRow & { total: number }>(sql, values);
    return {
      totalCount: rows[0].total,
      rows: rows.filter((row) => row.id !== null).map(toActivityFields),
    };
  }
}
