import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import type { AppendBatch } from './entities/append-batch.entity';
import { ExecutionItemsError, type ValidationErrors } from './execution-items.error';
import { EXECUTION_ITEMS_OPTIONS, type ResolvedExecutionItemsOptions } from './execution-items.options';
import { ExecutionRunsQueries, type LockedRun, type OldActivity } from './execution-runs.query';
import { GUID_PATTERN, assertGuid } from './guid';
import { checkBatchSize, prepareEach, prepareItems, type NewExecutionItem } from './new-items';
import { toActivityResponse, type ActivityResponse } from './responses/activity.response';
import type { AppendResult } from './responses/append-result.response';
import { countersAfter } from './run-counters';
import { RunNotices } from './run-notices';
import { StoredDiffs } from './stored-diffs';
import {
  FINAL_ACTIVITY_STATUSES,
  RUN_PROFILE_TARGET_TYPE,
  RUN_TYPES,
  isOneOf,
  type FinalActivityStatus,
  type RunType,
} from './vocabulary';

export interface StartRunRequest {
  /** The activity's id, when the caller assigns it; a new UUIDv7 otherwise. */
  id?: string;
  connectedSystemName: string;
  runProfileName: string;
  runType: RunType;
}

export interface AppendOptions {
  /**
   * The engine's id for this batch (1-200 characters), unique within the run: a retry with the
   * same id and the same items returns the first append's result instead of writing again.
   */
  batchId?: string;
}

export interface CompleteRunRequest {
  /** How the run ended; without it, `CompleteWithError` when it has error items, else `Complete`. */
  status?: FinalActivityStatus;
  /**
   * The engine's closing words (why it failed, say), at most 4,096 characters. Activities have no
   * column for it: it goes into the run's completion log line, not into the run history.
   */
  message?: string;
}

export interface PurgeRunsRequest {
  /** Ended activities created more than this many days ago are deleted. */
  olderThanDays: number;
  /** Most items one DELETE removes. */
  batchSize: number;
  /** Stops the purge between two statements (at shutdown); what is done stays done. */
  signal?: AbortSignal;
  /** The time "older than" counts back from; default now. */
  now?: Date;
}

export interface PurgeRunsResult {
  olderThanDays: number;
  /** Activities created before this were purged. */
  cutoff: Date;
  /** Activities deleted. */
  activities: number;
  /** Execution items deleted. */
  items: number;
  durationMs: number;
  /** False when the purge was stopped before it had deleted everything old. */
  complete: boolean;
}

/** Longest accepted connected system or run profile name. */
const MAX_NAME_LENGTH = 400;

/** Longest accepted closing message of a run. */
const MAX_MESSAGE_LENGTH = 4096;

/** Longest accepted batch id. */
const MAX_BATCH_ID_LENGTH = 200;

/** Activities read per query while looking for old ones. */
const PURGE_ACTIVITY_BATCH = 100;

/**
 * The module's writes: the sync engine's path into the run history (start a run, append its
 * items while it runs, complete it), and the purge of old runs. Every failure the caller can
 * act on is an `ExecutionItemsError`: `InvalidInput`, `ActivityNotFound`, `NotARun`,
 * `ActivityExists`, `RunClosed` or `BatchIdReused`.
 */
