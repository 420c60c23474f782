import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { RunHistoryQueries } from './run-history.query';
import { StoredDiffsQueries, statementsOf } from './stored-diffs.query';

/** What `StoredDiffs.store` did. */
export interface StoreDiffResult {
  runId: string;
  /**
   * `stored`: the diff was computed and stored; `current`: the stored one was already against
   * the default baseline; `skipped`: nothing to store (no such run, still in progress, no
   * baseline, or a run being purged).
   */
  outcome: 'stored' | 'current' | 'skipped';
  /** The default baseline, when the run has one. */
  baselineId: string | null;
  /** Objects per change (`DIFF_CHANGES` order), when stored. */
  counts: number[] | null;
  /** The whole transaction, lock and computation included. */
  durationMs: number;
}

/**
 * The stored diffs: a run's diff against its default baseline (the latest earlier ended run of the
 * same connected system, run profile and run type, `RunHistoryQueries.findBaseline`), stored once
 * the run has ended. Both runs have ended by then, and an ended run's items never change, so the
 * diff of the pair never changes: `ExecutionItemsService.diffRuns` serves it from the store
 * whenever the request compares against that pair's baseline, and computes it otherwise.
 * Correctness never rests on the store being up to date; only speed does.
 *
 * When a copy is written:
 * - after a run completes (`ExecutionRunsService.completeRun`), its diff; then the diff of the
 *   first later ended run of its profile, whose default baseline the completed run may now be (a
 *   run that was still in progress when a later one ended);
 * - after a read of a default diff found no copy for the current baseline (runs written as ended,
 *   a baseline that changed or was purged, a store that failed or was lost with the process).
 *
 * Stores run one at a time, in the background, on the primary (writes never go to a replica),
 * each in one transaction that locks the run's row: two stores of one run (several instances on
 * one database) queue there, and the second looks for the baseline once the first has committed.
 * A store that fails is logged and left: the next read of the default diff asks again.
 */
@Injectable()
export class StoredDiffs implements BeforeApplicationShutdown {
  private readonly logger = new Logger('StoredDiffs');
  /** Runs waiting, each with whether the next ended run of its profile is to be looked at after it. */
  private readonly pending = new Map<string, boolean>();
  private draining: Promise<void> | null = null;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly queries: StoredDiffsQueries,
    private readonly history: RunHistoryQueries,
  ) {}

  /** A run has just ended: store its diff, then see to the next ended run of its profile. */
  afterCompletion(runId: string): void {
    this.enqueue(runId, true);
  }

  /** A read of the run's default diff found no copy against its current baseline. */
  missed(runId: string): void {
    this.enqueue(runId, false);
  }

  /** Resolves once the stores queued so far, and those they queue, have finished. */
  async settled(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** New stores are refused, queued ones dropped, and the one running finishes before the pools close. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.pending.clear();
    await this.settled();
  }

  /**
   * Stores the diff of `runId` against its default baseline, replacing a copy against another
   * baseline, unless the copy is already against it; now, in one transaction on the primary.
   */
  async store(runId: string): Promise<StoreDiffResult> {
    return (await this.storeAndFindNext(runId, false)).result;
  }

  /** `store`, and with `andNext` the first later ended run of the run's profile, in one transaction. */
  private async storeAndFindNext(
    runId: string,
    andNext: boolean,
  ): Promise<{ result: StoreDiffResult; next: string | null }> {
    const started = performance.now();
    const { next, ...outcome } = await this.dataSource.transaction(async (manager) => {
      const skipped = { outcome: 'skipped' as const, baselineId: null, counts: null, next: null };
      const run = await this.queries.lockRun(manager, runId);
      if (!run || run.status === 'InProgress') return skipped;
      const later = andNext ? await this.queries.nextEndedRun(manager, run) : null;
      const baseline = await this.history.findBaseline(statementsOf(manager), run);
      if (!baseline) return { ...skipped, next: later };
      const stored = await this.queries.storedBaseline(manager, run.id);
      if (stored === baseline.id) {
        return { outcome: 'current' as const, baselineId: baseline.id, counts: null, next: later };
      }
      if (stored !== null) await this.queries.deleteStored(manager, run.id);
      const counts = await this.queries.insertDiff(manager, run.id, baseline.id);
      return counts
        ? { outcome: 'stored' as const, baselineId: baseline.id, counts, next: later }
        : { ...skipped, baselineId: baseline.id, next: later };
    });
    return { result: { runId, ...outcome, durationMs: performance.now() - started }, next };
  }

  private enqueue(runId: string, andNext: boolean): void {
    if (this.stopped) return;
    const id = runId.toLowerCase();
    this.pending.set(id, (this.pending.get(id) ?? false) || andNext);
    this.drain();
  }

  /** Works through `pending` in order, one store at a time, until it is empty. */
  private drain(): void {
    if (this.draining || this.pending.size === 0 || this.stopped) return;
    this.draining = (async () => {
      for (const [runId, andNext] of this.pending) {
        // A run queued again while its store runs is visited again, after the others.
        this.pending.delete(runId);
        if (this.stopped) break;
        await this.storeLogged(runId, andNext);
      }
    })().finally(() => {
      this.draining = null;
      this.drain();
    });
  }

  private async storeLogged(runId: string, andNext: boolean): Promise<void> {
    try {
      const { result, next } = await this.storeAndFindNext(runId, andNext);
      if (result.outcome === 'stored') {
        this.logger.debug(
          `Stored the diff of run ${runId} against ${result.baselineId} (${result.counts!.reduce((a, b) => a + b, 0)} objects) in ${result.durationMs.toFixed(0)} ms`,
        );
      }
      if (next) this.enqueue(next, false);
    } catch (error) {
      if (this.stopped) return;
      this.logger.warn(
        `The diff of run ${runId} against its baseline was not stored (${error instanceof Error ? error.message : String(error)}); it is computed on each read until a store succeeds`,
      );
    }
  }
}
