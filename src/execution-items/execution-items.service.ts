import { Inject, Injectable } from '@nestjs/common';
import { pipeline } from 'node:stream';
import type { Activity } from './entities/activity.entity';
import { ExecutionItemsError } from './execution-items.error';
import { EXECUTION_ITEMS_OPTIONS, type ResolvedExecutionItemsOptions } from './execution-items.options';
import { ExecutionItemsQueries, type ActivityFilters } from './execution-items.query';
import { createExportEncoder, EXPORT_CONTENT_TYPES, exportFileName, type ItemsExport } from './export-format';
import { ExportItemsQueries, type ExportScope } from './export-items.query';
import { EXPORT_BATCH_SIZE, readInBatches } from './export-reader';
import { assertGuid } from './guid';
import {
  isUnfiltered,
  parseItemQuery,
  QUERY_PARAMETERS,
  type ItemQuery,
  type ItemQueryInput,
} from './item-query';
import type { KeyValue } from './item-sql';
import {
  clampPage,
  decodeCursor,
  encodeCursor,
  lookAhead,
  offsetOf,
  pagingFields,
  type Cursor,
  type PagePosition,
  type PageWindow,
} from './paging';
import { toActivityResponse, type ActivityResponse } from './responses/activity.response';
import type { ActivityStatsResponse } from './responses/activity-stats.response';
import {
  toExecutionItemDetailResponse,
  toExecutionItemResponse,
  type ExecutionItemDetailResponse,
} from './responses/execution-item.response';
import type { ActivityPageResponse, ItemPageResponse } from './responses/page.response';
import { toActivityStatsResponse } from './run-counters';
import {
  ACTIVITY_STATUSES,
  ACTIVITY_TARGET_TYPES,
  EXPORT_FORMATS,
  RUN_PROFILE_TARGET_TYPE,
  RUN_TYPES,
  isOneOf,
  type ActivityStatus,
  type ActivityTargetType,
  type ExportFormat,
  type RunType,
} from './vocabulary';

export interface PageRequest {
  /** 1-based; below 1 is treated as 1. */
  page?: number;
  /** Default 25 (`defaultPageSize`); above `maxPageSize` is treated as it; below 1 as the default. */
  pageSize?: number;
}

export interface ListItemsRequest extends PageRequest, ItemQueryInput {
  /** The `nextCursor` of a previous page; cannot be combined with `page`. */
  cursor?: string;
}

export interface ExportItemsRequest extends ItemQueryInput {
  /** Default `csv`. */
  format?: ExportFormat;
}

/** Which activities to list; each list matches any of its values, different lists must all match. */
export interface ListActivitiesRequest extends PageRequest {
  targetType?: readonly ActivityTargetType[];
  status?: readonly ActivityStatus[];
  runType?: readonly RunType[];
  /** Connected system names, exact and case-sensitive (a run's `targetContext`). */
  connectedSystemName?: readonly string[];
}

/**
 * The module's reads: what the HTTP controller serves and what other Nest modules call. Answers
 * are response classes, never entities. Every failure the caller can act on is an
 * `ExecutionItemsError`: `InvalidInput`, `ActivityNotFound`, `ItemNotFound` or `NotARun`.
 */
@Injectable()
export class ExecutionItemsService {
  constructor(
    private readonly queries: ExecutionItemsQueries,
    private readonly exportQueries: ExportItemsQueries,
    @Inject(EXECUTION_ITEMS_OPTIONS) private readonly options: ResolvedExecutionItemsOptions,
  ) {}

  /**
   * One page of a run's items: by default all of them in processing order, or those matching
   * the filters and search in the requested order. Page numbers or a cursor pick the page;
   * `totalCount` describes the matching set, read in the same statement as the page.
   */
  async listItems(activityId: string, request: ListItemsRequest = {}): Promise<ItemPageResponse> {
    assertGuid(activityId, 'activityId');
    const { query, window, position } = this.resolvePage(activityId, request);
    const { rows, totalCount, hasMore, positionOf } = isWholeRunInOrder(query)
      ? await this.pageInOrder(activityId, window, position)
      : await this.pageOfQuery(activityId, query, window, position);
    const last = rows.at(-1);
    const nextCursor =
      hasMore && last
        ? encodeCursor({
            activityId: activityId.toLowerCase(),
            query,
            pageSize: window.pageSize,
            page: window.page + 1,
            after: positionOf(last),
          })
        : null;
    return { items: rows.map(toExecutionItemResponse), ...pagingFields(window, totalCount), nextCursor };
  }

