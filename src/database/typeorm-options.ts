import { Logger, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { Pool, type PoolConfig } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { PostgresConnectionCredentialsOptions } from 'typeorm/driver/postgres/PostgresConnectionCredentialsOptions';
import type { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions';
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
  /** Read replicas of the server, for the service's reads that may lag; default none. */
  replicas?: ReplicaSettings;
}

/** Streaming replicas of the primary (`DATABASE_REPLICA_URLS`, `DATABASE_REPLICA_MAX_LAG_MS`). */
export interface ReplicaSettings {
  /** `postgres://` URLs, one per replica. */
  urls: string[];
  /** A replica whose replay lags further behind than this is not read from. */
  maxLagMs: number;
}

/**
 * The one place the TypeORM options are built: the app, the e2e harness and the TypeORM CLI
 * (`ormconfig.ts`) all use it, so they see the same entities and migrations.
 */
export function buildTypeOrmOptions(connection: DatabaseConnection): PostgresDataSourceOptions {
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

/**
 * The app's TypeORM options; a server that is not up yet is retried. With replicas, TypeORM's
 * `replication`: the primary is the master, the replicas its slaves, each pool with the same
 * settings (`extra`: size, statement timeout, wait). `defaultMode: 'master'` keeps every read
 * that does not ask for a replica on the primary (repositories, query builders); the module's
 * reads that may lag choose a replica themselves (`ReadConnections`). The command-line tools use
 * `buildTypeOrmOptions`, the primary alone: they read what they have just written.
 */
export function buildTypeOrmModuleOptions(connection: DatabaseConnection): TypeOrmModuleOptions {
  const options = buildTypeOrmOptions(connection);
  const replicaUrls = connection.replicas?.urls ?? [];
  return {
    ...options,
    ...(replicaUrls.length > 0
      ? {
          replication: {
            master: { url: connection.url },
            slaves: replicaUrls.map((url) => ({ url })),
            defaultMode: 'master' as const,
          },
        }
      : {}),
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
  const dataSource = await initializeDataSource(options);
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

/** TypeORM's driver method that opens a pool and checks it with one connection (protected in its types). */
type PoolFactory = (
  options: PostgresDataSourceOptions,
  credentials: PostgresConnectionCredentialsOptions,
) => Promise<Pool>;

/**
 * Initialises the data source. TypeORM connects once to each replica as it starts and fails the
 * whole start when one does not answer; but reads fall back to the primary while a replica is
 * down (`ReadConnections`), so a replica must not keep an instance from starting either. Its pool
 * is then made without that first connection (from the same settings: the URL and `extra`, all
 * that `buildTypeOrmModuleOptions` gives); the module's first check reports it down, and a later
 * one finds it when it answers. Should the start fail anyway (the primary), the replica pools
 * made for it are closed.
 */
async function initializeDataSource(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = new DataSource(options);
  const replication = (options as PostgresDataSourceOptions).replication;
  if (!replication) return dataSource.initialize();
  const driver = dataSource.driver as unknown as { createPool: PoolFactory };
  const createPool: PoolFactory = driver.createPool.bind(driver);
  const replicaPools: Pool[] = [];
  driver.createPool = async (poolOptions, credentials) => {
    if (credentials === replication.master) return createPool(poolOptions, credentials);
    const pool = await createPool(poolOptions, credentials).catch(() => {
      const lazy = new Pool({ connectionString: credentials.url, ...(poolOptions.extra as PoolConfig) });
      lazy.on('error', () => undefined);
      return lazy;
    });
    replicaPools.push(pool);
    return pool;
  };
  try {
    return await dataSource.initialize();
  } catch (error) {
    await Promise.all(replicaPools.map((pool) => pool.end().catch(() => undefined)));
    throw error;
  }
}
