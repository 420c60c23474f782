/**
 * Contract §7: a sync engine in another process writes a run over HTTP. What the routes write is
 * checked against what the module's write API writes for the same items, and against the rows.
 */
import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { parseApiKeyCommand, runApiKeyCommand } from '../src/auth/api-keys/api-key-command';
import { ApiKeysService } from '../src/auth/api-keys/api-keys.service';
import type { NewExecutionItem } from '../src/execution-items';
import {
  GUID_MESSAGE,
  MISSING_ID,
  TIMESTAMP,
  UNAUTHORISED_MESSAGE,
  VALIDATION_MESSAGE,
  activityNotFoundBody,
  errorBody,
  notARunProfileBody,
} from './support/item-fixtures';
import { createTestApp, type TestApp } from './support/test-app';
import { adminToken, bearer, token } from './support/tokens';

/** Small enough to pass in a test, large enough for 10,001 minimal items (about 270 kB). */
const BODY_LIMIT = 400_000;
const READER_ROLE = 'Synchronisation Readers';
const GUID = expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
const ENGINE_ONLY = 'This requires the SyncEngine role.';
const READERS_ONLY = `This requires one of the roles Administrator or ${READER_ROLE}.`;
const BATCH_MESSAGE = 'The batch is not valid; nothing was written.';
const NAME_MESSAGE = 'must be a non-empty string of at most 400 characters';
const RUN_TYPE_MESSAGE =
  'must be one of FullImport, DeltaImport, FullSynchronisation, DeltaSynchronisation, Export';
const STATUS_MESSAGE =
  'must be one of Complete, CompleteWithWarning, CompleteWithError, FailedWithError, Cancelled';
const CHANGE_TYPE_MESSAGE =
  'unknown value "Moved"; accepted: Add, Update, Delete, Projected, Joined, AttributeFlow, Disconnected, ' +
  'DisconnectedOutOfScope, OutOfScopeRetainJoin, DriftCorrection, PendingExport, Exported, Deprovisioned, ' +
  'PendingExportConfirmed, NoChange, Created';
const UNKNOWN_FIELD =
  'is not a field of an item; the fields are externalIdValue, displayName, connectedSystemObjectType, ' +
  'objectChangeType, errorType, errorMessage, errorStackTrace, outcomes';

/** Items as an engine sends them over HTTP (the item list's field names). */
const HTTP_ITEMS = [
  {
    objectChangeType: 'Projected',
    externalIdValue: 'E1001',
    displayName: 'Ann Archer',
    connectedSystemObjectType: 'user',
    outcomes: [
      {
        type: 'Projected',
        detailMessage: 'projected to a new person',
        children: [
          { type: 'AttributeFlow', detailCount: 5 },
          { type: 'PendingExportCreated', targetId: 'cs-ldap', targetDescription: 'LDAP' },
          { type: 'PendingExportCreated', targetId: 'cs-scim', targetDescription: 'SCIM App' },
        ],
      },
    ],
  },
  { objectChangeType: 'NoChange' },
  {
    objectChangeType: 'Update',
    externalIdValue: 'G77',
    displayName: 'Admins',
    connectedSystemObjectType: 'group',
    errorType: 'UnresolvedReference',
    errorMessage: 'member points nowhere',
    errorStackTrace: 'at resolve (sync.ts:10)\nat run (sync.ts:99)',
    outcomes: [{ type: 'CsoUpdated', children: [] }],
  },
  { objectChangeType: 'Add', displayName: 'Zoë Ünal 🌍', connectedSystemObjectType: null, errorType: null },
];

/** The same items for the module's write API (`objectType`). */
const MODULE_ITEMS: NewExecutionItem[] = HTTP_ITEMS.map(({ connectedSystemObjectType, ...item }) =>
  connectedSystemObjectType === undefined
    ? (item as NewExecutionItem)
    : ({ ...item, objectType: connectedSystemObjectType } as NewExecutionItem),
);

const ndjson = (items: readonly unknown[], end = '\n') =>
  items.map((item) => JSON.stringify(item)).join('\n') + end;
const minimalItems = (count: number) => Array.from({ length: count }, () => ({ objectChangeType: 'Add' }));

