import request from 'supertest';
import {
  ACTIVITY_STATUSES,
  ACTIVITY_TARGET_TYPES,
  Activity,
  type ActivityStatus,
  type ActivityTargetType,
  type RunType,
} from '../src/execution-items';
import { createTestApp, type TestApp } from './support/test-app';
import { adminToken, bearer, token, unsignedToken } from './support/tokens';

const MISSING_ID = '0b0c0d0e-0f10-4112-8314-151617181920';
const TIMESTAMP = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
const TARGET_TYPE_MESSAGE =
  'must be one of ConnectedSystemRunProfile, ConnectedSystem, SynchronisationRule, MetaverseObject, ' +
  'ServiceSetting, HistoryRetentionCleanup, Schedule, ApiKey, Role, DataGeneration';
const STATUS_MESSAGE =
  'must be one of InProgress, Complete, CompleteWithWarning, CompleteWithError, FailedWithError, Cancelled';
const GUID_MESSAGE = 'must be a GUID (8-4-4-4-12 hexadecimal digits)';

function errorBody(code: string, message: string, validationErrors: Record<string, string[]> | null = null) {
  return { code, message, details: null, validationErrors, timestamp: TIMESTAMP };
}

/** One activity as the API must answer it. */
interface ExpectedActivity {
  id: string;
  created: string;
  completed: string | null;
  status: ActivityStatus;
  targetType: ActivityTargetType;
  targetName: string | null;
  targetContext: string | null;
  runType: RunType | null;
  itemCount: number;
  itemsWithErrors: number;
}

const id = (n: number) => `a0000000-0000-4000-8000-0000000000${n.toString(16).padStart(2, '0')}`;

// Run-profile activities, written through the service's write path.
const RUN_SYNC: ExpectedActivity = {
  id: id(1),
  created: '2021-03-10T09:00:00.000Z',
  completed: '2021-03-10T09:45:00.000Z',
  status: 'Complete',
  targetType: 'ConnectedSystemRunProfile',
  targetName: 'Full Sync',
  targetContext: 'HR',
  runType: 'FullSynchronisation',
  itemCount: 3,
  itemsWithErrors: 1,
};
const RUN_IMPORT: ExpectedActivity = {
  id: id(3),
  created: '2021-03-08T17:30:15.250Z',
  completed: null,
  status: 'InProgress',
  targetType: 'ConnectedSystemRunProfile',
  targetName: 'Delta Import',
  targetContext: 'LDAP',
  runType: 'DeltaImport',
  itemCount: 2,
  itemsWithErrors: 0,
};
const RUN_EXPORT: ExpectedActivity = {
  id: id(5),
  created: '2021-03-06T09:00:00.000Z',
  completed: '2021-03-06T09:00:30.000Z',
  status: 'FailedWithError',
  targetType: 'ConnectedSystemRunProfile',
  targetName: 'Export',
  targetContext: 'SCIM App',
  runType: 'Export',
  itemCount: 0,
  itemsWithErrors: 0,
};
const RUN_CANCELLED: ExpectedActivity = {
  id: id(10),
  created: '2021-03-02T09:00:00.000Z',
  completed: '2021-03-02T10:15:00.000Z',
  status: 'Cancelled',
  targetType: 'ConnectedSystemRunProfile',
  targetName: 'Full Import',
  targetContext: 'LDAP',
  runType: 'FullImport',
  itemCount: 1,
  itemsWithErrors: 0,
};

