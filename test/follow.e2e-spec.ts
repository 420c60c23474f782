import type { Pool } from 'pg';
import request from 'supertest';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { Activity, type NewExecutionItem } from '../src/execution-items';
import { FollowStreams } from '../src/execution-items/http/follow-streams';
import { RunNotices } from '../src/execution-items/run-notices';
import { EventStreamReader, type StreamEvent } from './support/event-stream';
import {
  activityNotFoundBody,
  errorBody,
  GUID_MESSAGE,
  listItem,
  MISSING_ID,
  notARunProfileBody,
  UNAUTHORISED_MESSAGE,
  type WrittenItem,
} from './support/item-fixtures';
import { createTestApp, onServer, type TestApp } from './support/test-app';
import { adminToken, bearer, token } from './support/tokens';

const OTHER_ID = 'c0ffee00-1234-4abc-8def-0000000000f1';
const MAX_STREAMS = 3;
const NOT_FOR_STREAMS =
  'cannot be used when following a run: the stream is every matching item in sequence order';
const SEQUENCE_MESSAGE = 'must be a non-negative integer (a sequence number, at most 2147483647)';

/** Items of every kind the filters tell apart, the n-th of them by `i`. */
function itemAt(i: number): NewExecutionItem {
  switch (i % 4) {
    case 0:
      return {
        objectChangeType: 'Projected',
        externalIdValue: `E${i}`,
        displayName: `Person ${i}`,
        objectType: 'user',
        outcomes: [{ type: 'Projected', children: [{ type: 'AttributeFlow', detailCount: 3 }] }],
      };
    case 1:
      return {
        objectChangeType: 'Joined',
        externalIdValue: `E${i}`,
        objectType: 'group',
        errorType: 'UnresolvedReference',
        errorMessage: 'a member points nowhere',
      };
    case 2:
      return { objectChangeType: 'AttributeFlow', displayName: `Person ${i}`, objectType: 'user' };
    default:
      return { objectChangeType: 'NoChange', errorType: 'AmbiguousMatch' };
  }
}

const items = (from: number, count: number) => Array.from({ length: count }, (_, k) => itemAt(from + k));

