import request from 'supertest';
import { Activity } from '../src/execution-items';
import type { NewExecutionItem } from '../src/execution-items';
import { createTestApp, type TestApp } from './support/test-app';
import { adminToken, bearer, token, unsignedToken } from './support/tokens';

const MISSING_ID = '0b0c0d0e-0f10-4112-8314-151617181920';
const TIMESTAMP = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

function errorBody(
  code: string,
  message: string | RegExp,
  validationErrors: Record<string, string[]> | null = null,
) {
  return {
    code,
    message: typeof message === 'string' ? message : expect.stringMatching(message),
    details: null,
    validationErrors,
    timestamp: TIMESTAMP,
  };
}

const JANE: NewExecutionItem = {
  objectChangeType: 'Update',
  externalIdValue: 'a4f2e8c1-3b7d-4e9a-b5c6-d8f0e1a2b3c4',
  displayName: 'Jane Smith',
  objectType: 'user',
  outcomes: [
    ...Array.from({ length: 12 }, () => ({ type: 'AttributeFlow' as const })),
    { type: 'PendingExportCreated' as const },
  ],
};
const BARE: NewExecutionItem = { objectChangeType: 'NoChange' };
const FAILED: NewExecutionItem = {
  objectChangeType: 'NoChange',
  externalIdValue: 'E100042',
  displayName: 'Broken Reference',
  objectType: 'group',
  errorType: 'UnresolvedReference',
  errorMessage: 'manager points nowhere',
  outcomes: [
    { type: 'Disconnected', children: [{ type: 'MvoDeleted', children: [{ type: 'DeprovisionQueued' }] }] },
  ],
};

