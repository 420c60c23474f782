import { Logger, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { API_KEYS_ENTITIES } from '../auth/api-keys/api-key.entity';
import { EXECUTION_ITEMS_ENTITIES } from '../execution-items';
import { ADVISORY_LOCKS, withAdvisoryLock } from './advisory-lock';
import { CONNECT_RETRY_DELAY_MS, isMissingDatabase } from './connect';
import { MIGRATIONS } from './migrations';

/** A PostgreSQL server, or PGlite embedded in the process (one process, a pool of one). */
export type DatabaseKind = 'server' | 'embedded';

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

/**
 * The TypeORM root of the app and of the command-line tools: a server that is not up yet is
 * retried (`connectRetries`), and the migrations run before anything else uses the connection.
 */
export function typeOrmRoot(database: DatabaseConnection & { kind: DatabaseKind }): DynamicModule {
  return TypeOrmModule.forRootAsync({
    useFactory: () => buildTypeOrmModuleOptions(database),
    dataSourceFactory: (options) => migratedDataSource(options as DataSourceOptions, database.kind),
  });
}

/** The app's TypeORM options; a server that is not up yet is retried. */
export function buildTypeOrmModuleOptions(connection: DatabaseConnection): TypeOrmModuleOptions {
  return {
    ...buildTypeOrmOptions(connection),
    // Nest's TypeOrmModule counts every attempt, the first one included.
    retryAttempts: (connection.connectRetries ?? 0) + 1,
    retryDelay: CONNECT_RETRY_DELAY_MS,
    // A database that does not exist will not appear by waiting.
    toRetry: (error: unknown) => !isMissingDatabase(error),
  };
}

/**
 * A connected data source with every migration applied. On a server the migrations run under an
 * advisory lock: of several instances starting together on one database, one migrates while the
 * others wait, then find nothing left to do. The embedded database has one process and a pool of
 * one connection, and takes no lock.
 */
export async function migratedDataSource(
  options: DataSourceOptions,
  kind: DatabaseKind,
): Promise<DataSource> {
  const dataSource = await new DataSource(options).initialize();
  try {
    await runMigrationsOnce(dataSource, kind);
    return dataSource;
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
}

/** Applies the pending migrations; on a server under the migrations' advisory lock (see above). */
export async function runMigrationsOnce(dataSource: DataSource, kind: DatabaseKind): Promise<void> {
  const migrate = () => dataSource.runMigrations();
  if (kind === 'embedded') {
    await migrate();
    return;
  }
  await withAdvisoryLock(dataSource, ADVISORY_LOCKS.migrations, migrate, {
    wait: true,
    onWait: () =>
      new Logger('Database').log('Another instance is migrating the database; waiting for it to finish'),
  });
}
