import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { RETENTION_INTERVAL, RetentionScheduler } from '../src/retention/retention.scheduler';
import { ExecutionRunsService, type NewExecutionItem } from '../src/execution-items';
import { createCliDatabase, runScript } from './support/cli-database';
import { activityNotFoundBody } from './support/item-fixtures';
import { createTestApp, type TestApp } from './support/test-app';
import { adminToken, bearer } from './support/tokens';

/** The large run's items, on PGlite as on the server (PGlite writes them in about 10 s). */
const LARGE_RUN_ITEMS = 100_000;
const DAY_MS = 86_400_000;

const item = (index: number): NewExecutionItem => ({
  objectChangeType: index % 7 === 0 ? 'Add' : 'Update',
  externalIdValue: `E${String(index).padStart(7, '0')}`,
  displayName: `User ${index}`,
  objectType: 'user',
  ...(index % 100 === 0 ? { errorType: 'DuplicateObject' as const, errorMessage: 'Two objects match.' } : {}),
  outcomes: [{ type: 'AttributeFlow', detailCount: 3 }],
});

/** Starts a run, writes `count` items in batches of 10,000, ends it with `status` (or leaves it running). */
async function run(
  t: TestApp,
  name: string,
  count: number,
  status: 'Complete' | 'CompleteWithError' | 'InProgress' = 'Complete',
): Promise<string> {
  const { id } = await t.runs.startRun({
    connectedSystemName: 'HR Feed',
    runProfileName: name,
    runType: 'FullSynchronisation',
  });
  for (let from = 0; from < count; from += 10_000) {
    const batch = Array.from({ length: Math.min(10_000, count - from) }, (_, index) =>
      item(from + index + 1),
    );
    await t.runs.appendItems(id, batch);
  }
  if (status !== 'InProgress') await t.runs.completeRun(id, { status: status });
  return id;
}

async function backdate(dataSource: DataSource, id: string, days: number): Promise<void> {
  await dataSource.query(`UPDATE activities SET created = now() - make_interval(days => $2) WHERE id = $1`, [
    id,
    days,
  ]);
}

/** Item count per activity, for every activity in the database. */
async function itemsPerActivity(dataSource: DataSource): Promise<Record<string, number>> {
  const rows: Array<{ id: string; items: number }> = await dataSource.query(
    `SELECT a.id, (SELECT count(*)::int FROM execution_items i WHERE i.activity_id = a.id) AS items
       FROM activities a`,
  );
  return Object.fromEntries(rows.map((row) => [row.id, row.items]));
}

