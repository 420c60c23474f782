import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { loadDatabaseSettings } from '../config/app-config';
import { openDatabase, type OpenDatabase } from '../database/database-server';
import { buildTypeOrmOptions } from '../database/typeorm-options';
import { parsePurgeCommand } from '../retention/purge-command';
import { loadRetentionConfig } from '../retention/retention-config';
import { RetentionService, describePurge } from '../retention/retention.service';

@Module({})
class PurgeModule {
  static forRoot(database: OpenDatabase): DynamicModule {
    return {
      module: PurgeModule,
      imports: [TypeOrmModule.forRoot({ ...buildTypeOrmOptions(database), migrationsRun: true })],
      providers: [RetentionService],
    };
  }
}

/**
 * Deletes completed activities created more than --older-than days ago, with their items, in the
 * same bounded batches as the scheduled purge; says what it deleted on stderr and prints the
 * result as JSON on stdout.
 * Ctrl-C stops it after the current statement; what was deleted stays deleted.
 */
async function main(): Promise<void> {
  const command = parsePurgeCommand(process.argv.slice(2), loadRetentionConfig(process.env));
  const database = await openDatabase(loadDatabaseSettings(process.env));
  const app = await NestFactory.createApplicationContext(PurgeModule.forRoot(database), {
    logger: ['error', 'warn'],
  });
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  try {
    const result = await app.get(RetentionService).purge({ ...command, signal: stop.signal });
    process.stderr.write(`${describePurge(result)}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (!result.complete) process.exitCode = 1;
  } finally {
    await app.close();
    await database.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
