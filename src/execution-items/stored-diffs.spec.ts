import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { ActivityWithKey } from './execution-items.query';
import type { RunHistoryQueries } from './run-history.query';
import { StoredDiffs } from './stored-diffs';
import type { StoredDiffsQueries } from './stored-diffs.query';

/**
 * The queue of stores and its rules, on a database stand-in: each run's baseline is the run
 * before it in `runs`, and `insertDiff` records what was stored (the SQL is the e2e specs').
 */
function setUp(options: { failFor?: string; status?: Record<string, string> } = {}) {
  const runs = ['r1', 'r2', 'r3', 'r4'];
  const inserted: string[] = [];
  const copies = new Map<string, string>();
  let release: (() => void) | null = null;
  let held: Promise<void> | null = null;
  const run = (id: string) => ({ id, status: options.status?.[id] ?? 'Complete' }) as ActivityWithKey;
  const queries = {
    lockRun: async (_manager: unknown, id: string) => (runs.includes(id) ? run(id) : null),
    nextEndedRun: async (_manager: unknown, of: ActivityWithKey) => runs[runs.indexOf(of.id) + 1] ?? null,
    storedBaseline: async (_manager: unknown, id: string) => copies.get(id) ?? null,
    deleteStored: async (_manager: unknown, id: string) => void copies.delete(id),
    insertDiff: async (_manager: unknown, id: string, baselineId: string) => {
      if (held) await held;
      if (id === options.failFor) throw new Error('connection terminated');
      inserted.push(id);
      copies.set(id, baselineId);
      return [1, 0, 0, 0, 0];
    },
  } as unknown as StoredDiffsQueries;
  const history = {
    findBaseline: async (_pool: unknown, of: ActivityWithKey) => {
      const before = runs[runs.indexOf(of.id) - 1];
      return before ? run(before) : null;
    },
  } as unknown as RunHistoryQueries;
  const dataSource = {
    transaction: <T>(work: (manager: unknown) => Promise<T>) => work({}),
  } as unknown as DataSource;
  const storedDiffs = new StoredDiffs(dataSource, queries, history);
  return {
    storedDiffs,
    inserted,
    copies,
    /** Holds every insert until `letGo` is called. */
    hold: () => {
      held = new Promise((resolve) => (release = resolve));
    },
    letGo: () => {
      held = null;
      release?.();
    },
  };
}

describe('StoredDiffs', () => {
  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  it('after a completion, stores the run’s diff, then the next ended run’s, whose baseline it now is', async () => {
    const { storedDiffs, inserted, copies } = setUp();
    copies.set('r3', 'r1');
    storedDiffs.afterCompletion('r2');
    await storedDiffs.settled();
    expect(inserted).toEqual(['r2', 'r3']);
    expect(Object.fromEntries(copies)).toEqual({ r2: 'r1', r3: 'r2' });
  });

  it('leaves a copy already against the default baseline, and stores nothing without a baseline or before the run ended', async () => {
    const { storedDiffs, inserted, copies } = setUp({ status: { r3: 'InProgress' } });
    copies.set('r2', 'r1');
    for (const id of ['r1', 'r2', 'r3', 'gone']) storedDiffs.missed(id);
    await storedDiffs.settled();
    expect(inserted).toEqual([]);
    await expect(storedDiffs.store('r2')).resolves.toMatchObject({
      runId: 'r2',
      outcome: 'current',
      baselineId: 'r1',
    });
    await expect(storedDiffs.store('r3')).resolves.toMatchObject({ outcome: 'skipped', baselineId: null });
  });

  it('stores one run at a time; a run asked for again before its turn is stored once, and again after if asked while it is stored', async () => {
    const { storedDiffs, inserted, hold, letGo } = setUp();
    hold();
    storedDiffs.missed('r2');
    storedDiffs.missed('r3');
    storedDiffs.missed('r3');
    await new Promise((resolve) => setImmediate(resolve));
    // r2 is being stored; r2 again comes after r3.
    storedDiffs.missed('r2');
    letGo();
    await storedDiffs.settled();
    expect(inserted).toEqual(['r2', 'r3']);
    // The second r2 found its copy current.
    expect(await storedDiffs.store('r2')).toMatchObject({ outcome: 'current' });
  });

  it('logs a store that fails and goes on with the next', async () => {
    const { storedDiffs, inserted } = setUp({ failFor: 'r2' });
    const warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    storedDiffs.missed('r2');
    storedDiffs.missed('r3');
    await storedDiffs.settled();
    expect(inserted).toEqual(['r3']);
    expect(warned).toHaveBeenCalledWith(
      'The diff of run r2 against its baseline was not stored (connection terminated); it is computed on each read until a store succeeds',
    );
  });

  it('at shutdown, drops what is queued, finishes the store under way, and takes no more', async () => {
    const { storedDiffs, inserted, hold, letGo } = setUp();
    hold();
    storedDiffs.missed('r2');
    storedDiffs.missed('r3');
    await new Promise((resolve) => setImmediate(resolve));
    const shutdown = storedDiffs.beforeApplicationShutdown();
    letGo();
    await shutdown;
    storedDiffs.afterCompletion('r4');
    await storedDiffs.settled();
    expect(inserted).toEqual(['r2']);
  });
});
