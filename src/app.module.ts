import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule, type Params as LoggingParams } from 'nestjs-pino';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { API_KEY_STRATEGY } from './api-keys/api-keys.options';
import { AuthModule } from './auth/auth.module';
import { ApiExceptionFilter } from './common/api-exception.filter';
import type { AppConfig } from './config/app-config';
import { configModuleFor } from './config/configuration';
import { appendMethodFor, type OpenDatabase } from './database/database-server';
import { buildTypeOrmModuleOptions } from './database/typeorm-options';
import { ExecutionItemsModule, JWT_STRATEGY } from './execution-items';
import { HealthModule } from './health/health.module';
import { RetentionModule } from './retention/retention.module';
import { RateLimitModule } from './throttling/rate-limit.module';

/** The standalone service: the host that owns the connection and authentication. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, database: OpenDatabase, logging: LoggingParams): DynamicModule {
    return {
      module: AppModule,
      imports: [
        configModuleFor(config),
        LoggerModule.forRoot(logging),
        RateLimitModule.forRoot(config.rateLimit),
        HealthModule.forRoot(config.health),
        TypeOrmModule.forRoot(buildTypeOrmModuleOptions(database)),
        AuthModule.forRoot(config.auth),
        ApiKeysModule.forRoot({ roleClaim: config.roleClaim, cacheSeconds: config.apiKeys.cacheSeconds }),
        ExecutionItemsModule.forRoot({
          roleClaim: config.roleClaim,
          appendMethod: appendMethodFor(database),
          preparedStatements: database.kind === 'server',
          // The API key strategy first: it is the one that refuses a request carrying both.
          authStrategies: [API_KEY_STRATEGY, JWT_STRATEGY],
        }),
        RetentionModule.forRoot(config.retention),
      ],
      // Unknown routes and errors outside the module's controller get the same envelope.
      providers: [{ provide: APP_FILTER, useClass: ApiExceptionFilter }],
    };
  }
}
