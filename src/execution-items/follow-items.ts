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
  /**
   * The next batch after `after`, from a statement that started at `notBefore` or later
   * (`performance.now()` time): one that may be shared with other followers (`SharedReads`).
   */
  read(after: number, notBefore: number): Promise<FollowBatch | null>;
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

/** `followRunInBatches`, one event at a time. */
export async function* followRun(
  source: FollowSource,
  start: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<FollowEvent, void, undefined> {
  for await (const events of followRunInBatches(source, start, signal)) yield* events;
}

/**
 * Follows a run from `after`: reads the matching items in batches and yields each batch's events
 * in sequence order, then waits until a notice (or the poll interval) says the run may have
 * changed, and reads again. No connection is held between reads, nor while the consumer is busy
 * with a batch. Ends with `complete` once the run has ended and every item up to its last has
 * been read; ends without it when `signal` or the source's shutdown signal aborts, or when the
 * run disappears (purged). Followers that shared a read get the same array of events.
 */
export async function* followRunInBatches(
  source: FollowSource,
  start: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<readonly FollowEvent[], void, undefined> {
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
    // A read must have started after the latest notice this follower has taken in (so it sees
    // the change told of), after the follow began, and after the latest poll.
    let fresh = performance.now();
    while (!stopped()) {
      // Cleared before the read: a change committed during it wakes the next wait at once.
      wake.clear();
      const batch = await source.read(position, Math.max(fresh, wake.setAt));
      if (!batch || stopped()) return;
      if (batch.rows.length > 0) {
        yield itemEvents(batch);
        if (stopped()) return;
      }
      position = Math.max(position, batch.scannedTo);
      const { run } = batch;
      const caughtUp = position >= run.itemCount;
      if (run.status !== 'InProgress') {
        if (!caughtUp) continue;
        yield [{ type: 'complete', activity: toActivityResponse(run) }];
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
          yield [{ type: 'progress', progress }];
          reportedKey = key;
          reportedAt = Date.now();
        } else {
          wait = Math.min(wait, due);
        }
      }
      if (!caughtUp) continue;
      if (!(await wake.wait(wait))) fresh = performance.now();
    }
  } finally {
    unsubscribe();
    signal?.removeEventListener('abort', stop);
    source.shutdownSignal.removeEventListener('abort', stop);
  }
}

/**
 * The item events of a batch, made once per batch object: followers that share a read
 * (`SharedReads`) get the same events, so that the stream encodes them once for all of them.
 * Events are not to be modified by whoever receives them.
 */
const ITEM_EVENTS = new WeakMap<FollowBatch, readonly FollowEvent[]>();

function itemEvents(batch: FollowBatch): readonly FollowEvent[] {
  let events = ITEM_EVENTS.get(batch);
  if (!events) {
    events = batch.rows.map((row) => ({
      type: 'item',
      sequence: row.sequence,
      item: toExecutionItemResponse(row),
    }));
    ITEM_EVENTS.set(batch, events);
  }
  return events;
}

/**
 * How many items a follower at `after` reads next: up to the next multiple of the batch size, so
 * that followers of a run that started at different positions soon read the same batches, and
 * share them (`SharedReads`).
 */
export function alignedBatchSize(after: number): number {
  return FOLLOW_BATCH_SIZE - (after % FOLLOW_BATCH_SIZE);
}

/**
 * Reads in flight, by key: a read asked for while the same one runs waits for it rather than
 * running again. Followers of one run at the same position with the same filters, woken by the
 * same notice, then cost one statement and one encoding of each item, not one each.
 */
export class SharedReads<T> {
  private readonly running = new Map<string, { startedAt: number; result: Promise<T> }>();

  /**
   * The read `key`: the one running, if it started at `notBefore` or later (`performance.now()`
   * time), so that it can see every change the caller has been told of; else a new one.
   */
  read(key: string, notBefore: number, start: () => Promise<T>): Promise<T> {
    const running = this.running.get(key);
    if (running && running.startedAt >= notBefore) return running.result;
    const read = { startedAt: performance.now(), result: start() };
    this.running.set(key, read);
    const forget = () => {
      if (this.running.get(key) === read) this.running.delete(key);
    };
    read.result.then(forget, forget);
    return read.result;
  }

  /** Reads running now (for tests and diagnostics). */
  get size(): number {
    return this.running.size;
  }
}

/** A flag that a waiter sleeps on until it is set or a time has passed. */
class Wakeup {
  /** When it was last set (`performance.now()` time). */
  setAt = Number.NEGATIVE_INFINITY;
  private isSet = false;
  private resolve: (() => void) | null = null;

  set(): void {
    this.isSet = true;
    this.setAt = performance.now();
    this.resolve?.();
  }

  clear(): void {
    this.isSet = false;
  }

  /** True when it was set, false when the time passed first. */
  wait(ms: number): Promise<boolean> {
    if (this.isSet) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (woken: boolean) => {
        clearTimeout(timer);
        this.resolve = null;
        resolve(woken);
      };
      const timer = setTimeout(done, ms, false);
      this.resolve = () => done(true);
    });
  }
}
