import {
  Activity,
  ERROR_TYPES,
  OBJECT_CHANGE_TYPES,
  OUTCOME_TYPES,
  type ErrorType,
  type NewExecutionItem,
  type ObjectChangeType,
  type OutcomeInput,
} from '../src/execution-items';
import { seededRandom } from '../src/demo/synthetic-items';
import {
  SORT_BYS,
  VALIDATION_MESSAGE,
  appendInBatches,
  errorBody,
  expectAcceptedValuesError,
  expectPagingArithmetic,
  expectedItems,
  expectedPage,
  getAs,
  listItem,
  queryString,
  validationErrorNaming,
  type ItemQuery,
  type SortBy,
  type SortDirection,
  type WrittenItem,
} from './support/item-fixtures';
import { createTestApp, type TestApp } from './support/test-app';

// Display names and external ids: case variants, ties, missing and empty values, LIKE's special
// characters (% _ \), punctuation, emoji and right-to-left text.
const NAMES: Array<string | null> = [
  'Alice Archer',
  'alice archer',
  'ALICE ARCHER',
  'Bob Builder',
  'bob',
  'Carol Chen',
  null,
  '',
  'Zed',
  'zed',
  '_under_score',
  '100% Club',
  'Percent Sign',
  'a_b',
  'axb',
  'back\\slash',
  "Mike O'Neil",
  'Smith, Jane',
  'Jane Smith',
  'JANE SMITH-JONES',
  'Unicorn 🦄 team',
  'שלום עולם',
  'García Lorca',
  '~tilde',
  '[bracket]',
];
const EXTERNAL_IDS: Array<string | null> = [
  'E001',
  'e001',
  'E002',
  null,
  'CN=Admins,OU=Groups',
  'cn=admins,ou=groups',
  '50%off',
  'a_c',
  'c:\\path\\x',
  'uid=smith',
  '00042',
  'zz-last',
  '',
];
const OBJECT_TYPES: Array<string | null> = [
  'user',
  'user',
  'user',
  'User',
  'group',
  'group',
  null,
  'contact',
  'éclair',
  'Zeta',
];
const CHANGE_TYPES: ObjectChangeType[] = [
  'Update',
  'Projected',
  'Joined',
  'NoChange',
  'AttributeFlow',
  'Add',
  'Disconnected',
];
const ERRORS: ErrorType[] = [
  'UnresolvedReference',
  'UnhandledError',
  'AmbiguousMatch',
  'ConnectorConfigurationError',
  'ExportNotConfirmed',
  'DuplicateObject',
];
const TREES: OutcomeInput[][] = [
  [],
  [
    {
      type: 'Projected',
      children: [{ type: 'AttributeFlow', detailCount: 2 }, { type: 'PendingExportCreated' }],
    },
  ],
  [{ type: 'Disconnected', children: [{ type: 'MvoDeleted', children: [{ type: 'DeprovisionQueued' }] }] }],
  [{ type: 'CsoAdded' }],
  [{ type: 'Joined', children: [{ type: 'AttributeFlow' }, { type: 'AttributeFlow' }] }],
  [{ type: 'AttributeFlow', detailCount: 3 }],
  [{ type: 'CsoUpdated' }, { type: 'PendingExportCreated' }],
];

/** 150 items: every name and external id several times, the other fields from a seeded source. */
function mainRunItems(): NewExecutionItem[] {
  const random = seededRandom(20260611);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  return Array.from({ length: 150 }, (_, i) => ({
    objectChangeType: pick(CHANGE_TYPES),
    displayName: NAMES[i % NAMES.length],
    externalIdValue: EXTERNAL_IDS[(i * 7 + 3) % EXTERNAL_IDS.length],
    objectType: pick(OBJECT_TYPES),
    errorType: random() < 0.3 ? pick(ERRORS) : null,
    outcomes: pick(TREES),
  }));
}