describe('retention: purging old run history', () => {
  let t: TestApp;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestApp({
      RETENTION_DAYS: '60',
      RETENTION_INTERVAL_MINUTES: '1440',
      RETENTION_BATCH_SIZE: '500',
    });
    // Old and completed: purged.
    ids.oldLarge = await run(t, 'Old large run', LARGE_RUN_ITEMS, 'CompleteWithError');
    await backdate(t.dataSource, ids.oldLarge, 200);
    ids.oldSmall = await run(t, 'Old small run', 3);
    await backdate(t.dataSource, ids.oldSmall, 91);
    ids.oldConnectedSystem = 'c0ffee00-1234-4abc-8def-000000000001';
    await t.dataSource.query(
      `INSERT INTO activities (id, target_type, status, created) VALUES ($1, 'ConnectedSystem', 'Complete', now() - interval '120 days')`,
      [ids.oldConnectedSystem],
    );
    // Old but still running: kept.
    ids.oldInProgress = await run(t, 'Old run still in progress', 2, 'InProgress');
    await backdate(t.dataSource, ids.oldInProgress, 300);
    // Recent: kept by a 90-day purge (the second one lies between 60 and 90 days).
    ids.recent = await run(t, 'Recent run', 130);
    await backdate(t.dataSource, ids.recent, 89);
    ids.fresh = await run(t, 'Fresh run', 3);
  }, 600_000);

  afterAll(async () => {
    jest.restoreAllMocks();
    await t?.close();
  });

  const get = (path: string) => request(t.http).get(path).set(bearer(adminToken()));

  it(`deletes completed activities older than the period with their ${LARGE_RUN_ITEMS} items while the API keeps answering`, async () => {
    const readPaths = [
      `/api/v1/activities/${ids.recent}/items?page=2&pageSize=50`,
      `/api/v1/activities/${ids.fresh}/items`,
      `/api/v1/activities/${ids.recent}/stats`,
      `/api/v1/activities/${ids.fresh}`,
    ];
    const expected = await Promise.all(readPaths.map(async (path) => (await get(path).expect(200)).body));
    const logged = jest.spyOn(Logger.prototype, 'log');

    let purging = true;
    const purge = t.app
      .get(ExecutionRunsService)
      .purgeRuns({ olderThanDays: 90, batchSize: 1000 })
      .finally(() => {
        purging = false;
      });
    // Read while the purge runs, one round after another, and note which answers came back
    // before it had finished.
    const answers: Array<{ path: string; status: number; body: unknown; duringPurge: boolean }> = [];
    while (purging) {
      const round = await Promise.all(
        readPaths.map(async (path) => {
          const res = await get(path);
          return { path, status: res.status, body: res.body, duringPurge: purging };
        }),
      );
      answers.push(...round);
    }
    const result = await purge;

    expect(result).toEqual({
      olderThanDays: 90,
      cutoff: expect.any(Date),
      activities: 3,
      items: LARGE_RUN_ITEMS + 3,
      durationMs: expect.any(Number),
      complete: true,
    });
    expect(Math.abs(result.cutoff.getTime() - (Date.now() - 90 * DAY_MS))).toBeLessThan(10 * 60_000);
    expect(answers.filter((answer) => answer.duringPurge).length).toBeGreaterThanOrEqual(
      4 * readPaths.length,
    );
    for (const answer of answers) {
      expect(answer).toEqual({
        path: answer.path,
        status: 200,
        body: expected[readPaths.indexOf(answer.path)],
        duringPurge: answer.duringPurge,
      });
    }
    expect(logged).toHaveBeenCalledWith(
      expect.stringMatching(
        new RegExp(
          `^Purged 3 activities and ${LARGE_RUN_ITEMS + 3} items created before \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\(older than 90 days\\) in \\d+\\.\\d s$`,
        ),
      ),
    );

    expect(await itemsPerActivity(t.dataSource)).toEqual({
      [ids.oldInProgress]: 2,
      [ids.recent]: 130,
      [ids.fresh]: 3,
    });
    const [{ batches }] = await t.dataSource.query(
      `SELECT count(*)::int AS batches FROM append_batches WHERE activity_id = ANY($1::uuid[])`,
      [[ids.oldLarge, ids.oldSmall]],
    );
    expect(batches).toBe(0);
    for (const id of [ids.oldLarge, ids.oldSmall, ids.oldConnectedSystem]) {
      const res = await get(`/api/v1/activities/${id}`).expect(404);
      expect(res.body).toEqual(activityNotFoundBody(id));
    }
  }, 600_000);

  it('deletes nothing when nothing is old enough', async () => {
    const before = await itemsPerActivity(t.dataSource);
    const result = await t.app.get(ExecutionRunsService).purgeRuns({ olderThanDays: 90, batchSize: 1000 });
    expect(result).toMatchObject({ activities: 0, items: 0, complete: true });
    expect(await itemsPerActivity(t.dataSource)).toEqual(before);
  });

  it('stops between statements when asked to, keeping what it deleted, and finishes on the next run', async () => {
    const id = await run(t, 'Old run to interrupt', 2_500);
    await backdate(t.dataSource, id, 100);
    const stop = new AbortController();
    const runs = t.app.get(ExecutionRunsService);
    // Stop after the first DELETE: the run's last 1,000 items are gone, the rest and the activity stay.
    const query = t.dataSource.query.bind(t.dataSource);
    const spy = jest
      .spyOn(t.dataSource, 'query')
      .mockImplementation(async (...args: Parameters<DataSource['query']>) => {
        const [sql] = args;
        const answer: unknown = await query(...args);
        if (sql.startsWith('DELETE FROM execution_items')) stop.abort();
        return answer;
      });
    const stopped = await runs.purgeRuns({ olderThanDays: 90, batchSize: 1000, signal: stop.signal });
    spy.mockRestore();
    expect(stopped).toMatchObject({ activities: 0, items: 1000, complete: false });
    expect((await itemsPerActivity(t.dataSource))[id]).toBe(1500);
    const [{ highest }] = await t.dataSource.query(
      'SELECT max(sequence) AS highest FROM execution_items WHERE activity_id = $1',
      [id],
    );
    expect(highest).toBe(1500);

    const finished = await runs.purgeRuns({ olderThanDays: 90, batchSize: 1000 });
    expect(finished).toMatchObject({ activities: 1, items: 1500, complete: true });
    expect((await itemsPerActivity(t.dataSource))[id]).toBeUndefined();
  });

  it('runs on a schedule with the configured period, and can be off', async () => {
    expect(t.app.get(SchedulerRegistry).getIntervals()).toEqual([RETENTION_INTERVAL]);
    // One scheduled turn, without waiting a day for it: RETENTION_DAYS=60 takes the 89-day-old run.
    const result = await t.app.get(RetentionScheduler).runScheduledPurge();
    expect(result).toMatchObject({ olderThanDays: 60, activities: 1, items: 130, complete: true });
    expect(await itemsPerActivity(t.dataSource)).toEqual({ [ids.oldInProgress]: 2, [ids.fresh]: 3 });

    const off = await createTestApp({ RETENTION_ENABLED: 'false' });
    try {
      expect(off.app.get(SchedulerRegistry).getIntervals()).toEqual([]);
    } finally {
      await off.close();
    }
  });
});