  /** One item in full, with its outcome tree. */
  async getItem(activityId: string, itemId: string): Promise<ExecutionItemDetailResponse> {
    assertGuid(activityId, 'activityId');
    assertGuid(itemId, 'itemId');
    const found = await this.queries.findItem(activityId, itemId);
    if (!found) throw ExecutionItemsError.activityNotFound(activityId);
    if (found.targetType !== RUN_PROFILE_TARGET_TYPE)
      throw ExecutionItemsError.notARun(activityId, found.targetType);
    if (!found.item) throw ExecutionItemsError.itemNotFound(activityId, itemId);
    return toExecutionItemDetailResponse(found.item);
  }

  /** A run's counts per change type, error type, object type and outcome type, from its counters. */
  async getStats(activityId: string): Promise<ActivityStatsResponse> {
    const activity = await this.findRun(activityId);
    return toActivityStatsResponse(activity.id, activity);
  }

  /**
   * Every item matching the filters and search, in the requested order, encoded as CSV or NDJSON
   * as the client reads it: the items written before the export began, read in keyset batches of
   * `EXPORT_BATCH_SIZE`, each on a connection held for that statement alone, so a client that stops
   * reading holds no connection. Problems with the request, the activity or the database are
   * thrown before any byte is produced (the first batch is read before the stream is returned).
   */
  async exportItems(activityId: string, request: ExportItemsRequest = {}): Promise<ItemsExport> {
    const { format = 'csv', ...input } = request;
    if (!isOneOf(EXPORT_FORMATS, format)) {
      throw ExecutionItemsError.invalid({ format: [`must be one of ${EXPORT_FORMATS.join(', ')}`] });
    }
    assertGuid(activityId, 'activityId');
    const query = parseItemQuery(input);
    const activity = await this.findRun(activityId);
    const scope: ExportScope = { activityId: activity.id, query, upToSequence: activity.itemCount };
    const first = await this.exportQueries.batch(scope, null, EXPORT_BATCH_SIZE);
    const rows = readInBatches(first, (after) => this.exportQueries.batch(scope, after, EXPORT_BATCH_SIZE));
    const encoder = createExportEncoder(format);
    // Destroying either end (the client went away, the database failed) stops both.
    pipeline(rows, encoder, () => undefined);
    return {
      fileName: exportFileName(activity, format),
      contentType: EXPORT_CONTENT_TYPES[format],
      stream: encoder,
    };
  }

  async getActivity(activityId: string): Promise<ActivityResponse> {
    assertGuid(activityId, 'activityId');
    const activity = await this.queries.findActivity(activityId);
    if (!activity) throw ExecutionItemsError.activityNotFound(activityId);
    return toActivityResponse(activity);
  }

  /** Activities, newest first, optionally only those of the given target types, statuses, run types and connected systems. */
  async listActivities(request: ListActivitiesRequest = {}): Promise<ActivityPageResponse> {
    const filters = checkActivityFilters(request);
    const window = clampPage(request.page, request.pageSize, this.options);
    const [activities, totalCount] = await this.queries.listActivities(
      filters,
      Number(offsetOf(window)),
      window.pageSize,
    );
    return { items: activities.map(toActivityResponse), ...pagingFields(window, totalCount) };
  }

  /** The page and the query it belongs to: from the cursor when one is given. */
  private resolvePage(
    activityId: string,
    request: ListItemsRequest,
  ): { query: ItemQuery; window: PageWindow; position: PagePosition } {
    const query = parseItemQuery(request);
    if (request.cursor === undefined) {
      const window = clampPage(request.page, request.pageSize, this.options);
      return { query, window, position: { offset: offsetOf(window) } };
    }
    if (typeof request.cursor !== 'string')
      throw ExecutionItemsError.invalid({ cursor: ['must be a string'] });
    if (request.page !== undefined) {
      throw ExecutionItemsError.invalid({ page: ['cannot be combined with cursor'] });
    }
    const cursor = decodeCursor(request.cursor, activityId);
    if (cursor.pageSize > this.options.maxPageSize) {
      throw ExecutionItemsError.invalid({ cursor: ['is not a cursor this API returned'] });
    }
    assertCursorMatches(
      cursor,
      request,
      query,
      request.pageSize === undefined ? undefined : clampPage(1, request.pageSize, this.options).pageSize,
    );
    return {
      query: cursor.query,
      window: { page: cursor.page, pageSize: cursor.pageSize },
      position: { after: cursor.after },
    };
  }

