import { Injectable } from '@nestjs/common';
import type { ExecutionItemRow } from './entities/execution-item.entity';
import type { ExportedItem } from './export-format';
import type { ItemQuery } from './item-query';
import { toExecutionItemResponse } from './responses/execution-item.response';
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
import type { ReadPool } from './read-connections';

/** A batch of an export: the items in the export's order, and the position after the last one. */
export interface ExportBatch {
  items: ExportedItem[];
  /** The last item's sort key values, then its sequence: where the next batch starts. */
  last: KeyValue[] | null;
}

/** An export's rows: which run, which items, up to which sequence (the run as the export began). */
export interface ExportScope {
  activityId: string;
  query: ItemQuery;
  /** The run's item count when the export began: items written after it are not exported. */
  upToSequence: number;
}

/**
 * The export's reads: one keyset batch per statement, each on a connection taken from the given
 * pool for that statement alone and given back before the next, so an export whose client is not
 * reading holds no connection.
 */
@Injectable()
export class ExportItemsQueries {
  /**
   * Up to `limit` items of the export after `after` (from the start when `null`), in its order: a
   * row comparison on the sort keys, the index range a page by cursor uses.
   */
  async batch(
    pool: ReadPool,
    scope: ExportScope,
    after: KeyValue[] | null,
    limit: number,
  ): Promise<ExportBatch> {
    const { query } = scope;
    const params = new SqlParameters();
    const conditions = [
      ...runConditions('i', params.add(scope.activityId, 'uuid'), usesRunKey(query.filters, query.sortBy)),
      `i.sequence <= ${params.add(scope.upToSequence, 'int')}`,
      ...filterConditions(query.filters, 'i', params),
    ];
    const parts = sortParts(query.sortBy, query.sortDirection, after, 'i', params);
    if (after && !parts)
      conditions.push(afterCondition(query.sortBy, query.sortDirection, after, 'i', params));
    const keys = sortExpressions(query.sortBy, 'i').slice(0, -1);
    const columns = `i.sequence, i.id, i.external_id_value, i.display_name, i.object_type, i.object_change_type,
                        i.error_type, i.outcome_summary, i.error_message${keys.map((key, index) => `, ${key} AS k${index}`).join('')}`;
    const batchLimit = params.add(limit, 'int');
    const sql = parts
      ? `SELECT * FROM (${parts
          .map(
            (part) => `(SELECT ${columns}
                   FROM execution_items i
                  WHERE ${[...conditions, ...part.conditions].join(' AND ')}
                  ORDER BY ${part.orderBy}
                  LIMIT ${batchLimit})`,
          )
          .join(' UNION ALL ')}) i
                  ORDER BY ${[...keys.map((_, index) => `k${index}`), 'sequence'].map((key) => `${key} ${query.sortDirection.toUpperCase()}`).join(', ')}
                  LIMIT ${batchLimit}`
      : `SELECT ${columns}
                   FROM execution_items i
                  WHERE ${conditions.join(' AND ')}
                  ORDER BY ${orderBy(query.sortBy, query.sortDirection, 'i')}
                  LIMIT ${batchLimit}`;
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      // A batch of a selective filter may scan far: its own read-only transaction lifts the
      // statement timeout for it alone, and keeps the planner on the index order (a sort of every
      // match per batch would cost each batch the whole run).
      await client.query(
        'BEGIN READ ONLY; SET LOCAL statement_timeout = 0; SET LOCAL enable_sort = off; SET LOCAL max_parallel_workers_per_gather = 0',
      );
      const { rows } = await client.query<ExportRow>(sql, params.values);
      await client.query('COMMIT');
      const lastRow = rows.at(-1);
      return {
        items: rows.map(toExportedItem),
        last: lastRow
          ? [...keys.map((_, index) => lastRow[`k${index}`] as KeyValue), lastRow.sequence]
          : null,
      };
    } catch (error) {
      // A connection whose transaction could not be rolled back is not given back to the pool.
      await client.query('ROLLBACK').catch((rollback: unknown) => {
        broken = rollback instanceof Error ? rollback : new Error(String(rollback));
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

interface ExportRow extends ExecutionItemRow {
  sequence: number;
  error_message: string | null;
  [key: `k${number}`]: unknown;
}

/** The exported fields in `EXPORT_COLUMNS` order (NDJSON keys follow it). */
function toExportedItem(row: ExportRow): ExportedItem {
  return { sequence: row.sequence, ...toExecutionItemResponse(row), errorMessage: row.error_message };
}
