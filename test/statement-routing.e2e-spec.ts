/**
 * The path beyond one primary is Citus with the run (`activity_id`) as the distribution column
 * (docs/deployment.md, "Beyond one primary"). That holds only while every statement on a run's
 * rows names its run. This spec records every statement the app sends to the database while it
 * uses each route and module method that reads or writes items, parses each with PostgreSQL's own
 * parser, and checks that each reference to `execution_items` and `append_batches` (and to
 * `activities`, distributed by `id` beside them) is pinned to its run by equality or `= ANY`.
 * The few statements that span runs by design are listed below with the reason; any other
 * statement that does fails here, naming it.
 */
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import request from 'supertest';
import type { NewExecutionItem } from '../src/execution-items';
import { EventStreamReader } from './support/event-stream';
import {
  loadParser,
  PER_RUN_TABLES,
  routeStatements,
  type RunScope,
  type StatementRouting,
} from './support/statement-routing';
import { createTestApp, type TestApp } from './support/test-app';
import { adminToken, bearer, token } from './support/tokens';

/** A statement that spans runs by design, how to know it, and why. */
interface CrossRunStatement {
  name: string;
  scope: Exclude<RunScope, 'one run'>;
  matches(sql: string): boolean;
  reason: string;
}

/** The statements that reach more than one run; docs/deployment.md says what Citus does with each. */
const CROSS_RUN_STATEMENTS: CrossRunStatement[] = [
  {
    name: 'activity list',
    scope: 'every run',
    matches: (sql) => sql.startsWith('SELECT c.total, p.*'),
    reason: 'runs newest first across all runs (activities only, no items)',
  },
  {
    name: "diff's baseline lookup",
    scope: 'every run',
    matches: (sql) =>
      /WHERE a\.target_context = \$1 AND a\.target_name = \$2 AND a\.run_type = \$3/.test(sql),
    reason: 'the latest earlier run of the same profile: a search among runs (activities only)',
  },
  {
    name: 'diff page',
    scope: 'several runs',
    matches: (sql) => /^\s*WITH\s+ce\s+AS/.test(sql),
    reason: "compares two runs' items: each reference is pinned, to one run or the other",
  },
  {
    name: 'diff store',
    scope: 'several runs',
    matches: (sql) => /^\s*WITH\s+whole\s+AS/.test(sql) && sql.includes('INSERT INTO run_diffs'),
    reason:
      "stores a run's diff against its baseline once both have ended: the diff page's reads of the two runs, each reference pinned to one of them",
  },
  {
    name: 'object history',
    scope: 'every run',
    matches: (sql) =>
      sql.includes('JOIN activities a ON a.id = i.activity_id') && sql.includes('activity_created'),
    reason: "one object's items in every run, found by external id or display name",
  },
  {
    name: "purge's search for old runs",
    scope: 'every run',
    matches: (sql) => /FROM activities\s+WHERE created < \$1 AND status <> 'InProgress'/.test(sql),
    reason: 'ended runs older than the cutoff, by created time (activities only)',
  },
  {
    name: "purge's delete of the old runs",
    scope: 'several runs',
    matches: (sql) => sql.startsWith('DELETE FROM activities WHERE id = ANY('),
    reason:
      'up to 100 old runs at once; the foreign keys cascade to their batches (their items are gone by then)',
  },
];

const DAY_MS = 86_400_000;

const items = (from: number, count: number, errorEvery: number): NewExecutionItem[] =>
  Array.from({ length: count }, (_, index) => {
    const n = from + index;
    return {
      objectChangeType: n % 3 === 0 ? 'Add' : 'Update',
      externalIdValue: `E${String(n).padStart(5, '0')}`,
      displayName: `Person ${n}`,
      objectType: n % 5 === 0 ? 'group' : 'user',
      ...(n % errorEvery === 0
        ? { errorType: 'DuplicateObject' as const, errorMessage: 'Two objects match.' }
        : {}),
      outcomes: [
        { type: n % 2 === 0 ? 'AttributeFlow' : 'CsoUpdated', children: [{ type: 'PendingExportCreated' }] },
      ],
    };
  });

