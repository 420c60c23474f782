import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EXECUTION_ITEMS_ENTITIES } from './entities';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  EXECUTION_ITEMS_OPTIONS,
  MODULE_OPTIONS_TOKEN,
  OPTIONS_TYPE,
  resolveOptions,
  type ExecutionItemsModuleOptions,
} from './execution-items.options';
import { ExecutionItemsQueries } from './execution-items.query';
import { ExecutionItemsService } from './execution-items.service';
import { ExecutionRunsQueries } from './execution-runs.query';
import { ExecutionRunsService } from './execution-runs.service';
import { ExportItemsQueries } from './export-items.query';
import { ActivitiesController } from './http/activities.controller';
import { AuthenticatedGuard, AuthStrategiesCheck } from './http/authenticated.guard';
import { ObjectHistoryController } from './http/object-history.controller';
import { FollowController } from './http/follow.controller';
import { FollowStreams } from './http/follow-streams';
import { ExportLimitsInterceptor } from './http/export-limits.interceptor';
import { RequiredRoleGuard } from './http/required-role.guard';
import { RunDiffController } from './http/run-diff.controller';
import { RunsController } from './http/runs.controller';
import { ReadConnections } from './read-connections';
import { RunHistoryQueries } from './run-history.query';
import { RunNotices } from './run-notices';
import { StoredDiffs } from './stored-diffs';
import { StoredDiffsQueries } from './stored-diffs.query';

/**
 * Run history for identity synchronisation. A guest module: it registers its entities on the
 * host's TypeORM connection and never opens one. Reads go through `ExecutionItemsService`,
 * writes through `ExecutionRunsService`; the reads that may lag run on the host's read replicas
 * when it has any (`ReadConnections`, which also reports them for a readiness probe). With `http` on (the default) it also mounts
 * `ActivitiesController`, whose requests the host's passport strategies authenticate (see
 * `authStrategies`); it refuses to start when one of them is not registered.
 */
@Module({
  imports: [TypeOrmModule.forFeature(EXECUTION_ITEMS_ENTITIES)],
  providers: [
    {
      provide: EXECUTION_ITEMS_OPTIONS,
      inject: [MODULE_OPTIONS_TOKEN],
      useFactory: (options: ExecutionItemsModuleOptions) => resolveOptions(options),
    },
    ExecutionItemsQueries,
    ExportItemsQueries,
    ExecutionItemsService,
    RunHistoryQueries,
    ExecutionRunsQueries,
    ExecutionRunsService,
    RunNotices,
    ReadConnections,
    StoredDiffsQueries,
    StoredDiffs,
  ],
  exports: [ExecutionItemsService, ExecutionRunsService, ReadConnections],
})
export class ExecutionItemsModule extends ConfigurableModuleClass {
  static override forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    return withHttp(super.forRoot(options), options.http);
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withHttp(super.forRootAsync(options), options.http);
  }
}

/** The module with its routes and their guards, unless `http` is `false`. */
function withHttp(definition: DynamicModule, http = true): DynamicModule {
  if (!http) return definition;
  return {
    ...definition,
    // The stream's static path first, for routers that match in order (`:itemId` would take it).
    controllers: [
      FollowController,
      ActivitiesController,
      RunsController,
      RunDiffController,
      ObjectHistoryController,
    ],
    providers: [
      ...(definition.providers ?? []),
      AuthenticatedGuard,
      RequiredRoleGuard,
      AuthStrategiesCheck,
      FollowStreams,
      ExportLimitsInterceptor,
    ],
  };
}
