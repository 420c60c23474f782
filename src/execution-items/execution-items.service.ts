import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import {
  DataSource,
  In,
  QueryFailedError,
  Repository,
  type EntityManager,
  type FindOptionsWhere,
} from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { ApiError } from '../common/api-error';
import { GUID_PATTERN } from '../common/validation';
import { decodeCursor, encodeCursor, type Cursor } from './cursor';
import {
  toActivityResponse,
  toActivityStatsResponse,
  toExecutionItemDetailResponse,
  toExecutionItemResponse,
} from './dto/mappers';
import type {
  ActivityResponse,
  ActivityStatsResponse,
  AppendResult,
  ExecutionItemDetailResponse,
  ItemPageResponse,
  PageResponse,
} from './dto/responses';
import { Activity } from './entities/activity.entity';
import { AppendBatch } from './entities/append-batch.entity';
import {
  EXECUTION_ITEMS_OPTIONS,
  type ResolvedExecutionItemsOptions,
} from './execution-items.module-definition';
import { ExecutionItemsQueries, type LockedRun, type PagePosition } from './execution-items.queries';
import {
  createExportEncoder,
  EXPORT_CONTENT_TYPES,
  EXPORT_FORMATS,
  exportFileName,
  type ExportFormat,
} from './export-format';
import {
  isUnfiltered,
  parseItemQuery,
  QUERY_PARAMETERS,
  type ItemQuery,
  type ItemQueryInput,
} from './item-query';
import type { KeyValue } from './item-sql';
import {
  checkBatchSize,
  prepareEach,
  prepareItems,
  type NewExecutionItem,
  type PreparedItem,
} from './new-items';
import { clampPage, offsetOf, pagingFields, type PageWindow } from './paging';
import {
  FINAL_ACTIVITY_STATUSES,
  RUN_PROFILE_TARGET_TYPE,
  RUN_TYPES,
  isOneOf,
  type ActivityStatus,
  type ActivityTargetType,
  type RunType,
} from './vocabulary';

export interface PageRequest {
  page?: number;
  pageSize?: number;
}

export interface ListItemsRequest extends PageRequest, ItemQueryInput {
  /** The `nextCursor` of a previous page; cannot be combined with `page`. */
  cursor?: string;
}

export interface ExportItemsRequest extends ItemQueryInput {
  /** `csv` (default) or `ndjson`. */
  format?: string;
}

/** An export ready to send: the encoded items as a stream, with its content type and file name. */
export interface ItemsExport {
  fileName: string;
  contentType: string;
  stream: Readable;
}

export interface AppendOptions {
  /**
   * The engine's id for this batch (1-200 characters), unique within the run: a retry with the
   * same id and the same items returns the first append's result instead of writing again.
   */
  batchId?: string;
}

export interface ListActivitiesRequest extends PageRequest {
  targetType?: ActivityTargetType[];
  status?: ActivityStatus[];
  runType?: RunType[];
  /** Connected system names, exact (`target_context`). */
  connectedSystemName?: string[];
}

export interface StartRunRequest {
  /** The activity's id, when the caller assigns it; a new one is generated otherwise. */
  id?: string;
  connectedSystemName: string;
  runProfileName: string;
  runType: RunType;
}

/** Longest accepted connected system or run profile name. */
const MAX_NAME_LENGTH = 400;

/** Longest accepted batch id. */
const MAX_BATCH_ID_LENGTH = 200;

/**
 * The module's API: what the HTTP controller serves and what other Nest modules call.
 * Reads answer with response DTOs; writes are the sync engine's path into the run history.
 */
@Injectable()
export class ExecutionItemsService {
  constructor(
    @InjectRepository(Activity) private readonly activities: Repository<Activity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queries: ExecutionItemsQueries,
    @Inject(EXECUTION_ITEMS_OPTIONS) private readonly options: ResolvedExecutionItemsOptions,
  ) {}

