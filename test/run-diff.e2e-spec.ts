import { Activity, ExecutionItemsError, type NewExecutionItem, type RunType } from '../src/execution-items';
import {
  FORBIDDEN_MESSAGE,
  GUID_MESSAGE,
  MISSING_ID,
  UNAUTHORISED_MESSAGE,
  VALIDATION_MESSAGE,
  activityNotFoundBody,
  errorBody,
  getAs,
  notARunProfileBody,
} from './support/item-fixtures';
import { createTestApp, type TestApp } from './support/test-app';
import { token } from './support/tokens';

/** Writing the fixture through the app on a machine shared with other suites can take minutes. */
const SETUP_TIMEOUT_MS = 300_000;
/**
 * GET /api/v1/activities/{id}/diff (contract §9): the five changes, the default baseline and
 * `against`, counts, the change filter, paging by page and cursor, and every failure in order.
 */

const SYSTEM = 'HR Feed';
const PROFILE = 'Full Synchronisation';
const TYPE: RunType = 'FullSynchronisation';
const id = (n: number) => `d1ff0000-0000-4000-8000-0000000000${n.toString(16).padStart(2, '0')}`;

const OLDEST = id(1);
const BASELINE = id(2);
// Between the baseline and the current run, none of them a default baseline:
const IN_PROGRESS = id(3); // same system, profile and type, still running
const OTHER_PROFILE = id(4); // same system, another run profile
const OTHER_TYPE = id(5); // same system and profile name, another run type
const CURRENT = id(6);
const OTHER_SYSTEM = id(7);
const NOT_A_RUN = id(8);

/** The baseline's items: what each object did there. */
const BASELINE_ITEMS: NewExecutionItem[] = [
  {
    externalIdValue: 'E1',
    displayName: 'Ada',
    objectType: 'user',
    objectChangeType: 'Joined',
    errorType: 'UnresolvedReference',
  },
  {
    externalIdValue: 'E2',
    displayName: 'Brian',
    objectType: 'user',
    objectChangeType: 'Projected',
    errorType: 'DuplicateObject',
  },
  {
    externalIdValue: 'E3',
    displayName: 'Chidi',
    objectType: 'user',
    objectChangeType: 'AttributeFlow',
    errorType: 'UnhandledError',
  },
  {
    externalIdValue: 'E4',
    displayName: 'Dagny',
    objectType: 'group',
    objectChangeType: 'Exported',
    errorType: 'ExportNotConfirmed',
  },
  { externalIdValue: 'E5', displayName: 'Emeka', objectType: 'user', objectChangeType: 'AttributeFlow' },
  { externalIdValue: 'E7', displayName: 'Grace', objectType: 'user', objectChangeType: 'NoChange' },
  // No external id: takes no part, error or not.
  { displayName: 'Nobody', objectChangeType: 'Projected', errorType: 'MissingExternalIdAttributeValue' },
  // Twice: its error counts, not the later item without one.
  {
    externalIdValue: 'E8',
    displayName: 'Hedy (old)',
    objectType: 'user',
    objectChangeType: 'Joined',
    errorType: 'AmbiguousMatch',
  },
  { externalIdValue: 'E8', displayName: 'Hedy', objectType: 'user', objectChangeType: 'NoChange' },
  {
    externalIdValue: 'E9',
    displayName: 'Ines',
    objectType: 'user',
    objectChangeType: 'Joined',
    errorType: 'AmbiguousMatch',
  },
];

const CURRENT_ITEMS: NewExecutionItem[] = [
  { externalIdValue: 'E1', displayName: 'Ada Lovelace', objectType: 'user', objectChangeType: 'Joined' },
  {
    externalIdValue: 'E2',
    displayName: 'Brian',
    objectType: 'user',
    objectChangeType: 'Projected',
    errorType: 'AmbiguousMatch',
  },
  {
    externalIdValue: 'E3',
    displayName: 'Chidi',
    objectType: 'user',
    objectChangeType: 'AttributeFlow',
    errorType: 'UnhandledError',
  },
  {
    externalIdValue: 'E5',
    displayName: 'Emeka',
    objectType: 'user',
    objectChangeType: 'AttributeFlow',
    errorType: 'CsoCreationFailed',
  },
  // Lower case: code point order puts it after every upper-case id.
  {
    externalIdValue: 'e6',
    displayName: 'Femi',
    objectType: 'group',
    objectChangeType: 'Add',
    errorType: 'UnexpectedAttribute',
  },
  { externalIdValue: 'E7', displayName: 'Grace', objectType: 'user', objectChangeType: 'NoChange' },
  { displayName: 'Nobody', objectChangeType: 'Projected', errorType: 'MissingExternalIdAttributeValue' },
  { externalIdValue: 'E8', displayName: 'Hedy', objectType: 'user', objectChangeType: 'NoChange' },
  // Twice with errors: the last one counts.
  {
    externalIdValue: 'E9',
    displayName: 'Ines (old)',
    objectType: 'user',
    objectChangeType: 'Joined',
    errorType: 'DuplicateObject',
  },
  {
    externalIdValue: 'E9',
    displayName: 'Ines',
    objectType: 'user',
    objectChangeType: 'Joined',
    errorType: 'AmbiguousMatch',
  },
];

