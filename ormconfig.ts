import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { buildTypeOrmOptions } from './src/database/typeorm-options';

/** The TypeORM CLI's data source (`npm run migration:*`); it needs `DATABASE_URL`. */
const url = process.env.DATABASE_URL;
if (!url) {
  throw new Error('DATABASE_URL must be set for the TypeORM CLI, e.g. postgres://postgres@127.0.0.1:5432/test');
}

export default new DataSource(buildTypeOrmOptions({ url, poolSize: 2 }));
