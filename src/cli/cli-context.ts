import 'reflect-metadata';
import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { loadDatabaseSettings } from '../config/app-config';
import { appendMethodFor, openDatabase, type OpenDatabase } from '../database/database-server';
import { buildTypeOrmOptions } from '../database/typeorm-options';
import { ExecutionItemsModule } from '../execution-items';

/** What a command needs besides the database: the modules that give it its services. */
export type CliModules = (database: OpenDatabase) => DynamicModule['imports'];

/** The execution-items services (no routes) on the command's database. */
export const executionItemsServices: CliModules = (database) => [
  ExecutionItemsModule.forRoot({ http: false, appendMethod: appendMethodFor(database) }),
];

@Module({})
class CliModule {
  static forRoot(database: OpenDatabase, modules: CliModules): DynamicModule {
    return {
      module: CliModule,
      imports: [
        TypeOrmModule.forRoot({ ...buildTypeOrmOptions(database), migrationsRun: true }),
        ...(modules(database) ?? []),
      ],
    };
  }
}

/**
 * The one bootstrap of the command-line tools: opens the service's database (`DATABASE_URL`, or
 * the embedded one in `PGLITE_DATA_DIR`), runs the migrations, builds a Nest application context
 * of `modules` without HTTP, runs `work` in it and closes everything after, whatever happens.
 */
export async function withCliContext<T>(
  modules: CliModules,
  work: (app: INestApplicationContext) => Promise<T>,
): Promise<T> {
  const database = await openDatabase(loadDatabaseSettings(process.env));
  try {
    const app = await NestFactory.createApplicationContext(CliModule.forRoot(database, modules), {
      logger: ['error', 'warn'],
    });
    try {
      return await work(app);
    } finally {
      await app.close();
    }
  } finally {
    await database.close();
  }
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