describe('every statement on a run’s rows names its run (distribution by activity_id)', () => {
  let t: TestApp;
  let baseUrl: string;
  /** Statements recorded while a step runs, with the step's name. */
  const recorded: Array<{ step: string; text: string }> = [];
  let step: string | null = null;
  const prototype = Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const originalQuery = prototype.query;
  const runs = { baseline: '', current: '', old: '', http: '' };

  const admin = () => bearer(adminToken());
  const engine = () => bearer(token({ role: 'SyncEngine' }));
  const get = (path: string) => request(t.http).get(path).set(admin()).expect(200);

  beforeAll(async () => {
    await loadParser();
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    // Every statement of every pool and client (TypeORM's, the read pools', the followers'
    // listener, COPY) goes through pg's Client.query.
    prototype.query = function (this: Client, ...args: unknown[]) {
      const [statement] = args;
      const text = typeof statement === 'string' ? statement : (statement as { text?: unknown } | null)?.text;
      if (step !== null && typeof text === 'string') recorded.push({ step, text });
      return originalQuery.apply(this, args);
    };
  });

  afterAll(async () => {
    prototype.query = originalQuery;
    await t?.close();
  });

  /** Runs `work` as `name`, recording its statements; answers the distributed ones it issued. */
  async function asStep(name: string, work: () => Promise<unknown>): Promise<StatementRouting[]> {
    step = name;
    try {
      await work();
    } finally {
      step = null;
    }
    return recorded.filter((entry) => entry.step === name).flatMap((entry) => routeStatements(entry.text));
  }

  /** The statements that reach more than one run and are not on the list, as readable lines. */
  function unlisted(routings: readonly StatementRouting[]): string[] {
    return routings
      .filter(
        (routing) =>
          routing.scope !== 'one run' &&
          !CROSS_RUN_STATEMENTS.some((known) => known.scope === routing.scope && known.matches(routing.sql)),
      )
      .map(
        (routing) =>
          `${routing.scope}: ${routing.references
            .filter((reference) => routing.scope === 'several runs' || reference.pin === null)
            .map((reference) => `${reference.table} ${reference.alias} (${reference.pin ?? 'not pinned'})`)
            .join(', ')} in ${routing.sql.replace(/\s+/g, ' ')}`,
      );
  }

  const touchesItems = (routings: readonly StatementRouting[]) =>
    routings.some((routing) =>
      routing.references.some((reference) => (PER_RUN_TABLES as readonly string[]).includes(reference.table)),
    );

  /** Checks a step: it reached the per-run tables (unless `activitiesOnly`) and named its runs. */
  async function check(name: string, work: () => Promise<unknown>, activitiesOnly = false): Promise<void> {
    const routings = await asStep(name, work);
    expect(routings.length).toBeGreaterThan(0);
    if (!activitiesOnly) expect(touchesItems(routings)).toBe(true);
    expect(unlisted(routings)).toEqual([]);
  }

  it('writes a run over HTTP: start, append as JSON and NDJSON with an Idempotency-Key and its retry, complete', async () => {
    await check('HTTP writes', async () => {
      const started = await request(t.http)
        .post('/api/v1/activities')
        .set(engine())
        .send({ connectedSystemName: 'HR Feed', runProfileName: 'Delta Import', runType: 'DeltaImport' })
        .expect(201);
      runs.http = started.body.id;
      const post = () => request(t.http).post(`/api/v1/activities/${runs.http}/items`).set(engine());
      const batch = items(1, 20, 4).map(({ objectType, ...item }) => ({
        ...item,
        connectedSystemObjectType: objectType,
      }));
      await post().set('Idempotency-Key', 'first').send({ items: batch }).expect(200);
      await post().set('Idempotency-Key', 'first').send({ items: batch }).expect(200);
      await post()
        .set('Content-Type', 'application/x-ndjson')
        .send(batch.map((item) => JSON.stringify(item)).join('\n') + '\n')
        .expect(200);
      await request(t.http)
        .post(`/api/v1/activities/${runs.http}/complete`)
        .set(engine())
        .send({})
        .expect(200);
    });
  });

  it('writes runs through the module: start, append with a batch id and its retry, complete; and follows one as it is written', async () => {
    await check('module writes and follow', async () => {
      for (const [key, profile] of [
        ['old', 'Old Sync'],
        ['baseline', 'Full Sync'],
        ['current', 'Full Sync'],
      ] as const) {
        const run = await t.runs.startRun({
          connectedSystemName: 'HR Feed',
          runProfileName: profile,
          runType: 'FullSynchronisation',
        });
        runs[key] = run.id;
        const errorEvery = key === 'current' ? 3 : 4;
        await t.runs.appendItems(run.id, items(1, 150, errorEvery), { batchId: 'b1' });
        await t.runs.appendItems(run.id, items(1, 150, errorEvery), { batchId: 'b1' });
        if (key !== 'current') await t.runs.completeRun(run.id);
      }
      // A follower of the run in progress sees the last batch and the end as they are committed.
      const follow = await t.service.followItems(runs.current, { hasError: true });
      const seen: string[] = [];
      const following = (async () => {
        for await (const event of follow) {
          seen.push(event.type);
          if (event.type === 'complete') break;
        }
      })();
      await t.runs.appendItems(runs.current, items(151, 100, 3));
      await t.runs.completeRun(runs.current);
      await following;
      expect(seen).toContain('complete');
    });
  });

  it('lists activities with every filter and by cursor, and shows one', async () => {
    await check(
      'activities',
      async () => {
        const first = await get('/api/v1/activities?pageSize=2');
        await get(`/api/v1/activities?cursor=${encodeURIComponent(first.body.nextCursor)}&pageSize=2`);
        await get(
          '/api/v1/activities?targetType=ConnectedSystemRunProfile&status=Complete&status=CompleteWithError' +
            '&runType=FullSynchronisation&connectedSystemName=HR%20Feed&runProfileName=Full%20Sync' +
            '&createdFrom=2020-01-01&createdTo=2999-01-01&hasErrors=true&page=1&pageSize=5',
        );
        await get(`/api/v1/activities/${runs.current}`);
        await t.service.listActivities({ hasErrors: false, pageSize: 3 });
        await t.service.getActivity(runs.baseline);
      },
      true,
    );
  });

  it('pages a run’s items by page and cursor with every filter, the search and every sort', async () => {
    await check('item pages', async () => {
      const list = `/api/v1/activities/${runs.current}/items`;
      const paths = [
        `${list}`,
        `${list}?page=3&pageSize=10`,
        `${list}?sortDirection=desc&page=2&pageSize=10`,
        `${list}?hasError=true&pageSize=10`,
        `${list}?hasError=false&page=2&pageSize=10`,
        `${list}?errorType=DuplicateObject&errorType=UnresolvedReference`,
        `${list}?objectChangeType=Add`,
        `${list}?objectType=group`,
        `${list}?outcomeType=PendingExportCreated&outcomeType=CsoUpdated`,
        `${list}?search=Person%2012`,
        `${list}?search=E0`,
        ...['sequence', 'displayName', 'externalIdValue', 'objectType', 'errorType'].flatMap((sortBy) =>
          ['asc', 'desc'].map(
            (direction) => `${list}?sortBy=${sortBy}&sortDirection=${direction}&page=2&pageSize=7`,
          ),
        ),
        `${list}?hasError=true&objectType=user&search=Person&sortBy=displayName&pageSize=5`,
      ];
      for (const path of paths) {
        const page = await get(path);
        if (page.body.nextCursor) {
          // The next page by cursor: the same query, the cursor instead of the page number.
          const next = new URL(path, baseUrl);
          next.searchParams.delete('page');
          next.searchParams.set('cursor', page.body.nextCursor);
          await get(`${next.pathname}${next.search}`);
        }
      }
      const byModule = await t.service.listItems(runs.current, { sortBy: 'errorType', pageSize: 20 });
      await t.service.listItems(runs.current, {
        cursor: byModule.nextCursor!,
        sortBy: 'errorType',
        pageSize: 20,
      });
    });
  });

  it('shows an item in full and a run’s stats', async () => {
    await check('item detail and stats', async () => {
      const page = await get(`/api/v1/activities/${runs.current}/items?pageSize=1`);
      const itemId: string = page.body.items[0].id;
      await get(`/api/v1/activities/${runs.current}/items/${itemId}`);
      await request(t.http)
        .get(`/api/v1/activities/${runs.current}/items/0b0c0d0e-0f10-4112-8314-151617181920`)
        .set(admin())
        .expect(404);
      await get(`/api/v1/activities/${runs.current}/stats`);
      await t.service.getItem(runs.current, itemId);
      await t.service.getStats(runs.baseline);
    });
  });

  it('exports a run as CSV and NDJSON, filtered and sorted', async () => {
    await check('export', async () => {
      const exportPath = `/api/v1/activities/${runs.current}/items/export`;
      await get(`${exportPath}?format=csv`);
      await get(`${exportPath}?format=ndjson&hasError=true&sortBy=displayName&search=Person`);
      const exported = await t.service.exportItems(runs.baseline, { format: 'ndjson', objectType: ['user'] });
      for await (const _chunk of exported.stream) {
        // read to the end
      }
    });
  });

  it('follows a completed run over server-sent events, with a filter', async () => {
    await check('event stream', async () => {
      const stream = await EventStreamReader.open(
        `${baseUrl}/api/v1/activities/${runs.http}/items/stream?hasError=true`,
        bearer(adminToken()),
      );
      expect(stream.status).toBe(200);
      const events = await stream.until('complete');
      stream.close();
      expect(events.at(-1)?.event).toBe('complete');
    });
  });

  it('diffs a run against its baseline and against a named run, by page and cursor', async () => {
    await check('diff', async () => {
      const first = await get(`/api/v1/activities/${runs.current}/diff?pageSize=5`);
      await get(
        `/api/v1/activities/${runs.current}/diff?pageSize=5&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      );
      await get(
        `/api/v1/activities/${runs.current}/diff?against=${runs.old}&change=Resolved,NotSeen&page=2&pageSize=3`,
      );
      await t.service.diffRuns(runs.current, { change: ['NewError'] });
    });
  });

  it('lists one object’s items across runs, by external id and by display name, with filters', async () => {
    await check('object history', async () => {
      await get('/api/v1/items?externalIdValue=E00012');
      const first = await get('/api/v1/items?displayName=person%2012&hasError=true&pageSize=1');
      await get(
        `/api/v1/items?displayName=person%2012&hasError=true&pageSize=1&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      );
      await get(
        '/api/v1/items?externalIdValue=E00012&connectedSystemName=HR%20Feed&createdFrom=2020-01-01&createdTo=2999-01-01',
      );
      await t.service.objectHistory({ externalIdValue: 'E00030', hasError: false });
    });
  });

  it('purges old runs, items in batches, then the activities with their batches', async () => {
    await t.dataSource.query(`UPDATE activities SET created = $2 WHERE id = $1`, [
      runs.old,
      new Date(Date.now() - 400 * DAY_MS),
    ]);
    await check('purge', async () => {
      const result = await t.runs.purgeRuns({ olderThanDays: 365, batchSize: 40 });
      expect(result).toMatchObject({ activities: 1, items: 150 });
    });
  });

  it('meets every statement on the list of those that span runs, so the list holds no stale entry', () => {
    const routings = recorded.flatMap((entry) => routeStatements(entry.text));
    const unseen = CROSS_RUN_STATEMENTS.filter(
      (known) => !routings.some((routing) => routing.scope === known.scope && known.matches(routing.sql)),
    ).map((known) => known.name);
    expect(unseen).toEqual([]);
  });

  it('would report a statement that reads the items of every run, or of two runs', () => {
    expect(
      unlisted(routeStatements('SELECT count(*) FROM execution_items WHERE error_type IS NOT NULL')),
    ).toEqual([
      'every run: execution_items execution_items (not pinned) in SELECT count(*) FROM execution_items WHERE error_type IS NOT NULL',
    ]);
    expect(
      unlisted(
        routeStatements(
          'SELECT a.id FROM activities a JOIN execution_items i ON i.activity_id = a.id WHERE a.status = $1',
        ),
      ),
    ).toHaveLength(1);
    expect(
      unlisted(routeStatements('SELECT 1 FROM append_batches b WHERE b.activity_id = $1 OR b.batch_id = $2')),
    ).toHaveLength(1);
    expect(
      unlisted(
        routeStatements(
          'SELECT 1 FROM execution_items i WHERE i.activity_id = $1 AND EXISTS (SELECT 1 FROM execution_items j WHERE j.activity_id = $2)',
        ),
      ),
    ).toHaveLength(1);
    // The module's own shapes pass: pinned directly, through the activity row, or per COPY row.
    expect(
      unlisted(routeStatements('DELETE FROM execution_items WHERE activity_id = $1 AND sequence > $2')),
    ).toEqual([]);
  });
});
