import { Injectable } from '@nestjs/common';
import {
  ExecutionItemsError,
  ExecutionRunsService,
  type NewExecutionItem,
  type RunType,
} from '@identity-sync/execution-items';

/** The host's sync engine: it records each run it makes through the module's write service. */
@Injectable()
export class SyncEngine {
  constructor(private readonly runs: ExecutionRunsService) {}

  /** Imports `users` as one full-import run, in batches, and ends it; returns the run's id. */
  async importUsers(users: ReadonlyArray<{ id: string; name: string }>, batchSize = 250): Promise<string> {
    const runType: RunType = 'FullImport';
    const run = await this.runs.startRun({
      connectedSystemName: 'HR',
      runProfileName: 'Full Import',
      runType,
    });
    for (let start = 0; start < users.length; start += batchSize) {
      const batch: NewExecutionItem[] = users.slice(start, start + batchSize).map((user) => ({
        objectChangeType: 'Add',
        externalIdValue: user.id,
        displayName: user.name,
        objectType: 'user',
        outcomes: [{ type: 'CsoAdded' }],
      }));
      await this.runs.appendItems(run.id, batch, { batchId: `users-${start}` });
    }
    await this.runs.completeRun(run.id);
    return run.id;
  }

  /** Appends to a run, telling a run that has already ended from any other failure. */
  async appendLate(activityId: string, item: NewExecutionItem): Promise<'appended' | 'run closed'> {
    try {
      await this.runs.appendItems(activityId, [item]);
      return 'appended';
    } catch (error) {
      if (error instanceof ExecutionItemsError && error.reason === 'RunClosed') return 'run closed';
      throw error;
    }
  }
}