/** The oldest run: only E2 failed, the same way as in the current run. */
const OLDEST_ITEMS: NewExecutionItem[] = [
  {
    externalIdValue: 'E2',
    displayName: 'Brian',
    objectType: 'user',
    objectChangeType: 'Projected',
    errorType: 'AmbiguousMatch',
  },
  { externalIdValue: 'E3', displayName: 'Chidi', objectType: 'user', objectChangeType: 'AttributeFlow' },
];

const TIMESTAMP = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

describe('GET /api/v1/activities/{id}/diff', () => {
  let t: TestApp;
  /** Item ids by run and index in its list. */
  const itemIds: Record<string, string[]> = {};

  async function run(
    activityId: string,
    created: string,
    items: NewExecutionItem[],
    options: { system?: string; profile?: string; type?: RunType; complete?: boolean } = {},
  ) {
    await t.runs.startRun({
      id: activityId,
      connectedSystemName: options.system ?? SYSTEM,
      runProfileName: options.profile ?? PROFILE,
      runType: options.type ?? TYPE,
    });
    if (items.length > 0) itemIds[activityId] = (await t.runs.appendItems(activityId, items)).itemIds;
    if (options.complete ?? true) await t.runs.completeRun(activityId);
    await t.dataSource.query('UPDATE activities SET created = $2 WHERE id = $1', [activityId, created]);
  }

  beforeAll(async () => {
    t = await createTestApp();
    await run(OLDEST, '2026-11-01T02:00:00.000Z', OLDEST_ITEMS);
    await run(BASELINE, '2026-11-02T02:00:00.000Z', BASELINE_ITEMS);
    await run(IN_PROGRESS, '2026-11-03T02:00:00.000Z', [], { complete: false });
    await run(OTHER_PROFILE, '2026-11-03T03:00:00.000Z', [], { profile: 'Delta Synchronisation' });
    await run(OTHER_TYPE, '2026-11-03T04:00:00.000Z', [], { type: 'DeltaSynchronisation' });
    // The current run is still in progress: a diff needs no ended run on this side.
    await run(CURRENT, '2026-11-04T02:00:00.000Z', CURRENT_ITEMS, { complete: false });
    await run(OTHER_SYSTEM, '2026-11-02T12:00:00.000Z', OLDEST_ITEMS, { system: 'Corporate LDAP' });
    await t.dataSource
      .getRepository(Activity)
      .insert({ id: NOT_A_RUN, targetType: 'ConnectedSystem', targetName: SYSTEM, status: 'Complete' });
  }, SETUP_TIMEOUT_MS);

  afterAll(() => t?.close());

  const get = (path: string, jwt?: string | null) => getAs(t.http, path, jwt);
  const side = (runId: string, index: number) => ({
    itemId: itemIds[runId][index],
    errorType:
      (runId === CURRENT ? CURRENT_ITEMS : runId === BASELINE ? BASELINE_ITEMS : OLDEST_ITEMS)[index]
        .errorType ?? null,
    objectChangeType: (runId === CURRENT
      ? CURRENT_ITEMS
      : runId === BASELINE
        ? BASELINE_ITEMS
        : OLDEST_ITEMS)[index].objectChangeType,
  });
  const activity = async (activityId: string) =>
    (await get(`/api/v1/activities/${activityId}`).expect(200)).body as Record<string, unknown>;

  /** The whole diff of CURRENT against BASELINE, in the contract's order. */
  const DIFF = () => [
    {
      externalIdValue: 'E5',
      displayName: 'Emeka',
      connectedSystemObjectType: 'user',
      change: 'NewError',
      current: side(CURRENT, 3),
      baseline: side(BASELINE, 4),
    },
    {
      externalIdValue: 'e6',
      displayName: 'Femi',
      connectedSystemObjectType: 'group',
      change: 'NewError',
      current: side(CURRENT, 4),
      baseline: null,
    },
    {
      externalIdValue: 'E1',
      displayName: 'Ada Lovelace',
      connectedSystemObjectType: 'user',
      change: 'Resolved',
      current: side(CURRENT, 0),
      baseline: side(BASELINE, 0),
    },
    {
      externalIdValue: 'E8',
      displayName: 'Hedy',
      connectedSystemObjectType: 'user',
      change: 'Resolved',
      current: side(CURRENT, 7),
      baseline: side(BASELINE, 7),
    },
    {
      externalIdValue: 'E2',
      displayName: 'Brian',
      connectedSystemObjectType: 'user',
      change: 'ChangedError',
      current: side(CURRENT, 1),
      baseline: side(BASELINE, 1),
    },
    {
      externalIdValue: 'E3',
      displayName: 'Chidi',
      connectedSystemObjectType: 'user',
      change: 'StillFailing',
      current: side(CURRENT, 2),
      baseline: side(BASELINE, 2),
    },
    {
      externalIdValue: 'E9',
      displayName: 'Ines',
      connectedSystemObjectType: 'user',
      change: 'StillFailing',
      current: side(CURRENT, 9),
      baseline: side(BASELINE, 9),
    },
    {
      externalIdValue: 'E4',
      displayName: 'Dagny',
      connectedSystemObjectType: 'group',
      change: 'NotSeen',
      current: null,
      baseline: side(BASELINE, 3),
    },
  ];
  const COUNTS = { NewError: 2, Resolved: 2, ChangedError: 1, StillFailing: 2, NotSeen: 1 };

  const envelope = (items: unknown[], totalCount: number, page = 1, pageSize = 25) => {
    const totalPages = Math.ceil(totalCount / pageSize);
    return {
      items,
      totalCount,
      page,
      pageSize,
      totalPages,
      hasNextPage: page < totalPages,
      hasPreviousPage: page > 1,
      nextCursor: page * pageSize < totalCount ? expect.any(String) : null,
    };
  };

  describe('success', () => {
    it('compares with the latest earlier ended run of the same system, profile and type by default', async () => {
      const res = await get(`/api/v1/activities/${CURRENT}/diff`).expect(200);
      expect(res.body).toEqual({
        ...envelope(DIFF(), 8),
        baseline: await activity(BASELINE),
        counts: COUNTS,
      });
    });

    it('compares with the run named by against, of any profile or type of the same system', async () => {
      const res = await get(`/api/v1/activities/${CURRENT}/diff?against=${OLDEST}`).expect(200);
      expect(res.body).toEqual({
        ...envelope(
          [
            {
              externalIdValue: 'E3',
              displayName: 'Chidi',
              connectedSystemObjectType: 'user',
              change: 'NewError',
              current: side(CURRENT, 2),
              baseline: side(OLDEST, 1),
            },
            ...['E5', 'E9', 'e6'].map((x) => ({
              ...DIFF().find((row) => row.externalIdValue === x),
              change: 'NewError',
              baseline: null,
            })),
            {
              externalIdValue: 'E2',
              displayName: 'Brian',
              connectedSystemObjectType: 'user',
              change: 'StillFailing',
              current: side(CURRENT, 1),
              baseline: side(OLDEST, 0),
            },
          ],
          5,
        ),
        baseline: await activity(OLDEST),
        counts: { NewError: 4, Resolved: 0, ChangedError: 0, StillFailing: 1, NotSeen: 0 },
      });
      const empty = await get(`/api/v1/activities/${CURRENT}/diff?against=${OTHER_PROFILE}`).expect(200);
      expect(empty.body.counts).toEqual({
        NewError: 5,
        Resolved: 0,
        ChangedError: 0,
        StillFailing: 0,
        NotSeen: 0,
      });
    });

    it('the other way round, against a later run: its errors resolved later are NewError here', async () => {
      const res = await get(`/api/v1/activities/${BASELINE}/diff?against=${CURRENT.toUpperCase()}`).expect(
        200,
      );
      expect(res.body.counts).toEqual({
        NewError: 3,
        Resolved: 1,
        ChangedError: 1,
        StillFailing: 2,
        NotSeen: 1,
      });
      expect(res.body.baseline.id).toBe(CURRENT);
      const rows = res.body.items as Array<{ externalIdValue: string; change: string }>;
      expect(rows.map((row) => `${row.change} ${row.externalIdValue}`)).toEqual([
        'NewError E1',
        'NewError E4',
        'NewError E8',
        'Resolved E5',
        'ChangedError E2',
        'StillFailing E3',
        'StillFailing E9',
        'NotSeen e6',
      ]);
    });

    it.each([
      ['change=Resolved,NotSeen', ['Resolved', 'NotSeen']],
      ['change=NotSeen&change=Resolved', ['Resolved', 'NotSeen']],
      ['change=StillFailing', ['StillFailing']],
      [
        'change=NewError,Resolved,ChangedError,StillFailing,NotSeen',
        ['NewError', 'Resolved', 'ChangedError', 'StillFailing', 'NotSeen'],
      ],
    ])('filters by change (%s); the counts still cover the whole diff', async (query, changes) => {
      const res = await get(`/api/v1/activities/${CURRENT}/diff?${query}`).expect(200);
      const rows = DIFF().filter((row) => changes.includes(row.change));
      expect(res.body).toEqual({
        ...envelope(rows, rows.length),
        baseline: await activity(BASELINE),
        counts: COUNTS,
      });
    });

    it('pages by number and by cursor alike, every object once', async () => {
      const rows = DIFF();
      const pages = [];
      let res = await get(`/api/v1/activities/${CURRENT}/diff?pageSize=3`).expect(200);
      for (let page = 1; ; page++) {
        const { baseline, counts, ...paging } = res.body;
        expect({ baseline: baseline.id, counts }).toEqual({ baseline: BASELINE, counts: COUNTS });
        expect(paging).toEqual(envelope(rows.slice((page - 1) * 3, page * 3), 8, page, 3));
        const byNumber = await get(`/api/v1/activities/${CURRENT}/diff?pageSize=3&page=${page}`).expect(200);
        expect({ ...byNumber.body, nextCursor: null }).toEqual({ ...res.body, nextCursor: null });
        pages.push(...res.body.items);
        if (res.body.nextCursor === null) break;
        res = await get(`/api/v1/activities/${CURRENT}/diff?cursor=${res.body.nextCursor}`).expect(200);
      }
      expect(pages).toEqual(rows);
    });

    it('a cursor keeps its baseline, and may come with the same parameters', async () => {
      const first = await get(
        `/api/v1/activities/${CURRENT}/diff?pageSize=2&change=NewError,StillFailing`,
      ).expect(200);
      const second = await get(
        `/api/v1/activities/${CURRENT}/diff?pageSize=2&change=NewError,StillFailing&against=${BASELINE}&cursor=${first.body.nextCursor}`,
      ).expect(200);
      expect(second.body.items).toEqual(DIFF().filter((row) => row.change === 'StillFailing'));
      expect(second.body.nextCursor).toBeNull();
      const other = await get(
        `/api/v1/activities/${CURRENT}/diff?against=${OLDEST}&cursor=${first.body.nextCursor}`,
      ).expect(400);
      expect(other.body).toEqual(
        errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, {
          cursor: [
            'was made for another query (against differ); send the cursor alone or with the same parameters',
          ],
        }),
      );
    });

    it('answers a page past the end with no items and the true total', async () => {
      const res = await get(`/api/v1/activities/${CURRENT}/diff?page=5&pageSize=5`).expect(200);
      expect(res.body).toEqual({
        ...envelope([], 8, 5, 5),
        baseline: await activity(BASELINE),
        counts: COUNTS,
      });
    });

    it('is the module API: diffRuns answers what the route does', async () => {
      const res = await get(`/api/v1/activities/${CURRENT}/diff?change=NotSeen`).expect(200);
      expect(JSON.parse(JSON.stringify(await t.service.diffRuns(CURRENT, { change: ['NotSeen'] })))).toEqual(
        res.body,
      );
      await expect(t.service.diffRuns(OLDEST)).rejects.toMatchObject({ reason: 'BaselineNotFound' });
      await expect(t.service.diffRuns(CURRENT, { against: OTHER_SYSTEM })).rejects.toBeInstanceOf(
        ExecutionItemsError,
      );
      await expect(t.service.diffRuns(CURRENT, { against: OTHER_SYSTEM })).rejects.toMatchObject({
        reason: 'RunsNotComparable',
      });
      await expect(t.service.diffRuns(CURRENT, { change: ['Gone' as never] })).rejects.toMatchObject({
        reason: 'InvalidInput',
        validationErrors: {
          change: ['must be one of NewError, Resolved, ChangedError, StillFailing, NotSeen'],
        },
      });
    });
  });

  describe('failures', () => {
    it('401 without a token, before anything else', async () => {
      const res = await get(`/api/v1/activities/not-a-guid/diff?change=Nope`, null).expect(401);
      expect(res.body).toEqual(errorBody('UNAUTHORISED', UNAUTHORISED_MESSAGE));
    });

    it.each([['SyncEngine'], ['Reader']])('403 for a %s token, before validation', async (role) => {
      const res = await get(`/api/v1/activities/not-a-guid/diff`, token({ role })).expect(403);
      expect(res.body).toEqual(errorBody('FORBIDDEN', FORBIDDEN_MESSAGE));
    });

    it.each([
      ['not-a-guid/diff', { id: [GUID_MESSAGE] }],
      [`${CURRENT}/diff?against=nope`, { against: [GUID_MESSAGE] }],
      [
        `${CURRENT}/diff?change=Nope`,
        { change: ['must be one of NewError, Resolved, ChangedError, StillFailing, NotSeen'] },
      ],
      [`${CURRENT}/diff?against=${OLDEST}&against=${OLDEST}`, { against: ['must appear once'] }],
      [`${CURRENT}/diff?pageSize=x`, { pageSize: ['must be an integer'] }],
      [`${CURRENT}/diff?cursor=abc`, { cursor: ['is not a cursor this API returned'] }],
      [`${CURRENT}/diff?colour=red`, { colour: ['is not a known parameter'] }],
    ])('400 VALIDATION_ERROR for %s', async (path, validationErrors) => {
      const res = await get(`/api/v1/activities/${path}`).expect(400);
      expect(res.body).toEqual(errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, validationErrors));
    });

    it('400 for a cursor of another list, another run, or with page', async () => {
      const activities = await get('/api/v1/activities?pageSize=1').expect(200);
      const foreign = await get(
        `/api/v1/activities/${CURRENT}/diff?cursor=${activities.body.nextCursor}`,
      ).expect(400);
      expect(foreign.body.validationErrors).toEqual({ cursor: ['is not a cursor this API returned'] });
      const own = await get(`/api/v1/activities/${CURRENT}/diff?pageSize=1`).expect(200);
      const otherRun = await get(`/api/v1/activities/${BASELINE}/diff?cursor=${own.body.nextCursor}`).expect(
        400,
      );
      expect(otherRun.body.validationErrors).toEqual({ cursor: ['belongs to another activity'] });
      const withPage = await get(
        `/api/v1/activities/${CURRENT}/diff?page=2&cursor=${own.body.nextCursor}`,
      ).expect(400);
      expect(withPage.body.validationErrors).toEqual({ page: ['cannot be combined with cursor'] });
    });

    it('400 BAD_REQUEST for runs of different connected systems', async () => {
      const res = await get(`/api/v1/activities/${CURRENT}/diff?against=${OTHER_SYSTEM}`).expect(400);
      expect(res.body).toEqual(
        errorBody(
          'BAD_REQUEST',
          `Activity ${CURRENT} is a run on connected system HR Feed and activity ${OTHER_SYSTEM} on Corporate LDAP; only runs on the same connected system can be compared.`,
        ),
      );
    });

    it('400 BAD_REQUEST when either activity is not a run', async () => {
      const current = await get(`/api/v1/activities/${NOT_A_RUN}/diff?against=${BASELINE}`).expect(400);
      expect(current.body).toEqual(notARunProfileBody(NOT_A_RUN));
      const against = await get(`/api/v1/activities/${CURRENT}/diff?against=${NOT_A_RUN}`).expect(400);
      expect(against.body).toEqual(notARunProfileBody(NOT_A_RUN));
    });

    it('404 when the run, or the run named by against, does not exist', async () => {
      const run = await get(`/api/v1/activities/${MISSING_ID}/diff`).expect(404);
      expect(run.body).toEqual(activityNotFoundBody(MISSING_ID));
      const against = await get(`/api/v1/activities/${CURRENT}/diff?against=${MISSING_ID}`).expect(404);
      expect(against.body).toEqual(activityNotFoundBody(MISSING_ID));
    });

    it('404 when no earlier run of the same system, profile and type has ended', async () => {
      for (const runId of [OLDEST, OTHER_PROFILE, OTHER_TYPE]) {
        const res = await get(`/api/v1/activities/${runId}/diff`).expect(404);
        expect(res.body).toEqual({
          code: 'NOT_FOUND',
          message: expect.stringMatching(
            new RegExp(`^No completed run before activity ${runId} of run profile `),
          ),
          details: null,
          validationErrors: null,
          timestamp: TIMESTAMP,
        });
      }
      const res = await get(`/api/v1/activities/${OLDEST}/diff`).expect(404);
      expect(res.body.message).toBe(
        `No completed run before activity ${OLDEST} of run profile Full Synchronisation (FullSynchronisation) on connected system HR Feed; name one with against.`,
      );
    });
  });
});
