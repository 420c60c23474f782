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
import request from 'supertest';
import { StoredDiffs } from '../src/execution-items/stored-diffs';
import { createTestApp, type TestApp } from './support/test-app';
import { bearer, token } from './support/tokens';

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
// After the current run, with its items: ended, so its diff against the baseline is stored.
const ENDED = id(9);

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
  /** Item ids by run and index in its list, and the items. */
  const itemIds: Record<string, string[]> = {};
  const itemsByRun: Record<string, NewExecutionItem[]> = {};

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
    itemsByRun[activityId] = items;
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
    await run(ENDED, '2026-11-05T02:00:00.000Z', CURRENT_ITEMS);
    await t.dataSource
      .getRepository(Activity)
      .insert({ id: NOT_A_RUN, targetType: 'ConnectedSystem', targetName: SYSTEM, status: 'Complete' });
  }, SETUP_TIMEOUT_MS);

  afterAll(() => t?.close());

  const get = (path: string, jwt?: string | null) => getAs(t.http, path, jwt);
  const side = (runId: string, index: number) => ({
    itemId: itemIds[runId][index],
    errorType: itemsByRun[runId][index].errorType ?? null,
    objectChangeType: itemsByRun[runId][index].objectChangeType,
  });
  const activity = async (activityId: string) =>
    (await get(`/api/v1/activities/${activityId}`).expect(200)).body as Record<string, unknown>;

  /**
   * The whole diff of CURRENT against BASELINE, in the contract's order; or of another run with
   * CURRENT's items against one with BASELINE's.
   */
  const DIFF = (current = CURRENT, baseline = BASELINE) => [
    {
      externalIdValue: 'E5',
      displayName: 'Emeka',
      connectedSystemObjectType: 'user',
      change: 'NewError',
      current: side(current, 3),
      baseline: side(baseline, 4),
    },
    {
      externalIdValue: 'e6',
      displayName: 'Femi',
      connectedSystemObjectType: 'group',
      change: 'NewError',
      current: side(current, 4),
      baseline: null,
    },
    {
      externalIdValue: 'E1',
      displayName: 'Ada Lovelace',
      connectedSystemObjectType: 'user',
      change: 'Resolved',
      current: side(current, 0),
      baseline: side(baseline, 0),
    },
    {
      externalIdValue: 'E8',
      displayName: 'Hedy',
      connectedSystemObjectType: 'user',
      change: 'Resolved',
      current: side(current, 7),
      baseline: side(baseline, 7),
    },
    {
      externalIdValue: 'E2',
      displayName: 'Brian',
      connectedSystemObjectType: 'user',
      change: 'ChangedError',
      current: side(current, 1),
      baseline: side(baseline, 1),
    },
    {
      externalIdValue: 'E3',
      displayName: 'Chidi',
      connectedSystemObjectType: 'user',
      change: 'StillFailing',
      current: side(current, 2),
      baseline: side(baseline, 2),
    },
    {
      externalIdValue: 'E9',
      displayName: 'Ines',
      connectedSystemObjectType: 'user',
      change: 'StillFailing',
      current: side(current, 9),
      baseline: side(baseline, 9),
    },
    {
      externalIdValue: 'E4',
      displayName: 'Dagny',
      connectedSystemObjectType: 'group',
      change: 'NotSeen',
      current: null,
      baseline: side(baseline, 3),
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

  describe('stored diffs', () => {
    const storedDiffs = () => t.app.get(StoredDiffs);
    /** The stored diffs: run → the baseline each was computed against, with its counts and rows. */
    const stored = async (runIds: string[]) =>
      t.dataSource.query(
        `SELECT h.run_id AS "runId", h.baseline_id AS "baselineId", h.counts,
                (SELECT count(*)::int FROM run_diff_rows r WHERE r.run_id = h.run_id) AS rows
           FROM run_diffs h WHERE h.run_id = ANY($1::uuid[]) ORDER BY h.run_id`,
        [runIds],
      );
    /** Every page a client walking from `path` by cursor reads, `path` first. */
    const walk = async (path: string) => {
      const paths = [path];
      for (;;) {
        const res = await get(paths.at(-1)!).expect(200);
        if (res.body.nextCursor === null) return paths;
        paths.push(`/api/v1/activities/${ENDED}/diff?cursor=${res.body.nextCursor}`);
      }
    };

    it('stores an ended run’s diff against its default baseline when it completes', async () => {
      await storedDiffs().settled();
      // OLDEST, OTHER_PROFILE, OTHER_TYPE and OTHER_SYSTEM have no baseline; CURRENT and
      // IN_PROGRESS have not ended.
      const all = [OLDEST, BASELINE, IN_PROGRESS, OTHER_PROFILE, OTHER_TYPE, CURRENT, OTHER_SYSTEM, ENDED];
      expect(await stored(all)).toEqual([
        { runId: BASELINE, baselineId: OLDEST, counts: [5, 0, 1, 0, 0], rows: 6 },
        { runId: ENDED, baselineId: BASELINE, counts: [2, 2, 1, 2, 1], rows: 8 },
      ]);
      const res = await get(`/api/v1/activities/${ENDED}/diff`).expect(200);
      expect(res.body).toEqual({
        ...envelope(DIFF(ENDED), 8),
        baseline: await activity(BASELINE),
        counts: COUNTS,
      });
    });

    it('answers from the stored copy while it is against the baseline asked for', async () => {
      await t.dataSource.query(
        `UPDATE run_diff_rows SET display_name = 'from the copy' WHERE run_id = $1 AND external_id_value = 'E4'`,
        [ENDED],
      );
      try {
        for (const path of [
          `${ENDED}/diff?change=NotSeen`,
          `${ENDED}/diff?change=NotSeen&against=${BASELINE}`,
        ]) {
          const res = await get(`/api/v1/activities/${path}`).expect(200);
          expect(res.body.items).toEqual([{ ...DIFF(ENDED).at(-1), displayName: 'from the copy' }]);
        }
        // Another baseline: computed.
        const other = await get(`/api/v1/activities/${ENDED}/diff?against=${OLDEST}`).expect(200);
        expect(other.body.items.map((row: { displayName: string }) => row.displayName)).not.toContain(
          'from the copy',
        );
      } finally {
        await t.dataSource.query(
          `UPDATE run_diff_rows SET display_name = 'Dagny' WHERE run_id = $1 AND external_id_value = 'E4'`,
          [ENDED],
        );
      }
    });

    it('answers byte for byte what it computes: every change, counts, pages by number and by cursor, change filters', async () => {
      const starts = [
        '',
        '?pageSize=3',
        '?pageSize=3&page=2',
        '?pageSize=3&page=3',
        '?page=5&pageSize=5',
        '?change=Resolved,NotSeen',
        '?change=NewError&change=NotSeen&pageSize=1',
        '?change=StillFailing&pageSize=1',
        '?change=NewError,ChangedError,StillFailing&pageSize=2',
        '?change=NewError,Resolved,ChangedError,StillFailing,NotSeen&pageSize=4',
      ];
      const paths: string[] = [];
      for (const start of starts) paths.push(...(await walk(`/api/v1/activities/${ENDED}/diff${start}`)));
      expect(paths.length).toBeGreaterThan(starts.length + 8);
      for (const path of paths) {
        await storedDiffs().settled();
        expect(await stored([ENDED])).toEqual([expect.objectContaining({ baselineId: BASELINE })]);
        const fromCopy = await get(path).expect(200);
        await t.dataSource.query('DELETE FROM run_diffs WHERE run_id = $1', [ENDED]);
        const computed = await get(path).expect(200);
        expect(computed.text).toBe(fromCopy.text);
        if (!path.includes('cursor=')) continue;
        // A cursor's page names its baseline: it stores nothing, and the next check stores again.
        storedDiffs().missed(ENDED);
      }
      // A read of the default diff that found no copy had it stored again.
      await storedDiffs().settled();
      expect(await stored([ENDED])).toEqual([
        { runId: ENDED, baselineId: BASELINE, counts: [2, 2, 1, 2, 1], rows: 8 },
      ]);
    });

    describe('when the default baseline changes', () => {
      const NIGHTLY = 'Nightly Synchronisation';
      const [FIRST, LATE, LAST, WRITTEN_ENDED, PARALLEL_1, PARALLEL_2] = [16, 17, 18, 19, 20, 21].map(id);

      beforeAll(async () => {
        await run(FIRST, '2026-11-10T02:00:00.000Z', BASELINE_ITEMS, { profile: NIGHTLY });
        // Still running when the run after it ends.
        await run(LATE, '2026-11-11T02:00:00.000Z', OLDEST_ITEMS, { profile: NIGHTLY, complete: false });
        await run(LAST, '2026-11-12T02:00:00.000Z', CURRENT_ITEMS, { profile: NIGHTLY });
        await storedDiffs().settled();
      }, SETUP_TIMEOUT_MS);

      /** The diff of `runId` from the copy and computed (the copy deleted), which must be the same. */
      const bothWays = async (runId: string) => {
        const fromCopy = await get(`/api/v1/activities/${runId}/diff`).expect(200);
        await t.dataSource.query('DELETE FROM run_diffs WHERE run_id = $1', [runId]);
        const computed = await get(`/api/v1/activities/${runId}/diff`).expect(200);
        expect(computed.text).toBe(fromCopy.text);
        await storedDiffs().settled();
        return fromCopy.body as { baseline: { id: string }; counts: unknown };
      };

      it('a run that ends after a later one becomes its baseline, and the later one’s diff is stored again', async () => {
        expect(await stored([FIRST, LATE, LAST])).toEqual([
          expect.objectContaining({ runId: LAST, baselineId: FIRST, counts: [2, 2, 1, 2, 1] }),
        ]);
        await request(t.http)
          .post(`/api/v1/activities/${LATE}/complete`)
          .set(bearer(token({ role: 'SyncEngine' })))
          .send({})
          .expect(200);
        await storedDiffs().settled();
        expect(await stored([FIRST, LATE, LAST])).toEqual([
          { runId: LATE, baselineId: FIRST, counts: [0, 1, 1, 0, 4], rows: 6 },
          { runId: LAST, baselineId: LATE, counts: [4, 0, 0, 1, 0], rows: 5 },
        ]);
        const diff = await bothWays(LAST);
        expect(diff.baseline.id).toBe(LATE);
        expect(diff.counts).toEqual({
          NewError: 4,
          Resolved: 0,
          ChangedError: 0,
          StillFailing: 1,
          NotSeen: 0,
        });
      });

      it('a baseline deleted (as a purge does) takes its stored diffs with it; the next read computes and stores again', async () => {
        await t.dataSource.query('DELETE FROM activities WHERE id = $1', [LATE]);
        expect(await stored([FIRST, LATE, LAST])).toEqual([]);
        const [{ rows }] = await t.dataSource.query(
          'SELECT count(*)::int AS rows FROM run_diff_rows WHERE run_id = ANY($1::uuid[])',
          [[LATE, LAST]],
        );
        expect(rows).toBe(0);
        const res = await get(`/api/v1/activities/${LAST}/diff`).expect(200);
        expect(res.body).toEqual({
          ...envelope(DIFF(LAST, FIRST), 8),
          baseline: await activity(FIRST),
          counts: COUNTS,
        });
        await storedDiffs().settled();
        expect(await stored([LAST])).toEqual([
          { runId: LAST, baselineId: FIRST, counts: [2, 2, 1, 2, 1], rows: 8 },
        ]);
        await bothWays(LAST);
      });

      it('a run written as ended has its diff stored at its first read', async () => {
        await t.dataSource.getRepository(Activity).insert({
          id: WRITTEN_ENDED,
          created: new Date('2026-11-13T02:00:00.000Z'),
          targetType: 'ConnectedSystemRunProfile',
          targetName: NIGHTLY,
          targetContext: SYSTEM,
          runType: TYPE,
          status: 'Complete',
        });
        const res = await get(`/api/v1/activities/${WRITTEN_ENDED}/diff`).expect(200);
        expect(res.body.counts).toEqual({
          NewError: 0,
          Resolved: 0,
          ChangedError: 0,
          StillFailing: 0,
          NotSeen: 5,
        });
        await storedDiffs().settled();
        expect(await stored([WRITTEN_ENDED])).toEqual([
          { runId: WRITTEN_ENDED, baselineId: LAST, counts: [0, 0, 0, 0, 5], rows: 5 },
        ]);
        await bothWays(WRITTEN_ENDED);
      });

      it('runs completing together each end up stored against their default baseline', async () => {
        await run(PARALLEL_1, '2026-11-14T02:00:00.000Z', OLDEST_ITEMS, {
          profile: NIGHTLY,
          complete: false,
        });
        await run(PARALLEL_2, '2026-11-15T02:00:00.000Z', BASELINE_ITEMS, {
          profile: NIGHTLY,
          complete: false,
        });
        await Promise.all([PARALLEL_2, PARALLEL_1].map((runId) => t.runs.completeRun(runId)));
        await storedDiffs().settled();
        expect(await stored([PARALLEL_1, PARALLEL_2])).toEqual(
          [
            { runId: PARALLEL_1, baselineId: WRITTEN_ENDED, counts: [1, 0, 0, 0, 0], rows: 1 },
            { runId: PARALLEL_2, baselineId: PARALLEL_1, counts: [5, 0, 1, 0, 0], rows: 6 },
          ].sort((a, b) => a.runId.localeCompare(b.runId)),
        );
        expect((await bothWays(PARALLEL_2)).baseline.id).toBe(PARALLEL_1);
      });
    });
  });
});
