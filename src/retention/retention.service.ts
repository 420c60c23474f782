import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface PurgeRequest {
  /** Completed activities created more than this many days ago are deleted. */
  olderThanDays: number;
  /** Most items one DELETE removes. */
  batchSize: number;
  /** Stops the purge between two statements (at shutdown); what is done stays done. */
  signal?: AbortSignal;
  /** The time "older than" counts back from; default now. */
  now?: Date;
}

export interface PurgeResult {
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

/** An activity to purge, with `created` as PostgreSQL prints it (to the microsecond). */
interface OldActivity {
  id: string;
  created: string;
}

/** Activities read per query while looking for old ones. */
const ACTIVITY_BATCH = 100;

/**
 * Deletes old run history without holding locks for long. Old means created more than the
 * period ago, and only completed activities (any status but `InProgress`) qualify: age counts from
 * `created` (indexed, and set for every activity; `completed` is null for activities that never
 * ran). A run's items go first, in chunks of `batchSize` by ranges of their sequence numbers (the
 * unique (activity_id, sequence) index), from the last item down, each chunk one statement and so
 * one short transaction; then the activity rows, which cascade to anything left. Nothing is ever
 * locked but the rows being deleted, so reads, and appends to other runs, carry on; between two
 * statements the connection goes back to the pool, so other requests get their turn even on the
 * embedded database's single connection. While a run is being purged its pages lose items from
 * the end before the run disappears (a 404 after).
 */
@Injectable()
export class RetentionService {
  private readonly logger = new Logger('Retention');

  constructor(private readonly dataSource: DataSource) {}

  async purge(request: PurgeRequest): Promise<PurgeResult> {
    const { olderThanDays, batchSize, signal } = request;
    if (!Number.isSafeInteger(olderThanDays) || olderThanDays < 0) {
      throw new Error(`olderThanDays must be a non-negative integer, got ${olderThanDays}`);
    }
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
    }
    const started = performance.now();
    const cutoff = new Date((request.now ?? new Date()).getTime() - olderThanDays * 86_400_000);
    let activities = 0;
    let items = 0;
    let complete = true;
    let after: OldActivity | null = null;

    search: for (;;) {
      const batch = await this.oldActivities(cutoff, after);
      if (batch.length === 0) break;
      after = batch[batch.length - 1];
      const emptied: string[] = [];
      for (const { id } of batch) {
        const deleted = await this.deleteItems(id, batchSize, signal);
        items += deleted.items;
        if (!deleted.complete) {
          complete = false;
          activities += await this.deleteActivities(emptied);
          break search;
        }
        emptied.push(id);
      }
      activities += await this.deleteActivities(emptied);
      if (signal?.aborted) {
        complete = false;
        break;
      }
    }

    const result: PurgeResult = {
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

  /** The next old, completed activities in (created, id) order, through `activities_created_idx`. */
  private oldActivities(cutoff: Date, after: OldActivity | null): Promise<OldActivity[]> {
    // `created` travels as text: a Date would drop its microseconds and the keyset would repeat rows.
    return this.dataSource.query(
      `SELECT id, created::text AS created FROM activities
        WHERE created < $1 AND status <> 'InProgress' ${after ? 'AND (created, id) > ($2::timestamptz, $3::uuid)' : ''}
        ORDER BY created, id LIMIT ${ACTIVITY_BATCH}`,
      after ? [cutoff, after.created, after.id] : [cutoff],
    );
  }

  /** A run's items, `batchSize` sequence numbers per statement, from the last one down. */
  private async deleteItems(
    activityId: string,
    batchSize: number,
    signal: AbortSignal | undefined,
  ): Promise<{ items: number; complete: boolean }> {
    const [{ last }] = (await this.dataSource.query(
      'SELECT max(sequence) AS last FROM execution_items WHERE activity_id = $1',
      [activityId],
    )) as Array<{ last: number | null }>;
    let items = 0;
    for (let high = last ?? 0; high > 0; high -= batchSize) {
      if (signal?.aborted) return { items, complete: false };
      items += await this.deleteCount(
        'DELETE FROM execution_items WHERE activity_id = $1 AND sequence > $2 AND sequence <= $3',
        [activityId, high - batchSize, high],
      );
    }
    return { items, complete: true };
  }

  /** Activities whose items are gone; the cascade takes their append batches. */
  private async deleteActivities(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.deleteCount(`DELETE FROM activities WHERE id = ANY($1::uuid[]) AND status <> 'InProgress'`, [
      ids,
    ]);
  }

  private async deleteCount(sql: string, parameters: unknown[]): Promise<number> {
    // TypeORM answers a DELETE with [rows, affected row count].
    const [, count] = (await this.dataSource.query(sql, parameters)) as [unknown[], number];
    return count;
  }
}

/** The log line of a purge: what was deleted, how far back, how long it took. */
export function describePurge(result: PurgeResult): string {
  const seconds = (result.durationMs / 1000).toFixed(1);
  return (
    `${result.complete ? 'Purged' : 'Purge stopped early after deleting'} ${result.activities} ` +
    `${result.activities === 1 ? 'activity' : 'activities'} and ${result.items} ` +
    `${result.items === 1 ? 'item' : 'items'} created before ${result.cutoff.toISOString()} ` +
    `(older than ${result.olderThanDays} days) in ${seconds} s`
  );
}
