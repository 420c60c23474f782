import { ExecutionItemsError } from './execution-items.error';
import {
  FOLLOW_BATCH_SIZE,
  SharedReads,
  alignedBatchSize,
  followRun,
  followRunInBatches,
  parseFollowRequest,
  type FollowBatch,
  type FollowEvent,
  type FollowSource,
} from './follow-items';
import type { ActivityStatus } from './vocabulary';

describe('parseFollowRequest', () => {
  it('starts from the first item by default, with no filter', () => {
    expect(parseFollowRequest({})).toEqual({ after: 0, filters: {} });
  });

  it('normalises the filters as the list does', () => {
    expect(parseFollowRequest({ after: 7, hasError: true, objectType: ['user', 'group', 'user'] })).toEqual({
      after: 7,
      filters: { hasError: true, objectType: ['group', 'user'] },
    });
  });

  it('reports every problem at once, search and sort among them', () => {
    const request = { after: -1, search: 'ann', sortBy: 'displayName', errorType: ['Nope'] } as never;
    let error: unknown;
    try {
      parseFollowRequest(request);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ExecutionItemsError);
    expect(Object.keys((error as ExecutionItemsError).validationErrors ?? {}).sort()).toEqual([
      'after',
      'errorType',
      'search',
      'sortBy',
    ]);
  });

  it.each([1.5, Number.NaN, 2 ** 31, '3'])('refuses after=%p', (after) => {
    expect(() => parseFollowRequest({ after: after as number })).toThrow(ExecutionItemsError);
  });
});

/** A run in memory: items are appended to it, and subscribers hear of each change. */
class FakeRun implements FollowSource {
  readonly sequences: number[] = [];
  status: ActivityStatus = 'InProgress';
  readonly pollIntervalMs = 60_000;
  readonly shutdownSignal = new AbortController().signal;
  reads = 0;
  private readonly listeners = new Set<() => void>();

  get subscribers(): number {
    return this.listeners.size;
  }

  append(count: number): void {
    for (let k = 0; k < count; k++) this.sequences.push(this.sequences.length + 1);
    this.listeners.forEach((listener) => listener());
  }

  complete(): void {
    this.status = 'Complete';
    this.listeners.forEach((listener) => listener());
  }

  async read(after: number): Promise<FollowBatch> {
    this.reads += 1;
    const rows = this.sequences.filter((sequence) => sequence > after).slice(0, 2);
    const scannedTo = rows.length === 2 ? rows[1] : this.sequences.length;
    return {
      run: {
        id: 'run',
        created: new Date(0),
        completed: null,
        status: this.status,
        targetType: 'ConnectedSystemRunProfile',
        targetName: 'Delta',
        targetContext: 'HR',
        runType: 'DeltaImport',
        itemCount: this.sequences.length,
        errorItemCount: 0,
      },
      rows: rows.map((sequence) => ({
        sequence,
        id: `item-${sequence}`,
        external_id_value: null,
        display_name: null,
        object_type: null,
        object_change_type: 'NoChange',
        error_type: null,
        outcome_summary: null,
      })),
      scannedTo,
    };
  }

  subscribe(onChange: () => void): () => void {
    this.listeners.add(onChange);
    return () => this.listeners.delete(onChange);
  }
}

const kinds = (events: FollowEvent[]) =>
  events.map((event) => (event.type === 'item' ? event.sequence : event.type));

describe('followRun', () => {
  it('yields the items read so far in batches, then each new one once, then complete', async () => {
    const run = new FakeRun();
    run.append(3);
    const events: FollowEvent[] = [];
    const follower = followRun(run, 1, undefined);
    for await (const event of follower) {
      events.push(event);
      if (event.type === 'progress' && run.sequences.length === 3) run.append(2);
      else if (event.type === 'item' && event.sequence === 5) run.complete();
    }
    expect(kinds(events)).toEqual([2, 3, 'progress', 4, 5, 'complete']);
    expect(run.subscribers).toBe(0);
  });

  it('stops without complete when the signal aborts, and unsubscribes', async () => {
    const run = new FakeRun();
    const controller = new AbortController();
    const events: FollowEvent[] = [];
    const done = (async () => {
      for await (const event of followRun(run, 0, controller.signal)) events.push(event);
    })();
    while (events.length === 0) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await done;
    expect(kinds(events)).toEqual(['progress']);
    expect(run.subscribers).toBe(0);
  });

  it('unsubscribes when the consumer breaks out', async () => {
    const run = new FakeRun();
    run.append(4);
    for await (const event of followRun(run, 0, undefined)) if (event.type === 'item') break;
    expect(run.subscribers).toBe(0);
  });
});

