import type { ActivityStatus, NewExecutionItem, RunType } from '../src/execution-items';
import {
  FORBIDDEN_MESSAGE,
  UNAUTHORISED_MESSAGE,
  VALIDATION_MESSAGE,
  errorBody,
  getAs,
} from './support/item-fixtures';
import { createTestApp, type TestApp } from './support/test-app';
import { token } from './support/tokens';

/** Writing the fixture through the app on a machine shared with other suites can take minutes. */
const SETUP_TIMEOUT_MS = 300_000;
/**
 * GET /api/v1/items (contract §10): one object's items in every run, newest run first, by exact
 * external id or case-insensitive display name, with its filters, paging and failures.
 */

const TIMESTAMP_MESSAGE =
  'must be an ISO 8601 date (2026-11-29) or date-time with an offset (2026-11-29T18:00:00Z, 2026-11-29T19:00:00.5+01:00)';

interface Run {
  id: string;
  created: string;
  system: string;
  profile: string;
  runType: RunType;
  status: ActivityStatus;
  items: NewExecutionItem[];
}

const RUN_A: Run = {
  id: '0b1ec700-0000-4000-8000-00000000000a',
  created: '2026-11-01T08:00:00.000Z',
  system: 'HR Feed',
  profile: 'Full Import',
  runType: 'FullImport',
  status: 'Complete',
  items: [
    { externalIdValue: 'X', displayName: 'Someone Else', objectChangeType: 'Add' },
    { externalIdValue: 'E1', displayName: 'Jane Smith', objectType: 'user', objectChangeType: 'Add' },
  ],
};
const RUN_B: Run = {
  id: '0b1ec700-0000-4000-8000-00000000000b',
  created: '2026-11-02T08:00:00.000Z',
  system: 'Corporate LDAP',
  profile: 'Export',
  runType: 'Export',
  status: 'CompleteWithError',
  items: [
    {
      externalIdValue: 'E1',
      displayName: 'JANE SMITH',
      objectType: 'user',
      objectChangeType: 'Exported',
      errorType: 'ExportNotConfirmed',
      outcomes: [{ type: 'ExportFailed' }],
    },
  ],
};
const RUN_C: Run = {
  id: '0b1ec700-0000-4000-8000-00000000000c',
  created: '2026-11-03T08:00:00.000Z',
  system: 'HR Feed',
  profile: 'Full Synchronisation',
  runType: 'FullSynchronisation',
  status: 'InProgress',
  items: [
    { externalIdValue: 'E2', displayName: 'jane smith', objectType: 'user', objectChangeType: 'Projected' },
    {
      externalIdValue: 'E1',
      displayName: 'Jane Smith',
      objectType: 'user',
      objectChangeType: 'Joined',
      outcomes: [{ type: 'Joined', children: [{ type: 'AttributeFlow', detailCount: 3 }] }],
    },
    {
      externalIdValue: 'e1',
      displayName: 'Jane Smithson',
      objectType: 'user',
      objectChangeType: 'Projected',
    },
    {
      externalIdValue: 'E1',
      displayName: 'Jane Smith',
      objectType: 'user',
      objectChangeType: 'AttributeFlow',
    },
    // The longest identifiers, three bytes a character in UTF-8: their cursor still works.
    { externalIdValue: '€'.repeat(1024), displayName: '漢'.repeat(1024), objectChangeType: 'Add' },
    { externalIdValue: '€'.repeat(1024), displayName: '漢'.repeat(1024), objectChangeType: 'Update' },
  ],
};
const RUN_D: Run = {
  id: '0b1ec700-0000-4000-8000-00000000000d',
  created: '2026-11-04T08:00:00.000Z',
  system: 'HR Feed',
  profile: 'Delta Import',
  runType: 'DeltaImport',
  status: 'Complete',
  items: [{ externalIdValue: 'X', displayName: 'Someone Else', objectChangeType: 'Update' }],
};
const RUNS = [RUN_A, RUN_B, RUN_C, RUN_D];

