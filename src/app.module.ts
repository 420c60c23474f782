import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { LoggerModule, type Params as LoggingParams } from 'nestjs-pino';
import { ApiKeysModule } from './auth/api-keys/api-keys.module';
import { AuthModule } from './auth/auth.module';
import { APP_AUTH_STRATEGIES, AuthenticationGuard } from './auth/authentication.guard';
import type { AppConfig } from './config/app-config';
import { configModuleFor } from './config/configuration';
import { appendMethodFor, type OpenDatabase } from './database/database-server';
import { typeOrmRoot } from './database/typeorm-options';
import { ApiExceptionFilter, ExecutionItemsModule } from './execution-items';
import { HealthModule } from './health/health.module';
import { RetentionModule } from './retention/retention.module';
import { RateLimitModule, rateLimitGuard } from './throttling/rate-limit.module';

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
        typeOrmRoot(database),
        AuthModule.forRoot(config.auth),
        ApiKeysModule.forRoot({ roleClaim: config.roleClaim, cacheSeconds: config.apiKeys.cacheSeconds }),
        ExecutionItemsModule.forRoot({
          isGlobal: true,
          roleClaim: config.roleClaim,
          readerRoles: config.readerRoles,
          engineRole: config.engineRole,
          appendMethod: appendMethodFor(database),
          preparedStatements: database.kind === 'server',
          authStrategies: APP_AUTH_STRATEGIES,
          ingestBodyLimitBytes: config.ingestBodyLimitBytes,
          followMaxStreamsPerPrincipal: config.follow.maxStreamsPerPrincipal,
          followKeepAliveMs: config.follow.keepAliveMs,
          followPollIntervalMs: config.follow.pollIntervalMs,
          // The embedded database admits one connection, the pool's: no second one to LISTEN on.
          listenForChanges: database.kind === 'server',
          maxConcurrentExportsPerPrincipal: config.exports.maxConcurrentPerPrincipal,
          exportWriteIdleTimeoutMs: config.exports.writeIdleTimeoutMs,
          // The replicas themselves are the TypeORM root's (`DATABASE_REPLICA_URLS`).
          ...(database.replicas ? { replicaMaxLagMs: database.replicas.maxLagMs } : {}),
        }),
        RetentionModule.forRoot(config.retention, { oneInstanceAtATime: database.kind === 'server' }),
      ],
      providers: [
        // Unknown routes and errors outside the module's controller get the same envelope.
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        // Global guards run in the order they are listed here: a request's credentials are
        // verified once, then the rate limit counts it against its principal.
        { provide: APP_GUARD, useClass: AuthenticationGuard },
        ...rateLimitGuard(config.rateLimit),
      ],
    };
  }
}
