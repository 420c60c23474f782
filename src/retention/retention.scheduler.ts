import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { RetentionConfig } from '../config/retention-config';
import { ADVISORY_LOCKS, withAdvisoryLock } from '../database/advisory-lock';
import { ExecutionRunsService, type PurgeRunsResult } from '../execution-items';

export const RETENTION_CONFIG = Symbol('RETENTION_CONFIG');
/** Whether a purge takes the retention advisory lock (see `RetentionModule.forRoot`). */
export const RETENTION_LOCK = Symbol('RETENTION_LOCK');

/** The name of the purge's interval in `SchedulerRegistry`. */
export const RETENTION_INTERVAL = 'retention-purge';

/**
 * Runs the purge every `intervalMinutes` (the first that long after start) when retention is
 * enabled. A turn that comes while a purge is still running is skipped, here or, with the lock,
 * in another instance on the same database. At shutdown the running purge stops after its
 * current statement, before the connection closes.
 */
@Injectable()
export class RetentionScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Retention');
  private readonly shutdown = new AbortController();
  private running: Promise<PurgeRunsResult | null> | null = null;

  constructor(
    @Inject(RETENTION_CONFIG) private readonly config: RetentionConfig,
    private readonly runs: ExecutionRunsService,
    private readonly scheduler: SchedulerRegistry,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(RETENTION_LOCK) private readonly oneInstanceAtATime: boolean,
  ) {}

  onApplicationBootstrap(): void {
    const { enabled, days, intervalMinutes } = this.config;
    if (!enabled) {
      this.logger.log('Scheduled purge is off (RETENTION_ENABLED=false)');
      return;
    }
    const timer = setInterval(() => void this.runScheduledPurge(), intervalMinutes * 60_000);
    this.scheduler.addInterval(RETENTION_INTERVAL, timer);
    this.logger.log(`Every ${intervalMinutes} min, completed activities older than ${days} days are purged`);
  }

  /** One scheduled turn; null when skipped or failed (the failure is logged, the schedule goes on). */
  runScheduledPurge(): Promise<PurgeRunsResult | null> {
    if (this.running) {
      this.logger.warn('The previous purge is still running; skipping this turn');
      return Promise.resolve(null);
    }
    const run = this.purgeUnlessAnotherInstanceIs()
      .catch((error: unknown) => {
        this.logger.error(`Purge failed: ${error instanceof Error ? error.message : String(error)}`);
        return null;
      })
      .finally(() => {
        this.running = null;
      });
    this.running = run;
    return run;
  }

  private async purgeUnlessAnotherInstanceIs(): Promise<PurgeRunsResult | null> {
    const purge = () =>
      this.runs.purgeRuns({
        olderThanDays: this.config.days,
        batchSize: this.config.batchSize,
        signal: this.shutdown.signal,
      });
    if (!this.oneInstanceAtATime) return purge();
    const locked = await withAdvisoryLock(this.dataSource, ADVISORY_LOCKS.retention, purge, { wait: false });
    if (locked.ran) return locked.result;
    this.logger.log('Another instance is purging; skipping this turn');
    return null;
  }

  async onModuleDestroy(): Promise<void> {
    if (this.scheduler.doesExist('interval', RETENTION_INTERVAL)) {
      clearInterval(this.scheduler.getInterval(RETENTION_INTERVAL) as NodeJS.Timeout);
      this.scheduler.deleteInterval(RETENTION_INTERVAL);
    }
    this.shutdown.abort();
    await this.running;
  }
}