describe('Engines write runs over HTTP (contract §7)', () => {
  let t: TestApp;
  let engineKey: string;
  let adminKey: string;
  const engine = () => bearer(token({ role: 'SyncEngine' }));
  const admin = () => bearer(adminToken());
  const reader = () => bearer(token({ role: READER_ROLE }));

  beforeAll(async () => {
    t = await createTestApp({ AUTH_READER_ROLES: READER_ROLE, INGEST_BODY_LIMIT_BYTES: String(BODY_LIMIT) });
    const apiKeys = t.app.get(ApiKeysService);
    // The command line's own path: `npm run apikey -- create --name ldap-engine --role SyncEngine`.
    const command = parseApiKeyCommand(['create', '--name', 'ldap-engine', '--role', 'SyncEngine']);
    if (command.command !== 'create') throw new Error(`parsed as ${command.command}`);
    const output = await runApiKeyCommand(command, apiKeys);
    engineKey = /^ {2}(eik_[0-9A-Za-z]{40})$/m.exec(output)![1];
    adminKey = (await apiKeys.createKey({ name: 'admin', roles: ['Administrator', READER_ROLE] })).key;
  });

  afterAll(() => t?.close());

  const startRun = async (
    body: object = { connectedSystemName: 'HR Feed', runProfileName: 'Delta Import', runType: 'DeltaImport' },
  ) =>
    (await request(t.http).post('/api/v1/activities').set(engine()).send(body).expect(201)).body as {
      id: string;
    };
  const postItems = (id: string) => request(t.http).post(`/api/v1/activities/${id}/items`);
  const postJson = (id: string, body: unknown) =>
    postItems(id)
      .set(engine())
      .send(body as object);
  const postNdjson = (id: string, text: string) =>
    postItems(id).set(engine()).set('Content-Type', 'application/x-ndjson').send(text);

  /** The run's stored state: the activity's counters and its items in order. */
  async function stored(id: string) {
    const [activity] = await t.dataSource.query(
      `SELECT status, item_count, error_item_count, change_type_counts, error_type_counts, object_type_counts,
              outcome_type_counts FROM activities WHERE id = $1`,
      [id],
    );
    const items = await t.dataSource.query(
      `SELECT sequence, object_change_type, external_id_value, display_name, object_type, error_type, outcome_summary,
              error_message, error_stack_trace, outcomes, outcome_types FROM execution_items WHERE activity_id = $1 ORDER BY sequence`,
      [id],
    );
    const batches = await t.dataSource.query(
      `SELECT batch_id, first_sequence, item_count FROM append_batches WHERE activity_id = $1 ORDER BY first_sequence`,
      [id],
    );
    return { activity, items, batches };
  }

  /** What a reader sees of a run through the API: every page, every item's detail, the stats; ids left out. */
  async function readBack(id: string) {
    const page = await request(t.http)
      .get(`/api/v1/activities/${id}/items?pageSize=100`)
      .set(admin())
      .expect(200);
    const details = [];
    for (const item of page.body.items as Array<{ id: string }>) {
      const detail = await request(t.http)
        .get(`/api/v1/activities/${id}/items/${item.id}`)
        .set(admin())
        .expect(200);
      details.push({ ...detail.body, id: undefined });
    }
    const stats = await request(t.http).get(`/api/v1/activities/${id}/stats`).set(admin()).expect(200);
    return {
      page: { ...page.body, items: page.body.items.map((item: object) => ({ ...item, id: undefined })) },
      details,
      stats: { ...stats.body, activityId: undefined },
    };
  }

  describe('POST /api/v1/activities', () => {
    it('201: starts a run InProgress, with its Location', async () => {
      const res = await request(t.http)
        .post('/api/v1/activities')
        .set(engine())
        .send({ connectedSystemName: 'HR Feed', runProfileName: 'Full Import', runType: 'FullImport' })
        .expect(201);
      expect(res.body).toEqual({
        id: GUID,
        created: TIMESTAMP,
        completed: null,
        status: 'InProgress',
        targetType: 'ConnectedSystemRunProfile',
        targetName: 'Full Import',
        targetContext: 'HR Feed',
        runType: 'FullImport',
        itemCount: 0,
        itemsWithErrors: 0,
      });
      expect(res.headers.location).toBe(`/api/v1/activities/${res.body.id}`);
      const byAdmin = await request(t.http).get(res.headers.location).set(admin()).expect(200);
      expect(byAdmin.body).toEqual(res.body);
    });

    it('201: takes the engine’s id, lower-cased, and an API key with the engine role', async () => {
      const id = 'ABCDEF00-1234-4ABC-8DEF-0000000000AA';
      const res = await request(t.http)
        .post('/api/v1/activities')
        .set('X-API-Key', engineKey)
        .send({ id, connectedSystemName: 'LDAP', runProfileName: 'Export', runType: 'Export' })
        .expect(201);
      expect(res.body).toMatchObject({ id: id.toLowerCase(), status: 'InProgress', runType: 'Export' });
      expect(res.headers.location).toBe(`/api/v1/activities/${id.toLowerCase()}`);
    });

    it('409 CONFLICT: an id that an activity already has; nothing changes', async () => {
      const { id } = await startRun();
      const res = await request(t.http)
        .post('/api/v1/activities')
        .set(engine())
        .send({ id, connectedSystemName: 'Other', runProfileName: 'Other', runType: 'Export' })
        .expect(409);
      expect(res.body).toEqual(errorBody('CONFLICT', `An activity with ID ${id} already exists.`));
      expect((await stored(id)).activity.status).toBe('InProgress');
      const [{ target_context }] = await t.dataSource.query(
        'SELECT target_context FROM activities WHERE id = $1',
        [id],
      );
      expect(target_context).toBe('HR Feed');
    });

    it('400 VALIDATION_ERROR: each bad or missing field, unknown fields, a body that is not JSON; nothing written', async () => {
      const [{ count: before }] = await t.dataSource.query('SELECT count(*)::int AS count FROM activities');
      const missing = await request(t.http).post('/api/v1/activities').set(engine()).send({}).expect(400);
      expect(missing.body).toEqual({
        ...errorBody('VALIDATION_ERROR', 'The run is not valid.', {
          connectedSystemName: [NAME_MESSAGE],
          runProfileName: [NAME_MESSAGE],
          runType: [
            `must be one of FullImport, DeltaImport, FullSynchronisation, DeltaSynchronisation, Export`,
          ],
        }),
      });
      const wrong = await request(t.http)
        .post('/api/v1/activities')
        .set(engine())
        .send({ connectedSystemName: ' ', runProfileName: 'x'.repeat(401), runType: 'Import', id: 'run-1' })
        .expect(400);
      expect(wrong.body.validationErrors).toEqual({
        connectedSystemName: [NAME_MESSAGE],
        runProfileName: [NAME_MESSAGE],
        runType: [RUN_TYPE_MESSAGE],
        id: ['must be a GUID'],
      });
      const unknown = await request(t.http)
        .post('/api/v1/activities')
        .set(engine())
        .send({
          connectedSystemName: 'HR',
          runProfileName: 'Full',
          runType: 'FullImport',
          status: 'Complete',
        })
        .expect(400);
      expect(unknown.body).toEqual(
        errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, { status: ['is not a known parameter'] }),
      );
      const notJson = await request(t.http)
        .post('/api/v1/activities')
        .set(engine())
        .set('Content-Type', 'application/json')
        .send('{"connectedSystemName": "HR",')
        .expect(400);
      expect(notJson.body).toEqual(
        errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, { body: ['is not valid JSON'] }),
      );
      const [{ count: after }] = await t.dataSource.query('SELECT count(*)::int AS count FROM activities');
      expect(after).toBe(before);
    });

    it('400 BAD_REQUEST: a body that is not JSON by its Content-Type', async () => {
      const res = await request(t.http)
        .post('/api/v1/activities')
        .set(engine())
        .set('Content-Type', 'application/xml')
        .send('<run/>')
        .expect(400);
      expect(res.body).toEqual(errorBody('BAD_REQUEST', 'Content-Type must be application/json.'));
    });

    it('401 without credentials, 403 for reading roles (token or API key); nothing written', async () => {
      const body = { connectedSystemName: 'HR', runProfileName: 'Full', runType: 'FullImport' };
      const [{ count: before }] = await t.dataSource.query('SELECT count(*)::int AS count FROM activities');
      const anonymous = await request(t.http).post('/api/v1/activities').send(body).expect(401);
      expect(anonymous.body).toEqual(errorBody('UNAUTHORISED', UNAUTHORISED_MESSAGE));
      expect(anonymous.headers['www-authenticate']).toBe('Bearer');
      for (const [who, headers] of [
        ['Administrator', admin()],
        [READER_ROLE, reader()],
        ['no role', bearer(token({ role: 'Auditor' }))],
        ['an Administrator API key', { 'X-API-Key': adminKey }],
      ] as const) {
        const res = await request(t.http).post('/api/v1/activities').set(headers).send(body);
        expect({ who, status: res.status, body: res.body }).toEqual({
          who,
          status: 403,
          body: errorBody('FORBIDDEN', ENGINE_ONLY),
        });
      }
      const [{ count: after }] = await t.dataSource.query('SELECT count(*)::int AS count FROM activities');
      expect(after).toBe(before);
    });
  });

  describe('POST /api/v1/activities/{id}/items', () => {
    it('200: JSON and NDJSON batches write exactly what the module API writes for the same items', async () => {
      const overJson = await startRun();
      const overNdjson = await startRun();
      const inProcess = await t.runs.startRun({
        connectedSystemName: 'HR Feed',
        runProfileName: 'Delta Import',
        runType: 'DeltaImport',
      });

      const json = await postJson(overJson.id, { items: HTTP_ITEMS }).expect(200);
      expect(json.body).toEqual({ activityId: overJson.id, firstSequence: 1, lastSequence: 4, itemCount: 4 });
      // CRLF line ends, and blank lines at the end, are allowed.
      const text = ndjson(HTTP_ITEMS.slice(0, 2)).replace(/\n/g, '\r\n') + '\r\n\n';
      const first = await postNdjson(overNdjson.id, text).expect(200);
      expect(first.body).toEqual({
        activityId: overNdjson.id,
        firstSequence: 1,
        lastSequence: 2,
        itemCount: 2,
      });
      const second = await postNdjson(overNdjson.id, ndjson(HTTP_ITEMS.slice(2), '')).expect(200);
      expect(second.body).toEqual({
        activityId: overNdjson.id,
        firstSequence: 3,
        lastSequence: 4,
        itemCount: 2,
      });
      await t.runs.appendItems(inProcess.id, MODULE_ITEMS);

      const expected = await readBack(inProcess.id);
      expect(expected.page.totalCount).toBe(4);
      expect(expected.details[0]).toMatchObject({
        connectedSystemObjectType: 'user',
        outcomeSummary: 'Projected:1,AttributeFlow:1,PendingExportCreated:2',
      });
      expect(await readBack(overJson.id)).toEqual(expected);
      expect(await readBack(overNdjson.id)).toEqual(expected);
      const rows = (await stored(inProcess.id)).items;
      expect((await stored(overJson.id)).items).toEqual(rows);
      expect((await stored(overNdjson.id)).items).toEqual(rows);
      expect((await stored(overJson.id)).activity).toEqual((await stored(inProcess.id)).activity);
    });

    it('200 with an engine API key; the run’s counters follow each batch', async () => {
      const { id } = await startRun();
      await postItems(id).set('X-API-Key', engineKey).send({ items: HTTP_ITEMS }).expect(200);
      const run = await request(t.http).get(`/api/v1/activities/${id}`).set(admin()).expect(200);
      expect(run.body).toMatchObject({ itemCount: 4, itemsWithErrors: 1, status: 'InProgress' });
    });

    describe('Idempotency-Key', () => {
      it('a retry with the same key and body gets the first answer and writes nothing, even after completion', async () => {
        const { id } = await startRun();
        await postJson(id, { items: minimalItems(3) }).expect(200);
        const firstTry = await postJson(id, { items: HTTP_ITEMS })
          .set('Idempotency-Key', 'delta-0001')
          .expect(200);
        expect(firstTry.body).toEqual({ activityId: id, firstSequence: 4, lastSequence: 7, itemCount: 4 });
        await postJson(id, { items: minimalItems(2) })
          .set('Idempotency-Key', 'delta-0002')
          .expect(200);
        const before = await stored(id);
        expect(before.batches).toEqual([
          { batch_id: 'delta-0001', first_sequence: 4, item_count: 4 },
          { batch_id: 'delta-0002', first_sequence: 8, item_count: 2 },
        ]);

        // The same body again, as JSON and as NDJSON (the items are what counts, not their encoding).
        const retry = await postJson(id, { items: HTTP_ITEMS })
          .set('Idempotency-Key', 'delta-0001')
          .expect(200);
        expect(retry.body).toEqual(firstTry.body);
        const asNdjson = await postNdjson(id, ndjson(HTTP_ITEMS))
          .set('Idempotency-Key', 'delta-0001')
          .expect(200);
        expect(asNdjson.body).toEqual(firstTry.body);
        expect(await stored(id)).toEqual(before);

        await request(t.http).post(`/api/v1/activities/${id}/complete`).set(engine()).expect(200);
        const afterEnd = await postJson(id, { items: HTTP_ITEMS })
          .set('Idempotency-Key', 'delta-0001')
          .expect(200);
        expect(afterEnd.body).toEqual(firstTry.body);
        expect((await stored(id)).items).toEqual(before.items);
      });

      it('409 CONFLICT: the same key with another body; nothing written', async () => {
        const { id } = await startRun();
        await postJson(id, { items: HTTP_ITEMS }).set('Idempotency-Key', 'users-0').expect(200);
        const before = await stored(id);
        const res = await postJson(id, { items: HTTP_ITEMS.slice(1) })
          .set('Idempotency-Key', 'users-0')
          .expect(409);
        expect(res.body).toEqual(
          errorBody('CONFLICT', `Batch users-0 was already appended to activity ${id} with different items.`),
        );
        expect(await stored(id)).toEqual(before);
      });

      it('400 VALIDATION_ERROR: a key over 200 characters, named as the header', async () => {
        const { id } = await startRun();
        const res = await postJson(id, { items: HTTP_ITEMS })
          .set('Idempotency-Key', 'k'.repeat(201))
          .expect(400);
        expect(res.body).toEqual(
          errorBody('VALIDATION_ERROR', BATCH_MESSAGE, {
            'Idempotency-Key': ['must be 1 to 200 characters without control characters'],
          }),
        );
        expect((await stored(id)).items).toEqual([]);
      });
    });

    describe('400 VALIDATION_ERROR names items[i].field; nothing of the batch is written', () => {
      let id: string;
      let before: Awaited<ReturnType<typeof stored>>;

      beforeAll(async () => {
        ({ id } = await startRun());
        await postJson(id, { items: HTTP_ITEMS.slice(0, 2) }).expect(200);
        before = await stored(id);
      });

      afterEach(async () => {
        expect(await stored(id)).toEqual(before);
      });

      it('a bad value in item 17 of 20 (JSON)', async () => {
        const items: unknown[] = minimalItems(20);
        items[17] = { objectChangeType: 'Moved', connectedSystemObjectType: 'u'.repeat(257) };
        items[3] = {
          objectChangeType: 'Add',
          outcomes: [{ type: 'Projected', children: [{ type: 'Nope' }] }],
        };
        const res = await postJson(id, { items }).expect(400);
        expect(res.body).toEqual(
          errorBody('VALIDATION_ERROR', BATCH_MESSAGE, {
            'items[3].outcomes[0].children[0].type': [
              expect.stringMatching(/^unknown value "Nope"; accepted: CsoAdded, /),
            ],
            'items[17].objectChangeType': [CHANGE_TYPE_MESSAGE],
            'items[17].connectedSystemObjectType': ['must be at most 256 characters'],
          }),
        );
      });

      it('the same over NDJSON', async () => {
        const items: unknown[] = minimalItems(20);
        items[17] = { objectChangeType: 'Moved' };
        const res = await postNdjson(id, ndjson(items)).expect(400);
        expect(res.body).toEqual(
          errorBody('VALIDATION_ERROR', BATCH_MESSAGE, {
            'items[17].objectChangeType': [CHANGE_TYPE_MESSAGE],
          }),
        );
      });

      it('fields that are not an item’s (the module’s objectType, a server-derived id) and items that are not objects', async () => {
        const items = [
          { objectChangeType: 'Add' },
          { objectChangeType: 'Add', objectType: 'user', id: 'x' },
          'Add',
        ];
        const res = await postJson(id, { items }).expect(400);
        expect(res.body).toEqual(
          errorBody('VALIDATION_ERROR', BATCH_MESSAGE, {
            'items[1].objectType': [UNKNOWN_FIELD],
            'items[1].id': [UNKNOWN_FIELD],
          }),
        );
        const notObject = await postJson(id, { items: [{ objectChangeType: 'Add' }, 'Add'] }).expect(400);
        expect(notObject.body.validationErrors).toEqual({ 'items[1]': ['must be an object'] });
      });

      it('a body that is not valid JSON, or not { items: [...] }', async () => {
        const broken = await postItems(id)
          .set(engine())
          .set('Content-Type', 'application/json')
          .send('{"items": [')
          .expect(400);
        expect(broken.body).toEqual(
          errorBody('VALIDATION_ERROR', 'The batch is not valid JSON; nothing was written.', {
            body: ['is not valid JSON'],
          }),
        );
        const array = await postJson(id, HTTP_ITEMS).expect(400);
        expect(array.body).toEqual(
          errorBody('VALIDATION_ERROR', BATCH_MESSAGE, { body: ['must be an object with an items array'] }),
        );
        const extra = await postJson(id, { items: HTTP_ITEMS, batchId: 'b1' }).expect(400);
        expect(extra.body).toEqual(
          errorBody('VALIDATION_ERROR', BATCH_MESSAGE, { batchId: ['is not a known parameter'] }),
        );
        const empty = await postJson(id, { items: [] }).expect(400);
        expect(empty.body.validationErrors).toEqual({ items: ['must be a non-empty array'] });
        const none = await postJson(id, {}).expect(400);
        expect(none.body.validationErrors).toEqual({ items: ['must be a non-empty array'] });
      });

      it('NDJSON: a line that is not JSON is named; a blank line before the end; an empty body', async () => {
        const text = `${JSON.stringify({ objectChangeType: 'Add' })}\n{"objectChangeType": "Add"\n{}\n`;
        const broken = await postNdjson(id, text).expect(400);
        expect(broken.body).toEqual(
          errorBody('VALIDATION_ERROR', 'The batch is not valid NDJSON; nothing was written.', {
            'items[1]': ['line 2 is not valid JSON'],
          }),
        );
        const gap = await postNdjson(id, ndjson(minimalItems(2)) + '\n' + ndjson(minimalItems(1))).expect(
          400,
        );
        expect(gap.body.validationErrors).toEqual({
          'items[2]': ['line 3 is blank; blank lines may only end the body'],
        });
        const empty = await postNdjson(id, '\n\n').expect(400);
        expect(empty.body.validationErrors).toEqual({ items: ['must be a non-empty array'] });
      });

      it('400 BAD_REQUEST: a Content-Type that is neither, or none', async () => {
        const csv = await postItems(id)
          .set(engine())
          .set('Content-Type', 'text/csv')
          .send('objectChangeType\nAdd\n')
          .expect(400);
        expect(csv.body).toEqual(
          errorBody(
            'BAD_REQUEST',
            'Content-Type must be application/json or application/x-ndjson, not "text/csv".',
          ),
        );
        const none = await postItems(id).set(engine()).expect(400);
        expect(none.body).toEqual(
          errorBody(
            'BAD_REQUEST',
            'Content-Type must be application/json or application/x-ndjson, not absent.',
          ),
        );
      });
    });

    describe('413 PAYLOAD_TOO_LARGE; nothing written', () => {
      let id: string;
      beforeAll(async () => {
        ({ id } = await startRun());
      });
      afterEach(async () => {
        expect((await stored(id)).activity.item_count).toBe(0);
        const [{ count }] = await t.dataSource.query(
          'SELECT count(*)::int AS count FROM execution_items WHERE activity_id = $1',
          [id],
        );
        expect(count).toBe(0);
      });
      const TOO_MANY = errorBody('PAYLOAD_TOO_LARGE', 'A batch holds at most 10,000 items; split it.');
      const TOO_LARGE = errorBody(
        'PAYLOAD_TOO_LARGE',
        `The body is larger than ${BODY_LIMIT} bytes; split the batch.`,
      );

      it('10,001 items, as JSON or NDJSON (10,000 are accepted)', async () => {
        expect((await postJson(id, { items: minimalItems(10_001) }).expect(413)).body).toEqual(TOO_MANY);
        expect((await postNdjson(id, ndjson(minimalItems(10_001))).expect(413)).body).toEqual(TOO_MANY);
        const { id: other } = await startRun();
        const res = await postNdjson(other, ndjson(minimalItems(10_000))).expect(200);
        expect(res.body).toEqual({
          activityId: other,
          firstSequence: 1,
          lastSequence: 10_000,
          itemCount: 10_000,
        });
      });

      it('a body over INGEST_BODY_LIMIT_BYTES, as JSON or NDJSON', async () => {
        const big = { objectChangeType: 'Add', errorMessage: 'x'.repeat(8000) };
        const items = Array.from({ length: 60 }, () => big);
        expect((await postJson(id, { items }).expect(413)).body).toEqual(TOO_LARGE);
        expect((await postNdjson(id, ndjson(items)).expect(413)).body).toEqual(TOO_LARGE);
      });

      it('is refused while the body streams: the answer comes before the body ends, and the connection closes', async () => {
        if (!t.http.listening) await new Promise<void>((resolve) => t.http.listen(0, '127.0.0.1', resolve));
        const { port } = t.http.address() as AddressInfo;
        const outcome = await new Promise<{ status: number; body: unknown; closed: boolean }>(
          (resolve, reject) => {
            const req = httpRequest({
              host: '127.0.0.1',
              port,
              method: 'POST',
              path: `/api/v1/activities/${id}/items`,
              headers: {
                ...engine(),
                'Content-Type': 'application/x-ndjson',
                'Transfer-Encoding': 'chunked',
              },
            });
            req.on('error', reject);
            req.on('response', (res) => {
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => (text += chunk));
              res.on('end', () => {
                req.socket?.once('close', () =>
                  resolve({ status: res.statusCode!, body: JSON.parse(text), closed: true }),
                );
                if (req.socket?.destroyed)
                  resolve({ status: res.statusCode!, body: JSON.parse(text), closed: true });
              });
            });
            // More than the limit, in one write; the request is never ended.
            req.write(
              ndjson(
                Array.from({ length: 60 }, () => ({
                  objectChangeType: 'Add',
                  errorMessage: 'x'.repeat(8000),
                })),
              ),
            );
          },
        );
        expect(outcome).toEqual({ status: 413, body: TOO_LARGE, closed: true });
      });

      it('an error answered after the whole request arrived keeps the connection open', async () => {
        if (!t.http.listening) await new Promise<void>((resolve) => t.http.listen(0, '127.0.0.1', resolve));
        const { port } = t.http.address() as AddressInfo;
        const agent = new Agent({ keepAlive: true });
        const send = (method: string, path: string, body?: string) =>
          new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
            const req = httpRequest({
              host: '127.0.0.1',
              port,
              method,
              path,
              agent,
              headers: { ...engine(), ...(body ? { 'Content-Type': 'application/x-ndjson' } : {}) },
            });
            req.on('error', reject);
            req.on('response', (res) => {
              res.resume();
              res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
            });
            req.end(body);
          });
        try {
          expect(await send('GET', `/api/v1/activities/${id}/items`)).toEqual({
            status: 403,
            connection: 'keep-alive',
          });
          expect(
            await send('POST', `/api/v1/activities/${MISSING_ID}/items`, ndjson(minimalItems(2))),
          ).toEqual({
            status: 404,
            connection: 'keep-alive',
          });
        } finally {
          agent.destroy();
        }
      });
    });

    it('404 NOT_FOUND: no such run; 400: not a GUID, not a run; 409 CONFLICT: the run is complete', async () => {
      expect((await postJson(MISSING_ID, { items: HTTP_ITEMS }).expect(404)).body).toEqual(
        activityNotFoundBody(MISSING_ID),
      );
      expect((await postJson('run-1', { items: HTTP_ITEMS }).expect(400)).body).toEqual(
        errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, { id: [GUID_MESSAGE] }),
      );
      const other = 'c0ffee00-1234-4abc-8def-000000000777';
      await t.dataSource.query(
        `INSERT INTO activities (id, target_type, status) VALUES ($1, 'ConnectedSystem', 'Complete')`,
        [other],
      );
      expect((await postJson(other, { items: HTTP_ITEMS }).expect(400)).body).toEqual(
        notARunProfileBody(other),
      );

      const { id } = await startRun();
      await request(t.http)
        .post(`/api/v1/activities/${id}/complete`)
        .set(engine())
        .send({ status: 'Cancelled' })
        .expect(200);
      const closed = await postJson(id, { items: HTTP_ITEMS }).expect(409);
      expect(closed.body).toEqual(
        errorBody(
          'CONFLICT',
          `Activity with ID ${id} is Cancelled; items can only be added to a run in progress.`,
        ),
      );
      expect((await stored(id)).items).toEqual([]);
    });

    it('401 before anything else; 403 for reading roles, with a token or an API key; nothing written', async () => {
      const { id } = await startRun();
      const anonymous = await postItems(id).set('Content-Type', 'text/csv').send('not even JSON').expect(401);
      expect(anonymous.body).toEqual(errorBody('UNAUTHORISED', UNAUTHORISED_MESSAGE));
      for (const headers of [admin(), reader(), { 'X-API-Key': adminKey }]) {
        const res = await postItems(id).set(headers).send({ items: HTTP_ITEMS }).expect(403);
        expect(res.body).toEqual(errorBody('FORBIDDEN', ENGINE_ONLY));
      }
      expect((await stored(id)).items).toEqual([]);
    });
  });

  describe('POST /api/v1/activities/{id}/complete', () => {
    it('200: without a status, derived from the counters; the activity as answer', async () => {
      const clean = await startRun();
      await postJson(clean.id, { items: HTTP_ITEMS.slice(0, 2) }).expect(200);
      const done = await request(t.http)
        .post(`/api/v1/activities/${clean.id}/complete`)
        .set(engine())
        .expect(200);
      expect(done.body).toEqual({
        id: clean.id,
        created: TIMESTAMP,
        completed: TIMESTAMP,
        status: 'Complete',
        targetType: 'ConnectedSystemRunProfile',
        targetName: 'Delta Import',
        targetContext: 'HR Feed',
        runType: 'DeltaImport',
        itemCount: 2,
        itemsWithErrors: 0,
      });
      const failing = await startRun();
      await postJson(failing.id, { items: HTTP_ITEMS }).expect(200);
      const withErrors = await request(t.http)
        .post(`/api/v1/activities/${failing.id}/complete`)
        .set(engine())
        .send({})
        .expect(200);
      expect(withErrors.body).toMatchObject({
        status: 'CompleteWithError',
        itemCount: 4,
        itemsWithErrors: 1,
      });
    });

    it('200 with a status, by an engine API key; 409 CONFLICT the second time', async () => {
      const { id } = await startRun();
      const res = await request(t.http)
        .post(`/api/v1/activities/${id}/complete`)
        .set('X-API-Key', engineKey)
        .send({ status: 'FailedWithError', message: 'LDAP server unreachable after 3 retries' })
        .expect(200);
      expect(res.body).toMatchObject({ id, status: 'FailedWithError', completed: TIMESTAMP });
      const again = await request(t.http)
        .post(`/api/v1/activities/${id}/complete`)
        .set(engine())
        .send({ status: 'Complete' })
        .expect(409);
      expect(again.body).toEqual(
        errorBody('CONFLICT', `Activity with ID ${id} is FailedWithError, not InProgress.`),
      );
      expect((await stored(id)).activity.status).toBe('FailedWithError');
    });

    it('400 VALIDATION_ERROR: a status that is not final, an unknown field, a bad id; 404; 400 not a run', async () => {
      const { id } = await startRun();
      const complete = (runId: string, body: object = {}) =>
        request(t.http).post(`/api/v1/activities/${runId}/complete`).set(engine()).send(body);
      expect((await complete(id, { status: 'InProgress' }).expect(400)).body).toEqual(
        errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, { status: [STATUS_MESSAGE] }),
      );
      expect((await complete(id, { reason: 'x' }).expect(400)).body.validationErrors).toEqual({
        reason: ['is not a known parameter'],
      });
      expect((await complete(id, { message: 'x'.repeat(4097) }).expect(400)).body.validationErrors).toEqual({
        message: ['must be a string of at most 4096 characters'],
      });
      expect((await complete(id, { message: 42, status: 'Done' }).expect(400)).body.validationErrors).toEqual(
        {
          status: [STATUS_MESSAGE],
          message: ['must be a string of at most 4096 characters'],
        },
      );
      expect((await complete('nope').expect(400)).body.validationErrors).toEqual({ id: [GUID_MESSAGE] });
      expect((await complete(MISSING_ID).expect(404)).body).toEqual(activityNotFoundBody(MISSING_ID));
      const other = 'c0ffee00-1234-4abc-8def-000000000778';
      await t.dataSource.query(
        `INSERT INTO activities (id, target_type, status) VALUES ($1, 'ConnectedSystem', 'InProgress')`,
        [other],
      );
      expect((await complete(other).expect(400)).body).toEqual(notARunProfileBody(other));
      expect((await stored(id)).activity.status).toBe('InProgress');
    });

    it('401; 403 for reading roles; the run stays in progress', async () => {
      const { id } = await startRun();
      expect((await request(t.http).post(`/api/v1/activities/${id}/complete`).expect(401)).body).toEqual(
        errorBody('UNAUTHORISED', UNAUTHORISED_MESSAGE),
      );
      for (const headers of [admin(), reader(), { 'X-API-Key': adminKey }]) {
        const res = await request(t.http).post(`/api/v1/activities/${id}/complete`).set(headers).expect(403);
        expect(res.body).toEqual(errorBody('FORBIDDEN', ENGINE_ONLY));
      }
      expect((await stored(id)).activity.status).toBe('InProgress');
    });
  });

  describe('an engine credential alone cannot read', () => {
    it('403 on the reading routes, with a token or an API key', async () => {
      const { id } = await startRun();
      const paths = [
        '/api/v1/activities',
        `/api/v1/activities/${id}`,
        `/api/v1/activities/${id}/items`,
        `/api/v1/activities/${id}/stats`,
      ];
      for (const path of paths) {
        for (const headers of [engine(), { 'X-API-Key': engineKey }]) {
          const res = await request(t.http).get(path).set(headers);
          expect({ path, status: res.status, body: res.body }).toEqual({
            path,
            status: 403,
            body: errorBody('FORBIDDEN', READERS_ONLY),
          });
        }
      }
      await request(t.http).get(`/api/v1/activities/${id}/items`).set(reader()).expect(200);
      await request(t.http).get(`/api/v1/activities/${id}/items`).set('X-API-Key', adminKey).expect(200);
    });
  });
});
