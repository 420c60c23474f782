import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import type { RetentionConfig } from '../config/retention-config';
import { RETENTION_CONFIG, RETENTION_LOCK, RetentionScheduler } from './retention.scheduler';

/**
 * Deletes old run history on a schedule, when enabled, through the execution-items module's
 * `ExecutionRunsService.purgeRuns` (also behind `npm run purge`). The module must be global in
 * the host (`isGlobal: true`), or imported beside this one.
 */
@Module({})
export class RetentionModule {
  /**
   * `oneInstanceAtATime`: purge under a PostgreSQL advisory lock, so that of several instances on
   * one database only one purges at a time (the others skip their turn). Needs a pool of two
   * connections or more: off for the embedded database, which has one process anyway.
   */
  static forRoot(
    config: RetentionConfig,
    { oneInstanceAtATime }: { oneInstanceAtATime: boolean },
  ): DynamicModule {
    return {
      module: RetentionModule,
      imports: [ScheduleModule.forRoot()],
      providers: [
        { provide: RETENTION_CONFIG, useValue: config },
        { provide: RETENTION_LOCK, useValue: oneInstanceAtATime },
        RetentionScheduler,
      ],
      exports: [RetentionScheduler],
    };
  }
}
