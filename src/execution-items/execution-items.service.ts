import { Inject, Injectable } from '@nestjs/common';
import { pipeline } from 'node:stream';
import { ExecutionItemsError } from './execution-items.error';
import { EXECUTION_ITEMS_OPTIONS, type ResolvedExecutionItemsOptions } from './execution-items.options';
import {
  toObjectHistoryItemResponse,
  type ObjectHistoryPageResponse,
} from './responses/object-history.response';
import {
  toDiffCountsResponse,
  toDiffItemResponse,
  type RunDiffPageResponse,
} from './responses/run-diff.response';
import {
  DIFF_KEYS,
  OBJECT_HISTORY_KEYS,
  isDiffPosition,
  isObjectHistoryPosition,
  parseDiffQuery,
  parseObjectHistoryQuery,
} from './run-history';
import { RunHistoryQueries } from './run-history.query';
import {
  ExecutionItemsQueries,
  type ActivityWithCounters,
  type ActivityWithKey,
} from './execution-items.query';
import {
  FOLLOW_BATCH_SIZE,
  FOLLOW_SCAN_WINDOW,
  SharedReads,
  alignedBatchSize,
  followRun,
  followRunInBatches,
  parseFollowRequest,
  type FollowBatch,
  type FollowEvent,
  type FollowItemsRequest,
  type FollowSource,
} from './follow-items';
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
  encodeListCursor,
  lookAhead,
  offsetOf,
  pagingFields,
  resolveListPage,
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
import { ACTIVITY_FILTER_KEYS, isActivityPosition, parseActivityFilters } from './run-filters';
import { ReadConnections, type ReadPool } from './read-connections';
import { RunNotices } from './run-notices';
import { StoredDiffs } from './stored-diffs';
import {
  DIFF_CHANGES,
  EXPORT_FORMATS,
  RUN_PROFILE_TARGET_TYPE,
  isOneOf,
  type ActivityStatus,
  type ActivityTargetType,
  type DiffChange,
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
  /** Run profile names, exact and case-sensitive (a run's `targetName`). */
  runProfileName?: readonly string[];
  /** Created at or after: a `Date`, or ISO 8601 (a date, or a date-time with an offset). */
  createdFrom?: Date | string;
  /** Created before (exclusive); later than `createdFrom`. */
  createdTo?: Date | string;
  /** Runs with at least one error item (`true`), or none (`false`). */
  hasErrors?: boolean;
  /** The `nextCursor` of a previous page; cannot be combined with `page`. */
  cursor?: string;
}

/** A diff of a run's errors against a baseline run (contract §9). */
export interface DiffRunsRequest extends PageRequest {
  /** The baseline run; default: the latest earlier completed run of the same system, profile and type. */
  against?: string;
  /** Only these changes; default all. `counts` always cover the whole diff. */
  change?: readonly DiffChange[];
  /** The `nextCursor` of a previous page; cannot be combined with `page`. */
  cursor?: string;
}

/** One object's items across runs (contract §10): `externalIdValue` or `displayName` is required. */
export interface ObjectHistoryRequest extends PageRequest {
  /** The object's external id, exact. */
  externalIdValue?: string;
  /** The object's display name, exact but case-insensitive. */
  displayName?: string;
  /** Only runs on these connected systems (exact names). */
  connectedSystemName?: readonly string[];
  /** Only items with (true) or without (false) an error. */
  hasError?: boolean;
  /** Runs created at or after: a `Date`, or ISO 8601 (a date, or a date-time with an offset). */
  createdFrom?: Date | string;
  /** Runs created before (exclusive). */
  createdTo?: Date | string;
  /** The `nextCursor` of a previous page; cannot be combined with `page`. */
  cursor?: string;
}

/**
 * The module's reads: what the HTTP controller serves and what other Nest modules call. Answers
 * are response classes, never entities. Every failure the caller can act on is an
 * `ExecutionItemsError`: `InvalidInput`, `ActivityNotFound`, `ItemNotFound` or `NotARun`.
 *
 * With read replicas (the host's TypeORM `replication`), every read but `followItems` may run on
 * a replica (`ReadConnections`): it sees what was committed up to `replicaMaxLagMs` ago. Following
 * a run reads the primary, so that it never misses an item it was told of.
 */
