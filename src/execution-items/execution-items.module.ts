import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ActivitiesController } from './activities.controller';
import { EXECUTION_ITEMS_ENTITIES } from './entities';
import {
  ConfigurableModuleClass,
  EXECUTION_ITEMS_OPTIONS,
  MODULE_OPTIONS_TOKEN,
  resolveOptions,
  type ExecutionItemsModuleOptions,
} from './execution-items.module-definition';
import { ExecutionItemsQueries } from './execution-items.queries';
import { ExecutionItemsService } from './execution-items.service';
import { JwtAuthGuard } from './jwt-auth.guard';
import { RequiredRoleGuard } from './required-role.guard';

/**
 * Run history for identity synchronisation. A guest module: it registers its entities on the
 * host's TypeORM connection and never opens one; the host also registers the `jwt` passport
 * strategy its routes authenticate with.
 */
@Module({
  imports: [TypeOrmModule.forFeature(EXECUTION_ITEMS_ENTITIES)],
  controllers: [ActivitiesController],
  providers: [
    {
      provide: EXECUTION_ITEMS_OPTIONS,
      inject: [MODULE_OPTIONS_TOKEN],
      useFactory: (options: ExecutionItemsModuleOptions) => resolveOptions(options),
    },
    ExecutionItemsQueries,
    ExecutionItemsService,
    JwtAuthGuard,
    RequiredRoleGuard,
  ],
  exports: [ExecutionItemsService],
})
export class ExecutionItemsModule extends ConfigurableModuleClass {}