describe('GET /api/v1/items', () => {
  let t: TestApp;
  const itemIds = new Map<Run, string[]>();

  beforeAll(async () => {
    t = await createTestApp();
    for (const run of RUNS) {
      await t.runs.startRun({
        id: run.id,
        connectedSystemName: run.system,
        runProfileName: run.profile,
        runType: run.runType,
      });
      itemIds.set(run, (await t.runs.appendItems(run.id, run.items)).itemIds);
      if (run.status !== 'InProgress') await t.runs.completeRun(run.id, { status: run.status });
      await t.dataSource.query('UPDATE activities SET created = $2 WHERE id = $1', [run.id, run.created]);
    }
  }, SETUP_TIMEOUT_MS);

  afterAll(() => t?.close());

  const get = (path: string, jwt?: string | null) => getAs(t.http, path, jwt);

  const SUMMARIES: Record<string, string | null> = {
    ExportFailed: 'ExportFailed:1',
    Joined: 'Joined:1,AttributeFlow:1',
  };
  /** The item at `index` of `run` as the route answers it. */
  const item = (run: Run, index: number) => {
    const input = run.items[index];
    return {
      id: itemIds.get(run)![index],
      externalIdValue: input.externalIdValue ?? null,
      displayName: input.displayName ?? null,
      connectedSystemObjectType: input.objectType ?? null,
      objectChangeType: input.objectChangeType,
      errorType: input.errorType ?? null,
      outcomeSummary: input.outcomes ? SUMMARIES[input.outcomes[0].type] : null,
      activity: {
        id: run.id,
        created: run.created,
        status: run.status,
        targetName: run.profile,
        targetContext: run.system,
        runType: run.runType,
      },
    };
  };
  const page = (items: unknown[], pageNumber = 1, pageSize = 25, totalCount = items.length) => {
    const totalPages = Math.ceil(totalCount / pageSize);
    return {
      items,
      totalCount,
      page: pageNumber,
      pageSize,
      totalPages,
      hasNextPage: pageNumber < totalPages,
      hasPreviousPage: pageNumber > 1,
      nextCursor: pageNumber * pageSize < totalCount ? expect.any(String) : null,
    };
  };

  const JANE = () => [item(RUN_C, 1), item(RUN_C, 3), item(RUN_B, 0), item(RUN_A, 1)];

  describe('success', () => {
    it('lists every item of the object by external id, newest run first, in processing order within a run', async () => {
      const res = await get('/api/v1/items?externalIdValue=E1').expect(200);
      expect(res.body).toEqual(page(JANE()));
    });

    it('matches the external id exactly: another case is another object', async () => {
      const res = await get('/api/v1/items?externalIdValue=e1').expect(200);
      expect(res.body).toEqual(page([item(RUN_C, 2)]));
      const none = await get('/api/v1/items?externalIdValue=E').expect(200);
      expect(none.body).toEqual(page([]));
    });

    it('matches the display name exactly but in any case', async () => {
      const expected = [item(RUN_C, 0), item(RUN_C, 1), item(RUN_C, 3), item(RUN_B, 0), item(RUN_A, 1)];
      for (const name of ['jane%20smith', 'JANE%20SMITH', 'Jane%20Smith']) {
        const res = await get(`/api/v1/items?displayName=${name}`).expect(200);
        expect(res.body).toEqual(page(expected));
      }
      const prefix = await get('/api/v1/items?displayName=Jane').expect(200);
      expect(prefix.body).toEqual(page([]));
    });

    it('with both, an item must match both', async () => {
      const res = await get('/api/v1/items?externalIdValue=E2&displayName=JANE%20smith').expect(200);
      expect(res.body).toEqual(page([item(RUN_C, 0)]));
    });

    it.each([
      ['connectedSystemName=HR%20Feed', () => [item(RUN_C, 1), item(RUN_C, 3), item(RUN_A, 1)]],
      ['connectedSystemName=Corporate%20LDAP,Nowhere', () => [item(RUN_B, 0)]],
      ['hasError=true', () => [item(RUN_B, 0)]],
      ['hasError=false', () => [item(RUN_C, 1), item(RUN_C, 3), item(RUN_A, 1)]],
      ['createdFrom=2026-11-02&createdTo=2026-11-03', () => [item(RUN_B, 0)]],
      ['createdFrom=2026-11-02T08:00:00Z', () => [item(RUN_C, 1), item(RUN_C, 3), item(RUN_B, 0)]],
      ['createdFrom=2026-11-02T09:00:00.000001%2B01:00', () => [item(RUN_C, 1), item(RUN_C, 3)]],
      ['createdTo=2026-11-02T08:00:00Z', () => [item(RUN_A, 1)]],
      ['createdTo=2026-11-02T08:00:00.001Z&connectedSystemName=Corporate%20LDAP', () => [item(RUN_B, 0)]],
    ])('filters: externalIdValue=E1&%s', async (query, expected) => {
      const res = await get(`/api/v1/items?externalIdValue=E1&${query}`).expect(200);
      expect(res.body).toEqual(page(expected()));
    });

    it('pages by number and by cursor alike', async () => {
      const all = JANE();
      const first = await get('/api/v1/items?externalIdValue=E1&pageSize=3').expect(200);
      expect(first.body).toEqual(page(all.slice(0, 3), 1, 3, 4));
      const byCursor = await get(`/api/v1/items?cursor=${first.body.nextCursor}`).expect(200);
      expect(byCursor.body).toEqual(page(all.slice(3), 2, 3, 4));
      const byNumber = await get('/api/v1/items?externalIdValue=E1&pageSize=3&page=2').expect(200);
      expect(byNumber.body).toEqual(byCursor.body);
      // Within a run too: the cursor continues after the item's sequence.
      const one = await get('/api/v1/items?externalIdValue=E1&pageSize=1').expect(200);
      const two = await get(
        `/api/v1/items?externalIdValue=E1&pageSize=1&cursor=${one.body.nextCursor}`,
      ).expect(200);
      expect([one.body.items, two.body.items]).toEqual([[all[0]], [all[1]]]);
      const changed = await get(`/api/v1/items?externalIdValue=E2&cursor=${one.body.nextCursor}`).expect(400);
      expect(changed.body).toEqual(
        errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, {
          cursor: [
            'was made for another query (externalIdValue differ); send the cursor alone or with the same parameters',
          ],
        }),
      );
    });

    it('pages by cursor with the longest identifiers in the query (module API: over HTTP the URL would pass the header limit)', async () => {
      const identity = { externalIdValue: '€'.repeat(1024), displayName: '漢'.repeat(1024) };
      const first = await t.service.objectHistory({ ...identity, pageSize: 1 });
      expect(JSON.parse(JSON.stringify(first))).toEqual(page([item(RUN_C, 4)], 1, 1, 2));
      const second = await t.service.objectHistory({ cursor: first.nextCursor! });
      expect(JSON.parse(JSON.stringify(second))).toEqual(page([item(RUN_C, 5)], 2, 1, 2));
      const overHttp = await get(`/api/v1/items?cursor=${first.nextCursor}`).expect(200);
      expect(overHttp.body).toEqual(JSON.parse(JSON.stringify(second)));
    });

    it('is the module API: objectHistory answers what the route does', async () => {
      const res = await get('/api/v1/items?displayName=jane%20smith&hasError=false').expect(200);
      const answer = await t.service.objectHistory({ displayName: 'jane smith', hasError: false });
      expect(JSON.parse(JSON.stringify(answer))).toEqual(res.body);
      const dated = await t.service.objectHistory({
        externalIdValue: 'E1',
        createdFrom: new Date('2026-11-02T08:00:00Z'),
        createdTo: new Date('2026-11-03T08:00:00Z'),
      });
      expect(JSON.parse(JSON.stringify(dated.items))).toEqual([item(RUN_B, 0)]);
      await expect(t.service.objectHistory({})).rejects.toMatchObject({ reason: 'InvalidInput' });
    });
  });

  describe('failures', () => {
    it('401 without a token, before validation', async () => {
      const res = await get('/api/v1/items', null).expect(401);
      expect(res.body).toEqual(errorBody('UNAUTHORISED', UNAUTHORISED_MESSAGE));
    });

    it.each([['SyncEngine'], ['Reader']])('403 for a %s token', async (role) => {
      const res = await get('/api/v1/items?externalIdValue=E1', token({ role })).expect(403);
      expect(res.body).toEqual(errorBody('FORBIDDEN', FORBIDDEN_MESSAGE));
    });

    it.each([
      [
        '',
        {
          externalIdValue: ['is required unless displayName is given'],
          displayName: ['is required unless externalIdValue is given'],
        },
      ],
      [
        'connectedSystemName=HR%20Feed&hasError=true',
        {
          externalIdValue: ['is required unless displayName is given'],
          displayName: ['is required unless externalIdValue is given'],
        },
      ],
      ['externalIdValue=', { externalIdValue: ['must be 1 to 1024 characters without NUL'] }],
      [`displayName=${'x'.repeat(1025)}`, { displayName: ['must be 1 to 1024 characters without NUL'] }],
      ['externalIdValue=E1&externalIdValue=E2', { externalIdValue: ['must appear once'] }],
      ['externalIdValue=E1&hasError=yes', { hasError: ['must be true or false'] }],
      ['externalIdValue=E1&createdFrom=yesterday', { createdFrom: [TIMESTAMP_MESSAGE] }],
      ['externalIdValue=E1&createdTo=2026-02-30', { createdTo: [TIMESTAMP_MESSAGE] }],
      ['externalIdValue=E1&createdTo=2026-11-02T08:00', { createdTo: [TIMESTAMP_MESSAGE] }],
      [
        'externalIdValue=E1&createdFrom=2026-11-02&createdTo=2026-11-02',
        { createdTo: ['must be later than createdFrom'] },
      ],
      ['externalIdValue=E1&cursor=nope', { cursor: ['is not a cursor this API returned'] }],
      ['externalIdValue=E1&page=x', { page: ['must be an integer'] }],
      ['externalId=E1', { externalId: ['is not a known parameter'] }],
    ])('400 VALIDATION_ERROR for ?%s', async (query, validationErrors) => {
      const res = await get(`/api/v1/items?${query}`).expect(400);
      expect(res.body).toEqual(errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, validationErrors));
    });

    it('400 for a cursor of another list', async () => {
      const activities = await get('/api/v1/activities?pageSize=1').expect(200);
      const res = await get(`/api/v1/items?cursor=${activities.body.nextCursor}`).expect(400);
      expect(res.body.validationErrors).toEqual({ cursor: ['is not a cursor this API returned'] });
    });
  });
});
