import 'reflect-metadata';
import {
  ConsoleLogger,
  Logger,
  Module,
  type DynamicModule,
  type INestApplicationContext,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { loadDatabaseSettings } from '../config/app-config';
import { connectDataSource } from '../database/connect';
import { appendMethodFor, openDatabase, type OpenDatabase } from '../database/database-server';
import { buildTypeOrmOptions, runMigrationsOnce } from '../database/typeorm-options';
import { ExecutionItemsModule } from '../execution-items';

/** What a command needs besides the database: the modules that give it its services. */
export type CliModules = (database: OpenDatabase) => DynamicModule['imports'];

/** The execution-items services (no routes) on the command's database. */
export const executionItemsServices: CliModules = (database) => [
  ExecutionItemsModule.forRoot({ http: false, appendMethod: appendMethodFor(database) }),
];

@Module({})
class CliModule {
  static forRoot(database: OpenDatabase, dataSource: DataSource, modules: CliModules): DynamicModule {
    return {
      module: CliModule,
      imports: [
        // The data source is already open and migrated: Nest's module adopts it as it is.
        TypeOrmModule.forRootAsync({
          useFactory: () => buildTypeOrmOptions(database),
          dataSourceFactory: async () => dataSource,
        }),
        ...(modules(database) ?? []),
      ],
    };
  }
}

/**
 * Opens the service's database for a command: `DATABASE_URL`, tried `DATABASE_CONNECT_RETRIES`
 * times more while the server cannot be reached (never for a database that does not exist), or
 * the embedded one in `PGLITE_DATA_DIR`, under its lock. `work` gets the open data source; the
 * database is closed after it, whatever happens. Migrations run first unless `migrate` is false.
 */
export async function withDatabase<T>(
  work: (dataSource: DataSource, database: OpenDatabase) => Promise<T>,
  { migrate = true }: { migrate?: boolean } = {},
): Promise<T> {
  // Only warnings and errors, on stderr: stdout is the command's output (JSON with --json).
  Logger.overrideLogger(cliLogger());
  const database = await openDatabase(loadDatabaseSettings(process.env));
  try {
    const dataSource = await connectDataSource(
      buildTypeOrmOptions(database),
      database.connectRetries ?? 0,
      (message) => process.stderr.write(`${message}\n`),
    );
    const stopCheckpoints = database.startCheckpoints(() => dataSource.query('CHECKPOINT'));
    try {
      if (migrate) await runMigrationsOnce(dataSource, database.kind);
      return await work(dataSource, database);
    } finally {
      await stopCheckpoints();
      if (dataSource.isInitialized) await dataSource.destroy();
    }
  } finally {
    await database.close();
  }
}

/**
 * The one bootstrap of the command-line tools: opens the service's database (see `withDatabase`),
 * runs the migrations, builds a Nest application context of `modules` without HTTP, runs `work`
 * in it and closes everything after, whatever happens.
 */
export async function withCliContext<T>(
  modules: CliModules,
  work: (app: INestApplicationContext) => Promise<T>,
): Promise<T> {
  return withDatabase(async (dataSource, database) => {
    const app = await NestFactory.createApplicationContext(CliModule.forRoot(database, dataSource, modules), {
      logger: cliLogger(),
    });
    try {
      return await work(app);
    } finally {
      await app.close();
    }
  });
}

function cliLogger(): ConsoleLogger {
  return new ConsoleLogger({ logLevels: ['error', 'warn'], colors: useColours() });
}

/** Colours only for a person at a terminal: both outputs are TTYs and `NO_COLOR` is not set. */
export function useColours(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(process.stdout.isTTY && process.stderr.isTTY) && !env.NO_COLOR;
}

/** `--help` or `-h` among the arguments. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/**
 * Runs a command's `main`: a failure prints `describe(error)` on stderr and exits with the
 * error's `exitCode` (75 for an embedded database another process holds), else 1.
 */
export function runCli(
  main: () => Promise<void>,
  describe: (error: unknown) => string = (error) => (error instanceof Error ? error.message : String(error)),
): void {
  main().catch((error: unknown) => {
    process.stderr.write(`${describe(error)}\n`);
    process.exit(exitCodeOf(error));
  });
}

function exitCodeOf(error: unknown): number {
  const code = (error as { exitCode?: unknown } | null)?.exitCode;
  return typeof code === 'number' && Number.isInteger(code) && code > 0 && code < 256 ? code : 1;
}
