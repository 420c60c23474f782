import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import type { RetentionConfig } from '../config/retention-config';
import { RETENTION_CONFIG, RetentionScheduler } from './retention.scheduler';

/**
 * Deletes old run history on a schedule, when enabled, through the execution-items module's
 * `ExecutionRunsService.purgeRuns` (also behind `npm run purge`). The module must be global in
 * the host (`isGlobal: true`), or imported beside this one.
 */
@Module({})
export class RetentionModule {
  static forRoot(config: RetentionConfig): DynamicModule {
    return {
      module: RetentionModule,
      imports: [ScheduleModule.forRoot()],
      providers: [{ provide: RETENTION_CONFIG, useValue: config }, RetentionScheduler],
      exports: [RetentionScheduler],
    };
  }
}
