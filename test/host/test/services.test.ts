import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  EXECUTION_ITEMS_MIGRATIONS,
  ExecutionItemsError,
  ExecutionItemsService,
  type ExecutionItemResponse,
} from '@identity-sync/execution-items';
import { DataSource } from 'typeorm';
import { HostModule } from '../src/host.module';
import { SyncEngine } from '../src/sync-engine';
import { openDatabase, type HostDatabase } from './database';

const USERS = Array.from({ length: 1000 }, (_, index) => ({
  id: `E${String(index + 1).padStart(5, '0')}`,
  name: `User ${String(index + 1).padStart(4, '0')}`,
}));

describe('the module without HTTP, in a host that records runs through it', () => {
  let database: HostDatabase;
  let app: INestApplication;
  let runId: string;

  before(async () => {
    database = await openDatabase();
    app = await NestFactory.create(
      HostModule.forRoot({ databaseUrl: database.url, embedded: database.embedded, http: false }),
      {
        logger: false,
      },
    );
    await app.listen(0, '127.0.0.1');
    runId = await app.get(SyncEngine).importUsers(USERS);
  });

  after(async () => {
    await app?.close();
    await database?.close();
  });

  it('ran the package’s migrations on the host’s connection', async () => {
    const rows: Array<{ name: string }> = await app
      .get(DataSource)
      .query('SELECT name FROM migrations ORDER BY id');
    assert.deepEqual(
      rows.map((row) => row.name),
      EXECUTION_ITEMS_MIGRATIONS.map((migration) => new migration().name),
    );
  });

  it('reads back the 1,000 items written through ExecutionRunsService, in order, by cursor', async () => {
    const items = app.get(ExecutionItemsService);
    const seen: ExecutionItemResponse[] = [];
    let page = await items.listItems(runId, { pageSize: 100 });
    assert.equal(page.totalCount, 1000);
    assert.equal(page.totalPages, 10);
    for (;;) {
      seen.push(...page.items);
      if (!page.nextCursor) break;
      page = await items.listItems(runId, { cursor: page.nextCursor });
    }
    assert.deepEqual(
      seen.map((item) => [item.externalIdValue, item.displayName, item.outcomeSummary]),
      USERS.map((user) => [user.id, user.name, 'CsoAdded:1']),
    );
  });

  it('answers the run’s activity, counters, filters and item detail', async () => {
    const items = app.get(ExecutionItemsService);
    const activity = await items.getActivity(runId);
    assert.deepEqual(activity, {
      id: runId,
      created: activity.created,
      completed: activity.completed,
      status: 'Complete',
      targetType: 'ConnectedSystemRunProfile',
      targetName: 'Full Import',
      targetContext: 'HR',
      runType: 'FullImport',
      itemCount: 1000,
      itemsWithErrors: 0,
    });
    assert.ok(activity.completed && activity.completed >= activity.created);
    assert.deepEqual(await items.getStats(runId), {
      activityId: runId,
      totalCount: 1000,
      itemsWithErrors: 0,
      objectChangeTypes: { Add: 1000 },
      errorTypes: {},
      objectTypes: { user: 1000 },
      outcomeTypes: { CsoAdded: 1000 },
    });
    const found = await items.listItems(runId, {
      search: 'user 0999',
      sortBy: 'displayName',
      sortDirection: 'desc',
    });
    assert.deepEqual(
      found.items.map((item) => item.displayName),
      ['User 0999'],
    );
    const first = found.items[0];
    assert.ok(first);
    const detail = await items.getItem(runId, first.id);
    assert.equal(detail.sequence, 999);
    assert.deepEqual(detail.outcomes, [
      {
        type: 'CsoAdded',
        detailCount: null,
        detailMessage: null,
        targetId: null,
        targetDescription: null,
        children: [],
      },
    ]);
  });

  it('fails with reasons a caller can branch on', async () => {
    const items = app.get(ExecutionItemsService);
    const missing = '0b0c0d0e-0f10-4112-8314-151617181920';
    await assert.rejects(items.listItems(missing), (error: unknown) => {
      assert.ok(error instanceof ExecutionItemsError);
      assert.equal(error.reason, 'ActivityNotFound');
      return true;
    });
    await assert.rejects(items.getItem(runId, missing), { reason: 'ItemNotFound' });
    assert.equal(await app.get(SyncEngine).appendLate(runId, { objectChangeType: 'Update' }), 'run closed');
  });

  it('mounts no routes', async () => {
    const response = await fetch(`${await app.getUrl()}/api/v1/activities/${runId}/items`);
    assert.equal(response.status, 404);
  });
});
