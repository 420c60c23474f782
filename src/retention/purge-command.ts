import { parseArgs } from 'node:util';
import type { RetentionConfig } from '../config/retention-config';

export const PURGE_USAGE = 'Usage: npm run purge -- [--older-than <days>] [--batch-size <n>] [--json]';

export const PURGE_HELP = [
  PURGE_USAGE,
  '',
  'Deletes ended activities created more than --older-than days ago (default RETENTION_DAYS), with',
  'their items, in batches of --batch-size items (default RETENTION_BATCH_SIZE). Says what it deleted',
  'on stderr and prints the result as JSON on stdout (with or without --json). Ctrl-C stops it after',
  'the current statement. Exit codes: 0 done, 1 stopped or failed, 75 the embedded database is in use.',
].join('\n');

export interface PurgeCommand {
  olderThanDays: number;
  batchSize: number;
}

/**
 * `--older-than <days>` (an integer from 1; default `RETENTION_DAYS`) and `--batch-size <n>`
 * (100 to 50000; default `RETENTION_BATCH_SIZE`). A wrong value throws with the usage.
 */
export function parsePurgeCommand(argv: string[], defaults: RetentionConfig): PurgeCommand {
  let values: { 'older-than'?: string; 'batch-size'?: string; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'older-than': { type: 'string' },
        'batch-size': { type: 'string' },
        json: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)} ${PURGE_USAGE}`);
  }
  return {
    olderThanDays: integerOption('--older-than', values['older-than'], defaults.days, 1, 36_500),
    batchSize: integerOption('--batch-size', values['batch-size'], defaults.batchSize, 100, 50_000),
  };
}

function integerOption(name: string, value: string | undefined, fallback: number, min: number, max: number) {
  if (value === undefined) return fallback;
  const parsed = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${value}". ${PURGE_USAGE}`);
  }
  return parsed;
}