@Injectable()
export class ExecutionItemsService {
  constructor(
    private readonly queries: ExecutionItemsQueries,
    private readonly history: RunHistoryQueries,
    private readonly exportQueries: ExportItemsQueries,
    @Inject(EXECUTION_ITEMS_OPTIONS) private readonly options: ResolvedExecutionItemsOptions,
    private readonly notices: RunNotices,
    private readonly reads: ReadConnections,
    private readonly storedDiffs: StoredDiffs,
  ) {}

  /** Reads of followed runs in flight, shared by the followers that ask for the same one. */
  private readonly followReads = new SharedReads<FollowBatch | null>();

  /**
   * One page of a run's items: by default all of them in processing order, or those matching
   * the filters and search in the requested order. Page numbers or a cursor pick the page;
   * `totalCount` describes the matching set, read in the same statement as the page.
   */
  async listItems(activityId: string, request: ListItemsRequest = {}): Promise<ItemPageResponse> {
    assertGuid(activityId, 'activityId');
    const { query, window, position } = this.resolvePage(activityId, request);
    const { rows, totalCount, hasMore, positionOf } = await this.reads.read((pool) =>
      isWholeRunInOrder(query)
        ? this.pageInOrder(pool, activityId, window, position)
        : this.pageOfQuery(pool, activityId, query, window, position),
    );
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
    const found = await this.reads.read((pool) => this.queries.findItem(pool, activityId, itemId));
    if (!found) throw ExecutionItemsError.activityNotFound(activityId);
    if (found.targetType !== RUN_PROFILE_TARGET_TYPE)
      throw ExecutionItemsError.notARun(activityId, found.targetType);
    if (!found.item) throw ExecutionItemsError.itemNotFound(activityId, itemId);
    return toExecutionItemDetailResponse(found.item);
  }

  /** A run's counts per change type, error type, object type and outcome type, from its counters. */
  async getStats(activityId: string): Promise<ActivityStatsResponse> {
    const activity = await this.reads.read((pool) => this.findRun(pool, activityId));
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
    // Every batch from one server: the run as the export began there, all of it there.
    const session = this.reads.session();
    const { activity, scope, first } = await session.read(async (pool) => {
      const run = await this.findRun(pool, activityId);
      const runScope: ExportScope = { activityId: run.id, query, upToSequence: run.itemCount };
      return {
        activity: run,
        scope: runScope,
        first: await this.exportQueries.batch(pool, runScope, null, EXPORT_BATCH_SIZE),
      };
    });
    const rows = readInBatches(first, (after) =>
      session.read((pool) => this.exportQueries.batch(pool, scope, after, EXPORT_BATCH_SIZE)),
    );
    const encoder = createExportEncoder(format);
    // Destroying either end (the client went away, the database failed) stops both.
    pipeline(rows, encoder, () => undefined);
    return {
      fileName: exportFileName(activity, format),
      contentType: EXPORT_CONTENT_TYPES[format],
      stream: encoder,
    };
  }

  /**
   * Follows a run as it is written: its items after `after` (matching the filters) in sequence
   * order, each once, then, as they are committed by any process, the newest; `progress` while
   * the run is in progress; `complete` once it has ended and every item has been yielded.
   * Problems with the request or the activity are thrown here, before anything is yielded.
   * Breaking out of the loop, or aborting `signal`, ends the follow and frees what it holds.
   */
  async followItems(
    activityId: string,
    request: FollowItemsRequest = {},
  ): Promise<AsyncIterable<FollowEvent>> {
    const source = await this.followSource(activityId, request);
    return followRun(source.source, source.after, request.signal);
  }

  /**
   * `followItems` a batch of events at a time (the items of one read, or one `progress` or
   * `complete`), as the event stream writes them. Followers of a run at the same position with
   * the same filters share their reads and receive the same arrays: read only.
   */
  async followItemBatches(
    activityId: string,
    request: FollowItemsRequest = {},
  ): Promise<AsyncIterable<readonly FollowEvent[]>> {
    const source = await this.followSource(activityId, request);
    return followRunInBatches(source.source, source.after, request.signal);
  }

