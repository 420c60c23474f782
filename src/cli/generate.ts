import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { loadDatabaseSettings } from '../config/app-config';
import { appendMethodFor, openDatabase, type OpenDatabase } from '../database/database-server';
import { buildTypeOrmOptions } from '../database/typeorm-options';
import { seededRandom, syntheticItem } from '../demo/synthetic-items';
import {
  ExecutionItemsModule,
  ExecutionItemsService,
  MAX_ITEMS_PER_BATCH,
  type NewExecutionItem,
} from '../execution-items';

const USAGE = 'Usage: npm run generate -- --items <n> [--error-rate <0..1>] [--batch-size <n>] [--seed <n>]';

@Module({})
class GeneratorModule {
  static forRoot(database: OpenDatabase): DynamicModule {
    return {
      module: GeneratorModule,
      imports: [
        TypeOrmModule.forRoot({ ...buildTypeOrmOptions(database), migrationsRun: true }),
        ExecutionItemsModule.forRoot({ appendMethod: appendMethodFor(database) }),
      ],
    };
  }
}

interface Options {
  items: number;
  errorRate: number;
  batchSize: number;
  seed: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      items: { type: 'string' },
      'error-rate': { type: 'string', default: '0.01' },
      'batch-size': { type: 'string', default: '5000' },
      seed: { type: 'string', default: '1' },
    },
  });
  const items = Number(values.items);
  const errorRate = Number(values['error-rate']);
  const batchSize = Number(values['batch-size']);
  const seed = Number(values.seed);
  if (!values.items || !Number.isSafeInteger(items) || items < 1)
    throw new Error(`--items must be a positive integer. ${USAGE}`);
  if (!Number.isFinite(errorRate) || errorRate < 0 || errorRate > 1)
    throw new Error(`--error-rate must be from 0 to 1. ${USAGE}`);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > MAX_ITEMS_PER_BATCH) {
    throw new Error(`--batch-size must be from 1 to ${MAX_ITEMS_PER_BATCH}. ${USAGE}`);
  }
  if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer. ${USAGE}`);
  return { items, errorRate, batchSize, seed };
}

/**
 * Creates one run-profile activity with n generated items through the service's write path
 * (the same path the sync engine uses), and prints `{"activityId": "...", "items": n}` last.
 */
async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const database = await openDatabase(loadDatabaseSettings(process.env));
  const app = await NestFactory.createApplicationContext(GeneratorModule.forRoot(database), {
    logger: ['error', 'warn'],
  });
  try {
    const service = app.get(ExecutionItemsService);
    const run = await service.startRun({
      connectedSystemName: 'Generated Directory',
      runProfileName: `Generated run of ${options.items} items`,
      runType: 'FullSynchronisation',
    });
    const random = seededRandom(options.seed);
    const started = Date.now();
    const nextBatch = (from: number): NewExecutionItem[] =>
      Array.from({ length: Math.min(options.batchSize, options.items - from) }, (_, index) =>
        syntheticItem(from + index + 1, random, options.errorRate),
      );

    // The next batch is generated while the database writes the previous one.
    let written = 0;
    let pending: Promise<unknown> | null = null;
    for (let from = 0; from < options.items; from += options.batchSize) {
      const batch = nextBatch(from);
      await pending;
      pending = service.appendItems(run.id, batch).then(() => {
        written += batch.length;
        if (written % 100_000 < options.batchSize || written === options.items) {
          const seconds = (Date.now() - started) / 1000;
          process.stderr.write(
            `${written} items in ${seconds.toFixed(1)} s (${Math.round(written / seconds)} items/s), ` +
              `RSS ${Math.round(process.memoryUsage().rss / 1_000_000)} MB\n`,
          );
        }
      });
    }
    await pending;
    await service.completeRun(run.id, options.errorRate > 0 ? 'CompleteWithError' : 'Complete');
    process.stdout.write(`${JSON.stringify({ activityId: run.id, items: options.items })}\n`);
  } finally {
    await app.close();
    await database.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