  /** The whole run in processing order: a range of sequence numbers, counted by the run's counter. */
  private async pageInOrder(activityId: string, window: PageWindow, position: PagePosition) {
    const offset = 'after' in position ? String(position.after[0]) : position.offset;
    const result = await this.queries.pageBySequence(activityId, offset, window.pageSize);
    if (!result) throw ExecutionItemsError.activityNotFound(activityId);
    if (result.targetType !== RUN_PROFILE_TARGET_TYPE) {
      throw ExecutionItemsError.notARun(activityId, result.targetType);
    }
    const last = result.rows.at(-1);
    return {
      rows: result.rows,
      totalCount: result.itemCount,
      hasMore: last !== undefined && last.sequence < result.itemCount,
      positionOf: (row: { sequence: number }): KeyValue[] => [row.sequence],
    };
  }

  /** Any other query: counted from the counters when the filters allow it, else by the statement. */
  private async pageOfQuery(
    activityId: string,
    query: ItemQuery,
    window: PageWindow,
    position: PagePosition,
  ) {
    const result = await this.queries.pageItems(activityId, query, position, window.pageSize);
    if (!result) throw ExecutionItemsError.activityNotFound(activityId);
    if (result.targetType !== RUN_PROFILE_TARGET_TYPE) {
      throw ExecutionItemsError.notARun(activityId, result.targetType);
    }
    return {
      ...lookAhead(result.rows, window.pageSize),
      totalCount: result.matchCount,
      positionOf: result.positionOf,
    };
  }

  /** A run-profile activity with its counters, or the module error the contract names. */
  private async findRun(activityId: string): Promise<Activity> {
    assertGuid(activityId, 'activityId');
    const activity = await this.queries.findActivity(activityId);
    if (!activity) throw ExecutionItemsError.activityNotFound(activityId);
    if (activity.targetType !== RUN_PROFILE_TARGET_TYPE) {
      throw ExecutionItemsError.notARun(activity.id, activity.targetType);
    }
    return activity;
  }
}

/** The unfiltered list in processing order: the fast path, a range of sequence numbers. */
function isWholeRunInOrder(query: ItemQuery): boolean {
  return isUnfiltered(query.filters) && query.sortBy === 'sequence' && query.sortDirection === 'asc';
}

/**
 * A cursor carries its query; parameters sent with it must say the same, so that a client that
 * changed a filter is told rather than served pages of the old query.
 */
function assertCursorMatches(
  cursor: Cursor,
  request: ListItemsRequest,
  given: ItemQuery,
  pageSize: number | undefined,
): void {
  const differing: string[] = QUERY_PARAMETERS.filter((key) => {
    if (request[key] === undefined) return false;
    const theirs =
      key === 'sortBy' || key === 'sortDirection' ? cursor.query[key] : cursor.query.filters[key];
    const ours = key === 'sortBy' || key === 'sortDirection' ? given[key] : given.filters[key];
    return JSON.stringify(theirs) !== JSON.stringify(ours);
  });
  if (pageSize !== undefined && pageSize !== cursor.pageSize) differing.push('pageSize');
  if (differing.length > 0) {
    throw ExecutionItemsError.invalid({
      cursor: [
        `was made for another query (${differing.join(', ')} differ); send the cursor alone or with the same parameters`,
      ],
    });
  }
}

/** The activity filters, checked for callers the types do not bind (JavaScript, HTTP). */
function checkActivityFilters(request: ListActivitiesRequest): ActivityFilters {
  const problems: Record<string, string[]> = {};
  const check = <T extends string>(key: 'targetType' | 'status' | 'runType', vocabulary: readonly T[]) => {
    const values: unknown = request[key];
    if (values === undefined) return undefined;
    if (!Array.isArray(values) || !values.every((value) => isOneOf(vocabulary, value))) {
      problems[key] = [`must be one of ${vocabulary.join(', ')}`];
      return undefined;
    }
    return values as T[];
  };
  const { connectedSystemName } = request;
  if (
    connectedSystemName !== undefined &&
    !(Array.isArray(connectedSystemName) && connectedSystemName.every((name) => typeof name === 'string'))
  ) {
    problems.connectedSystemName = ['must be a list of connected system names'];
  }
  const filters = {
    targetType: check('targetType', ACTIVITY_TARGET_TYPES),
    status: check('status', ACTIVITY_STATUSES),
    runType: check('runType', RUN_TYPES),
    connectedSystemName,
  };
  if (Object.keys(problems).length > 0) throw ExecutionItemsError.invalid(problems);
  return filters;
}
