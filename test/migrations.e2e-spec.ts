import { DataSource } from 'typeorm';
import type { OpenDatabase } from '../src/database/database-server';
import { buildTypeOrmOptions } from '../src/database/typeorm-options';
import { openTestDatabase } from './support/test-app';

/** The committed migrations are the schema: they must build exactly what the entities declare. */
describe('migrations', () => {
  let database: OpenDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await openTestDatabase();
    dataSource = await new DataSource(buildTypeOrmOptions(database)).initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.close();
  });

  it('build the schema the entities describe, with nothing left for migration:generate', async () => {
    const applied = await dataSource.runMigrations();
    expect(applied.length).toBeGreaterThan(0);
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  it('revert and apply again cleanly', async () => {
    const migrationCount = dataSource.migrations.length;
    for (let i = 0; i < migrationCount; i++) await dataSource.undoLastMigration();
    const [{ count }] = await dataSource.query(
      `SELECT count(*)::int AS count FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations'`,
    );
    expect(count).toBe(0);
    expect(await dataSource.runMigrations()).toHaveLength(migrationCount);
    expect(await dataSource.showMigrations()).toBe(false);
  });
});
