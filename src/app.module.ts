import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from './auth/auth.module';
import { ApiExceptionFilter } from './common/api-exception.filter';
import type { AppConfig } from './config/app-config';
import { appendMethodFor, type OpenDatabase } from './database/database-server';
import { buildTypeOrmModuleOptions } from './database/typeorm-options';
import { ExecutionItemsModule } from './execution-items';

/** The standalone service: the host that owns the connection and authentication. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, database: OpenDatabase): DynamicModule {
    return {
      module: AppModule,
      imports: [
        TypeOrmModule.forRoot(buildTypeOrmModuleOptions(database)),
        AuthModule.forRoot(config.auth),
        ExecutionItemsModule.forRoot({
          roleClaim: config.roleClaim,
          appendMethod: appendMethodFor(database),
        }),
      ],
      // Unknown routes and errors outside the module's controller get the same envelope.
      providers: [{ provide: APP_FILTER, useClass: ApiExceptionFilter }],
    };
  }
}
