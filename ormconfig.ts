import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadDatabaseSettings } from './src/config/app-config';
import { openDatabase } from './src/database/database-server';
import { buildTypeOrmOptions } from './src/database/typeorm-options';

/**
 * The TypeORM CLI's data source (`npm run typeorm`, `npm run migration:generate`): the server at
 * `DATABASE_URL`, or else the embedded database in `PGLITE_DATA_DIR`, opened under its lock (the
 * CLI refuses while the service has it open) and closed when the CLI destroys the data source.
 */
async function cliDataSource(): Promise<DataSource> {
  const database = await openDatabase(loadDatabaseSettings(process.env));
  const dataSource = new DataSource(
    buildTypeOrmOptions({ ...database, poolSize: Math.min(database.poolSize, 2) }),
  );
  const destroy = dataSource.destroy.bind(dataSource);
  dataSource.destroy = async () => {
    try {
      await destroy();
    } finally {
      await database.close();
    }
  };
  return dataSource;
}

export default cliDataSource();