// Other activities, inserted directly.
const other = (
  n: number,
  created: string,
  targetType: ActivityTargetType,
  status: ActivityStatus,
  targetName: string | null = null,
  targetContext: string | null = null,
): ExpectedActivity => ({
  id: id(n),
  created,
  completed: null,
  status,
  targetType,
  targetName,
  targetContext,
  runType: null,
  itemCount: 0,
  itemsWithErrors: 0,
});
const SYSTEM = other(2, '2021-03-09T09:00:00.000Z', 'ConnectedSystem', 'Complete', 'HR');
const RULE = other(
  4,
  '2021-03-07T09:00:00.000Z',
  'SynchronisationRule',
  'CompleteWithError',
  'Users in',
  'HR',
);
const SCHEDULE = other(6, '2021-03-05T09:00:00.000Z', 'Schedule', 'Complete', 'Nightly');
const SETTING = other(7, '2021-03-04T09:00:00.000Z', 'ServiceSetting', 'Cancelled');
// Two activities created in the same millisecond: the higher id comes first.
const ROLE = other(8, '2021-03-03T12:00:00.000Z', 'Role', 'Complete', 'Auditors');
const API_KEY = other(9, '2021-03-03T12:00:00.000Z', 'ApiKey', 'CompleteWithWarning');
const CLEANUP = other(11, '2021-03-01T00:00:00.000Z', 'HistoryRetentionCleanup', 'Complete');
const MVO = other(12, '2021-02-28T23:59:59.999Z', 'MetaverseObject', 'InProgress', 'Jane Smith');

/** Every activity, newest first. */
const ALL = [
  RUN_SYNC,
  SYSTEM,
  RUN_IMPORT,
  RULE,
  RUN_EXPORT,
  SCHEDULE,
  SETTING,
  API_KEY,
  ROLE,
  RUN_CANCELLED,
  CLEANUP,
  MVO,
];

