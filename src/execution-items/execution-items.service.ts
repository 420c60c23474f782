import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, QueryFailedError, Repository, type FindOptionsWhere } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { ApiError } from '../common/api-error';
import { GUID_PATTERN } from '../common/validation';
import { toActivityResponse, toExecutionItemResponse } from './dto/mappers';
import type { ActivityResponse, AppendResult, ExecutionItemResponse, PageResponse } from './dto/responses';
import { Activity } from './entities/activity.entity';
import {
  EXECUTION_ITEMS_OPTIONS,
  type ResolvedExecutionItemsOptions,
} from './execution-items.module-definition';
import { ExecutionItemsQueries, type LockedRun } from './execution-items.queries';
import {
  checkBatchSize,
  prepareEach,
  prepareItems,
  type NewExecutionItem,
  type PreparedItem,
} from './new-items';
import { clampPage, offsetOf, pagingFields } from './paging';
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

export interface ListActivitiesRequest extends PageRequest {
  targetType?: ActivityTargetType[];
  status?: ActivityStatus[];
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
   * One page of a run's items in processing order. `totalCount` is the run's counter, read in
   * the same statement as the page.
   */
  async listItems(
    activityId: string,
    request: PageRequest = {},
  ): Promise<PageResponse<ExecutionItemResponse>> {
    assertActivityId(activityId);
    const window = clampPage(request.page, request.pageSize, this.options);
    const result = await this.queries.pageBySequence(activityId, offsetOf(window), window.pageSize);
    if (!result) throw activityNotFound(activityId);
    if (result.targetType !== RUN_PROFILE_TARGET_TYPE) throw notARunProfile(activityId, result.targetType);
    return { items: result.rows.map(toExecutionItemResponse), ...pagingFields(window, result.itemCount) };
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
   * the run's row; a batch that fails validation or the database writes nothing.
   */
  async appendItems(activityId: string, items: readonly NewExecutionItem[]): Promise<AppendResult> {
    assertActivityId(activityId);
    checkBatchSize(items);
    return this.dataSource.transaction(async (manager) => {
      const run = await this.queries.lockRun(manager, activityId);
      if (!run) throw activityNotFound(activityId);
      if (run.targetType !== RUN_PROFILE_TARGET_TYPE) throw notARunProfile(activityId, run.targetType);
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
      return {
        activityId,
        itemIds: written.ids,
        firstSequence: run.itemCount + 1,
        lastSequence: itemCount,
        itemCount,
      };
    });
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
