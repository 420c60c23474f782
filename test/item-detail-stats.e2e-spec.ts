import { Activity, type NewExecutionItem, type OutcomeInput } from '../src/execution-items';
import { seededRandom, syntheticItem } from '../src/demo/synthetic-items';
import {
  FORBIDDEN_MESSAGE,
  GUID_MESSAGE,
  MISSING_ID,
  UNAUTHORISED_MESSAGE,
  VALIDATION_MESSAGE,
  activityNotFoundBody,
  appendInBatches,
  errorBody,
  expectedStats,
  getAs,
  notARunProfileBody,
  outcomeSummaryOf,
  queryString,
  type ItemQuery,
  type WrittenItem,
} from './support/item-fixtures';
import { createTestApp, type TestApp } from './support/test-app';
import { token, unsignedToken } from './support/tokens';

// A tree with every node field, in several shapes: nested children, explicit nulls and `[]`,
// falsy values (0 and ''), a field the engine sent that is not part of a node, non-ASCII text.
const DETAILED: NewExecutionItem = {
  objectChangeType: 'Projected',
  externalIdValue: 'c9d8e7f6-a5b4-4c3d-9e2f-1a0b9c8d7e6f',
  displayName: 'John Doe',
  objectType: 'user',
  outcomes: [
    {
      type: 'Projected',
      detailMessage: 'projected to a new person',
      children: [
        { type: 'AttributeFlow', detailCount: 14 },
        {
          type: 'PendingExportCreated',
          targetId: 'cs-ldap',
          targetDescription: 'LDAP Directory',
          children: [],
        },
        {
          type: 'PendingExportCreated',
          detailCount: 0,
          detailMessage: '',
          targetId: 'cs-scim',
          targetDescription: 'SCIM "App", EU',
        },
      ],
    },
    {
      type: 'Disconnected',
      detailCount: null,
      detailMessage: null,
      children: [
        {
          type: 'MvoDeleted',
          children: [{ type: 'DeprovisionQueued', detailMessage: 'in die Warteschlange ⏳ für Löschung' }],
        },
      ],
    },
    { type: 'CsoAdded', unexpected: 'dropped' } as OutcomeInput,
  ],
};
const BARE: NewExecutionItem = { objectChangeType: 'NoChange' };
const FAILED: NewExecutionItem = {
  objectChangeType: 'NoChange',
  externalIdValue: 'E100042',
  displayName: 'Broken Reference',
  objectType: 'group',
  errorType: 'UnresolvedReference',
  errorMessage: 'member "uid=missing" points nowhere',
  errorStackTrace: 'at resolve (sync.ts:10)\n   at run (sync.ts:99)',
};

const node = (fields: Partial<Record<string, unknown>> & { type: string }) => ({
  detailCount: null,
  detailMessage: null,
  targetId: null,
  targetDescription: null,
  children: [],
  ...fields,
});

// Stats of the hand-made run below, written out by hand: keys in the README's order (vocabularies
// in the contract's order, object types by name), only non-zero counts.
const STATS_ITEMS: NewExecutionItem[][] = [
  [
    {
      objectChangeType: 'Projected',
      objectType: 'user',
      outcomes: [
        {
          type: 'Projected',
          children: [
            { type: 'AttributeFlow' },
            { type: 'PendingExportCreated' },
            { type: 'PendingExportCreated' },
          ],
        },
      ],
    },
    { objectChangeType: 'NoChange', objectType: 'group', errorType: 'UnhandledError' },
    { objectChangeType: 'Add', objectType: 'ou', outcomes: [{ type: 'CsoAdded' }] },
  ],
  [
    {
      objectChangeType: 'Disconnected',
      objectType: 'user',
      outcomes: [
        {
          type: 'Disconnected',
          children: [{ type: 'MvoDeleted', children: [{ type: 'DeprovisionQueued' }] }],
        },
      ],
    },
    { objectChangeType: 'NoChange', errorType: 'AmbiguousMatch' },
    {
      objectChangeType: 'Update',
      objectType: 'computer',
      outcomes: [{ type: 'AttributeFlow' }, { type: 'AttributeFlow' }, { type: 'CsoUpdated' }],
    },
  ],
  [
    { objectChangeType: 'NoChange', objectType: 'contact', errorType: 'AmbiguousMatch' },
    {
      objectChangeType: 'Add',
      objectType: 'user',
      errorType: 'ConnectorConfigurationError',
      outcomes: [{ type: 'CsoAdded' }],
    },
  ],
];