@Injectable()
export class ExecutionRunsService {
  private readonly logger = new Logger('ExecutionRuns');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queries: ExecutionRunsQueries,
    @Inject(EXECUTION_ITEMS_OPTIONS) private readonly options: ResolvedExecutionItemsOptions,
    private readonly notices: RunNotices,
    private readonly storedDiffs: StoredDiffs,
  ) {}

  /** Records the start of a run-profile run; items are appended to the activity it returns. */
  async startRun(request: StartRunRequest): Promise<ActivityResponse> {
    const problems: ValidationErrors = {};
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
    if (Object.keys(problems).length > 0)
      throw ExecutionItemsError.invalid(problems, 'The run is not valid.');

    const id = request.id?.toLowerCase() ?? uuidv7();
    const activity = await this.queries.insertRun({ ...request, id });
    if (!activity) {
      throw new ExecutionItemsError('ActivityExists', `An activity with ID ${id} already exists.`);
    }
    return toActivityResponse(activity);
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
    assertGuid(activityId, 'activityId');
    checkBatchSize(items);
    const batch =
      options.batchId === undefined ? null : { id: checkBatchId(options.batchId), hash: hashOf(items) };
    const result = await this.dataSource.transaction(async (manager) => {
      const run = await this.queries.lockRun(manager, activityId);
      if (!run) throw ExecutionItemsError.activityNotFound(activityId);
      if (run.targetType !== RUN_PROFILE_TARGET_TYPE)
        throw ExecutionItemsError.notARun(activityId, run.targetType);
      if (batch) {
        const earlier = await this.queries.findBatch(manager, activityId, batch.id);
        if (earlier) return this.replay(manager, activityId, run, earlier, batch.hash);
      }
      if (run.status !== 'InProgress') {
        throw new ExecutionItemsError(
          'RunClosed',
          `Activity with ID ${activityId} is ${run.status}; items can only be added to a run in progress.`,
        );
      }
      const written =
        this.options.appendMethod === 'copy'
          ? await this.queries.copyItems(manager, activityId, run.itemCount, prepareEach(items))
          : await this.queries.insertItems(manager, activityId, run.itemCount, prepareItems(items));
      const counters = countersAfter(run, written.items);
      await this.queries.saveCounters(manager, activityId, counters);
      await this.notices.announce(manager, activityId);
      if (batch) {
        await this.queries.recordBatch(manager, {
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
        lastSequence: counters.itemCount,
        itemCount: counters.itemCount,
        replayed: false,
      };
    });
    if (!result.replayed) this.notices.changed(activityId);
    return result;
  }

  /**
   * Ends a run; no items can be appended afterwards. Its diff against its default baseline is then
   * stored in the background (`StoredDiffs`), so that the diff's pages are read rather than computed.
   */
  async completeRun(activityId: string, request: CompleteRunRequest = {}): Promise<ActivityResponse> {
    assertGuid(activityId, 'activityId');
    const status = request?.status;
    const message = request?.message;
    const problems: ValidationErrors = {};
    if (status !== undefined && !isOneOf(FINAL_ACTIVITY_STATUSES, status)) {
      problems.status = [`must be one of ${FINAL_ACTIVITY_STATUSES.join(', ')}`];
    }
    if (
      message !== undefined &&
      (typeof message !== 'string' ||
        message.length > MAX_MESSAGE_LENGTH ||
        message.includes('\u0000') ||
        !message.isWellFormed())
    ) {
      problems.message = [`must be a string of at most ${MAX_MESSAGE_LENGTH} characters`];
    }
    if (Object.keys(problems).length > 0) throw ExecutionItemsError.invalid(problems);
    const completed = await this.queries.completeRun(activityId, status ?? null);
    if (completed) {
      this.logger.log(
        `Run ${activityId} ended ${completed.status} with ${completed.itemCount} items` +
          (message ? `: ${message}` : ''),
      );
      // After the commit, on its own: a notice lost here only makes followers wait for their poll.
      await this.notices.announce(this.dataSource, activityId).catch(() => undefined);
      this.notices.changed(activityId);
      // Queued, not awaited: storing a large run's diff takes a while (0.4 to 1.2 s for
      // 1,000,000 items with 1% errors on a busy 2-core server, bench/results/reads.md) and the
      // engine waits for this answer; a store that fails must not fail a completion that has
      // committed. Until the copy is there, a read computes the diff as before: nothing waits on it.
      this.storedDiffs.afterCompletion(completed.id);
      return toActivityResponse(completed);
    }
    const state = await this.queries.findState(activityId);
    if (!state) throw ExecutionItemsError.activityNotFound(activityId);
    if (state.targetType !== RUN_PROFILE_TARGET_TYPE)
      throw ExecutionItemsError.notARun(activityId, state.targetType);
    throw new ExecutionItemsError(
      'RunClosed',
      `Activity with ID ${activityId} is ${state.status}, not InProgress.`,
    );
  }

  /**
   * Deletes old run history without holding locks for long. Old means created more than the
   * period ago, and only ended activities (any status but `InProgress`) qualify: age counts from
   * `created` (indexed, and set for every activity). A run's items go first, `batchSize` sequence
   * numbers per statement, from the last item down, each statement one short transaction; then
   * the activity rows, which cascade to anything left. Nothing is locked but the rows being
   * deleted, so reads, and appends to other runs, carry on; between two statements the connection
   * goes back to the pool, so other requests get their turn even on the embedded database's
   * single connection. While a run is being purged its pages lose items from the end before the
   * run disappears (`ActivityNotFound` after).
   */
  async purgeRuns(request: PurgeRunsRequest): Promise<PurgeRunsResult> {
    const { olderThanDays, batchSize, signal } = request;
    const problems: ValidationErrors = {};
    if (!Number.isSafeInteger(olderThanDays) || olderThanDays < 0) {
      problems.olderThanDays = ['must be a non-negative integer'];
    }
    if (!Number.isSafeInteger(batchSize) || batchSize < 1)
      problems.batchSize = ['must be a positive integer'];
    if (Object.keys(problems).length > 0)
      throw ExecutionItemsError.invalid(problems, 'The purge is not valid.');

    const started = performance.now();
    const cutoff = new Date((request.now ?? new Date()).getTime() - olderThanDays * 86_400_000);
    let activities = 0;
    let items = 0;
    let complete = true;
    let after: OldActivity | null = null;

    search: for (;;) {
      const batch = await this.queries.oldActivities(cutoff, after, PURGE_ACTIVITY_BATCH);
      if (batch.length === 0) break;
      after = batch[batch.length - 1];
      const emptied: string[] = [];
      for (const { id } of batch) {
        const deleted = await this.deleteItems(id, batchSize, signal);
        items += deleted.items;
        if (!deleted.complete) {
          complete = false;
          activities += await this.queries.deleteActivities(emptied);
          break search;
        }
        emptied.push(id);
      }
      activities += await this.queries.deleteActivities(emptied);
      if (signal?.aborted) {
        complete = false;
        break;
      }
    }

    const result = {
      olderThanDays,
      cutoff,
      activities,
      items,
      durationMs: Math.round(performance.now() - started),
      complete,
    };
    this.logger.log(describePurge(result));
    return result;
  }

  /** A run's items, `batchSize` sequence numbers per statement, from the last one down. */
  private async deleteItems(activityId: string, batchSize: number, signal: AbortSignal | undefined) {
    let items = 0;
    for (let high = await this.queries.lastSequence(activityId); high > 0; high -= batchSize) {
      if (signal?.aborted) return { items, complete: false };
      items += await this.queries.deleteItems(activityId, high - batchSize, high);
    }
    return { items, complete: true };
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
      throw new ExecutionItemsError(
        'BatchIdReused',
        `Batch ${earlier.batchId} was already appended to activity ${activityId} with different items.`,
      );
    }
    const lastSequence = earlier.firstSequence + earlier.itemCount - 1;
    return {
      activityId,
      itemIds: await this.queries.itemIds(manager, activityId, earlier.firstSequence, lastSequence),
      firstSequence: earlier.firstSequence,
      lastSequence,
      itemCount: run.itemCount,
      replayed: true,
    };
  }
}

/** The log line of a purge: what was deleted, how far back, how long it took. */
export function describePurge(result: PurgeRunsResult): string {
  const seconds = (result.durationMs / 1000).toFixed(1);
  return (
    `${result.complete ? 'Purged' : 'Purge stopped early after deleting'} ${result.activities} ` +
    `${result.activities === 1 ? 'activity' : 'activities'} and ${result.items} ` +
    `${result.items === 1 ? 'item' : 'items'} created before ${result.cutoff.toISOString()} ` +
    `(older than ${result.olderThanDays} days) in ${seconds} s`
  );
}

function checkBatchId(batchId: unknown): string {
  if (
    typeof batchId !== 'string' ||
    batchId.length === 0 ||
    batchId.length > MAX_BATCH_ID_LENGTH ||
    /\p{Cc}/u.test(batchId) ||
    !batchId.isWellFormed()
  ) {
    throw ExecutionItemsError.invalid(
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
