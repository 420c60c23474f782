import { parseArgs } from 'node:util';
import { seededRandom, syntheticItem } from '../demo/synthetic-items';
import { ExecutionRunsService, MAX_ITEMS_PER_BATCH, type NewExecutionItem } from '../execution-items';
import { executionItemsServices, runCli, wantsHelp, withCliContext } from './cli-context';
import { createProgress } from './progress';

const USAGE =
  'Usage: npm run generate -- --items <n> [--error-rate <0..1>] [--batch-size <n>] [--seed <n>] [--json]';

const HELP = [
  USAGE,
  '',
  'Writes one completed run-profile activity of <n> generated items through the write path the sync',
  'engine uses, and prints {"activityId": "...", "items": n} on stdout (JSON with or without --json).',
  'Progress goes to stderr: a line rewritten in place on a terminal, plain lines otherwise.',
  '',
  '  --items <n>          how many items (required)',
  '  --error-rate <0..1>  share of items with an error (default 0.01)',
  '  --batch-size <n>     items per append (default 5000, at most 10000)',
  '  --seed <n>           seed of the generated values (default 1)',
  '',
  'Uses DATABASE_URL, or else the embedded database in PGLITE_DATA_DIR (exit code 75 when another',
  'process, such as the running service, has it open).',
].join('\n');

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
      json: { type: 'boolean' },
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
  if (wantsHelp(process.argv.slice(2))) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
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
  const progress = createProgress({
    total: options.items,
    unit: 'items',
    stream: process.stderr,
    extra: () => `RSS ${Math.round(process.memoryUsage().rss / 1_000_000)} MB`,
  });
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
      progress.update(written);
    });
  }
  await pending;
  progress.finish();
  await runs.completeRun(run.id);
  return run.id;
}

runCli(main);
