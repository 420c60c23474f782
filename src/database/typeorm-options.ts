import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import type { DataSourceOptions } from 'typeorm';
import { API_KEYS_ENTITIES } from '../auth/api-keys/api-key.entity';
import { EXECUTION_ITEMS_ENTITIES } from '../execution-items';
import { CONNECT_RETRY_DELAY_MS, isMissingDatabase } from './connect';
import { MIGRATIONS } from './migrations';

export interface DatabaseConnection {
  /** A `postgres://` URL: the configured server, or the in-process embedded one. */
  url: string;
  /** Most connections the pool opens. */
  poolSize: number;
  /** Longest a statement may run before the server cancels it; 0 or absent: no limit. */
  statementTimeoutMs?: number;
  /** Longest a request waits for a pooled connection before it fails (a 503); default 5 s. */
  poolWaitMs?: number;
  /** Further attempts to connect at start, 3 s apart; default none. */
  connectRetries?: number;
}

/**
 * The one place the TypeORM options are built: the app, the e2e harness and the TypeORM CLI
 * (`ormconfig.ts`) all use it, so they see the same entities and migrations.
 */
export function buildTypeOrmOptions(connection: DatabaseConnection): DataSourceOptions {
  const { statementTimeoutMs = 0, poolWaitMs = 5_000 } = connection;
  return {
    type: 'postgres',
    url: connection.url,
    entities: [...EXECUTION_ITEMS_ENTITIES, ...API_KEYS_ENTITIES],
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    extra: {
      max: connection.poolSize,
      application_name: 'execution-items',
      // A statement that runs too long is cancelled by the server (a 503 for the client) rather
      // than holding a connection; migrations lift the limit for their own transaction.
      ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}),
      // Waiting for a free connection is bounded too: pool exhaustion becomes a 503, not a hang.
      connectionTimeoutMillis: poolWaitMs,
    },
  };
}

/** The app's TypeORM root: migrations run at start, and a server that is not up yet is retried. */
export function buildTypeOrmModuleOptions(connection: DatabaseConnection): TypeOrmModuleOptions {
  return {
    ...buildTypeOrmOptions(connection),
    migrationsRun: true,
    // Nest's TypeOrmModule counts every attempt, the first one included.
    retryAttempts: (connection.connectRetries ?? 0) + 1,
    retryDelay: CONNECT_RETRY_DELAY_MS,
    // A database that does not exist will not appear by waiting.
    toRetry: (error: unknown) => !isMissingDatabase(error),
  };
}