  /**
   * One page of a run's items: by default all of them in processing order, or those matching
   * the filters and search in the requested order. Page numbers or a cursor pick the page;
   * `totalCount` describes the matching set, read in the same statement as the page.
   */
  async listItems(activityId: string, request: ListItemsRequest = {}): Promise<ItemPageResponse> {
    assertActivityId(activityId);
    const { query, window, position } = this.resolvePage(activityId, request);
    const { rows, totalCount, hasMore } = isWholeRunInOrder(query)
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
            after: last.keys,
          })
        : null;
    return { items: rows.map(toExecutionItemResponse), ...pagingFields(window, totalCount), nextCursor };
  }

  /** One item in full, with its outcome tree. */
  async getItem(activityId: string, itemId: string): Promise<ExecutionItemDetailResponse> {
    assertActivityId(activityId);
    if (typeof itemId !== 'string' || !GUID_PATTERN.test(itemId)) {
      throw ApiError.validation({ itemId: ['must be a GUID'] });
    }
    const found = await this.queries.findItem(activityId, itemId);
    if (!found) throw activityNotFound(activityId);
    if (found.targetType !== RUN_PROFILE_TARGET_TYPE) throw notARunProfile(activityId, found.targetType);
    if (!found.item)
      throw ApiError.notFound(`Execution item with ID ${itemId} not found in activity ${activityId}.`);
    return toExecutionItemDetailResponse(found.item);
  }

  /** A run's counts per change type, error type, object type and outcome type, from its counters. */
  async getStats(activityId: string): Promise<ActivityStatsResponse> {
    const activity = await this.findRun(activityId);
    return toActivityStatsResponse(activity.id, activity);
  }

  /**
   * Every item matching the filters and search, in the requested order, encoded as CSV or NDJSON
   * while it streams from the database. Problems with the request or the activity are thrown
   * before any byte is produced.
   */
  async exportItems(activityId: string, request: ExportItemsRequest = {}): Promise<ItemsExport> {
    const { format = 'csv', ...input } = request;
    if (!isOneOf(EXPORT_FORMATS, format)) {
      throw ApiError.validation({ format: [`must be one of ${EXPORT_FORMATS.join(', ')}`] });
    }
    assertActivityId(activityId);
    const query = parseItemQuery(input);
    const activity = await this.findRun(activityId);
    const rows = await this.queries.streamItems(activity.id, query);
    const encoder = createExportEncoder(format as ExportFormat);
    // Destroying either end (the client went away, the database failed) stops both.
    pipeline(rows, encoder, () => undefined);
    return {
      fileName: exportFileName(activity, format as ExportFormat),
      contentType: EXPORT_CONTENT_TYPES[format as ExportFormat],
      stream: encoder,
    };
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
    if (typeof request.cursor !== 'string') throw ApiError.validation({ cursor: ['must be a string'] });
    if (request.page !== undefined) throw ApiError.validation({ page: ['cannot be combined with cursor'] });
    const cursor = decodeCursor(request.cursor, activityId);
    if (cursor.pageSize > this.options.maxPageSize) {
      throw ApiError.validation({ cursor: ['is not a cursor this API returned'] });
    }
    const pageSize = cursor.pageSize;
    assertCursorMatches(
      cursor,
      request,
      query,
      request.pageSize === undefined ? undefined : clampPage(1, request.pageSize, this.options).pageSize,
    );
    return {
      query: cursor.query,
      window: { page: cursor.page, pageSize },
      position: { after: cursor.after },
    };
  }

  /** The whole run in processing order: a range of sequence numbers, counted by the run's counter. */
  private async pageInOrder(activityId: string, window: PageWindow, position: PagePosition) {
    const offset = 'after' in position ? String(position.after[0]) : position.offset;
    const result = await this.queries.pageBySequence(activityId, offset, window.pageSize);
    if (!result) throw activityNotFound(activityId);
    if (result.targetType !== RUN_PROFILE_TARGET_TYPE) throw notARunProfile(activityId, result.targetType);
    const rows = result.rows.map((row) => ({ ...row, keys: [row.sequence] as KeyValue[] }));
    const last = rows.at(-1);
    return {
      rows,
      totalCount: result.itemCount,
      hasMore: last !== undefined && last.sequence < result.itemCount,
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
    if (!result) throw activityNotFound(activityId);
    if (result.targetType !== RUN_PROFILE_TARGET_TYPE) throw notARunProfile(activityId, result.targetType);
    return {
      rows: result.rows.slice(0, window.pageSize),
      totalCount: result.matchCount,
      hasMore: result.rows.length > window.pageSize,
    };
  }

  /** A run-profile activity, or the 404 / 400 the contract names. */
  private async findRun(activityId: string): Promise<Activity> {
    assertActivityId(activityId);
    const activity = await this.activities.findOneBy({ id: activityId });
    if (!activity) throw activityNotFound(activityId);
    if (activity.targetType !== RUN_PROFILE_TARGET_TYPE)
      throw notARunProfile(activity.id, activity.targetType);
    return activity;
  }

  async getActivity(activityId: string): Promise<ActivityResponse> {
    assertActivityId(activityId);
    const activity = await this.activities.findOneBy({ id: activityId });
    if (!activity) throw activityNotFound(activityId);
    return toActivityResponse(activity);
  }

  /** Activities, newest first, optionally only those of the given target types and statuses. */
  async listActivities(request: ListActivitiesRequest = {}): Promise<PageResponse<ActivityResponse>> {
    const window = clampPage(request.page, request.pageSize, this.options);
    const where: FindOptionsWhere<Activity> = {};
    if (request.targetType?.length) where.targetType = In(request.targetType);
    if (request.status?.length) where.status = In(request.status);
    if (request.runType?.length) where.runType = In(request.runType);
    if (request.connectedSystemName?.length) where.targetContext = In(request.connectedSystemName);
    const [activities, totalCount] = await this.activities.findAndCount({
      where,
      order: { created: 'DESC', id: 'DESC' },
      skip: Number(offsetOf(window)),
      take: window.pageSize,
    });
    return { items: activities.map(toActivityResponse), ...pagingFields(window, totalCount) };
  }

  /** Records the start of a run-profile run; items are appended to the activity it returns. */
  async startRun(request: StartRunRequest): Promise<ActivityResponse> {
    const problems: Record<string, string[]> = {};
    for (const key of ['connectedSystemName', 'runProfileName'] as const) {
      const value: unknown = request?.[key];
      if (
        typeof value !== 'string' ||
        value.trim() === '' ||
        value.length > MAX_NAME_LENGTH ||
        value.includes('\u0000') ||
        !value.isWellFormed()
      ) {
        problems[key] = [`must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`];
      }
    }
    if (!isOneOf(RUN_TYPES, request?.runType)) problems.runType = [`must be one of ${RUN_TYPES.join(', ')}`];
    if (request?.id !== undefined && !(typeof request.id === 'string' && GUID_PATTERN.test(request.id))) {
      problems.id = ['must be a GUID'];
    }
    if (Object.keys(problems).length > 0) throw ApiError.validation(problems, 'The run is not valid.');

    const activity = this.activities.create({
      id: request.id?.toLowerCase() ?? uuidv7(),
      targetType: RUN_PROFILE_TARGET_TYPE,
      targetName: request.runProfileName,
      targetContext: request.connectedSystemName,
      runType: request.runType,
      status: 'InProgress',
    });
    try {
      await this.activities.insert(activity);
    } catch (error) {
      if (isUniqueViolation(error))
        throw ApiError.badRequest(`An activity with ID ${activity.id} already exists.`);
      throw error;
    }
    return this.getActivity(activity.id);
  }

  /**
   * Appends a batch to a run in progress, numbering its items after the run's last one, and
   * updates the run's counters in the same transaction. Concurrent appends to one run queue on
   * the run's row; a batch that fails validation or the database writes nothing. With a
   * `batchId`, a retry of a batch that was already written returns the first append's result
   * (`replayed: true`) and writes nothing, even after the run has ended.
   */
  async appendItems(
    activityId: string,
    items: readonly NewExecutionItem[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    assertActivityId(activityId);
    checkBatchSize(items);
    const batch =
      options.batchId === undefined ? null : { id: checkBatchId(options.batchId), hash: hashOf(items) };
    return this.dataSource.transaction(async (manager) => {
      const run = await this.queries.lockRun(manager, activityId);
      if (!run) throw activityNotFound(activityId);
      if (run.targetType !== RUN_PROFILE_TARGET_TYPE) throw notARunProfile(activityId, run.targetType);
      if (batch) {
        const earlier = await manager.findOneBy(AppendBatch, { activityId, batchId: batch.id });
        if (earlier) return this.replay(manager, activityId, run, earlier, batch.hash);
      }
      if (run.status !== 'InProgress') {
        throw ApiError.badRequest(
          `Activity with ID ${activityId} is ${run.status}; items can only be added to a run in progress.`,
        );
      }
      const written =
        this.options.appendMethod === 'copy'
          ? await this.queries.copyItems(manager, activityId, run.itemCount, prepareEach(items))
          : await this.queries.insertItems(manager, activityId, run.itemCount, prepareItems(items));
      const itemCount = run.itemCount + written.items.length;
      await manager.update(Activity, { id: activityId }, countersAfter(run, written.items));
      if (batch) {
        await manager.insert(AppendBatch, {
          activityId,
          batchId: batch.id,
          firstSequence: run.itemCount + 1,
          itemCount: written.items.length,
          contentHash: batch.hash,
        });
      }
      return {
        activityId,
        itemIds: written.ids,
        firstSequence: run.itemCount + 1,
        lastSequence: itemCount,
        itemCount,
        replayed: false,
      };
    });
  }

  /** The result of a batch written before under the same id; a different batch reusing it is refused. */
  private async replay(
    manager: EntityManager,
    activityId: string,
    run: LockedRun,
    earlier: AppendBatch,
    hash: string,
  ): Promise<AppendResult> {
    if (earlier.contentHash !== hash) {
      throw ApiError.badRequest(
        `Batch ${earlier.batchId} was already appended to activity ${activityId} with different items.`,
      );
    }
    const lastSequence = earlier.firstSequence + earlier.itemCount - 1;
    const rows: Array<{ id: string }> = await manager.query(
      `SELECT id FROM execution_items WHERE activity_id = $1 AND sequence BETWEEN $2 AND $3 ORDER BY sequence`,
      [activityId, earlier.firstSequence, lastSequence],
    );
    return {
      activityId,
      itemIds: rows.map((row) => row.id),
      firstSequence: earlier.firstSequence,
      lastSequence,
      itemCount: run.itemCount,
      replayed: true,
    };
  }

  /** Ends a run with its final status; no items can be appended afterwards. */
  async completeRun(
    activityId: string,
    status: Exclude<ActivityStatus, 'InProgress'>,
  ): Promise<ActivityResponse> {
    assertActivityId(activityId);
    if (!isOneOf(FINAL_ACTIVITY_STATUSES, status)) {
      throw ApiError.validation({ status: [`must be one of ${FINAL_ACTIVITY_STATUSES.join(', ')}`] });
    }
    const result = await this.activities
      .createQueryBuilder()
      .update()
      .set({ status, completed: () => 'now()' })
      .where('id = :id AND status = :inProgress AND target_type = :runProfile', {
        id: activityId,
        inProgress: 'InProgress',
        runProfile: RUN_PROFILE_TARGET_TYPE,
      })
      .execute();
    if (result.affected === 0) {
      const activity = await this.getActivity(activityId);
      if (activity.targetType !== RUN_PROFILE_TARGET_TYPE)
        throw notARunProfile(activity.id, activity.targetType);
      throw ApiError.badRequest(`Activity with ID ${activity.id} is ${activity.status}, not InProgress.`);
    }
    return this.getActivity(activityId);
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
    throw ApiError.validation({
      cursor: [
        `was made for another query (${differing.join(', ')} differ); send the cursor alone or with the same parameters`,
      ],
    });
  }
}

function checkBatchId(batchId: unknown): string {
  if (
    typeof batchId !== 'string' ||
    batchId.length === 0 ||
    batchId.length > MAX_BATCH_ID_LENGTH ||
    /\p{Cc}/u.test(batchId) ||
    !batchId.isWellFormed()
  ) {
    throw ApiError.validation(
      { batchId: [`must be 1 to ${MAX_BATCH_ID_LENGTH} characters without control characters`] },
      'The batch is not valid; nothing was written.',
    );
  }
  return batchId;
}

/** Fingerprint of a batch as sent: the same items in the same order give the same hash. */
function hashOf(items: readonly NewExecutionItem[]): string {
  return createHash('sha256').update(JSON.stringify(items)).digest('hex');
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof QueryFailedError && (error.driverError as { code?: string }).code === '23505';
}

/** Ids come from other modules as well as from validated HTTP input: check them here too. */
function assertActivityId(activityId: unknown): asserts activityId is string {
  if (typeof activityId !== 'string' || !GUID_PATTERN.test(activityId)) {
    throw ApiError.validation({ activityId: ['must be a GUID'] });
  }
}

function activityNotFound(activityId: string): ApiError {
  return ApiError.notFound(`Activity with ID ${activityId} not found.`);
}

function notARunProfile(activityId: string, targetType: string): ApiError {
  return ApiError.badRequest(
    `Activity with ID ${activityId} is a ${targetType} activity; only ${RUN_PROFILE_TARGET_TYPE} activities have execution items.`,
  );
}

/** The run's counters with a batch added. Maps, so that any object type name is just a key. */
function countersAfter(run: LockedRun, items: readonly PreparedItem[]) {
  const changeTypeCounts = new Map(Object.entries(run.changeTypeCounts));
  const errorTypeCounts = new Map(Object.entries(run.errorTypeCounts));
  const objectTypeCounts = new Map(Object.entries(run.objectTypeCounts));
  const outcomeTypeCounts = new Map(Object.entries(run.outcomeTypeCounts));
  let errorItemCount = run.errorItemCount;
  for (const item of items) {
    increment(changeTypeCounts, item.objectChangeType);
    if (item.errorType) {
      increment(errorTypeCounts, item.errorType);
      errorItemCount += 1;
    }
    if (item.objectType !== null) increment(objectTypeCounts, item.objectType);
    for (const type of item.outcomeTypes) increment(outcomeTypeCounts, type);
  }
  return {
    itemCount: run.itemCount + items.length,
    errorItemCount,
    changeTypeCounts: Object.fromEntries(changeTypeCounts),
    errorTypeCounts: Object.fromEntries(errorTypeCounts),
    objectTypeCounts: Object.fromEntries(objectTypeCounts),
    outcomeTypeCounts: Object.fromEntries(outcomeTypeCounts),
  };
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
