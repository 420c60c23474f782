import { loadRetentionConfig } from '../config/retention-config';
import { ExecutionRunsService, describePurge } from '../execution-items';
import { PURGE_HELP, parsePurgeCommand } from '../retention/purge-command';
import { executionItemsServices, runCli, wantsHelp, withCliContext } from './cli-context';

/**
 * Deletes completed activities created more than --older-than days ago, with their items, in the
 * same bounded batches as the scheduled purge; says what it deleted on stderr and prints the
 * result as JSON on stdout.
 * Ctrl-C stops it after the current statement; what was deleted stays deleted.
 */
async function main(): Promise<void> {
  if (wantsHelp(process.argv.slice(2))) {
    process.stdout.write(`${PURGE_HELP}\n`);
    return;
  }
  const command = parsePurgeCommand(process.argv.slice(2), loadRetentionConfig(process.env));
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  const result = await withCliContext(executionItemsServices, (app) =>
    app.get(ExecutionRunsService).purgeRuns({ ...command, signal: stop.signal }),
  );
  process.stderr.write(`${describePurge(result)}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (!result.complete) process.exitCode = 1;
}

runCli(main);
