import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import type { RetentionConfig } from './retention-config';
import { RETENTION_CONFIG, RetentionScheduler } from './retention.scheduler';
import { RetentionService } from './retention.service';

/**
 * Deletes old run history: `RetentionService.purge` (also behind `npm run purge`) and, when
 * enabled, a scheduled purge. Host-side: it uses the host's TypeORM connection.
 */
@Module({})
export class RetentionModule {
  static forRoot(config: RetentionConfig): DynamicModule {
    return {
      module: RetentionModule,
      imports: [ScheduleModule.forRoot()],
      providers: [{ provide: RETENTION_CONFIG, useValue: config }, RetentionService, RetentionScheduler],
      exports: [RetentionService],
    };
  }
}
