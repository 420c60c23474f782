import type { DataSourceOptions } from 'typeorm';
import { EXECUTION_ITEMS_ENTITIES } from '../execution-items/entities';
import { MIGRATIONS } from './migrations';

export interface DatabaseConnection {
  /** A `postgres://` URL: the configured server, or the in-process embedded one. */
  url: string;
  /** Most connections the pool opens. */
  poolSize: number;
}

/**
 * The one place the TypeORM options are built: the app, the e2e harness and the TypeORM CLI
 * (`ormconfig.ts`) all use it, so they see the same entities and migrations.
 */
export function buildTypeOrmOptions(connection: DatabaseConnection): DataSourceOptions {
  return {
    type: 'postgres',
    url: connection.url,
    entities: EXECUTION_ITEMS_ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    extra: { max: connection.poolSize, application_name: 'execution-items' },
  };
}
