import { ExecutionItemsError, type ValidationErrors } from './execution-items.error';
import { parseItemQuery, type ItemFilters, type ItemQueryInput } from './item-query';
import {
  toActivityResponse,
  type ActivityFields,
  type ActivityResponse,
} from './responses/activity.response';
import type { ExecutionItemRow } from './entities/execution-item.entity';
import { toExecutionItemResponse, type ExecutionItemResponse } from './responses/execution-item.response';
import type { RunProgressResponse } from './responses/run-progress.response';

/** The largest sequence number an item can have (the column is an `int`). */
export const MAX_SEQUENCE = 2_147_483_647;

/** Items one read returns at most. */
export const FOLLOW_BATCH_SIZE = 500;

/**
 * Sequence numbers one filtered read looks through at most: a filter that matches little cannot
 * turn one read into a scan of the whole run.
 */
export const FOLLOW_SCAN_WINDOW = 20 * FOLLOW_BATCH_SIZE;

/** Progress is reported at most this often. */
export const PROGRESS_INTERVAL_MS = 1_000;

/** The filters that may narrow a followed run: the list's, without search and sort. */
export type FollowFilters = Pick<
  ItemQueryInput,
  'errorType' | 'objectChangeType' | 'objectType' | 'outcomeType' | 'hasError'
>;

export interface FollowItemsRequest extends FollowFilters {
  /** Start after the item with this sequence number; default 0, from the first item. */
  after?: number;
  /** Ends the iteration (without a `complete` event) when aborted, e.g. when the client goes away. */
  signal?: AbortSignal;
}

/** What following a run yields, in this order: items (and progress while it runs), then `complete`. */
export type FollowEvent =
  /** One item, as the list shows it, with its sequence number (the stream's event id). */
  | { type: 'item'; sequence: number; item: ExecutionItemResponse }
  /** The run's counters and status while it is in progress: at most once a second, when they changed. */
  | { type: 'progress'; progress: RunProgressResponse }
  /** The run has ended and every item has been yielded: the last event. */
  | { type: 'complete'; activity: ActivityResponse };

/** A read of a run: its activity row and the next matching items, from one statement (one snapshot). */
export interface FollowBatch {
  run: ActivityFields;
  /** Matching items after the position, in sequence order. */
  rows: Array<ExecutionItemRow & { sequence: number }>;
  /** Every item up to this sequence number has been looked at (matching or not). */
  scannedTo: number;
}

/** What a follower needs: a way to read the run, and to hear that it may have changed. */
export interface FollowSource {
  read(after: number): Promise<FollowBatch | null>;
  subscribe(onChange: () => void): () => void;
  pollIntervalMs: number;
  /** Ends every follower (at shutdown). */
  shutdownSignal: AbortSignal;
}

/** The request's position and filters, checked for callers the types do not bind (JavaScript, HTTP). */
export function parseFollowRequest(request: FollowItemsRequest): { after: number; filters: ItemFilters } {
  const input = request as FollowItemsRequest & Record<string, unknown>;
  const problems: ValidationErrors = {};
  const after: unknown = input.after ?? 0;
  if (!Number.isSafeInteger(after) || (after as number) < 0 || (after as number) > MAX_SEQUENCE) {
    problems.after = [`must be an integer from 0 to ${MAX_SEQUENCE} (a sequence number)`];
  }
  for (const key of ['search', 'sortBy', 'sortDirection'] as const) {
    if (input[key] !== undefined) problems[key] = ['cannot be used when following a run'];
  }
  let filters: ItemFilters = {};
  try {
    ({ filters } = parseItemQuery({
      errorType: request.errorType,
      objectChangeType: request.objectChangeType,
      objectType: request.objectType,
      outcomeType: request.outcomeType,
      hasError: request.hasError,
    }));
  } catch (error) {
    if (!(error instanceof ExecutionItemsError) || !error.validationErrors) throw error;
    Object.assign(problems, error.validationErrors);
  }
  if (Object.keys(problems).length > 0) throw ExecutionItemsError.invalid(problems);
  return { after: after as number, filters };
}

/**
 * Follows a run from `after`: reads the matching items in batches, yields them in sequence order,
 * then waits until a notice (or the poll interval) says the run may have changed, and reads again.
 * No connection is held between reads, nor while the consumer is busy with an event. Ends with
 * `complete` once the run has ended and every item up to its last has been read; ends without it
 * when `signal` or the source's shutdown signal aborts, or when the run disappears (purged).
 */
export async function* followRun(
  source: FollowSource,
  start: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<FollowEvent, void, undefined> {
  const wake = new Wakeup();
  const unsubscribe = source.subscribe(() => wake.set());
  const stop = () => wake.set();
  signal?.addEventListener('abort', stop);
  source.shutdownSignal.addEventListener('abort', stop);
  const stopped = () => signal?.aborted === true || source.shutdownSignal.aborted;
  try {
    let position = start;
    // The last progress sent, and when: none yet.
    let reportedKey = '';
    let reportedAt = Number.NEGATIVE_INFINITY;
    while (!stopped()) {
      // Cleared before the read: a change committed during it wakes the next wait at once.
      wake.clear();
      const batch = await source.read(position);
      if (!batch || stopped()) return;
      for (const row of batch.rows) {
        yield { type: 'item', sequence: row.sequence, item: toExecutionItemResponse(row) };
        if (stopped()) return;
      }
      position = Math.max(position, batch.scannedTo);
      const { run } = batch;
      const caughtUp = position >= run.itemCount;
      if (run.status !== 'InProgress') {
        if (!caughtUp) continue;
        yield { type: 'complete', activity: toActivityResponse(run) };
        return;
      }
      let wait = source.pollIntervalMs;
      const progress: RunProgressResponse = {
        itemCount: run.itemCount,
        itemsWithErrors: run.errorItemCount,
        status: run.status,
      };
      const key = JSON.stringify(progress);
      if (reportedKey !== key) {
        const due = reportedAt + PROGRESS_INTERVAL_MS - Date.now();
        if (due <= 0) {
          yield { type: 'progress', progress };
          reportedKey = key;
          reportedAt = Date.now();
        } else {
          wait = Math.min(wait, due);
        }
      }
      if (!caughtUp) continue;
      await wake.wait(wait);
    }
  } finally {
    unsubscribe();
    signal?.removeEventListener('abort', stop);
    source.shutdownSignal.removeEventListener('abort', stop);
  }
}

/** A flag that a waiter sleeps on until it is set or a time has passed. */
class Wakeup {
  private isSet = false;
  private resolve: (() => void) | null = null;

  set(): void {
    this.isSet = true;
    this.resolve?.();
  }

  clear(): void {
    this.isSet = false;
  }

  wait(ms: number): Promise<void> {
    if (this.isSet) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.resolve = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.resolve = done;
    });
  }
}