describe('GET /api/v1/activities/{id}/items/stream (following a run)', () => {
  let t: TestApp;
  let baseUrl: string;
  let runNumber = 0;

  beforeAll(async () => {
    t = await createTestApp({
      FOLLOW_MAX_STREAMS_PER_PRINCIPAL: String(MAX_STREAMS),
      FOLLOW_KEEP_ALIVE_MS: '300',
      // Only change notices can deliver on time: a poll would come after the test's timeout.
      FOLLOW_POLL_INTERVAL_MS: '600000',
    });
    await t.app.listen(0, '127.0.0.1');
    baseUrl = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    await t.dataSource
      .getRepository(Activity)
      .insert({ id: OTHER_ID, targetType: 'ConnectedSystem', status: 'Complete' });
  });

  afterAll(() => t?.close());

  const startRun = () =>
    t.runs.startRun({
      connectedSystemName: 'HR Feed',
      runProfileName: `Delta ${++runNumber}`,
      runType: 'DeltaSynchronisation',
    });

  /** Appends and returns the items as written, with their ids and sequences. */
  async function append(runId: string, inputs: NewExecutionItem[]): Promise<WrittenItem[]> {
    const result = await t.runs.appendItems(runId, inputs);
    return inputs.map((input, k) => ({ id: result.itemIds[k], sequence: result.firstSequence + k, input }));
  }

  const streamPath = (runId: string, query = '') => `/api/v1/activities/${runId}/items/stream${query}`;

  function open(path: string, headers: Record<string, string> = {}, jwt: string | null = adminToken()) {
    return EventStreamReader.open(`${baseUrl}${path}`, { ...(jwt ? bearer(jwt) : {}), ...headers });
  }

  const activityBody = async (runId: string) =>
    (await request(t.http).get(`/api/v1/activities/${runId}`).set(bearer(adminToken())).expect(200)).body;

  /** What the stream must say for these items: one `item` event each, its id the sequence. */
  const itemEvents = (written: WrittenItem[]) =>
    written.map((item) => ({ event: 'item', id: String(item.sequence), data: listItem(item) }));

  const parsed = (events: StreamEvent[]) =>
    events.map(({ event, id, data }) => ({
      event,
      ...(id === undefined ? {} : { id }),
      data: JSON.parse(data),
    }));

  const withoutProgress = (events: StreamEvent[]) => parsed(events.filter((e) => e.event !== 'progress'));

  describe('a run that has ended', () => {
    it('streams its items in sequence order, then `complete` with the activity, and closes', async () => {
      const run = await startRun();
      const written = await append(run.id, items(0, 5));
      await t.runs.completeRun(run.id);

      const stream = await open(streamPath(run.id));
      expect(stream.status).toBe(200);
      expect(stream.header('content-type')).toBe('text/event-stream');
      expect(stream.header('cache-control')).toBe('no-cache');
      expect(stream.header('x-accel-buffering')).toBe('no');
      expect(parsed(await stream.rest())).toEqual([
        ...itemEvents(written),
        { event: 'complete', data: await activityBody(run.id) },
      ]);
    });

    it('of an empty run, sends `complete` alone', async () => {
      const run = await startRun();
      const completed = await t.runs.completeRun(run.id, { status: 'Cancelled' });
      const stream = await open(streamPath(run.id));
      expect(parsed(await stream.rest())).toEqual([{ event: 'complete', data: completed }]);
    });
  });

  describe('a run in progress', () => {
    it('sends progress, then each item as it is committed, exactly once and in order, then `complete`', async () => {
      const run = await startRun();
      const before = await append(run.id, items(0, 2));
      const stream = await open(streamPath(run.id));
      const first = parsed(await stream.until('progress'));
      expect(first).toEqual([
        ...itemEvents(before),
        { event: 'progress', data: { itemCount: 2, itemsWithErrors: 1, status: 'InProgress' } },
      ]);

      const during = await append(run.id, items(2, 3));
      const seen = await stream.until('item');
      while (seen.filter((e) => e.event === 'item').length < 3) seen.push((await stream.next())!);
      expect(withoutProgress(seen)).toEqual(itemEvents(during));

      await t.runs.completeRun(run.id);
      const rest = await stream.rest();
      expect(parsed(rest).at(-1)).toEqual({ event: 'complete', data: await activityBody(run.id) });
      // Progress at most between the items and the end, each one the run's counters at some point.
      for (const progress of parsed([...seen, ...rest]).filter((e) => e.event === 'progress')) {
        expect([
          { itemCount: 2, itemsWithErrors: 1, status: 'InProgress' },
          { itemCount: 5, itemsWithErrors: 2, status: 'InProgress' },
        ]).toContainEqual(progress.data);
      }
      expect(withoutProgress(rest)).toEqual([{ event: 'complete', data: await activityBody(run.id) }]);
    });

    it('delivers every item of many concurrent appends exactly once, in sequence order', async () => {
      const run = await startRun();
      const stream = await open(streamPath(run.id));
      const written: WrittenItem[] = [];
      for (let batch = 0; batch < 12; batch++)
        written.push(...(await append(run.id, items(batch * 100, 100))));
      await t.runs.completeRun(run.id);
      const events = await stream.rest();
      expect(events.filter((e) => e.event === 'item').map((e) => e.id)).toEqual(
        written.map((item) => String(item.sequence)),
      );
      expect(withoutProgress(events)).toEqual([
        ...itemEvents(written),
        { event: 'complete', data: await activityBody(run.id) },
      ]);
    });

    it('sends a keep-alive comment when nothing else happens', async () => {
      const run = await startRun();
      const stream = await open(streamPath(run.id));
      expect(await stream.next(true)).toEqual(expect.objectContaining({ event: 'progress' }));
      expect(await stream.next(true)).toEqual({ event: 'comment', data: 'keep-alive' });
      stream.close();
    });
  });

  describe('resuming', () => {
    let runId: string;
    let written: WrittenItem[];

    beforeAll(async () => {
      const run = await startRun();
      runId = run.id;
      written = await append(runId, items(0, 6));
      await t.runs.completeRun(runId);
    });

    it('starts after `after`', async () => {
      const stream = await open(streamPath(runId, '?after=4'));
      expect(withoutProgress(await stream.rest())).toEqual([
        ...itemEvents(written.slice(4)),
        { event: 'complete', data: await activityBody(runId) },
      ]);
    });

    it('starts after the Last-Event-ID header, which takes precedence over `after` (a reconnecting EventSource sends both)', async () => {
      const stream = await open(streamPath(runId, '?after=1'), { 'Last-Event-ID': '3' });
      expect(withoutProgress(await stream.rest())).toEqual([
        ...itemEvents(written.slice(3)),
        { event: 'complete', data: await activityBody(runId) },
      ]);
    });

    it('after the last item, or beyond it, sends `complete` alone', async () => {
      for (const after of ['6', '1000']) {
        const stream = await open(streamPath(runId, `?after=${after}`));
        expect(parsed(await stream.rest())).toEqual([{ event: 'complete', data: await activityBody(runId) }]);
      }
    });

    it('`after=0` starts from the first item', async () => {
      const stream = await open(streamPath(runId, '?after=0'));
      expect(withoutProgress(await stream.rest())).toEqual([
        ...itemEvents(written),
        { event: 'complete', data: await activityBody(runId) },
      ]);
    });
  });

  describe('filters', () => {
    let runId: string;
    let written: WrittenItem[];

    beforeAll(async () => {
      const run = await startRun();
      runId = run.id;
      written = await append(runId, items(0, 12));
    });

    it.each([
      ['hasError=true', (item: WrittenItem) => item.input.errorType != null],
      ['hasError=false', (item: WrittenItem) => item.input.errorType == null],
      ['errorType=AmbiguousMatch', (item: WrittenItem) => item.input.errorType === 'AmbiguousMatch'],
      [
        'objectChangeType=Projected,Joined',
        (item: WrittenItem) => ['Projected', 'Joined'].includes(item.input.objectChangeType),
      ],
      ['objectType=user&hasError=false', (item: WrittenItem) => item.input.objectType === 'user'],
      ['outcomeType=AttributeFlow', (item: WrittenItem) => item.input.objectChangeType === 'Projected'],
    ])('%s narrows the stream, old items and new alike', async (query, matches) => {
      const stream = await open(streamPath(runId, `?${query}`));
      const old = written.filter(matches);
      const seen = await stream.until('progress');
      expect(withoutProgress(seen)).toEqual(itemEvents(old));
      const fresh = await append(runId, items(12, 8));
      written.push(...fresh);
      const expected = fresh.filter(matches);
      const next: StreamEvent[] = [];
      while (next.filter((e) => e.event === 'item').length < expected.length)
        next.push((await stream.next())!);
      expect(withoutProgress(next)).toEqual(itemEvents(expected));
      stream.close();
    });

    it('with a resume point, continues among the matching items', async () => {
      const stream = await open(streamPath(runId, '?hasError=true'), { 'Last-Event-ID': '5' });
      const seen = await stream.until('progress');
      expect(withoutProgress(seen)).toEqual(
        itemEvents(written.filter((item) => item.sequence > 5 && item.input.errorType != null)),
      );
      stream.close();
    });
  });

  describe('refusals, before the stream starts, in the envelope', () => {
    let runId: string;

    beforeAll(async () => {
      runId = (await startRun()).id;
    });

    const get = (path: string, jwt: string | null = adminToken(), headers: Record<string, string> = {}) => {
      const req = request(t.http).get(path).set(headers);
      return jwt === null ? req : req.set(bearer(jwt));
    };

    it('401 without credentials, or with them in the URL only', async () => {
      for (const path of [streamPath(runId), streamPath(runId, `?access_token=${adminToken()}`)]) {
        const res = await get(path, null).expect(401);
        expect(res.body).toEqual(errorBody('UNAUTHORISED', UNAUTHORISED_MESSAGE));
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
    });

    it('403 for a principal without a reading role, the engine role included', async () => {
      for (const role of ['Reader', 'SyncEngine']) {
        const res = await get(streamPath(runId), token({ role })).expect(403);
        expect(res.body).toEqual(errorBody('FORBIDDEN', 'This requires the Administrator role.'));
      }
    });

    it('400 naming a parameter that is not valid', async () => {
      const cases: Array<[string, Record<string, string>, Record<string, unknown>]> = [
        ['?after=-1', {}, { after: [SEQUENCE_MESSAGE] }],
        ['?after=abc', {}, { after: [SEQUENCE_MESSAGE] }],
        ['?after=1.5', {}, { after: [SEQUENCE_MESSAGE] }],
        ['?after=', {}, { after: [SEQUENCE_MESSAGE] }],
        ['?after=2147483648', {}, { after: [SEQUENCE_MESSAGE] }],
        ['?after=1&after=2', {}, { after: [SEQUENCE_MESSAGE] }],
        ['', { 'Last-Event-ID': 'abc' }, { 'Last-Event-ID': [SEQUENCE_MESSAGE] }],
        ['', { 'Last-Event-ID': '-3' }, { 'Last-Event-ID': [SEQUENCE_MESSAGE] }],
        ['?search=ann', {}, { search: [NOT_FOR_STREAMS] }],
        ['?sortBy=displayName', {}, { sortBy: [NOT_FOR_STREAMS] }],
        ['?sortDirection=desc', {}, { sortDirection: [NOT_FOR_STREAMS] }],
        ['?page=2', {}, { page: [NOT_FOR_STREAMS] }],
        ['?pageSize=10', {}, { pageSize: [NOT_FOR_STREAMS] }],
        ['?cursor=abc', {}, { cursor: [NOT_FOR_STREAMS] }],
        ['?colour=red', {}, { colour: ['is not a known parameter'] }],
        ['?hasError=maybe', {}, { hasError: ['must be true or false'] }],
      ];
      for (const [query, headers, validationErrors] of cases) {
        const res = await get(streamPath(runId, query), adminToken(), headers);
        expect({ query, status: res.status, body: res.body }).toEqual({
          query,
          status: 400,
          body: errorBody('VALIDATION_ERROR', 'The request is not valid.', validationErrors),
        });
      }
      const res = await get(streamPath(runId, '?errorType=Nope')).expect(400);
      expect(Object.keys(res.body.validationErrors)).toEqual(['errorType']);
      const notGuid = await get('/api/v1/activities/not-a-guid/items/stream').expect(400);
      expect(notGuid.body).toEqual(
        errorBody('VALIDATION_ERROR', 'The request is not valid.', { id: [GUID_MESSAGE] }),
      );
    });

    it('404 for an activity that does not exist, 400 for one that is not a run', async () => {
      expect((await get(streamPath(MISSING_ID)).expect(404)).body).toEqual(activityNotFoundBody(MISSING_ID));
      expect((await get(streamPath(OTHER_ID)).expect(400)).body).toEqual(notARunProfileBody(OTHER_ID));
    });
  });

  describe('streams per principal', () => {
    it(`allows ${MAX_STREAMS} at once, refuses one more with 429 and Retry-After, and admits again once one closes`, async () => {
      const run = await startRun();
      const alice = token({ role: 'Administrator', sub: 'alice' });
      const open3 = await Promise.all(
        Array.from({ length: MAX_STREAMS }, () => open(streamPath(run.id), {}, alice)),
      );
      expect(open3.map((stream) => stream.status)).toEqual([200, 200, 200]);

      const refused = await request(t.http).get(streamPath(run.id)).set(bearer(alice)).expect(429);
      expect(refused.body).toEqual(
        errorBody(
          'TOO_MANY_REQUESTS',
          `At most ${MAX_STREAMS} streams may be open at once for one principal; close one before opening another.`,
        ),
      );
      expect(refused.headers['retry-after']).toMatch(/^\d+$/);

      const bob = await open(streamPath(run.id), {}, token({ role: 'Administrator', sub: 'bob' }));
      expect(bob.status).toBe(200);
      bob.close();

      open3[0].close();
      await until(() => streams().openStreams === MAX_STREAMS - 1 + 0);
      const again = await open(streamPath(run.id), {}, alice);
      expect(again.status).toBe(200);
      for (const stream of [...open3, again]) stream.close();
      await until(() => streams().openStreams === 0);
    });
  });

  const streams = () => t.app.get(FollowStreams);
  const notices = () => t.app.get(RunNotices);
  const pool = () => (t.dataSource.driver as PostgresDriver).master as Pool;

  describe('clients that go away', () => {
    it('1,000 connect/disconnect cycles leave no stream, subscription, timer or connection behind', async () => {
      const run = await startRun();
      await append(run.id, items(0, 3));
      await until(() => streams().openStreams === 0 && notices().subscriberCount === 0);
      for (let cycle = 0; cycle < 1000; cycle++) {
        const stream = await open(streamPath(run.id));
        if (cycle % 2 === 0) await stream.next();
        stream.close();
      }
      await until(() => streams().openStreams === 0 && notices().subscriberCount === 0);
      await until(() => pool().idleCount === pool().totalCount && pool().waitingCount === 0);
      expect({
        streams: streams().openStreams,
        subscribers: notices().subscriberCount,
        waiting: pool().waitingCount,
        busy: pool().totalCount - pool().idleCount,
      }).toEqual({ streams: 0, subscribers: 0, waiting: 0, busy: 0 });
      // The run is still followed as before.
      const stream = await open(streamPath(run.id));
      expect((await stream.next())?.id).toBe('1');
      stream.close();
    }, 300_000);
  });

  // Two instances on one database need a database server: the embedded one lives in one process.
  (onServer ? describe : describe.skip)('two service instances on one database', () => {
    let other: TestApp;

    beforeAll(async () => {
      const url = (t.dataSource.options as { url: string }).url;
      other = await createTestApp({ DATABASE_URL: url, FOLLOW_POLL_INTERVAL_MS: '600000' });
    });

    afterAll(() => other?.close());

    it('a follower of one instance receives the items and the end written through the other', async () => {
      const run = await other.runs.startRun({
        connectedSystemName: 'HR Feed',
        runProfileName: 'Across instances',
        runType: 'FullImport',
      });
      const stream = await open(streamPath(run.id));
      await stream.until('progress');
      await until(() => notices().isListening);
      const result = await other.runs.appendItems(run.id, items(0, 3));
      const written = items(0, 3).map((input, k) => ({
        id: result.itemIds[k],
        sequence: result.firstSequence + k,
        input,
      }));
      const seen: StreamEvent[] = [];
      while (seen.filter((e) => e.event === 'item').length < 3) seen.push((await stream.next())!);
      expect(withoutProgress(seen)).toEqual(itemEvents(written));
      await other.runs.completeRun(run.id);
      expect(withoutProgress(await stream.rest())).toEqual([
        { event: 'complete', data: await activityBody(run.id) },
      ]);
    });
  });
});

/** Waits until `condition` holds (things that settle after a close), checking every 20 ms. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}