describe('GET /api/v1/activities and GET /api/v1/activities/{id}', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
    const repository = t.dataSource.getRepository(Activity);
    // Inserted out of order, so the answer's order cannot come from insertion order.
    for (const activity of [MVO, ROLE, SYSTEM, CLEANUP, API_KEY, SCHEDULE, RULE, SETTING]) {
      await repository.insert({ ...activity, created: new Date(activity.created) });
    }
    for (const run of [RUN_CANCELLED, RUN_SYNC, RUN_EXPORT, RUN_IMPORT]) {
      await t.runs.startRun({
        id: run.id,
        connectedSystemName: run.targetContext!,
        runProfileName: run.targetName!,
        runType: run.runType!,
      });
      if (run.itemCount > 0) {
        const items = Array.from({ length: run.itemCount }, (_, i) => ({
          objectChangeType: 'Add' as const,
          displayName: `User ${i + 1}`,
          errorType: i < run.itemsWithErrors ? ('DuplicateObject' as const) : null,
        }));
        await t.runs.appendItems(run.id, items);
      }
      if (run.status !== 'InProgress') await t.runs.completeRun(run.id, { status: run.status });
      await t.dataSource.query('UPDATE activities SET created = $2, completed = $3 WHERE id = $1', [
        run.id,
        run.created,
        run.completed,
      ]);
    }
  });

  afterAll(() => t?.close());

  const get = (path: string, jwt: string | null = adminToken()) => {
    const req = request(t.http).get(path);
    return jwt === null ? req : req.set(bearer(jwt));
  };
  const ids = (body: { items: Array<{ id: string }> }) => body.items.map((item) => item.id);

  describe('GET /api/v1/activities', () => {
    describe('success', () => {
      it('lists every activity newest first with exact bodies and the default page', async () => {
        const res = await get('/api/v1/activities').expect(200);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.body).toEqual({
          items: ALL,
          totalCount: 12,
          page: 1,
          pageSize: 25,
          totalPages: 1,
          hasNextPage: false,
          hasPreviousPage: false,
          nextCursor: null,
        });
      });

      it('breaks a tie on created by id, highest first', async () => {
        const res = await get('/api/v1/activities?pageSize=3&page=3').expect(200);
        expect(ids(res.body)).toEqual([SETTING.id, API_KEY.id, ROLE.id]);
      });

      it.each([
        ['page=1&pageSize=5', 1, 5, 3, true, false, ALL.slice(0, 5)],
        ['page=2&pageSize=5', 2, 5, 3, true, true, ALL.slice(5, 10)],
        ['page=3&pageSize=5', 3, 5, 3, false, true, ALL.slice(10)],
        ['page=4&pageSize=5', 4, 5, 3, false, true, []],
        ['page=0&pageSize=5', 1, 5, 3, true, false, ALL.slice(0, 5)],
        ['page=-7&pageSize=5', 1, 5, 3, true, false, ALL.slice(0, 5)],
        ['pageSize=0', 1, 25, 1, false, false, ALL],
        ['pageSize=-1', 1, 25, 1, false, false, ALL],
        ['pageSize=1000', 1, 100, 1, false, false, ALL],
        ['page=2&pageSize=1000', 2, 100, 1, false, true, []],
        ['pageSize=11', 1, 11, 2, true, false, ALL.slice(0, 11)],
        ['pageSize=12', 1, 12, 1, false, false, ALL],
        ['page=12&pageSize=1', 12, 1, 12, false, true, [MVO]],
      ])(
        'pages and clamps: %s',
        async (query, page, pageSize, totalPages, hasNextPage, hasPreviousPage, items) => {
          const res = await get(`/api/v1/activities?${query}`).expect(200);
          expect(res.body).toEqual({
            items,
            totalCount: 12,
            page,
            pageSize,
            totalPages,
            hasNextPage,
            hasPreviousPage,
            nextCursor: hasNextPage ? expect.any(String) : null,
          });
        },
      );

      it('answers the largest safe page number with no items and the true total', async () => {
        const res = await get(`/api/v1/activities?page=${Number.MAX_SAFE_INTEGER}&pageSize=100`).expect(200);
        expect(res.body).toEqual({
          items: [],
          totalCount: 12,
          page: Number.MAX_SAFE_INTEGER,
          pageSize: 100,
          totalPages: 1,
          hasNextPage: false,
          hasPreviousPage: true,
          nextCursor: null,
        });
      });

      it('walks every page once: no activity twice, none skipped', async () => {
        const seen: string[] = [];
        for (let page = 1; ; page++) {
          const res = await get(`/api/v1/activities?page=${page}&pageSize=5`).expect(200);
          seen.push(...ids(res.body));
          if (!res.body.hasNextPage) break;
        }
        expect(seen).toEqual(ALL.map((activity) => activity.id));
      });

      it.each([
        ['targetType=ConnectedSystemRunProfile', [RUN_SYNC, RUN_IMPORT, RUN_EXPORT, RUN_CANCELLED]],
        ['status=Complete', [RUN_SYNC, SYSTEM, SCHEDULE, ROLE, CLEANUP]],
        ['status=InProgress', [RUN_IMPORT, MVO]],
        ['targetType=ConnectedSystem', [SYSTEM]],
        // OR within a parameter: a comma-separated list, or the parameter repeated.
        ['status=Complete,Cancelled', [RUN_SYNC, SYSTEM, SCHEDULE, SETTING, ROLE, RUN_CANCELLED, CLEANUP]],
        [
          'status=Complete&status=Cancelled',
          [RUN_SYNC, SYSTEM, SCHEDULE, SETTING, ROLE, RUN_CANCELLED, CLEANUP],
        ],
        [
          'status=Complete,CompleteWithWarning&status=Cancelled',
          [RUN_SYNC, SYSTEM, SCHEDULE, SETTING, API_KEY, ROLE, RUN_CANCELLED, CLEANUP],
        ],
        ['targetType=Schedule,Role,ApiKey', [SCHEDULE, API_KEY, ROLE]],
        // AND across parameters.
        ['targetType=ConnectedSystemRunProfile&status=Complete', [RUN_SYNC]],
        ['targetType=ConnectedSystemRunProfile&status=InProgress,FailedWithError', [RUN_IMPORT, RUN_EXPORT]],
        ['status=Complete&targetType=ConnectedSystem&targetType=Schedule', [SYSTEM, SCHEDULE]],
        ['targetType=ServiceSetting&status=Complete', []],
        // Every value of a kind at once matches everything.
        [`status=${ACTIVITY_STATUSES.join(',')}`, ALL],
        [`targetType=${ACTIVITY_TARGET_TYPES.join(',')}`, ALL],
      ])('filters: %s', async (query, expected) => {
        const res = await get(`/api/v1/activities?${query}`).expect(200);
        expect(res.body).toEqual({
          items: expected,
          totalCount: expected.length,
          page: 1,
          pageSize: 25,
          totalPages: expected.length === 0 ? 0 : 1,
          hasNextPage: false,
          hasPreviousPage: false,
          nextCursor: null,
        });
      });

      it('answers a filter that matches nothing with zero pages', async () => {
        const res = await get('/api/v1/activities?targetType=DataGeneration&page=2').expect(200);
        expect(res.body).toEqual({
          items: [],
          totalCount: 0,
          page: 2,
          pageSize: 25,
          totalPages: 0,
          hasNextPage: false,
          hasPreviousPage: true,
          nextCursor: null,
        });
      });

      it('pages within a filter, counting only the matches', async () => {
        const res = await get(
          '/api/v1/activities?targetType=ConnectedSystemRunProfile&status=Complete,Cancelled,FailedWithError&pageSize=2&page=2',
        ).expect(200);
        expect(res.body).toEqual({
          items: [RUN_CANCELLED],
          totalCount: 3,
          page: 2,
          pageSize: 2,
          totalPages: 2,
          hasNextPage: false,
          hasPreviousPage: true,
          nextCursor: null,
        });
      });

      it('shows a run appended to and completed after the list was first read', async () => {
        const run = await t.runs.startRun({
          connectedSystemName: 'HR',
          runProfileName: 'Delta Sync',
          runType: 'DeltaSynchronisation',
        });
        try {
          await t.runs.appendItems(run.id, [
            { objectChangeType: 'Joined' },
            { objectChangeType: 'Projected' },
          ]);
          const completed = await t.runs.completeRun(run.id, { status: 'CompleteWithWarning' });
          const res = await get('/api/v1/activities?pageSize=2').expect(200);
          expect(res.body.totalCount).toBe(13);
          expect(res.body.items).toEqual([
            {
              id: run.id,
              created: run.created,
              completed: completed.completed,
              status: 'CompleteWithWarning',
              targetType: 'ConnectedSystemRunProfile',
              targetName: 'Delta Sync',
              targetContext: 'HR',
              runType: 'DeltaSynchronisation',
              itemCount: 2,
              itemsWithErrors: 0,
            },
            RUN_SYNC,
          ]);
        } finally {
          await t.dataSource.query('DELETE FROM activities WHERE id = $1', [run.id]);
        }
      });

      describe('with more activities than the largest page', () => {
        const extraIds = Array.from(
          { length: 100 },
          (_, i) => `b0000000-0000-4000-8000-${i.toString().padStart(12, '0')}`,
        );

        beforeAll(async () => {
          await t.dataSource.getRepository(Activity).insert(
            extraIds.map((extraId, i) => ({
              id: extraId,
              created: new Date(Date.UTC(2020, 0, 1) + i * 1000),
              targetType: 'DataGeneration' as const,
              status: 'Complete' as const,
            })),
          );
        });

        afterAll(async () => {
          await t.dataSource.query(`DELETE FROM activities WHERE target_type = 'DataGeneration'`);
        });

        it('clamps pageSize to 100 and reaches the rest on page 2', async () => {
          const first = await get('/api/v1/activities?pageSize=101').expect(200);
          expect(first.body).toMatchObject({
            totalCount: 112,
            page: 1,
            pageSize: 100,
            totalPages: 2,
            hasNextPage: true,
            hasPreviousPage: false,
          });
          expect(ids(first.body)).toEqual([
            ...ALL.map((activity) => activity.id),
            ...extraIds.slice(12).reverse(),
          ]);
          const second = await get('/api/v1/activities?pageSize=500&page=2').expect(200);
          expect(second.body).toMatchObject({
            totalCount: 112,
            page: 2,
            pageSize: 100,
            totalPages: 2,
            hasNextPage: false,
            hasPreviousPage: true,
          });
          expect(ids(second.body)).toEqual(extraIds.slice(0, 12).reverse());
        });

        it('combines the filters with the clamped page', async () => {
          const res = await get(
            '/api/v1/activities?targetType=DataGeneration&status=Complete&pageSize=1000',
          ).expect(200);
          expect(res.body).toMatchObject({
            totalCount: 100,
            pageSize: 100,
            totalPages: 1,
            hasNextPage: false,
          });
          expect(ids(res.body)).toEqual([...extraIds].reverse());
        });
      });
    });

    describe('401 UNAUTHORISED', () => {
      it.each([
        ['no Authorization header', null],
        ['a garbage token', 'abc.def.ghi'],
        ['a token signed with another secret', token({ role: 'Administrator' }).slice(0, -4) + 'AAAA'],
        ['an expired token', token({ role: 'Administrator', exp: Math.floor(Date.now() / 1000) - 120 })],
        ['a token with alg none', unsignedToken({ role: 'Administrator' })],
      ])('with %s', async (_case, jwt) => {
        const res = await get('/api/v1/activities', jwt).expect(401);
        expect(res.body).toEqual(errorBody('UNAUTHORISED', 'A valid bearer token is required.'));
        expect(res.headers['www-authenticate']).toBe('Bearer');
      });

      it('before validation: a bad filter without a token is 401, not 400', async () => {
        const res = await get('/api/v1/activities?status=Nope&page=abc', null).expect(401);
        expect(res.body).toEqual(errorBody('UNAUTHORISED', 'A valid bearer token is required.'));
        expect(res.headers['www-authenticate']).toBe('Bearer');
      });
    });

    describe('403 FORBIDDEN', () => {
      it.each([
        ['no role claim', {}],
        ['another role', { role: 'Reader' }],
        ['a near miss', { role: 'administrator' }],
      ])('with %s', async (_case, claims) => {
        const res = await get('/api/v1/activities', token(claims)).expect(403);
        expect(res.body).toEqual(errorBody('FORBIDDEN', 'This requires the Administrator role.'));
      });

      it('before validation: a bad filter from a non-administrator is 403, not 400', async () => {
        const res = await get('/api/v1/activities?status=Nope', token({ role: 'Reader' })).expect(403);
        expect(res.body).toEqual(errorBody('FORBIDDEN', 'This requires the Administrator role.'));
      });

      it('accepts the role among several in an array', async () => {
        const res = await get(
          '/api/v1/activities?pageSize=1',
          token({ role: ['Reader', 'Administrator'] }),
        ).expect(200);
        expect(res.body.totalCount).toBe(12);
      });
    });

    describe('400 VALIDATION_ERROR', () => {
      it.each([
        ['page=abc', { page: ['must be an integer'] }],
        ['page=1.5', { page: ['must be an integer'] }],
        ['page=', { page: ['must be an integer'] }],
        ['page=1&page=2', { page: ['must be an integer'] }],
        ['pageSize=1e1', { pageSize: ['must be an integer'] }],
        ['pageSize=9007199254740993', { pageSize: ['must be an integer'] }],
        ['page=x&pageSize=y', { page: ['must be an integer'], pageSize: ['must be an integer'] }],
        ['targetType=Nope', { targetType: [TARGET_TYPE_MESSAGE] }],
        ['targetType=connectedsystem', { targetType: [TARGET_TYPE_MESSAGE] }],
        ['targetType=ConnectedSystem,Nope', { targetType: [TARGET_TYPE_MESSAGE] }],
        ['targetType=ConnectedSystem&targetType=Nope', { targetType: [TARGET_TYPE_MESSAGE] }],
        ['targetType=', { targetType: [TARGET_TYPE_MESSAGE] }],
        ['status=Done', { status: [STATUS_MESSAGE] }],
        ['status=Complete,', { status: [STATUS_MESSAGE] }],
        ['status=Complete,%20Cancelled', { status: [STATUS_MESSAGE] }],
        ['targetType=Nope&status=Done', { targetType: [TARGET_TYPE_MESSAGE], status: [STATUS_MESSAGE] }],
        ['sort=created', { sort: ['is not a known parameter'] }],
        ['targetType[]=Role', { 'targetType[]': ['is not a known parameter'] }],
        ['type=Role', { type: ['is not a known parameter'] }],
      ])('rejects %s, naming the parameter', async (query, validationErrors) => {
        const res = await get(`/api/v1/activities?${query}`).expect(400);
        expect(res.body).toEqual(
          errorBody('VALIDATION_ERROR', 'The request is not valid.', validationErrors),
        );
      });
    });
  });

  describe('GET /api/v1/activities/{id}', () => {
    describe('success', () => {
      it.each([
        ['a completed run', RUN_SYNC],
        ['a run in progress', RUN_IMPORT],
        ['a run without items', RUN_EXPORT],
        ['an activity that is not a run, with nulls present', MVO],
        ['an activity with only a target name', SYSTEM],
      ])('answers %s with the exact body', async (_case, expected) => {
        const res = await get(`/api/v1/activities/${expected.id}`).expect(200);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.body).toEqual(expected);
      });

      it('accepts the GUID in upper case and answers the id in lower case', async () => {
        const res = await get(`/api/v1/activities/${RULE.id.toUpperCase()}`).expect(200);
        expect(res.body).toEqual(RULE);
      });

      it('shows the item and error counts, status and completion time as the run goes on', async () => {
        const run = await t.runs.startRun({
          connectedSystemName: 'SCIM App',
          runProfileName: 'Delta Import',
          runType: 'DeltaImport',
        });
        try {
          const expected = {
            id: run.id,
            created: run.created,
            completed: null,
            status: 'InProgress',
            targetType: 'ConnectedSystemRunProfile',
            targetName: 'Delta Import',
            targetContext: 'SCIM App',
            runType: 'DeltaImport',
            itemCount: 0,
            itemsWithErrors: 0,
          };
          expect((await get(`/api/v1/activities/${run.id}`).expect(200)).body).toEqual(expected);
          await t.runs.appendItems(run.id, [
            { objectChangeType: 'Update' },
            { objectChangeType: 'Delete', errorType: 'UnresolvedReference' },
          ]);
          await t.runs.appendItems(run.id, [{ objectChangeType: 'Add' }]);
          expect((await get(`/api/v1/activities/${run.id}`).expect(200)).body).toEqual({
            ...expected,
            itemCount: 3,
            itemsWithErrors: 1,
          });
          const before = Date.now();
          await t.runs.completeRun(run.id);
          const after = await get(`/api/v1/activities/${run.id}`).expect(200);
          expect(after.body).toEqual({
            ...expected,
            completed: expect.any(String),
            status: 'CompleteWithError',
            itemCount: 3,
            itemsWithErrors: 1,
          });
          // Server time, a second either way for the clocks of the test and the database.
          expect(Math.abs(Date.parse(after.body.completed) - before)).toBeLessThan(1000);
        } finally {
          await t.dataSource.query('DELETE FROM activities WHERE id = $1', [run.id]);
        }
      });
    });

    describe('401 UNAUTHORISED', () => {
      it.each([
        ['no Authorization header', null],
        ['a garbage token', 'abc.def.ghi'],
        ['a token signed with another secret', token({ role: 'Administrator' }).slice(0, -4) + 'AAAA'],
        ['an expired token', token({ role: 'Administrator', exp: Math.floor(Date.now() / 1000) - 120 })],
      ])('with %s', async (_case, jwt) => {
        const res = await get(`/api/v1/activities/${RUN_SYNC.id}`, jwt).expect(401);
        expect(res.body).toEqual(errorBody('UNAUTHORISED', 'A valid bearer token is required.'));
        expect(res.headers['www-authenticate']).toBe('Bearer');
      });

      it('before anything about the activity: a missing activity without a token is 401, not 404', async () => {
        const res = await get(`/api/v1/activities/${MISSING_ID}`, null).expect(401);
        expect(res.body).toEqual(errorBody('UNAUTHORISED', 'A valid bearer token is required.'));
      });

      it('before validation: a bad id without a token is 401, not 400', async () => {
        const res = await get('/api/v1/activities/not-a-guid', null).expect(401);
        expect(res.body.code).toBe('UNAUTHORISED');
      });
    });

    describe('403 FORBIDDEN', () => {
      it('without the Administrator role', async () => {
        const res = await get(`/api/v1/activities/${RUN_SYNC.id}`, token({ role: 'Reader' })).expect(403);
        expect(res.body).toEqual(errorBody('FORBIDDEN', 'This requires the Administrator role.'));
      });

      it('before anything about the activity: a non-administrator asking for a missing one gets 403', async () => {
        const res = await get(`/api/v1/activities/${MISSING_ID}`, token({})).expect(403);
        expect(res.body).toEqual(errorBody('FORBIDDEN', 'This requires the Administrator role.'));
      });

      it('before validation: a non-administrator with a bad id gets 403', async () => {
        const res = await get('/api/v1/activities/not-a-guid', token({ role: 'Reader' })).expect(403);
        expect(res.body.code).toBe('FORBIDDEN');
      });
    });

    describe('400 VALIDATION_ERROR', () => {
      it.each([
        'not-a-guid',
        `{${MISSING_ID}}`,
        `${MISSING_ID}0`,
        MISSING_ID.replace(/-/g, ''),
        '%00',
        'a'.repeat(1024),
      ])('rejects the id %s', async (badId) => {
        const res = await get(`/api/v1/activities/${badId}`).expect(400);
        expect(res.body).toEqual(
          errorBody('VALIDATION_ERROR', 'The request is not valid.', { id: [GUID_MESSAGE] }),
        );
      });

      it.each([
        ['page=1', { page: ['is not a known parameter'] }],
        ['status=Complete', { status: ['is not a known parameter'] }],
        ['fields=id', { fields: ['is not a known parameter'] }],
      ])('rejects the unknown query parameter in %s', async (query, validationErrors) => {
        const res = await get(`/api/v1/activities/${RUN_SYNC.id}?${query}`).expect(400);
        expect(res.body).toEqual(
          errorBody('VALIDATION_ERROR', 'The request is not valid.', validationErrors),
        );
      });
    });

    it('404 NOT_FOUND for an activity that does not exist', async () => {
      const res = await get(`/api/v1/activities/${MISSING_ID}`).expect(404);
      expect(res.body).toEqual(errorBody('NOT_FOUND', `Activity with ID ${MISSING_ID} not found.`));
    });

    it('404 NOT_FOUND after the activity is deleted', async () => {
      const gone = other(99, '2026-01-01T00:00:00.000Z', 'Schedule', 'Complete');
      await t.dataSource.getRepository(Activity).insert({ ...gone, created: new Date(gone.created) });
      await get(`/api/v1/activities/${gone.id}`).expect(200);
      await t.dataSource.query('DELETE FROM activities WHERE id = $1', [gone.id]);
      const res = await get(`/api/v1/activities/${gone.id}`).expect(404);
      expect(res.body).toEqual(errorBody('NOT_FOUND', `Activity with ID ${gone.id} not found.`));
    });
  });
});