describe('npm run purge', () => {
  it('purges old completed activities of the configured database and prints the result', async () => {
    const database = await createCliDatabase();
    try {
      const [oldId, recentId] = [
        '4c1b0f4e-4a8e-4b65-9d3f-0a1b2c3d4e5f',
        '5d2c1f5f-5b9f-4c76-8e40-1b2c3d4e5f60',
      ];
      await database.use(async (dataSource) => {
        await dataSource.query(
          `INSERT INTO activities (id, target_type, target_name, status, created, item_count) VALUES
             ($1, 'ConnectedSystemRunProfile', 'Old', 'Complete', now() - interval '40 days', 3),
             ($2, 'ConnectedSystemRunProfile', 'Recent', 'Complete', now() - interval '20 days', 2)`,
          [oldId, recentId],
        );
        await dataSource.query(
          `INSERT INTO execution_items (id, activity_id, sequence, object_change_type)
           SELECT gen_random_uuid(), a.id, s, 'Add'
             FROM (VALUES ($1::uuid, 3), ($2::uuid, 2)) AS a(id, n), generate_series(1, a.n) AS s`,
          [oldId, recentId],
        );
      });

      const purged = await runScript('purge', ['--older-than', '30'], database.env);
      expect(purged.code).toBe(0);
      const printed = JSON.parse(purged.stdout.trim().split('\n').pop()!);
      expect(printed).toEqual({
        olderThanDays: 30,
        cutoff: expect.stringMatching(/Z$/),
        activities: 1,
        items: 3,
        durationMs: expect.any(Number),
        complete: true,
      });
      expect(purged.stderr).toMatch(
        /Purged 1 activity and 3 items created before \S+ \(older than 30 days\)/,
      );
      expect(await database.use(itemsPerActivity)).toEqual({ [recentId]: 2 });

      const refused = await runScript('purge', ['--older-than', 'soon'], database.env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('--older-than must be an integer from 1 to 36500, got "soon".');
    } finally {
      await database.drop();
    }
  }, 600_000);
});
