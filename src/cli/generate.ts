import { parseArgs } from 'node:util';
import { seededRandom, syntheticItem } from '../demo/synthetic-items';
import { ExecutionRunsService, MAX_ITEMS_PER_BATCH, type NewExecutionItem } from '../execution-items';
import { executionItemsServices, runCli, withCliContext } from './cli-context';

const USAGE = 'Usage: npm run generate -- --items <n> [--error-rate <0..1>] [--batch-size <n>] [--seed <n>]';

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
  const activityId = await withCliContext(executionItemsServices, (app) =>
    generateRun(app.get(ExecutionRunsService), options),
  );
  process.stdout.write(`${JSON.stringify({ activityId, items: options.items })}\n`);
}

async function generateRun(runs: ExecutionRunsService, options: Options): Promise<string> {
  const run = await runs.startRun({
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
    pending = runs.appendItems(run.id, batch).then(() => {
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
  await runs.completeRun(run.id);
  return run.id;
}

runCli(main);