describe('GET /api/v1/activities/{id}/items', () => {
  let t: TestApp;
  let runId: string;
  let itemIds: string[];
  let bigRunId: string;
  let emptyRunId: string;
  const otherActivityId = 'c0ffee00-1234-4abc-8def-000000000001';

  beforeAll(async () => {
    t = await createTestApp();
    const run = await t.runs.startRun({
      connectedSystemName: 'HR',
      runProfileName: 'Full Sync',
      runType: 'FullSynchronisation',
    });
    runId = run.id;
    ({ itemIds } = await t.runs.appendItems(runId, [JANE, BARE, FAILED]));

    const big = await t.runs.startRun({
      connectedSystemName: 'LDAP',
      runProfileName: 'Full Import',
      runType: 'FullImport',
    });
    bigRunId = big.id;
    const bigItems = Array.from({ length: 130 }, (_, index) => ({
      objectChangeType: 'Add' as const,
      displayName: `User ${index + 1}`,
    }));
    await t.runs.appendItems(bigRunId, bigItems);

    emptyRunId = (
      await t.runs.startRun({
        connectedSystemName: 'LDAP',
        runProfileName: 'Delta',
        runType: 'DeltaImport',
      })
    ).id;
    await t.dataSource
      .getRepository(Activity)
      .insert({ id: otherActivityId, targetType: 'ConnectedSystem', status: 'Complete' });
  });

  afterAll(() => t?.close());

  const get = (path: string, jwt: string | null = adminToken()) => {
    const req = request(t.http).get(path);
    return jwt === null ? req : req.set(bearer(jwt));
  };

  describe('success', () => {
    it('returns the page with every documented field, nulls written, in processing order', async () => {
      const res = await get(`/api/v1/activities/${runId}/items`).expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        items: [
          {
            id: itemIds[0],
            externalIdValue: 'a4f2e8c1-3b7d-4e9a-b5c6-d8f0e1a2b3c4',
            displayName: 'Jane Smith',
            connectedSystemObjectType: 'user',
            objectChangeType: 'Update',
            errorType: null,
            outcomeSummary: 'AttributeFlow:12,PendingExportCreated:1',
          },
          {
            id: itemIds[1],
            externalIdValue: null,
            displayName: null,
            connectedSystemObjectType: null,
            objectChangeType: 'NoChange',
            errorType: null,
            outcomeSummary: null,
          },
          {
            id: itemIds[2],
            externalIdValue: 'E100042',
            displayName: 'Broken Reference',
            connectedSystemObjectType: 'group',
            objectChangeType: 'NoChange',
            errorType: 'UnresolvedReference',
            outcomeSummary: 'Disconnected:1,MvoDeleted:1,DeprovisionQueued:1',
          },
        ],
        totalCount: 3,
        page: 1,
        pageSize: 25,
        totalPages: 1,
        hasNextPage: false,
        hasPreviousPage: false,
        nextCursor: null,
      });
    });

    it('accepts the GUID in upper case', async () => {
      const res = await get(`/api/v1/activities/${runId.toUpperCase()}/items`).expect(200);
      expect(res.body.totalCount).toBe(3);
    });

    it.each([
      [
        'page=2&pageSize=50',
        {
          page: 2,
          pageSize: 50,
          totalPages: 3,
          hasNextPage: true,
          hasPreviousPage: true,
          first: 51,
          count: 50,
        },
      ],
      [
        'page=3&pageSize=50',
        {
          page: 3,
          pageSize: 50,
          totalPages: 3,
          hasNextPage: false,
          hasPreviousPage: true,
          first: 101,
          count: 30,
        },
      ],
      [
        'page=0&pageSize=10',
        {
          page: 1,
          pageSize: 10,
          totalPages: 13,
          hasNextPage: true,
          hasPreviousPage: false,
          first: 1,
          count: 10,
        },
      ],
      [
        'page=-1',
        {
          page: 1,
          pageSize: 25,
          totalPages: 6,
          hasNextPage: true,
          hasPreviousPage: false,
          first: 1,
          count: 25,
        },
      ],
      [
        'pageSize=0',
        {
          page: 1,
          pageSize: 25,
          totalPages: 6,
          hasNextPage: true,
          hasPreviousPage: false,
          first: 1,
          count: 25,
        },
      ],
      [
        'pageSize=-5',
        {
          page: 1,
          pageSize: 25,
          totalPages: 6,
          hasNextPage: true,
          hasPreviousPage: false,
          first: 1,
          count: 25,
        },
      ],
      [
        'pageSize=1000',
        {
          page: 1,
          pageSize: 100,
          totalPages: 2,
          hasNextPage: true,
          hasPreviousPage: false,
          first: 1,
          count: 100,
        },
      ],
      [
        'page=2&pageSize=1000',
        {
          page: 2,
          pageSize: 100,
          totalPages: 2,
          hasNextPage: false,
          hasPreviousPage: true,
          first: 101,
          count: 30,
        },
      ],
    ])('clamps and pages: %s', async (query, expected) => {
      const res = await get(`/api/v1/activities/${bigRunId}/items?${query}`).expect(200);
      const { items, nextCursor, ...paging } = res.body;
      expect(paging).toEqual({
        totalCount: 130,
        page: expected.page,
        pageSize: expected.pageSize,
        totalPages: expected.totalPages,
        hasNextPage: expected.hasNextPage,
        hasPreviousPage: expected.hasPreviousPage,
      });
      const names = items.map((item: { displayName: string }) => item.displayName);
      expect(names).toEqual(Array.from({ length: expected.count }, (_, i) => `User ${expected.first + i}`));
      // The cursor continues exactly where the page ends, and there is none after the last item.
      if (!expected.hasNextPage) {
        expect(nextCursor).toBeNull();
        return;
      }
      const next = await get(`/api/v1/activities/${bigRunId}/items?cursor=${nextCursor}`).expect(200);
      expect(next.body).toMatchObject({
        page: expected.page + 1,
        pageSize: expected.pageSize,
        totalCount: 130,
      });
      expect(next.body.items[0].displayName).toBe(`User ${expected.first + expected.count}`);
    });

    it('answers a page past the end with no items and the true total', async () => {
      const res = await get(`/api/v1/activities/${bigRunId}/items?page=99&pageSize=50`).expect(200);
      expect(res.body).toEqual({
        items: [],
        totalCount: 130,
        page: 99,
        pageSize: 50,
        totalPages: 3,
        hasNextPage: false,
        hasPreviousPage: true,
        nextCursor: null,
      });
    });

    it('answers the largest safe page number without overflowing', async () => {
      const res = await get(
        `/api/v1/activities/${bigRunId}/items?page=${Number.MAX_SAFE_INTEGER}&pageSize=100`,
      ).expect(200);
      expect(res.body).toMatchObject({
        items: [],
        totalCount: 130,
        page: Number.MAX_SAFE_INTEGER,
        totalPages: 2,
      });
    });

    it('answers an empty run with zero pages', async () => {
      const res = await get(`/api/v1/activities/${emptyRunId}/items`).expect(200);
      expect(res.body).toEqual({
        items: [],
        totalCount: 0,
        page: 1,
        pageSize: 25,
        totalPages: 0,
        hasNextPage: false,
        hasPreviousPage: false,
        nextCursor: null,
      });
    });
  });

  describe('401 UNAUTHORISED', () => {
    it.each([
      ['no Authorization header', null],
      ['a garbage token', 'abc.def.ghi'],
      ['a token signed with another secret', token({ role: 'Administrator' }).slice(0, -4) + 'AAAA'],
      ['an expired token', token({ role: 'Administrator', exp: Math.floor(Date.now() / 1000) - 120 })],
      ['a token without exp', token({ role: 'Administrator', exp: undefined })],
      ['a token with alg none', unsignedToken({ role: 'Administrator' })],
      ['a token living longer than the maximum', token({ role: 'Administrator' }, { expiresIn: '2d' })],
    ])('with %s', async (_case, jwt) => {
      const res = await get(`/api/v1/activities/${runId}/items`, jwt).expect(401);
      expect(res.body).toEqual(errorBody('UNAUTHORISED', 'A valid bearer token is required.'));
      expect(res.headers['www-authenticate']).toBe('Bearer');
    });

    it('before anything about the activity: a missing activity without a token is 401, not 404', async () => {
      const res = await get(`/api/v1/activities/${MISSING_ID}/items`, null).expect(401);
      expect(res.body.code).toBe('UNAUTHORISED');
    });

    it('before validation: a bad id without a token is 401, not 400', async () => {
      const res = await get('/api/v1/activities/not-a-guid/items?page=abc', null).expect(401);
      expect(res.body.code).toBe('UNAUTHORISED');
    });

    it('for a scheme other than Bearer', async () => {
      await request(t.http)
        .get(`/api/v1/activities/${runId}/items`)
        .set('Authorization', `Basic ${adminToken()}`)
        .expect(401);
    });
  });

  describe('403 FORBIDDEN', () => {
    it.each([
      ['no role claim', {}],
      ['another role', { role: 'Reader' }],
      ['a near miss', { role: 'administrator' }],
      ['the role nested in an array', { role: [['Administrator']] }],
      ['the role in another claim', { roles: ['Administrator'] }],
    ])('with %s', async (_case, claims) => {
      const res = await get(`/api/v1/activities/${runId}/items`, token(claims)).expect(403);
      expect(res.body).toEqual(errorBody('FORBIDDEN', 'This requires the Administrator role.'));
    });

    it('before anything about the activity: a non-administrator asking for a missing one gets 403', async () => {
      const res = await get(`/api/v1/activities/${MISSING_ID}/items`, token({ role: 'Reader' })).expect(403);
      expect(res.body.code).toBe('FORBIDDEN');
    });

    it('accepts the role as one string or among several in an array', async () => {
      await get(`/api/v1/activities/${runId}/items`, token({ role: 'Administrator' })).expect(200);
      await get(`/api/v1/activities/${runId}/items`, token({ role: ['Reader', 'Administrator'] })).expect(
        200,
      );
    });
  });

  describe('400 VALIDATION_ERROR', () => {
    it('names the id when it is not a GUID', async () => {
      const res = await get('/api/v1/activities/not-a-guid/items').expect(400);
      expect(res.body).toEqual(
        errorBody('VALIDATION_ERROR', 'The request is not valid.', {
          id: ['must be a GUID (8-4-4-4-12 hexadecimal digits)'],
        }),
      );
    });

    it.each([`{${MISSING_ID}}`, `${MISSING_ID}0`, 'a'.repeat(1024), '%2e%2e', '%00'])(
      'rejects the id %s',
      async (id) => {
        const res = await get(`/api/v1/activities/${id}/items`).expect(400);
        expect(res.body.validationErrors).toEqual({ id: ['must be a GUID (8-4-4-4-12 hexadecimal digits)'] });
      },
    );

    it.each(['abc', '1.5', '', '1e309', '9007199254740993', '0x10', '+1', '1e1', ' 1', '1 ', '１'])(
      'rejects pageSize=%j, naming the parameter',
      async (value) => {
        const res = await get(
          `/api/v1/activities/${runId}/items?pageSize=${encodeURIComponent(value)}`,
        ).expect(400);
        expect(res.body).toEqual(
          errorBody('VALIDATION_ERROR', 'The request is not valid.', { pageSize: ['must be an integer'] }),
        );
      },
    );

    it('rejects a non-integer page', async () => {
      const res = await get(`/api/v1/activities/${runId}/items?page=abc`).expect(400);
      expect(res.body.validationErrors).toEqual({ page: ['must be an integer'] });
    });

    it.each([
      ['page=1&page=2', { page: ['must be an integer'] }],
      ['page[]=1', { 'page[]': ['is not a known parameter'] }],
      ['page[$gt]=0', { 'page[$gt]': ['is not a known parameter'] }],
      ['sort=name', { sort: ['is not a known parameter'] }],
    ])('rejects %s', async (query, validationErrors) => {
      const res = await get(`/api/v1/activities/${runId}/items?${query}`).expect(400);
      expect(res.body).toEqual(errorBody('VALIDATION_ERROR', 'The request is not valid.', validationErrors));
    });
  });

  it('404 NOT_FOUND for an activity that does not exist', async () => {
    const res = await get(`/api/v1/activities/${MISSING_ID}/items`).expect(404);
    expect(res.body).toEqual(errorBody('NOT_FOUND', `Activity with ID ${MISSING_ID} not found.`));
  });

  it('400 BAD_REQUEST for an activity that is not a run profile', async () => {
    const res = await get(`/api/v1/activities/${otherActivityId}/items`).expect(400);
    expect(res.body).toEqual(
      errorBody(
        'BAD_REQUEST',
        `Activity with ID ${otherActivityId} is a ConnectedSystem activity; only ConnectedSystemRunProfile activities have execution items.`,
      ),
    );
  });

  it('404 in the envelope for unknown routes and versions', async () => {
    for (const path of [
      `/api/v2/activities/${runId}/items`,
      `/activities/${runId}/items`,
      '/api/v1/nothing',
    ]) {
      const res = await get(path).expect(404);
      expect(res.body).toEqual(errorBody('NOT_FOUND', 'No such resource.'));
    }
  });

  it('404 for methods other than GET (and the engines’ POST, engine-writes.e2e-spec.ts)', async () => {
    const server = request(t.http);
    for (const method of ['put', 'patch', 'delete'] as const) {
      const res = await server[method](`/api/v1/activities/${runId}/items`)
        .set(bearer(adminToken()))
        .expect(404);
      expect(res.body.code).toBe('NOT_FOUND');
    }
  });
});