describe('GET /api/v1/activities/{id}/items/{itemId} and GET /api/v1/activities/{id}/stats', () => {
  let t: TestApp;
  let runId: string;
  let written: WrittenItem[];
  let otherRunId: string;
  let otherItemId: string;
  let statsRunId: string;
  let syntheticRunId: string;
  let syntheticInputs: NewExecutionItem[];
  let emptyRunId: string;
  const nonRunId = 'c0ffee00-1234-4abc-8def-0000000057a7';

  beforeAll(async () => {
    t = await createTestApp();
    runId = (
      await t.runs.startRun({
        connectedSystemName: 'HR',
        runProfileName: 'Full Sync',
        runType: 'FullSynchronisation',
      })
    ).id;
    written = await appendInBatches(t.runs, runId, [
      { objectChangeType: 'Add', displayName: 'First' },
      DETAILED,
      BARE,
      FAILED,
    ]);

    otherRunId = (
      await t.runs.startRun({
        connectedSystemName: 'LDAP',
        runProfileName: 'Import',
        runType: 'FullImport',
      })
    ).id;
    ({
      itemIds: [otherItemId],
    } = await t.runs.appendItems(otherRunId, [{ objectChangeType: 'Add', displayName: 'Elsewhere' }]));

    statsRunId = (
      await t.runs.startRun({
        connectedSystemName: 'HR',
        runProfileName: 'Stats',
        runType: 'FullSynchronisation',
      })
    ).id;
    for (const batch of STATS_ITEMS) await t.runs.appendItems(statsRunId, batch);
    await t.runs.completeRun(statsRunId, { status: 'CompleteWithError' });

    syntheticRunId = (
      await t.runs.startRun({
        connectedSystemName: 'HR',
        runProfileName: 'Generated',
        runType: 'FullSynchronisation',
      })
    ).id;
    const random = seededRandom(99);
    syntheticInputs = Array.from({ length: 600 }, (_, index) => syntheticItem(index + 1, random, 0.15));
    // A few object types beyond user and group, so that "by name" differs from insertion order
    // and from key length order.
    syntheticInputs[5] = { ...syntheticInputs[5], objectType: 'ou' };
    syntheticInputs[17] = { ...syntheticInputs[17], objectType: 'computer' };
    syntheticInputs[300] = { ...syntheticInputs[300], objectType: 'contact' };
    syntheticInputs[420] = { ...syntheticInputs[420], objectType: null };
    await appendInBatches(t.runs, syntheticRunId, syntheticInputs, 250);

    emptyRunId = (
      await t.runs.startRun({ connectedSystemName: 'HR', runProfileName: 'Empty', runType: 'DeltaImport' })
    ).id;
    await t.dataSource
      .getRepository(Activity)
      .insert({ id: nonRunId, targetType: 'ConnectedSystem', status: 'Complete' });
  });

  afterAll(() => t?.close());

  const get = (path: string, jwt?: string | null) => getAs(t.http, path, jwt);
  const itemPath = (activityId: string, itemId: string) => `/api/v1/activities/${activityId}/items/${itemId}`;
  const statsPath = (activityId: string) => `/api/v1/activities/${activityId}/stats`;

  describe('item detail', () => {
    it('answers every field and the whole outcome tree, nulls and [] written out', async () => {
      const res = await get(itemPath(runId, written[1].id)).expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        id: written[1].id,
        sequence: 2,
        externalIdValue: 'c9d8e7f6-a5b4-4c3d-9e2f-1a0b9c8d7e6f',
        displayName: 'John Doe',
        connectedSystemObjectType: 'user',
        objectChangeType: 'Projected',
        errorType: null,
        outcomeSummary:
          'CsoAdded:1,Projected:1,AttributeFlow:1,Disconnected:1,MvoDeleted:1,PendingExportCreated:2,DeprovisionQueued:1',
        errorMessage: null,
        errorStackTrace: null,
        outcomes: [
          {
            type: 'Projected',
            detailCount: null,
            detailMessage: 'projected to a new person',
            targetId: null,
            targetDescription: null,
            children: [
              {
                type: 'AttributeFlow',
                detailCount: 14,
                detailMessage: null,
                targetId: null,
                targetDescription: null,
                children: [],
              },
              {
                type: 'PendingExportCreated',
                detailCount: null,
                detailMessage: null,
                targetId: 'cs-ldap',
                targetDescription: 'LDAP Directory',
                children: [],
              },
              {
                type: 'PendingExportCreated',
                detailCount: 0,
                detailMessage: '',
                targetId: 'cs-scim',
                targetDescription: 'SCIM "App", EU',
                children: [],
              },
            ],
          },
          {
            type: 'Disconnected',
            detailCount: null,
            detailMessage: null,
            targetId: null,
            targetDescription: null,
            children: [
              {
                type: 'MvoDeleted',
                detailCount: null,
                detailMessage: null,
                targetId: null,
                targetDescription: null,
                children: [
                  {
                    type: 'DeprovisionQueued',
                    detailCount: null,
                    detailMessage: 'in die Warteschlange ⏳ für Löschung',
                    targetId: null,
                    targetDescription: null,
                    children: [],
                  },
                ],
              },
            ],
          },
          {
            type: 'CsoAdded',
            detailCount: null,
            detailMessage: null,
            targetId: null,
            targetDescription: null,
            children: [],
          },
        ],
      });
      expect(res.body.outcomeSummary).toBe(outcomeSummaryOf(DETAILED.outcomes));
    });

    it('answers an item with nothing but a change type, every field null and no outcomes', async () => {
      const res = await get(itemPath(runId, written[2].id)).expect(200);
      expect(res.body).toEqual({
        id: written[2].id,
        sequence: 3,
        externalIdValue: null,
        displayName: null,
        connectedSystemObjectType: null,
        objectChangeType: 'NoChange',
        errorType: null,
        outcomeSummary: null,
        errorMessage: null,
        errorStackTrace: null,
        outcomes: [],
      });
    });

    it('answers an item with an error, its message and stack trace', async () => {
      const res = await get(itemPath(runId, written[3].id)).expect(200);
      expect(res.body).toEqual({
        id: written[3].id,
        sequence: 4,
        externalIdValue: 'E100042',
        displayName: 'Broken Reference',
        connectedSystemObjectType: 'group',
        objectChangeType: 'NoChange',
        errorType: 'UnresolvedReference',
        outcomeSummary: null,
        errorMessage: 'member "uid=missing" points nowhere',
        errorStackTrace: 'at resolve (sync.ts:10)\n   at run (sync.ts:99)',
        outcomes: [],
      });
    });

    it('answers the same fields as the list for every item of the run', async () => {
      const page = await get(`/api/v1/activities/${runId}/items`).expect(200);
      for (const [index, listed] of (page.body.items as Array<Record<string, unknown>>).entries()) {
        const res = await get(itemPath(runId, listed.id as string)).expect(200);
        const { sequence, errorMessage, errorStackTrace, outcomes, ...listFields } = res.body;
        expect(listFields).toEqual(listed);
        expect(sequence).toBe(index + 1);
        expect({ errorMessage, errorStackTrace }).toEqual({
          errorMessage: written[index].input.errorMessage ?? null,
          errorStackTrace: written[index].input.errorStackTrace ?? null,
        });
        expect(Array.isArray(outcomes)).toBe(true);
      }
    });

    it('accepts both GUIDs in upper case', async () => {
      const res = await get(itemPath(runId.toUpperCase(), written[3].id.toUpperCase())).expect(200);
      expect(res.body.id).toBe(written[3].id);
    });

    it('answers a generated item with its generated tree', async () => {
      const input = syntheticInputs.find((item) => item.objectChangeType === 'Projected')!;
      const sequence = syntheticInputs.indexOf(input) + 1;
      const listed = await get(
        `/api/v1/activities/${syntheticRunId}/items?page=${sequence}&pageSize=1`,
      ).expect(200);
      const res = await get(itemPath(syntheticRunId, listed.body.items[0].id)).expect(200);
      const full = (nodes: OutcomeInput[] | undefined): unknown[] =>
        (nodes ?? []).map(({ children, ...fields }) => node({ ...fields, children: full(children) }));
      expect(res.body).toEqual({
        ...listed.body.items[0],
        sequence,
        errorMessage: null,
        errorStackTrace: null,
        outcomes: full(input.outcomes),
      });
    });

    describe('404 NOT_FOUND', () => {
      it('for an item of another activity', async () => {
        const res = await get(itemPath(runId, otherItemId)).expect(404);
        expect(res.body).toEqual(errorBody('NOT_FOUND', expect.any(String)));
        // ...and the item is there under its own activity.
        await get(itemPath(otherRunId, otherItemId)).expect(200);
      });

      it('for an item id no item has', async () => {
        const res = await get(itemPath(runId, MISSING_ID)).expect(404);
        expect(res.body).toEqual(errorBody('NOT_FOUND', expect.any(String)));
      });

      it('for an activity that does not exist', async () => {
        const res = await get(itemPath(MISSING_ID, written[0].id)).expect(404);
        expect(res.body).toEqual(activityNotFoundBody(MISSING_ID));
      });
    });

    describe('400', () => {
      it.each([
        ['not-a-guid'],
        [`{${MISSING_ID}}`],
        [`${MISSING_ID}0`],
        ['a'.repeat(300)],
        ['%2e%2e'],
        ['12345'],
      ])('names itemId when it is %s', async (itemId) => {
        const res = await get(itemPath(runId, itemId)).expect(400);
        expect(res.body).toEqual(
          errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, { itemId: [expect.stringMatching(/GUID/)] }),
        );
      });

      it('names itemId before looking for the activity', async () => {
        const res = await get(itemPath(MISSING_ID, 'not-a-guid')).expect(400);
        expect(res.body.validationErrors).toEqual({ itemId: [expect.stringMatching(/GUID/)] });
      });

      it('names the activity id when it is not a GUID', async () => {
        const res = await get(itemPath('not-a-guid', written[0].id)).expect(400);
        expect(res.body).toEqual(errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, { id: [GUID_MESSAGE] }));
      });

      it('names both ids when neither is a GUID', async () => {
        const res = await get(itemPath('nope', 'nope')).expect(400);
        expect(res.body).toEqual(
          errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, {
            id: [GUID_MESSAGE],
            itemId: [expect.stringMatching(/GUID/)],
          }),
        );
      });

      it('rejects query parameters: the route takes none', async () => {
        const res = await get(`${itemPath(runId, written[0].id)}?page=1`).expect(400);
        expect(res.body).toEqual(
          errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, { page: ['is not a known parameter'] }),
        );
      });

      it('BAD_REQUEST for an activity that is not a run profile', async () => {
        const res = await get(itemPath(nonRunId, written[0].id)).expect(400);
        expect(res.body).toEqual(notARunProfileBody(nonRunId));
      });
    });
  });

  describe('stats', () => {
    it('answers the counts of a run written in three appends, exactly and in the documented order', async () => {
      const res = await get(statsPath(statsRunId)).expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const expected = {
        activityId: statsRunId,
        totalCount: 8,
        itemsWithErrors: 4,
        objectChangeTypes: { Add: 2, Update: 1, Projected: 1, Disconnected: 1, NoChange: 3 },
        errorTypes: { AmbiguousMatch: 2, UnhandledError: 1, ConnectorConfigurationError: 1 },
        objectTypes: { computer: 1, contact: 1, group: 1, ou: 1, user: 3 },
        outcomeTypes: {
          CsoAdded: 2,
          CsoUpdated: 1,
          Projected: 1,
          AttributeFlow: 2,
          Disconnected: 1,
          MvoDeleted: 1,
          PendingExportCreated: 1,
          DeprovisionQueued: 1,
        },
      };
      expect(expected).toEqual(expectedStats(statsRunId, STATS_ITEMS.flat()));
      expect(res.body).toEqual(expected);
      for (const key of ['objectChangeTypes', 'errorTypes', 'objectTypes', 'outcomeTypes'] as const) {
        expect({ key, order: Object.keys(res.body[key]) }).toEqual({
          key,
          order: Object.keys(expected[key]),
        });
      }
    });

    it('answers the counts of a generated run, consistent with the items written', async () => {
      const res = await get(statsPath(syntheticRunId)).expect(200);
      const expected = expectedStats(syntheticRunId, syntheticInputs);
      expect(res.body).toEqual(expected);
      for (const key of ['objectChangeTypes', 'errorTypes', 'objectTypes', 'outcomeTypes'] as const) {
        expect({ key, order: Object.keys(res.body[key]) }).toEqual({
          key,
          order: Object.keys(expected[key]),
        });
      }
    });

    it('agrees with the list: each count is the totalCount of the matching filter', async () => {
      const { body: stats } = await get(statsPath(syntheticRunId)).expect(200);
      const items = `/api/v1/activities/${syntheticRunId}/items`;
      const countOf = async (query: string) =>
        (await get(`${items}?${query}&pageSize=1`).expect(200)).body.totalCount;
      expect(await countOf('page=1')).toBe(stats.totalCount);
      expect(await countOf('hasError=true')).toBe(stats.itemsWithErrors);
      const filters = {
        objectChangeTypes: 'objectChangeType',
        errorTypes: 'errorType',
        objectTypes: 'objectType',
        outcomeTypes: 'outcomeType',
      } as const;
      for (const [key, param] of Object.entries(filters)) {
        for (const [value, count] of Object.entries(stats[key] as Record<string, number>)) {
          expect({
            param,
            value,
            count: await countOf(queryString({ [param]: [value] } as ItemQuery)),
          }).toEqual({ param, value, count });
        }
      }
    });

    it('grows with each append to a run in progress', async () => {
      const run = await t.runs.startRun({
        connectedSystemName: 'HR',
        runProfileName: 'Growing',
        runType: 'DeltaImport',
      });
      const first: NewExecutionItem[] = [
        { objectChangeType: 'Add', objectType: 'user', outcomes: [{ type: 'CsoAdded' }] },
      ];
      await t.runs.appendItems(run.id, first);
      expect((await get(statsPath(run.id)).expect(200)).body).toEqual(expectedStats(run.id, first));
      const second: NewExecutionItem[] = [
        {
          objectChangeType: 'Delete',
          objectType: 'group',
          outcomes: [{ type: 'CsoDeleted' }, { type: 'DeletionDetected' }],
        },
        { objectChangeType: 'NoChange', objectType: 'user', errorType: 'DuplicateObject' },
      ];
      await t.runs.appendItems(run.id, second);
      expect((await get(statsPath(run.id)).expect(200)).body).toEqual(
        expectedStats(run.id, [...first, ...second]),
      );
    });

    it('answers a run with no items with zero counts and empty maps', async () => {
      const res = await get(statsPath(emptyRunId)).expect(200);
      expect(res.body).toEqual({
        activityId: emptyRunId,
        totalCount: 0,
        itemsWithErrors: 0,
        objectChangeTypes: {},
        errorTypes: {},
        objectTypes: {},
        outcomeTypes: {},
      });
    });

    it('accepts the GUID in upper case and answers the id in lower case', async () => {
      const res = await get(statsPath(statsRunId.toUpperCase())).expect(200);
      expect(res.body.activityId).toBe(statsRunId);
    });

    it('404 NOT_FOUND for an activity that does not exist', async () => {
      const res = await get(statsPath(MISSING_ID)).expect(404);
      expect(res.body).toEqual(activityNotFoundBody(MISSING_ID));
    });

    it('400 BAD_REQUEST for an activity that is not a run profile', async () => {
      const res = await get(statsPath(nonRunId)).expect(400);
      expect(res.body).toEqual(notARunProfileBody(nonRunId));
    });

    it('400 naming the id when it is not a GUID', async () => {
      const res = await get(statsPath('not-a-guid')).expect(400);
      expect(res.body).toEqual(errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, { id: [GUID_MESSAGE] }));
    });

    it('400 for query parameters: the route takes none', async () => {
      const res = await get(`${statsPath(statsRunId)}?hasError=true`).expect(400);
      expect(res.body).toEqual(
        errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, { hasError: ['is not a known parameter'] }),
      );
    });
  });

  describe('authentication and role, on both routes', () => {
    const routes: Array<[string, () => string, () => string]> = [
      ['item detail', () => itemPath(runId, written[0].id), () => itemPath(MISSING_ID, 'not-a-guid')],
      ['stats', () => statsPath(statsRunId), () => statsPath('not-a-guid')],
    ];

    describe.each(routes)('%s', (_route, path, badPath) => {
      it.each([
        ['no token', null],
        ['a garbage token', 'abc.def.ghi'],
        ['an expired token', token({ role: 'Administrator', exp: Math.floor(Date.now() / 1000) - 120 })],
        ['a token with alg none', unsignedToken({ role: 'Administrator' })],
      ])('401 UNAUTHORISED with %s', async (_case, jwt) => {
        const res = await get(path(), jwt).expect(401);
        expect(res.body).toEqual(errorBody('UNAUTHORISED', UNAUTHORISED_MESSAGE));
        expect(res.headers['www-authenticate']).toBe('Bearer');
      });

      it('401 before validation and before looking anything up', async () => {
        const res = await get(badPath(), null).expect(401);
        expect(res.body.code).toBe('UNAUTHORISED');
      });

      it.each([
        ['no role', {}],
        ['another role', { role: 'Reader' }],
        ['a near miss', { role: 'administrator' }],
      ])('403 FORBIDDEN with %s', async (_case, claims) => {
        const res = await get(path(), token(claims)).expect(403);
        expect(res.body).toEqual(errorBody('FORBIDDEN', FORBIDDEN_MESSAGE));
      });

      it('403 before validation', async () => {
        const res = await get(badPath(), token({ role: 'Reader' })).expect(403);
        expect(res.body.code).toBe('FORBIDDEN');
      });
    });
  });
});