/** Six items whose order under each sort is written out by hand below. */
const SORT_RUN_ITEMS: NewExecutionItem[] = [
  {
    objectChangeType: 'Update',
    displayName: 'bob',
    externalIdValue: 'B-2',
    objectType: 'user',
    errorType: 'UnhandledError',
  },
  { objectChangeType: 'Update', displayName: 'Alice', externalIdValue: 'a-1', objectType: 'User' },
  { objectChangeType: 'Update', errorType: 'UnresolvedReference' },
  {
    objectChangeType: 'Update',
    displayName: 'alice',
    externalIdValue: 'A-1',
    objectType: 'group',
    errorType: 'AmbiguousMatch',
  },
  { objectChangeType: 'Update', displayName: 'Zoe', externalIdValue: 'z', objectType: 'éclair' },
  {
    objectChangeType: 'Update',
    displayName: '_x',
    externalIdValue: '_',
    objectType: 'Zeta',
    errorType: 'UnresolvedReference',
  },
];

const EMPTY_PAGE = {
  items: [],
  totalCount: 0,
  page: 1,
  pageSize: 25,
  totalPages: 0,
  hasNextPage: false,
  hasPreviousPage: false,
  nextCursor: null,
};

describe('GET /api/v1/activities/{id}/items: filters, search, sort and cursors', () => {
  let t: TestApp;
  let runId: string;
  let items: WrittenItem[];
  let sortRunId: string;
  let sortItems: WrittenItem[];
  let walkRunId: string;
  const nonRunId = 'c0ffee00-1234-4abc-8def-00000000f17e';

  beforeAll(async () => {
    t = await createTestApp();
    runId = (
      await t.runs.startRun({
        connectedSystemName: 'HR',
        runProfileName: 'Full Sync',
        runType: 'FullSynchronisation',
      })
    ).id;
    // Three appends, so that the counters behind the counts are built up batch by batch.
    items = await appendInBatches(t.runs, runId, mainRunItems(), 60);
    await t.runs.completeRun(runId, { status: 'CompleteWithError' });

    sortRunId = (
      await t.runs.startRun({
        connectedSystemName: 'HR',
        runProfileName: 'Sorting',
        runType: 'DeltaImport',
      })
    ).id;
    sortItems = await appendInBatches(t.runs, sortRunId, SORT_RUN_ITEMS);

    walkRunId = (
      await t.runs.startRun({ connectedSystemName: 'LDAP', runProfileName: 'Walk', runType: 'FullImport' })
    ).id;
    await t.dataSource
      .getRepository(Activity)
      .insert({ id: nonRunId, targetType: 'ConnectedSystem', status: 'Complete' });
  });

  afterAll(() => t?.close());

  const get = (path: string) => getAs(t.http, path);
  /** The list, with the envelope's arithmetic checked on every 200. */
  const list = (query: string, activityId = runId) =>
    get(`/api/v1/activities/${activityId}/items${query ? `?${query}` : ''}`).expect((res) => {
      if (res.status === 200) expectPagingArithmetic(res.body);
    });

  describe('filters', () => {
    it.each<[string, ItemQuery]>([
      ['one error type', { errorType: ['UnresolvedReference'] }],
      ['two error types', { errorType: ['AmbiguousMatch', 'UnhandledError'] }],
      ['one change type', { objectChangeType: ['Joined'] }],
      ['two change types', { objectChangeType: ['Projected', 'Joined'] }],
      ['one object type', { objectType: ['user'] }],
      ['an object type differing from another only in case', { objectType: ['User'] }],
      ['two object types', { objectType: ['user', 'group'] }],
      ['a non-ASCII object type', { objectType: ['éclair'] }],
      ['a known and an unknown object type', { objectType: ['contact', 'nobody-has-this'] }],
      ['an outcome type found at the root or as a child', { outcomeType: ['PendingExportCreated'] }],
      ['an outcome type found only three levels down', { outcomeType: ['DeprovisionQueued'] }],
      ['an outcome type found only as a child', { outcomeType: ['AttributeFlow'] }],
      ['two outcome types', { outcomeType: ['MvoDeleted', 'CsoAdded'] }],
      ['hasError=true', { hasError: true }],
      ['hasError=false', { hasError: false }],
      [
        'error type AND object type',
        { errorType: ['UnresolvedReference', 'AmbiguousMatch'], objectType: ['user'] },
      ],
      [
        'change type AND outcome type AND hasError=false',
        {
          objectChangeType: ['Update', 'Projected', 'Joined'],
          outcomeType: ['AttributeFlow'],
          hasError: false,
        },
      ],
      [
        'hasError=true AND error types',
        { hasError: true, errorType: ['DuplicateObject', 'ExportNotConfirmed'] },
      ],
      ['object type AND search', { objectType: ['user', 'User'], search: 'alice' }],
      [
        'every kind at once',
        {
          errorType: [...ERRORS],
          objectChangeType: [...CHANGE_TYPES],
          objectType: ['user', 'group', 'contact'],
          outcomeType: ['AttributeFlow', 'CsoAdded', 'PendingExportCreated'],
          hasError: true,
          search: 'e',
          sortBy: 'displayName',
        },
      ],
    ])('%s: the page, totalCount and paging fields of the filtered set', async (_label, query) => {
      const matching = expectedItems(items, query);
      // The fixture must make the filter meaningful: it keeps some items and drops others.
      expect(matching.length).toBeGreaterThan(0);
      expect(matching.length).toBeLessThan(items.length);

      const res = await list(queryString(query, { pageSize: 100 })).expect(200);
      expect(res.body).toEqual(expectedPage(matching, 1, 100));

      const second = await list(queryString(query, { pageSize: 4, page: 2 })).expect(200);
      expect(second.body).toEqual(expectedPage(matching, 2, 4));
    });

    it.each<[string, ItemQuery]>([
      ['two error types', { errorType: ['AmbiguousMatch', 'UnhandledError'] }],
      ['three change types', { objectChangeType: ['Projected', 'Joined', 'Add'] }],
      ['two object types', { objectType: ['user', 'group'] }],
      ['two outcome types', { outcomeType: ['MvoDeleted', 'CsoAdded'] }],
      [
        'lists of two kinds',
        { errorType: ['AmbiguousMatch', 'UnhandledError'], objectType: ['user', 'group'] },
      ],
    ])('%s: repeated parameters and a comma-separated list are the same filter', async (_label, query) => {
      const comma = await list(queryString(query, { pageSize: 100 }, 'comma')).expect(200);
      const repeated = await list(queryString(query, { pageSize: 100 }, 'repeated')).expect(200);
      expect(repeated.body).toEqual(comma.body);
      expect(comma.body).toEqual(expectedPage(expectedItems(items, query), 1, 100));
    });

    it('every error type listed selects exactly the items with an error', async () => {
      const all = await list(queryString({ errorType: [...ERROR_TYPES] }, { pageSize: 100 })).expect(200);
      expect(all.body).toEqual(expectedPage(expectedItems(items, { hasError: true }), 1, 100));
    });

    it('hasError=true and hasError=false split the run', async () => {
      const withErrors = await list('hasError=true&pageSize=1').expect(200);
      const without = await list('hasError=false&pageSize=1').expect(200);
      expect(withErrors.body.totalCount).toBe(items.filter((item) => item.input.errorType).length);
      expect(withErrors.body.totalCount + without.body.totalCount).toBe(items.length);
    });

    it.each<[string, string]>([
      ['an object type no item has', 'objectType=nobody-has-this'],
      ['an object type in the wrong case', 'objectType=USER'],
      ['an object type of 256 characters', `objectType=${'t'.repeat(256)}`],
      ['hasError=false with an error type', 'hasError=false&errorType=UnresolvedReference'],
      ['a change type no item has', 'objectChangeType=Exported'],
      ['an error type no item has', 'errorType=CsoCreationFailed'],
      ['an outcome type no item has', 'outcomeType=Exported'],
      ['a search nothing matches', 'search=no-such-name-anywhere'],
    ])('%s: 200 with an empty page, a zero count and no cursor', async (_label, query) => {
      const res = await list(query).expect(200);
      expect(res.body).toEqual(EMPTY_PAGE);
    });

    it('a filtered page past the end: no items, the true count, no cursor', async () => {
      const matching = expectedItems(items, { objectType: ['user'] });
      const res = await list('objectType=user&pageSize=10&page=99').expect(200);
      expect(res.body).toEqual({
        items: [],
        totalCount: matching.length,
        page: 99,
        pageSize: 10,
        totalPages: Math.ceil(matching.length / 10),
        hasNextPage: false,
        hasPreviousPage: true,
        nextCursor: null,
      });
    });

    it('the last page of a filtered set, counted from counters and counted by the query', async () => {
      for (const query of [{ objectType: ['user'] }, { objectType: ['user'], search: 'a' }] as ItemQuery[]) {
        const matching = expectedItems(items, query);
        const lastPage = Math.ceil(matching.length / 7);
        const res = await list(queryString(query, { pageSize: 7, page: lastPage })).expect(200);
        expect(res.body).toEqual(expectedPage(matching, lastPage, 7));
        expect(res.body.hasNextPage).toBe(false);
      }
    });

    it('an unfiltered list carries nextCursor too', async () => {
      const res = await list('pageSize=100').expect(200);
      expect(res.body).toEqual(expectedPage(items, 1, 100));
      const last = await list('pageSize=100&page=2').expect(200);
      expect(last.body).toEqual(expectedPage(items, 2, 100));
      expect(last.body.nextCursor).toBeNull();
    });
  });

  describe('400 for filter values', () => {
    it.each<[string, string, readonly string[]]>([
      ['errorType=Bogus', 'errorType', ERROR_TYPES],
      ['errorType=DuplicateObject,Bogus', 'errorType', ERROR_TYPES],
      ['errorType=DuplicateObject&errorType=Bogus', 'errorType', ERROR_TYPES],
      ['errorType=duplicateobject', 'errorType', ERROR_TYPES],
      ['errorType=', 'errorType', ERROR_TYPES],
      ['objectChangeType=Nope', 'objectChangeType', OBJECT_CHANGE_TYPES],
      ['objectChangeType=Joined,joined', 'objectChangeType', OBJECT_CHANGE_TYPES],
      ['outcomeType=Exploded', 'outcomeType', OUTCOME_TYPES],
      ['hasError=yes', 'hasError', ['true', 'false']],
      ['hasError=1', 'hasError', ['true', 'false']],
      ['hasError=', 'hasError', ['true', 'false']],
      ['sortBy=name', 'sortBy', SORT_BYS],
      ['sortBy=display_name', 'sortBy', SORT_BYS],
      ['sortDirection=up', 'sortDirection', ['asc', 'desc']],
      ['sortDirection=descending', 'sortDirection', ['asc', 'desc']],
    ])(
      '%s: VALIDATION_ERROR naming the parameter and listing the accepted values',
      async (query, param, accepted) => {
        const res = await list(query).expect(400);
        expectAcceptedValuesError(res.body, param, accepted);
      },
    );

    it.each<[string, string]>([
      ['hasError=true&hasError=true', 'hasError'],
      ['hasError=true&hasError=false', 'hasError'],
      ['search=a&search=b', 'search'],
      ['sortBy=displayName&sortBy=errorType', 'sortBy'],
      ['sortDirection=asc&sortDirection=desc', 'sortDirection'],
      ['objectType=', 'objectType'],
      [`objectType=${'t'.repeat(257)}`, 'objectType'],
      [`objectType=user,${'t'.repeat(257)}`, 'objectType'],
    ])('%s: VALIDATION_ERROR naming the parameter', async (query, param) => {
      const res = await list(query).expect(400);
      expect(res.body).toEqual(validationErrorNaming(param));
    });

    it('a misspelt filter is an unknown parameter, not silently ignored', async () => {
      const res = await list('errortype=DuplicateObject').expect(400);
      expect(res.body).toEqual(
        errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, { errortype: ['is not a known parameter'] }),
      );
    });

    it('checks the filters before the activity: 400, not 404, for a missing activity', async () => {
      const res = await get(
        '/api/v1/activities/0b0c0d0e-0f10-4112-8314-151617181920/items?errorType=Bogus',
      ).expect(400);
      expect(res.body.validationErrors).toEqual({ errorType: [expect.stringMatching(/^must be one of /)] });
    });

    it('a valid filter on an activity that is not a run profile is still 400 BAD_REQUEST', async () => {
      const res = await get(`/api/v1/activities/${nonRunId}/items?hasError=true`).expect(400);
      expect(res.body.code).toBe('BAD_REQUEST');
    });
  });

  describe('search', () => {
    it.each<[string, string]>([
      ['lower case finds every case', 'alice archer'],
      ['upper case finds every case', 'SMITH'],
      ['a substring in the middle', 'ice arc'],
      ['an external id', 'E00'],
      ['an external id in another case', 'CN=ADMINS'],
      ['a percent sign matches only itself', '%'],
      ['an underscore matches only itself', '_'],
      ['a backslash matches only itself', '\\'],
      ['a_b does not match axb', 'a_b'],
      ['percent inside a word', '50%o'],
      ['an apostrophe', "o'neil"],
      ['a comma', 'smith, j'],
      ['a single space', ' '],
      ['brackets', '[bracket]'],
      ['a tilde', '~'],
      ['an emoji', '🦄'],
      ['right-to-left text', 'שלום'],
      ['a non-ASCII letter', 'garcía'],
    ])('%s (%j)', async (_label, search) => {
      const matching = expectedItems(items, { search });
      expect(matching.length).toBeGreaterThan(0);
      expect(matching.length).toBeLessThan(items.length);
      const res = await list(queryString({ search }, { pageSize: 100 })).expect(200);
      expect(res.body).toEqual(expectedPage(matching, 1, 100));
    });

    it('matches the display name or the external id', async () => {
      // uid=smith is only an external id; "Jane Smith" only a display name.
      const matching = expectedItems(items, { search: 'smith' });
      expect(matching.some((item) => !item.input.displayName?.toLowerCase().includes('smith'))).toBe(true);
      expect(matching.some((item) => !item.input.externalIdValue?.toLowerCase().includes('smith'))).toBe(
        true,
      );
      const res = await list('search=smith&pageSize=100').expect(200);
      expect(res.body).toEqual(expectedPage(matching, 1, 100));
    });

    it('% and _ and \\ are literal: each finds only the items holding that character', async () => {
      for (const character of ['%', '_', '\\']) {
        const res = await list(`search=${encodeURIComponent(character)}&pageSize=100`).expect(200);
        const found = res.body.items as Array<{ displayName: string | null; externalIdValue: string | null }>;
        expect(found.length).toBeGreaterThan(0);
        for (const item of found) {
          expect(`${item.displayName ?? ''}\u0001${item.externalIdValue ?? ''}`).toContain(character);
        }
        expect(res.body.totalCount).toBe(expectedItems(items, { search: character }).length);
      }
    });

    it('accepts 256 characters', async () => {
      const res = await list(`search=${'q'.repeat(256)}`).expect(200);
      expect(res.body).toEqual(EMPTY_PAGE);
    });

    it.each<[string, string]>([
      ['empty', ''],
      ['257 characters', 'q'.repeat(257)],
      ['NUL', '\u0000'],
      ['NUL inside a word', 'smi\u0000th'],
      ['U+0001', '\u0001'],
      ['a tab', 'jane\tsmith'],
      ['a line feed', 'jane\nsmith'],
      ['a carriage return', 'jane\r'],
      ['U+001F', '\u001f'],
      ['DEL (U+007F)', 'a\u007f'],
      ['a C1 control (U+0085)', 'a\u0085'],
      ['a C1 control (U+009F)', '\u009f'],
    ])('400 naming search for %s', async (_label, search) => {
      const res = await list(`search=${encodeURIComponent(search)}`).expect(400);
      expect(res.body).toEqual(validationErrorNaming('search'));
    });
  });

  describe('sorting', () => {
    // Sequences of SORT_RUN_ITEMS in the order the README's rules give.
    it.each<[SortBy, SortDirection, number[]]>([
      ['sequence', 'asc', [1, 2, 3, 4, 5, 6]],
      ['sequence', 'desc', [6, 5, 4, 3, 2, 1]],
      // '' (missing) < '_x' < 'alice' (2) < 'alice' (4) < 'bob' < 'zoe'
      ['displayName', 'asc', [3, 6, 2, 4, 1, 5]],
      ['displayName', 'desc', [5, 1, 4, 2, 6, 3]],
      // '' (missing) < '_' < 'a-1' (2) < 'a-1' (4) < 'b-2' < 'z'
      ['externalIdValue', 'asc', [3, 6, 2, 4, 1, 5]],
      ['externalIdValue', 'desc', [5, 1, 4, 2, 6, 3]],
      // missing < 'User' < 'Zeta' < 'group' < 'user' < 'éclair' (code points)
      ['objectType', 'asc', [3, 2, 6, 4, 1, 5]],
      ['objectType', 'desc', [5, 1, 4, 6, 2, 3]],
      // AmbiguousMatch < UnresolvedReference (3, 6) < UnhandledError < no error (2, 5)
      ['errorType', 'asc', [4, 3, 6, 1, 2, 5]],
      ['errorType', 'desc', [5, 2, 1, 6, 3, 4]],
    ])(
      'sortBy=%s&sortDirection=%s orders a small run as written out by hand',
      async (sortBy, direction, order) => {
        const res = await list(`sortBy=${sortBy}&sortDirection=${direction}`, sortRunId).expect(200);
        expect(res.body.items).toEqual(order.map((sequence) => listItem(sortItems[sequence - 1])));
      },
    );

    it('sortDirection alone reverses the sequence; sortBy alone sorts ascending', async () => {
      const desc = await list('sortDirection=desc', sortRunId).expect(200);
      expect(desc.body.items.map((item: { id: string }) => item.id)).toEqual(
        [...sortItems].reverse().map((item) => item.id),
      );
      const byName = await list('sortBy=displayName', sortRunId).expect(200);
      const byNameAsc = await list('sortBy=displayName&sortDirection=asc', sortRunId).expect(200);
      expect(byName.body).toEqual(byNameAsc.body);
    });

    const sorts = SORT_BYS.flatMap((sortBy) =>
      (['asc', 'desc'] as const).map((direction) => [sortBy, direction] as [SortBy, SortDirection]),
    );

    it.each(sorts)(
      'sortBy=%s&sortDirection=%s over the whole run, ties by sequence, two pages',
      async (sortBy, sortDirection) => {
        const query: ItemQuery = { sortBy, sortDirection };
        const expected = expectedItems(items, query);
        for (const page of [1, 2]) {
          const res = await list(queryString(query, { pageSize: 100, page })).expect(200);
          expect(res.body).toEqual(expectedPage(expected, page, 100));
        }
      },
    );

    it.each(sorts)('sortBy=%s&sortDirection=%s of a filtered set', async (sortBy, sortDirection) => {
      const query: ItemQuery = {
        objectType: ['user', 'User', 'éclair'],
        hasError: false,
        sortBy,
        sortDirection,
      };
      const res = await list(queryString(query, { pageSize: 100 })).expect(200);
      expect(res.body).toEqual(expectedPage(expectedItems(items, query), 1, 100));
    });

    it('page numbers of a sorted set never overlap nor skip', async () => {
      const query: ItemQuery = { sortBy: 'displayName' };
      const seen: string[] = [];
      for (let page = 1; page <= Math.ceil(items.length / 9); page++) {
        const res = await list(queryString(query, { pageSize: 9, page })).expect(200);
        seen.push(...res.body.items.map((item: { id: string }) => item.id));
      }
      expect(seen).toEqual(expectedItems(items, query).map((item) => item.id));
    });
  });

  describe('cursors', () => {
    /** Walks from the first page of `query` through every `nextCursor`, given alone. */
    async function walk(query: ItemQuery, pageSize: number, activityId = runId) {
      const bodies: Array<Record<string, unknown>> = [];
      let res = await list(queryString(query, { pageSize }), activityId).expect(200);
      bodies.push(res.body);
      while (typeof res.body.nextCursor === 'string' && bodies.length <= items.length + 1) {
        res = await list(`cursor=${encodeURIComponent(res.body.nextCursor)}`, activityId).expect(200);
        bodies.push(res.body);
      }
      return bodies;
    }

    it.each<[string, ItemQuery, number]>([
      ['no filter, by sequence, the last page full', {}, 25],
      ['hasError=false by displayName', { hasError: false, sortBy: 'displayName' }, 7],
      [
        'two change types by objectType desc',
        { objectChangeType: ['Joined', 'Update'], sortBy: 'objectType', sortDirection: 'desc' },
        5,
      ],
      ['everything by errorType', { sortBy: 'errorType' }, 4],
      [
        'a search by externalIdValue desc',
        { search: 'e', sortBy: 'externalIdValue', sortDirection: 'desc' },
        3,
      ],
      ['an outcome type by sequence desc', { outcomeType: ['AttributeFlow'], sortDirection: 'desc' }, 10],
      [
        'object types and a search by errorType desc',
        { objectType: ['user', 'User'], search: 'a', sortBy: 'errorType', sortDirection: 'desc' },
        2,
      ],
    ])(
      '%s: every match exactly once, in order, ending with nextCursor null',
      async (_label, query, pageSize) => {
        const expected = expectedItems(items, query);
        expect(expected.length).toBeGreaterThan(pageSize);
        const bodies = await walk(query, pageSize);
        bodies.forEach((body, index) => expect(body).toEqual(expectedPage(expected, index + 1, pageSize)));
        expect(bodies).toHaveLength(Math.ceil(expected.length / pageSize));
        const ids = bodies.flatMap((body) => (body.items as Array<{ id: string }>).map((item) => item.id));
        expect(ids).toEqual(expected.map((item) => item.id));
        expect(new Set(ids).size).toBe(ids.length);
        expect(bodies[bodies.length - 1].nextCursor).toBeNull();
      },
    );

    it('a set that fills its pages exactly ends on a full page with nextCursor null', async () => {
      const query: ItemQuery = { objectType: ['group'], sortBy: 'displayName', sortDirection: 'desc' };
      const expected = expectedItems(items, query);
      const pageSize =
        [...Array(expected.length).keys()]
          .reverse()
          .find((size) => size > 1 && expected.length % size === 0 && size < expected.length) ??
        expected.length;
      const bodies = await walk(query, pageSize);
      expect(bodies).toHaveLength(expected.length / pageSize);
      bodies.forEach((body, index) => expect(body).toEqual(expectedPage(expected, index + 1, pageSize)));
    });

    it('the cursor alone continues the same query; repeating the same parameters gives the same page', async () => {
      const query: ItemQuery = {
        objectType: ['user', 'group'],
        errorType: ['UnresolvedReference', 'UnhandledError', 'AmbiguousMatch', 'DuplicateObject'],
        sortBy: 'externalIdValue',
        sortDirection: 'desc',
      };
      const expected = expectedItems(items, query);
      expect(expected.length).toBeGreaterThan(6);
      const first = await list(queryString(query, { pageSize: 3 })).expect(200);
      const cursor = first.body.nextCursor as string;
      expect(typeof cursor).toBe('string');

      const alone = await list(`cursor=${encodeURIComponent(cursor)}`).expect(200);
      expect(alone.body).toEqual(expectedPage(expected, 2, 3));
      const withSame = await list(queryString(query, { pageSize: 3, cursor })).expect(200);
      expect(withSame.body).toEqual(alone.body);
      const withSameRepeated = await list(queryString(query, { pageSize: 3, cursor }, 'repeated')).expect(
        200,
      );
      expect(withSameRepeated.body).toEqual(alone.body);
    });

    it('the cursor of a page reached by number leads to the page after it', async () => {
      const query: ItemQuery = { hasError: false, sortBy: 'objectType' };
      const expected = expectedItems(items, query);
      const third = await list(queryString(query, { pageSize: 6, page: 3 })).expect(200);
      expect(third.body).toEqual(expectedPage(expected, 3, 6));
      const fourth = await list(`cursor=${encodeURIComponent(third.body.nextCursor)}`).expect(200);
      expect(fourth.body).toEqual(expectedPage(expected, 4, 6));
    });

    it('a walk by sequence of a run being written sees every item once, including those written meanwhile', async () => {
      const wItems = (from: number, to: number): NewExecutionItem[] =>
        Array.from({ length: to - from + 1 }, (_, i) => ({
          objectChangeType: 'Add',
          displayName: `W${from + i}`,
          errorType: (from + i) % 2 === 1 ? 'DuplicateObject' : null,
        }));
      const before = await appendInBatches(t.runs, walkRunId, wItems(1, 30));
      const bodies: Array<Record<string, unknown>> = [];
      let res = await list('hasError=true&pageSize=4', walkRunId).expect(200);
      bodies.push(res.body);
      res = await list(`cursor=${encodeURIComponent(res.body.nextCursor)}`, walkRunId).expect(200);
      bodies.push(res.body);

      const after = await appendInBatches(t.runs, walkRunId, wItems(31, 40));
      while (typeof res.body.nextCursor === 'string' && bodies.length < 20) {
        res = await list(`cursor=${encodeURIComponent(res.body.nextCursor)}`, walkRunId).expect(200);
        bodies.push(res.body);
      }
      const expected = expectedItems([...before, ...after], { hasError: true });
      expect(expected).toHaveLength(20);
      const ids = bodies.flatMap((body) => (body.items as Array<{ id: string }>).map((item) => item.id));
      expect(ids).toEqual(expected.map((item) => item.id));
      expect(bodies.map((body) => body.page)).toEqual([1, 2, 3, 4, 5]);
      expect(bodies[bodies.length - 1]).toEqual(expectedPage(expected, 5, 4));
    });

    it('the same page by number and by cursor, for every page of a filtered, sorted set', async () => {
      const query: ItemQuery = {
        outcomeType: ['PendingExportCreated', 'CsoAdded'],
        sortBy: 'displayName',
        sortDirection: 'desc',
      };
      const expected = expectedItems(items, query);
      const bodies = await walk(query, 6);
      for (let page = 1; page <= bodies.length; page++) {
        const res = await list(queryString(query, { pageSize: 6, page })).expect(200);
        expect({ ...res.body, nextCursor: null }).toEqual({ ...bodies[page - 1], nextCursor: null });
        expect(res.body).toEqual(expectedPage(expected, page, 6));
      }
    });

    describe('400', () => {
      let cursor: string;
      const query: ItemQuery = {
        errorType: ['UnresolvedReference', 'AmbiguousMatch'],
        sortBy: 'displayName',
      };

      beforeAll(async () => {
        const res = await list(queryString(query, { pageSize: 2 })).expect(200);
        cursor = res.body.nextCursor;
        expect(typeof cursor).toBe('string');
      });

      it.each(['page=1', 'page=2'])('with %s: VALIDATION_ERROR naming page', async (page) => {
        const res = await list(`cursor=${encodeURIComponent(cursor)}&${page}`).expect(400);
        expect(res.body).toEqual(validationErrorNaming('page'));
        const withQuery = await list(`${queryString(query, { pageSize: 2, cursor })}&${page}`).expect(400);
        expect(withQuery.body).toEqual(validationErrorNaming('page'));
      });

      it.each<[string, ItemQuery]>([
        ['another error type', { ...query, errorType: ['UnresolvedReference'] }],
        ['another sortBy', { ...query, sortBy: 'externalIdValue' }],
        ['another sortDirection', { ...query, sortDirection: 'desc' }],
        ['an added filter', { ...query, hasError: true }],
        ['an added search', { ...query, search: 'a' }],
        ['an added object type', { ...query, objectType: ['user'] }],
      ])('with %s: VALIDATION_ERROR naming cursor', async (_label, other) => {
        const res = await list(queryString(other, { pageSize: 2, cursor })).expect(400);
        expect(res.body).toEqual(validationErrorNaming('cursor'));
      });

      it.each<[string, () => string]>([
        ['garbage', () => 'garbage'],
        ['empty', () => ''],
        ['base64 of a JSON object that is no cursor', () => Buffer.from('{"v":1}').toString('base64url')],
        ['base64 of a non-JSON text', () => Buffer.from('hello, world').toString('base64url')],
        ['the first half of a real cursor', () => cursor.slice(0, Math.floor(cursor.length / 2))],
        ['a real cursor with junk appended', () => `${cursor}!!`],
        ['a very long string', () => 'A'.repeat(10_000)],
      ])('%s: VALIDATION_ERROR naming cursor', async (_label, value) => {
        const res = await list(`cursor=${encodeURIComponent(value())}`).expect(400);
        expect(res.body).toEqual(validationErrorNaming('cursor'));
      });

      it("another activity's cursor: VALIDATION_ERROR naming cursor", async () => {
        const other = await list('pageSize=2', sortRunId).expect(200);
        const res = await list(`cursor=${encodeURIComponent(other.body.nextCursor)}`).expect(400);
        expect(res.body).toEqual(validationErrorNaming('cursor'));
      });

      it('a repeated cursor: VALIDATION_ERROR naming cursor', async () => {
        const encoded = encodeURIComponent(cursor);
        const res = await list(`cursor=${encoded}&cursor=${encoded}`).expect(400);
        expect(res.body).toEqual(validationErrorNaming('cursor'));
      });
    });
  });
});
