import { parseArgs } from 'node:util';
import type { DataSource, MigrationInterface } from 'typeorm';
import { runCli, wantsHelp, withDatabase } from './cli-context';

const HELP = [
  'Usage:',
  '  npm run migration:run [-- --json]             apply the pending migrations',
  '  npm run migration:revert -- [--yes] [--json]  undo the last applied migration',
  '  npm run migration:show [-- --json]            list the migrations, applied or pending',
  '',
  'migration:revert first says what undoing the last migration drops (tables with their row counts,',
  'columns, types), found by running its down() in a transaction that is rolled back; it drops',
  'nothing without --yes.',
  '',
  'Uses DATABASE_URL, or else the embedded database in PGLITE_DATA_DIR (exit code 75 when another',
  'process, such as the running service, has it open). Exit codes: 0 done, 1 failed,',
  '3 revert not confirmed (nothing dropped), 75 the embedded database is in use.',
  'New migrations: npm run migration:generate -- src/database/migrations/<Name> (the TypeORM CLI).',
].join('\n');

/** A revert that was not confirmed: it says what would be dropped; nothing was. */
class NotConfirmedError extends Error {
  readonly exitCode = 3;
}

interface SchemaObject {
  kind: 'table' | 'column' | 'type' | 'index';
  name: string;
  /** Rows of a table. */
  rows?: number;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const { values, positionals } = parseArgs({
    args: argv,
    options: { yes: { type: 'boolean' }, json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const [command] = positionals;
  if (positionals.length !== 1 || !['run', 'revert', 'show'].includes(command)) {
    throw new Error(`Expected run, revert or show.\n\n${HELP}`);
  }
  const json = values.json === true;
  const output = await withDatabase(
    async (dataSource) => {
      if (command === 'run') return run(dataSource, json);
      if (command === 'show') return show(dataSource, json);
      return revert(dataSource, values.yes === true, json);
    },
    { migrate: false },
  );
  process.stdout.write(output);
}

async function run(dataSource: DataSource, json: boolean): Promise<string> {
  const applied = (await dataSource.runMigrations({ transaction: 'each' })).map(
    (migration) => migration.name,
  );
  if (json) return `${JSON.stringify({ applied })}\n`;
  return applied.length === 0
    ? 'No pending migrations.\n'
    : `Applied ${applied.length} migration${applied.length === 1 ? '' : 's'}:\n${applied.map((name) => `  ${name}\n`).join('')}`;
}

async function show(dataSource: DataSource, json: boolean): Promise<string> {
  const applied = new Set(await appliedNames(dataSource));
  const migrations = dataSource.migrations.map((migration) => ({
    name: nameOf(migration),
    applied: applied.has(nameOf(migration)),
  }));
  if (json) return `${JSON.stringify({ migrations })}\n`;
  return migrations.map(({ name, applied }) => `[${applied ? 'X' : ' '}] ${name}\n`).join('');
}

/** Undoes the last applied migration, once the caller has seen what it drops and said `--yes`. */
async function revert(dataSource: DataSource, confirmed: boolean, json: boolean): Promise<string> {
  const last = (await appliedNames(dataSource)).at(-1);
  const migration = dataSource.migrations.find((candidate) => nameOf(candidate) === last);
  if (!last || !migration) {
    if (json) return `${JSON.stringify({ reverted: null, dropped: [] })}\n`;
    return 'No migration to revert.\n';
  }
  const dropped = await whatDownDrops(dataSource, migration);
  const described = dropped.map(describe);
  if (!confirmed) {
    throw new NotConfirmedError(
      [
        `Reverting ${last} would drop:`,
        ...(described.length > 0
          ? described.map((line) => `  ${line}`)
          : ['  nothing (no table, column, type or index)']),
        'Nothing was changed. Run again with --yes to revert it.',
      ].join('\n'),
    );
  }
  await dataSource.undoLastMigration({ transaction: 'each' });
  if (json) return `${JSON.stringify({ reverted: last, dropped })}\n`;
  return [`Reverted ${last}; dropped:`, ...described.map((line) => `  ${line}`), ''].join('\n');
}

/** Runs the migration's `down` in a transaction that is rolled back, and compares the schema before and after. */
async function whatDownDrops(dataSource: DataSource, migration: MigrationInterface): Promise<SchemaObject[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.startTransaction();
    try {
      const before = await schemaOf(runner.query.bind(runner));
      await migration.down(runner);
      const after = new Set((await schemaOf(runner.query.bind(runner))).map(keyOf));
      const gone = before.filter((object) => !after.has(keyOf(object)));
      const goneTables = new Set(
        gone.filter((object) => object.kind === 'table').map((object) => object.name),
      );
      // A dropped table's columns and indexes go with it: name the table alone.
      return gone.filter(
        (object) =>
          object.kind === 'table' || object.kind === 'type' || !goneTables.has(object.name.split('.')[0]),
      );
    } finally {
      await runner.rollbackTransaction();
    }
  } finally {
    await runner.release();
  }
}

type Query = (sql: string) => Promise<Array<Record<string, unknown>>>;

/** The public schema's tables (with row counts), columns, enum types and indexes, each kind by name. */
async function schemaOf(query: Query): Promise<SchemaObject[]> {
  const tables = await query(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'migrations'
      ORDER BY 1`,
  );
  const objects: SchemaObject[] = [];
  for (const { name } of tables) {
    const [{ rows }] = await query(`SELECT count(*)::int AS rows FROM "public"."${String(name)}"`);
    objects.push({ kind: 'table', name: String(name), rows: Number(rows) });
  }
  const columns = await query(
    `SELECT table_name || '.' || column_name AS name FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name <> 'migrations'
      ORDER BY 1`,
  );
  const types = await query(
    `SELECT t.typname AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' AND t.typtype = 'e'
      ORDER BY 1`,
  );
  const indexes = await query(
    `SELECT tablename || '.' || indexname AS name FROM pg_indexes
      WHERE schemaname = 'public' AND tablename <> 'migrations'
      ORDER BY 1`,
  );
  objects.push(
    ...columns.map(({ name }) => ({ kind: 'column' as const, name: String(name) })),
    ...types.map(({ name }) => ({ kind: 'type' as const, name: String(name) })),
    ...indexes.map(({ name }) => ({ kind: 'index' as const, name: String(name) })),
  );
  return objects;
}

function keyOf(object: SchemaObject): string {
  return `${object.kind}:${object.name}`;
}

function describe(object: SchemaObject): string {
  if (object.kind === 'table') {
    return `table ${object.name} (${object.rows} row${object.rows === 1 ? '' : 's'}, deleted with it)`;
  }
  return `${object.kind} ${object.name}`;
}

async function appliedNames(dataSource: DataSource): Promise<string[]> {
  const exists = await dataSource.query(`SELECT to_regclass('public.migrations') IS NOT NULL AS present`);
  if (!exists[0].present) return [];
  const rows: Array<{ name: string }> = await dataSource.query(`SELECT name FROM migrations ORDER BY id`);
  return rows.map((row) => row.name);
}

function nameOf(migration: MigrationInterface): string {
  return migration.name ?? migration.constructor.name;
}

runCli(main);