describe('followRunInBatches', () => {
  it('gives followers woken by one notice one read, and the same events', async () => {
    const run = new FakeRun();
    const reads = new SharedReads<FollowBatch>();
    const shared: FollowSource = {
      read: (after, notBefore) => reads.read(String(after), notBefore, () => run.read(after)),
      subscribe: (onChange) => run.subscribe(onChange),
      pollIntervalMs: run.pollIntervalMs,
      shutdownSignal: run.shutdownSignal,
    };
    const follow = async () => {
      const batches: Array<readonly FollowEvent[]> = [];
      for await (const batch of followRunInBatches(shared, 0, undefined)) batches.push(batch);
      return batches;
    };
    const followers = Promise.all([follow(), follow()]);
    while (run.subscribers < 2) await new Promise((resolve) => setImmediate(resolve));
    const readsBefore = run.reads;
    run.append(2);
    const [first, second] = await Promise.all([
      followers,
      new Promise((resolve) => setTimeout(resolve, 10)).then(() => run.complete()),
    ]).then(([both]) => both);
    expect(first.map((batch) => kinds([...batch]))).toEqual([['progress'], [1, 2], ['complete']]);
    expect(second[1]).toBe(first[1]);
    // Each started with a read of its own; each notice then woke both to one read.
    expect(readsBefore).toBe(2);
    expect(run.reads).toBe(readsBefore + 2);
  });
});

describe('alignedBatchSize', () => {
  it('reads up to the next multiple of the batch size', () => {
    expect(alignedBatchSize(0)).toBe(FOLLOW_BATCH_SIZE);
    expect(alignedBatchSize(1)).toBe(FOLLOW_BATCH_SIZE - 1);
    expect(alignedBatchSize(FOLLOW_BATCH_SIZE - 1)).toBe(1);
    expect(alignedBatchSize(3 * FOLLOW_BATCH_SIZE)).toBe(FOLLOW_BATCH_SIZE);
  });
});

describe('SharedReads', () => {
  it('gives callers of one key the read that runs, and starts a new one once it has settled', async () => {
    const reads = new SharedReads<number>();
    let started = 0;
    const start = () => Promise.resolve(++started);
    const [a, b] = [reads.read('run 0', 0, start), reads.read('run 0', 0, start)];
    expect(a).toBe(b);
    expect(reads.read('run 500', 0, start)).not.toBe(a);
    expect(await Promise.all([a, b])).toEqual([1, 1]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(reads.size).toBe(0);
    expect(await reads.read('run 0', 0, start)).toBe(3);
  });

  it('does not give a caller a read that started before it was told of a change', async () => {
    const reads = new SharedReads<string>();
    const after = (ms: number, value: string) => () =>
      new Promise<string>((resolve) => setTimeout(resolve, ms, value));
    const first = reads.read('run 0', 0, after(10, 'before'));
    await new Promise((resolve) => setTimeout(resolve, 2));
    const told = performance.now();
    const later = reads.read('run 0', told, after(30, 'after'));
    expect(later).not.toBe(first);
    expect(await first).toBe('before');
    // The older read settling does not forget the newer one, which is still running.
    expect(reads.read('run 0', told, after(0, 'third'))).toBe(later);
    expect(await later).toBe('after');
  });

  it('passes a failure to every caller that shared the read', async () => {
    const reads = new SharedReads<number>();
    const start = () => Promise.reject(new Error('connection lost'));
    const both = [reads.read('k', 0, start), reads.read('k', 0, start)];
    await Promise.all(both.map((read) => expect(read).rejects.toThrow('connection lost')));
  });
});
