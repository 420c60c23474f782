import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { DataSource, In, type FindOptionsWhere } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { Activity } from './entities/activity.entity';
import type { ExecutionItemDetailRow, ExecutionItemRow } from './entities/execution-item.entity';
import { EXECUTION_ITEMS_OPTIONS, type ResolvedExecutionItemsOptions } from './execution-items.options';
import { isUnfiltered, type ItemQuery } from './item-query';
import {
  afterCondition,
  filterConditions,
  orderBy,
  sortExpressions,
  SqlParameters,
  type KeyValue,
} from './item-sql';
import type { PagePosition } from './paging';
import { countedMatches, counterGuards } from './run-counters';
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
 * size: items `offset + 1 .. offset + limit` by their sequence numbers, an index-only range scan
 * on (activity_id, sequence), whose index carries the list columns, at any depth. The activity
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

/** Which activities to list, newest first. */
export interface ActivityFilters {
  targetType?: readonly ActivityTargetType[];
  status?: readonly ActivityStatus[];
  runType?: readonly RunType[];
  /** Exact names of connected systems (`target_context`). */
  connectedSystemName?: readonly string[];
}

/**
 * The module's reads. The hot statements are written by hand where TypeORM's query builder
 * costs time (a page by sequence range, a filtered page with its count);
 * activities come through TypeORM's repository API.
 */
@Injectable()
export class ExecutionItemsQueries {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(EXECUTION_ITEMS_OPTIONS) private readonly options: ResolvedExecutionItemsOptions,
  ) {}

  /** A page of a run in processing order (`PAGE_BY_SEQUENCE_SQL`); `null` when there is no such activity. */
  async pageBySequence(activityId: string, offset: string, limit: number): Promise<ItemPage | null> {
    // A named (prepared) statement: planning it costs ten times executing it, and after a few
    // runs on a connection PostgreSQL keeps its generic plan, which is the same index range.
    const { rows } = await this.pool().query<PageBySequenceRow>({
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
      rows: first.id === null ? [] : rows,
      positionOf: (row) => [
        ...keys.map((_, index) => (row as (typeof rows)[number])[`k${index}`]),
        row.sequence,
      ],
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

  /** An activity with its counters; `null` when there is none with that id. */
  findActivity(activityId: string): Promise<Activity | null> {
    return this.dataSource.getRepository(Activity).findOneBy({ id: activityId });
  }

  /** A page of activities, newest first, with the number of activities that match. */
  listActivities(filters: ActivityFilters, offset: number, limit: number): Promise<[Activity[], number]> {
    const where: FindOptionsWhere<Activity> = {};
    if (filters.targetType?.length) where.targetType = In([...filters.targetType]);
    if (filters.status?.length) where.status = In([...filters.status]);
    if (filters.runType?.length) where.runType = In([...filters.runType]);
    if (filters.connectedSystemName?.length) where.targetContext = In([...filters.connectedSystemName]);
    return this.dataSource.getRepository(Activity).findAndCount({
      where,
      order: { created: 'DESC', id: 'DESC' },
      skip: offset,
      take: limit,
    });
  }

  /** The driver's pool, for statements TypeORM cannot name (prepare). */
  private pool(): Pool {
    return (this.dataSource.driver as PostgresDriver).master as Pool;
  }
}