  private async followSource(
    activityId: string,
    request: FollowItemsRequest,
  ): Promise<{ source: FollowSource; after: number }> {
    assertGuid(activityId, 'activityId');
    const { after, filters } = parseFollowRequest(request);
    // On the primary: a notice says an append committed, so the next read must see it.
    const activity = await this.reads.primary((pool) => this.findRun(pool, activityId));
    const { queries, notices, reads } = this;
    const filtered = !isUnfiltered(filters);
    const sharing = `${activity.id} ${JSON.stringify(filters)}`;
    const source: FollowSource = {
      // On the primary, and unfiltered reads end on multiples of the batch size, so that
      // followers share them.
      read: (from, notBefore) => {
        const limit = filtered ? FOLLOW_BATCH_SIZE : alignedBatchSize(from);
        const window = filtered ? FOLLOW_SCAN_WINDOW : limit;
        return this.followReads.read(`${sharing} ${from}`, notBefore, () =>
          reads.primary((pool) => queries.followBatch(pool, activity.id, filters, from, limit, window)),
        );
      },
      subscribe: (onChange) => notices.subscribe(activity.id, onChange),
      pollIntervalMs: this.options.followPollIntervalMs,
      shutdownSignal: notices.shutdownSignal,
    };
    return { source, after };
  }

  async getActivity(activityId: string): Promise<ActivityResponse> {
    assertGuid(activityId, 'activityId');
    const activity = await this.reads.read((pool) => this.queries.findActivity(pool, activityId));
    if (!activity) throw ExecutionItemsError.activityNotFound(activityId);
    return toActivityResponse(activity);
  }

  /**
   * Activities, newest first, optionally only those of the given target types, statuses, run
   * types, connected systems, run profiles, creation window and error state. Page numbers or a
   * cursor (keyset on created and id) pick the page.
   */
  async listActivities(request: ListActivitiesRequest = {}): Promise<ActivityPageResponse> {
    const {
      query: filters,
      window,
      position,
    } = resolveListPage(
      request,
      parseActivityFilters(request),
      this.options,
      { list: 'activities', scope: null, parse: parseActivityFilters, isAfter: isActivityPosition },
      ACTIVITY_FILTER_KEYS.filter((key) => request[key] !== undefined),
    );
    const { rows, totalCount } = await this.reads.read((pool) =>
      this.queries.pageActivities(pool, filters, position, window.pageSize),
    );
    const { rows: shown, hasMore } = lookAhead(rows, window.pageSize);
    const last = shown.at(-1);
    const nextCursor =
      hasMore && last
        ? encodeListCursor({
            list: 'activities',
            scope: null,
            query: { ...filters },
            pageSize: window.pageSize,
            page: window.page + 1,
            after: [last.createdKey, last.id],
          })
        : null;
    return { items: shown.map(toActivityResponse), ...pagingFields(window, totalCount), nextCursor };
  }

  /**
   * What changed in the errors of run `activityId` against a baseline run (contract §9): one
   * row per object (by external id) with an error in either run, by change then external id,
   * with the counts of the whole diff. An object's item in a run is its last item with an error,
   * or when it has none its last item. Page numbers or a cursor pick the page; a cursor keeps the
   * baseline it started with. Once the run has ended, the page comes from its stored diff when
   * that was computed against the same baseline (`StoredDiffs`), else it is computed here; a
   * default-baseline read that computed it has the copy stored in the background.
   */
  async diffRuns(activityId: string, request: DiffRunsRequest = {}): Promise<RunDiffPageResponse> {
    assertGuid(activityId, 'activityId');
    const scope = activityId.toLowerCase();
    const { query, window, position } = resolveListPage(
      request,
      parseDiffQuery(request),
      this.options,
      { list: 'diff', scope, parse: parseDiffQuery, isAfter: isDiffPosition },
      DIFF_KEYS.filter((key) => request[key] !== undefined),
    );
    const changes: readonly DiffChange[] = query.change ?? DIFF_CHANGES;
    // Both runs and the page from one server.
    const { baseline, counts, rows, missed } = await this.reads.read(async (pool) => {
      const run = await this.history.findActivity(pool, activityId);
      if (!run) throw ExecutionItemsError.activityNotFound(activityId);
      if (run.targetType !== RUN_PROFILE_TARGET_TYPE) {
        throw ExecutionItemsError.notARun(run.id, run.targetType);
      }
      const against = await this.baselineOf(pool, run, query.against);
      const ended = run.status !== 'InProgress';
      // Two ended runs' diff never changes: a copy stored against this baseline is the answer.
      const stored = ended
        ? await this.history.pageStoredDiff(pool, run.id, against.id, changes, position, window.pageSize)
        : null;
      if (stored) return { baseline: against, ...stored, missed: false };
      const page = await this.history.pageDiff(pool, run.id, against.id, changes, position, window.pageSize);
      return { baseline: against, ...page, missed: ended && query.against === undefined };
    });
    // The default baseline's diff had no copy (not stored yet, or against another baseline).
    if (missed) this.storedDiffs.missed(scope);
    const { rows: shown, hasMore } = lookAhead(rows, window.pageSize);
    const totalCount = changes.reduce((sum: number, change) => sum + counts[DIFF_CHANGES.indexOf(change)], 0);
    const last = shown.at(-1);
    const nextCursor =
      hasMore && last
        ? encodeListCursor({
            list: 'diff',
            scope,
            query: { ...query, against: baseline.id },
            pageSize: window.pageSize,
            page: window.page + 1,
            after: [last.rank, last.external_id_value],
          })
        : null;
    return {
      items: shown.map(toDiffItemResponse),
      ...pagingFields(window, totalCount),
      nextCursor,
      baseline: toActivityResponse(baseline),
      counts: toDiffCountsResponse(counts),
    };
  }

