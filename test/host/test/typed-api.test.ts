import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ExecutionItemsService, ExecutionRunsService } from '@identity-sync/execution-items';

// The host build (tsc) fails if any line below compiles: each `@ts-expect-error` must meet an
// error. Misusing the vocabularies is a compile error, not a VALIDATION_ERROR at run time.
function misuse(items: ExecutionItemsService, runs: ExecutionRunsService, id: string): void {
  // @ts-expect-error 'displayname' is not a sort key ('displayName' is)
  void items.listItems(id, { sortBy: 'displayname' });
  // @ts-expect-error sort directions are 'asc' and 'desc'
  void items.listItems(id, { sortDirection: 'up' });
  // @ts-expect-error error types are the contract's vocabulary
  void items.listItems(id, { errorType: ['Timeout'] });
  // @ts-expect-error outcome types are the contract's vocabulary
  void items.listItems(id, { outcomeType: ['Flowed'] });
  // @ts-expect-error hasError is a boolean
  void items.listItems(id, { hasError: 'true' });
  // @ts-expect-error exports are 'csv' or 'ndjson'
  void items.exportItems(id, { format: 'xml' });
  // @ts-expect-error activity statuses are the contract's vocabulary
  void items.listActivities({ status: ['Running'] });
  // @ts-expect-error a run ends with a final status, never InProgress
  void runs.completeRun(id, { status: 'InProgress' });
  // @ts-expect-error change types are the contract's vocabulary
  void runs.appendItems(id, [{ objectChangeType: 'Added' }]);
  // @ts-expect-error run types are the contract's vocabulary
  void runs.startRun({ connectedSystemName: 'HR', runProfileName: 'Import', runType: 'Import' });
}

it('the typed API refuses misused vocabularies at compile time (see the host build)', () => {
  assert.equal(typeof misuse, 'function');
});