  /**
   * Every item of one object in every run (contract §10), newest run first and each run's items
   * in processing order, each with its run. Page numbers or a cursor pick the page.
   */
  async objectHistory(request: ObjectHistoryRequest): Promise<ObjectHistoryPageResponse> {
    const { query, window, position } = resolveListPage(
      request,
      parseObjectHistoryQuery(request, request.cursor !== undefined),
      this.options,
      {
        list: 'history',
        scope: null,
        parse: (cursorQuery) => parseObjectHistoryQuery(cursorQuery),
        isAfter: isObjectHistoryPosition,
      },
      OBJECT_HISTORY_KEYS.filter((key) => request[key] !== undefined),
    );
    const { rows, totalCount } = await this.reads.read((pool) =>
      this.history.pageObjectHistory(pool, query, position, window.pageSize),
    );
    const { rows: shown, hasMore } = lookAhead(rows, window.pageSize);
    const last = shown.at(-1);
    const nextCursor =
      hasMore && last
        ? encodeListCursor({
            list: 'history',
            scope: null,
            query: { ...query },
            pageSize: window.pageSize,
            page: window.page + 1,
            after: [last.activity_created_key, last.activity_id, last.sequence],
          })
        : null;
    return { items: shown.map(toObjectHistoryItemResponse), ...pagingFields(window, totalCount), nextCursor };
  }

  /** The run to compare `run` with: `against` when given, else the latest earlier one that ended. */
  private async baselineOf(
    pool: ReadPool,
    run: ActivityWithKey,
    against: string | undefined,
  ): Promise<ActivityWithKey> {
    if (against === undefined) {
      const found = await this.history.findBaseline(pool, run);
      if (!found) throw ExecutionItemsError.baselineNotFound(run);
      return found;
    }
    const baseline = await this.history.findActivity(pool, against);
    if (!baseline) throw ExecutionItemsError.activityNotFound(against);
    if (baseline.targetType !== RUN_PROFILE_TARGET_TYPE) {
      throw ExecutionItemsError.notARun(baseline.id, baseline.targetType);
    }
    if (baseline.targetContext !== run.targetContext)
      throw ExecutionItemsError.runsNotComparable(run, baseline);
    return baseline;
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
  private async pageInOrder(pool: ReadPool, activityId: string, window: PageWindow, position: PagePosition) {
    const offset = 'after' in position ? String(position.after[0]) : position.offset;
    const result = await this.queries.pageBySequence(pool, activityId, offset, window.pageSize);
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
    pool: ReadPool,
    activityId: string,
    query: ItemQuery,
    window: PageWindow,
    position: PagePosition,
  ) {
    const result = await this.queries.pageItems(pool, activityId, query, position, window.pageSize);
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
  private async findRun(pool: ReadPool, activityId: string): Promise<ActivityWithCounters> {
    assertGuid(activityId, 'activityId');
    const activity = await this.queries.findActivity(pool, activityId);
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
