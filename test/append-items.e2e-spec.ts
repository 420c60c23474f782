import {
  Activity,
  ExecutionItemsError,
  ERROR_TYPES,
  MAX_ITEMS_PER_BATCH,
  OBJECT_CHANGE_TYPES,
  OUTCOME_TYPES,
  type NewExecutionItem,
  type StartRunRequest,
} from '../src/execution-items';
import { createTestApp, type TestApp } from './support/test-app';

const MISSING_ID = '0b0c0d0e-0f10-4112-8314-151617181920';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIMESTAMP = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
const NAME_MESSAGE = 'must be a non-empty string of at most 400 characters';
const RUN_TYPE_MESSAGE =
  'must be one of FullImport, DeltaImport, FullSynchronisation, DeltaSynchronisation, Export';
const FINAL_STATUS_MESSAGE =
  'must be one of Complete, CompleteWithWarning, CompleteWithError, FailedWithError, Cancelled';
const BATCH_MESSAGE = 'The batch is not valid; nothing was written.';
const unknownValue = (value: string, accepted: readonly string[]) =>
  `unknown value ${JSON.stringify(value)}; accepted: ${accepted.join(', ')}`;

/** The run's counters as stored. */
interface Counters {
  item_count: number;
  error_item_count: number;
  change_type_counts: Record<string, number>;
  error_type_counts: Record<string, number>;
  object_type_counts: Record<string, number>;
  outcome_type_counts: Record<string, number>;
}

/** Stored item columns, in sequence order. */
interface StoredItem {
  sequence: number;
  id: string;
  object_change_type: string;
  error_type: string | null;
  external_id_value: string | null;
  display_name: string | null;
  object_type: string | null;
  outcome_summary: string | null;
  error_message: string | null;
  error_stack_trace: string | null;
}

// One Projected root with an AttributeFlow child and two PendingExportCreated children (contract §3).
const PROJECTED: NewExecutionItem = {
  objectChangeType: 'Projected',
  externalIdValue: 'E1001',
  displayName: 'Ann Archer',
  objectType: 'user',
  outcomes: [
    {
      type: 'Projected',
      detailMessage: 'projected to a new person',
      children: [
        { type: 'PendingExportCreated', targetId: 'cs-ldap', targetDescription: 'LDAP' },
        { type: 'AttributeFlow', detailCount: 5 },
        { type: 'PendingExportCreated', targetId: 'cs-scim', targetDescription: 'SCIM App' },
      ],
    },
  ],
};
const JOINED: NewExecutionItem = {
  objectChangeType: 'Joined',
  displayName: 'Ben Baker',
  objectType: 'user',
  outcomes: [{ type: 'Joined', children: [{ type: 'AttributeFlow' }, { type: 'AttributeFlow' }] }],
};
const BROKEN: NewExecutionItem = {
  objectChangeType: 'NoChange',
  externalIdValue: 'G77',
  displayName: 'Admins',
  objectType: 'group',
  errorType: 'UnresolvedReference',
  errorMessage: 'member points nowhere',
  errorStackTrace: 'at resolve (sync.ts:10)\nat run (sync.ts:99)',
};
const FLOWED: NewExecutionItem = {
  objectChangeType: 'AttributeFlow',
  displayName: 'Staff',
  objectType: 'group',
  outcomes: [{ type: 'AttributeFlow', detailCount: 12 }],
};
const DISCONNECTED: NewExecutionItem = {
  objectChangeType: 'Disconnected',
  errorType: 'AmbiguousMatch',
  outcomes: [
    { type: 'Disconnected', children: [{ type: 'MvoDeleted', children: [{ type: 'DeprovisionQueued' }] }] },
  ],
};
const CONTACT: NewExecutionItem = {
  objectChangeType: 'Joined',
  displayName: 'Cy Contact',
  objectType: 'contact',
  errorType: 'UnresolvedReference',
  outcomes: [{ type: 'AttributeFlow' }, { type: 'Joined' }],
};

describe('ExecutionItemsService write path (startRun, appendItems, completeRun)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(() => t?.close());

  let runNumber = 0;
  const startRun = (request: Partial<StartRunRequest> = {}) =>
    t.runs.startRun({
      connectedSystemName: 'HR',
      runProfileName: `Run ${++runNumber}`,
      runType: 'FullSynchronisation',
      ...request,
    });

  const counters = async (activityId: string): Promise<Counters> => {
    const [row] = await t.dataSource.query(
      `SELECT item_count, error_item_count, change_type_counts, error_type_counts, object_type_counts,
              outcome_type_counts
         FROM activities WHERE id = $1`,
      [activityId],
    );
    return row;
  };

  const storedItems = (activityId: string): Promise<StoredItem[]> =>
    t.dataSource.query(
      `SELECT sequence, id, object_change_type, error_type, external_id_value, display_name, object_type,
              outcome_summary, error_message, error_stack_trace
         FROM execution_items WHERE activity_id = $1 ORDER BY sequence`,
      [activityId],
    );

  const sequences = async (activityId: string): Promise<number[]> =>
    (
      await t.dataSource.query(
        'SELECT sequence FROM execution_items WHERE activity_id = $1 ORDER BY sequence',
        [activityId],
      )
    ).map((row: { sequence: number }) => row.sequence);

  const totalItems = async (): Promise<number> =>
    (await t.dataSource.query('SELECT count(*)::int AS count FROM execution_items'))[0].count;

  const activityRow = async (activityId: string) =>
    (
      await t.dataSource.query('SELECT status, completed, created FROM activities WHERE id = $1', [
        activityId,
      ])
    )[0] as { status: string; completed: Date | null; created: Date } | undefined;

  const adds = (count: number, prefix: string): NewExecutionItem[] =>
    Array.from({ length: count }, (_, i) => ({ objectChangeType: 'Add', displayName: `${prefix}-${i}` }));

  describe('startRun', () => {
    it('records a run in progress with a generated id and empty counters', async () => {
      const run = await t.runs.startRun({
        connectedSystemName: 'LDAP',
        runProfileName: 'Full Import',
        runType: 'FullImport',
      });
      expect(run).toEqual({
        id: expect.stringMatching(GUID),
        created: TIMESTAMP,
        completed: null,
        status: 'InProgress',
        targetType: 'ConnectedSystemRunProfile',
        targetName: 'Full Import',
        targetContext: 'LDAP',
        runType: 'FullImport',
        itemCount: 0,
        itemsWithErrors: 0,
      });
      const [row] = await t.dataSource.query(
        `SELECT target_type, target_name, target_context, run_type, status, completed, item_count,
                error_item_count, change_type_counts, error_type_counts, object_type_counts, outcome_type_counts
           FROM activities WHERE id = $1`,
        [run.id],
      );
      expect(row).toEqual({
        target_type: 'ConnectedSystemRunProfile',
        target_name: 'Full Import',
        target_context: 'LDAP',
        run_type: 'FullImport',
        status: 'InProgress',
        completed: null,
        item_count: 0,
        error_item_count: 0,
        change_type_counts: {},
        error_type_counts: {},
        object_type_counts: {},
        outcome_type_counts: {},
      });
    });

    it('generates a different id for every run', async () => {
      const [a, b] = await Promise.all([startRun(), startRun()]);
      expect(a.id).not.toBe(b.id);
    });

    it('uses a caller-supplied id, stored in lower case', async () => {
      const id = 'C0FFEE00-1234-4ABC-8DEF-0000000000AA';
      const run = await startRun({ id });
      expect(run.id).toBe(id.toLowerCase());
      expect(await t.dataSource.query('SELECT id FROM activities WHERE id = $1', [id])).toEqual([
        { id: id.toLowerCase() },
      ]);
    });

    it.each([
      ['the same id', 'c0ffee00-1234-4abc-8def-0000000000bb'],
      ['the same id in upper case', 'C0FFEE00-1234-4ABC-8DEF-0000000000BB'],
    ])('rejects a second run with %s as BAD_REQUEST and keeps the first', async (_case, again) => {
      const id = 'c0ffee00-1234-4abc-8def-0000000000bb';
      if (!(await activityRow(id))) await startRun({ id, runProfileName: 'First' });
      await expect(startRun({ id: again, runProfileName: 'Second' })).rejects.toMatchObject({
        reason: 'ActivityExists',
        message: `An activity with ID ${id} already exists.`,
        validationErrors: null,
      });
      expect(await t.dataSource.query('SELECT target_name FROM activities WHERE id = $1', [id])).toEqual([
        { target_name: 'First' },
      ]);
    });

    it('rejects an id already used by an activity that is not a run', async () => {
      const id = 'c0ffee00-1234-4abc-8def-0000000000cc';
      await t.dataSource.getRepository(Activity).insert({ id, targetType: 'Schedule', status: 'Complete' });
      await expect(startRun({ id })).rejects.toMatchObject({ reason: 'ActivityExists' });
      expect(await activityRow(id)).toMatchObject({ status: 'Complete' });
    });

    it('accepts names of exactly 400 characters', async () => {
      const run = await startRun({ connectedSystemName: 'c'.repeat(400), runProfileName: 'p'.repeat(400) });
      expect(run).toMatchObject({ targetContext: 'c'.repeat(400), targetName: 'p'.repeat(400) });
    });

    it.each<[string, Record<string, unknown>, Record<string, string[]>]>([
      [
        'an empty connected system name',
        { connectedSystemName: '' },
        { connectedSystemName: [NAME_MESSAGE] },
      ],
      ['a blank run profile name', { runProfileName: '   ' }, { runProfileName: [NAME_MESSAGE] }],
      ['a name of 401 characters', { runProfileName: 'p'.repeat(401) }, { runProfileName: [NAME_MESSAGE] }],
      [
        'a name with a NUL character',
        { connectedSystemName: 'H\u0000R' },
        { connectedSystemName: [NAME_MESSAGE] },
      ],
      ['a missing name', { connectedSystemName: undefined }, { connectedSystemName: [NAME_MESSAGE] }],
      ['a name that is not a string', { runProfileName: 42 }, { runProfileName: [NAME_MESSAGE] }],
      ['an unknown run type', { runType: 'FullSync' }, { runType: [RUN_TYPE_MESSAGE] }],
      ['a run type in the wrong case', { runType: 'fullimport' }, { runType: [RUN_TYPE_MESSAGE] }],
      ['an id that is not a GUID', { id: 'run-1' }, { id: ['must be a GUID'] }],
      ['an id in braces', { id: `{${MISSING_ID}}` }, { id: ['must be a GUID'] }],
      [
        'everything wrong at once',
        { connectedSystemName: '', runProfileName: null, runType: 'Sync', id: 'x' },
        {
          connectedSystemName: [NAME_MESSAGE],
          runProfileName: [NAME_MESSAGE],
          runType: [RUN_TYPE_MESSAGE],
          id: ['must be a GUID'],
        },
      ],
    ])('rejects %s as InvalidInput naming the field, writing nothing', async (_case, change, errors) => {
      const [{ count: before }] = await t.dataSource.query('SELECT count(*)::int AS count FROM activities');
      const request = {
        connectedSystemName: 'HR',
        runProfileName: 'Full Sync',
        runType: 'FullImport',
        ...change,
      };
      await expect(t.runs.startRun(request as StartRunRequest)).rejects.toMatchObject({
        reason: 'InvalidInput',
        message: 'The run is not valid.',
        validationErrors: errors,
      });
      const [{ count: after }] = await t.dataSource.query('SELECT count(*)::int AS count FROM activities');
      expect(after).toBe(before);
    });
  });

  describe('appendItems', () => {
    it('numbers items densely from 1 in batch order across batches, and says what it wrote', async () => {
      const run = await startRun();
      const first = await t.runs.appendItems(run.id, adds(3, 'a'));
      const second = await t.runs.appendItems(run.id, adds(1, 'b'));
      const third = await t.runs.appendItems(run.id, adds(5, 'c'));

      expect([first, second, third]).toEqual([
        {
          activityId: run.id,
          itemIds: expect.any(Array),
          firstSequence: 1,
          lastSequence: 3,
          itemCount: 3,
          replayed: false,
        },
        {
          activityId: run.id,
          itemIds: expect.any(Array),
          firstSequence: 4,
          lastSequence: 4,
          itemCount: 4,
          replayed: false,
        },
        {
          activityId: run.id,
          itemIds: expect.any(Array),
          firstSequence: 5,
          lastSequence: 9,
          itemCount: 9,
          replayed: false,
        },
      ]);
      const rows: StoredItem[] = await storedItems(run.id);
      expect(rows.map((row) => [row.sequence, row.display_name])).toEqual([
        [1, 'a-0'],
        [2, 'a-1'],
        [3, 'a-2'],
        [4, 'b-0'],
        [5, 'c-0'],
        [6, 'c-1'],
        [7, 'c-2'],
        [8, 'c-3'],
        [9, 'c-4'],
      ]);
      expect(rows.map((row) => row.id)).toEqual([...first.itemIds, ...second.itemIds, ...third.itemIds]);
      expect(new Set(rows.map((row) => row.id)).size).toBe(9);
      rows.forEach((row) => expect(row.id).toMatch(GUID));
      expect((await counters(run.id)).item_count).toBe(9);
    });

    it('stores every field, with the outcome summary derived from the tree (contract §3)', async () => {
      const run = await startRun();
      const { itemIds } = await t.runs.appendItems(run.id, [PROJECTED, JOINED, BROKEN]);
      expect(await storedItems(run.id)).toEqual([
        {
          sequence: 1,
          id: itemIds[0],
          object_change_type: 'Projected',
          error_type: null,
          external_id_value: 'E1001',
          display_name: 'Ann Archer',
          object_type: 'user',
          outcome_summary: 'Projected:1,AttributeFlow:1,PendingExportCreated:2',
          error_message: null,
          error_stack_trace: null,
        },
        {
          sequence: 2,
          id: itemIds[1],
          object_change_type: 'Joined',
          error_type: null,
          external_id_value: null,
          display_name: 'Ben Baker',
          object_type: 'user',
          outcome_summary: 'Joined:1,AttributeFlow:2',
          error_message: null,
          error_stack_trace: null,
        },
        {
          sequence: 3,
          id: itemIds[2],
          object_change_type: 'NoChange',
          error_type: 'UnresolvedReference',
          external_id_value: 'G77',
          display_name: 'Admins',
          object_type: 'group',
          outcome_summary: null,
          error_message: 'member points nowhere',
          error_stack_trace: 'at resolve (sync.ts:10)\nat run (sync.ts:99)',
        },
      ]);
    });

    it('lists summary types in canonical order, whatever the order in the tree', async () => {
      const run = await startRun();
      await t.runs.appendItems(run.id, [
        {
          objectChangeType: 'Disconnected',
          outcomes: [
            { type: 'DeprovisionQueued' },
            { type: 'Disconnected', children: [{ type: 'MvoDeleted', children: [{ type: 'CsoAdded' }] }] },
            { type: 'AttributeFlow' },
            { type: 'AttributeFlow' },
            { type: 'AttributeFlow' },
          ],
        },
      ]);
      const [row] = await storedItems(run.id);
      expect(row.outcome_summary).toBe(
        'CsoAdded:1,AttributeFlow:3,Disconnected:1,MvoDeleted:1,DeprovisionQueued:1',
      );
    });

    it('stores the whole outcome tree in outcomes, in order, with only the node fields sent', async () => {
      const run = await startRun();
      const withExtra = {
        objectChangeType: 'Joined' as const,
        outcomes: [{ type: 'Joined' as const, detailCount: 2, note: 'not a node field', children: [] }],
      };
      await t.runs.appendItems(run.id, [PROJECTED, BROKEN, withExtra as NewExecutionItem]);
      const rows = await t.dataSource.query(
        'SELECT outcomes FROM execution_items WHERE activity_id = $1 ORDER BY sequence',
        [run.id],
      );
      expect(rows).toEqual([
        {
          outcomes: [
            {
              type: 'Projected',
              detailMessage: 'projected to a new person',
              children: [
                { type: 'PendingExportCreated', targetId: 'cs-ldap', targetDescription: 'LDAP' },
                { type: 'AttributeFlow', detailCount: 5 },
                { type: 'PendingExportCreated', targetId: 'cs-scim', targetDescription: 'SCIM App' },
              ],
            },
          ],
        },
        { outcomes: [] },
        { outcomes: [{ type: 'Joined', detailCount: 2, children: [] }] },
      ]);
    });

    it('stores text exactly, including tabs, newlines, backslashes, quotes and non-ASCII', async () => {
      const awkward = [
        'tab\there',
        'line\nbreak\r\nand return',
        'back\\slash \\N \\. and \\t',
        `"double" 'single' {brace} [bracket] a,b`,
        'NULL',
        '\\N',
        '',
        'Zoë Ångström 山田 🚀',
      ];
      const run = await startRun();
      await t.runs.appendItems(
        run.id,
        awkward.map((text) => ({
          objectChangeType: 'Update',
          externalIdValue: text,
          displayName: text,
          objectType: text,
          errorMessage: text,
          errorStackTrace: text,
          outcomes: [{ type: 'AttributeFlow', detailMessage: text, targetId: text, targetDescription: text }],
        })),
      );
      const rows = await t.dataSource.query(
        `SELECT external_id_value, display_name, object_type, error_message, error_stack_trace,
                outcomes->0->>'detailMessage' AS detail_message, outcomes->0->>'targetId' AS target_id,
                outcomes->0->>'targetDescription' AS target_description
           FROM execution_items WHERE activity_id = $1 ORDER BY sequence`,
        [run.id],
      );
      expect(rows).toEqual(
        awkward.map((text) => ({
          external_id_value: text,
          display_name: text,
          object_type: text,
          error_message: text,
          error_stack_trace: text,
          detail_message: text,
          target_id: text,
          target_description: text,
        })),
      );
    });

    it('keeps the run counters exact across batches; outcome type counts count items', async () => {
      const run = await startRun();
      await t.runs.appendItems(run.id, [PROJECTED, JOINED, BROKEN]);
      expect(await counters(run.id)).toEqual({
        item_count: 3,
        error_item_count: 1,
        change_type_counts: { Projected: 1, Joined: 1, NoChange: 1 },
        error_type_counts: { UnresolvedReference: 1 },
        object_type_counts: { user: 2, group: 1 },
        outcome_type_counts: { Projected: 1, Joined: 1, AttributeFlow: 2, PendingExportCreated: 1 },
      });

      await t.runs.appendItems(run.id, [FLOWED, DISCONNECTED]);
      await t.runs.appendItems(run.id, [CONTACT]);
      expect(await counters(run.id)).toEqual({
        item_count: 6,
        error_item_count: 3,
        change_type_counts: { Projected: 1, Joined: 2, NoChange: 1, AttributeFlow: 1, Disconnected: 1 },
        error_type_counts: { UnresolvedReference: 2, AmbiguousMatch: 1 },
        // DISCONNECTED has no object type, so it is not counted here.
        object_type_counts: { user: 2, group: 2, contact: 1 },
        outcome_type_counts: {
          Projected: 1,
          Joined: 2,
          AttributeFlow: 4,
          PendingExportCreated: 1,
          Disconnected: 1,
          MvoDeleted: 1,
          DeprovisionQueued: 1,
        },
      });
      expect((await activityRow(run.id))?.status).toBe('InProgress');
    });

    it('accepts text at the length limit and a batch of exactly MAX_ITEMS_PER_BATCH items', async () => {
      const run = await startRun();
      const batch: NewExecutionItem[] = Array.from({ length: MAX_ITEMS_PER_BATCH }, () => ({
        objectChangeType: 'Add',
      }));
      batch[0] = {
        objectChangeType: 'Add',
        displayName: 'd'.repeat(1024),
        externalIdValue: 'e'.repeat(1024),
      };
      const result = await t.runs.appendItems(run.id, batch);
      expect(result).toMatchObject({ firstSequence: 1, lastSequence: MAX_ITEMS_PER_BATCH });
      const [row] = await t.dataSource.query(
        `SELECT count(*)::int AS count, min(sequence) AS min, max(sequence) AS max,
                max(length(display_name)) AS longest
           FROM execution_items WHERE activity_id = $1`,
        [run.id],
      );
      expect(row).toEqual({ count: MAX_ITEMS_PER_BATCH, min: 1, max: MAX_ITEMS_PER_BATCH, longest: 1024 });
      expect(await counters(run.id)).toMatchObject({
        item_count: MAX_ITEMS_PER_BATCH,
        change_type_counts: { Add: MAX_ITEMS_PER_BATCH },
      });
    });

    describe('a batch with one bad item is rejected and writes nothing', () => {
      let runId: string;

      beforeAll(async () => {
        runId = (await startRun()).id;
        await t.runs.appendItems(runId, [PROJECTED, BROKEN]);
      });

      const good: NewExecutionItem = { objectChangeType: 'Update', displayName: 'Good', objectType: 'user' };

      /** Appends `[good, bad, good]` and checks that the run and the table are untouched. */
      async function expectRejected(
        batch: unknown[],
        validationErrors: Record<string, string[]>,
        message?: string,
      ) {
        const before = {
          counters: await counters(runId),
          items: await storedItems(runId),
          total: await totalItems(),
        };
        await expect(t.runs.appendItems(runId, batch as NewExecutionItem[])).rejects.toMatchObject({
          reason: 'InvalidInput',
          message: message ?? BATCH_MESSAGE,
          validationErrors,
        });
        expect(await counters(runId)).toEqual(before.counters);
        expect(await storedItems(runId)).toEqual(before.items);
        expect(await totalItems()).toBe(before.total);
      }

      it.each<[string, unknown, Record<string, string[]>]>([
        [
          'an unknown objectChangeType',
          { objectChangeType: 'Renamed' },
          { 'items[1].objectChangeType': [unknownValue('Renamed', OBJECT_CHANGE_TYPES)] },
        ],
        [
          'a missing objectChangeType',
          { displayName: 'No change type' },
          {
            'items[1].objectChangeType': [
              `unknown value undefined; accepted: ${OBJECT_CHANGE_TYPES.join(', ')}`,
            ],
          },
        ],
        [
          'an unknown errorType',
          { objectChangeType: 'Update', errorType: 'Oops' },
          { 'items[1].errorType': [unknownValue('Oops', ERROR_TYPES)] },
        ],
        [
          'an unknown outcome type nested in children',
          {
            objectChangeType: 'Projected',
            outcomes: [{ type: 'Projected', children: [{ type: 'AttributeFlow' }, { type: 'Teleported' }] }],
          },
          { 'items[1].outcomes[0].children[1].type': [unknownValue('Teleported', OUTCOME_TYPES)] },
        ],
        [
          'a NUL character in displayName',
          { objectChangeType: 'Update', displayName: 'Jane\u0000Smith' },
          { 'items[1].displayName': ['must not contain NUL characters'] },
        ],
        [
          'a NUL character in a nested detailMessage',
          {
            objectChangeType: 'Update',
            outcomes: [{ type: 'Joined', children: [{ type: 'AttributeFlow', detailMessage: 'a\u0000b' }] }],
          },
          { 'items[1].outcomes[0].children[0].detailMessage': ['must not contain NUL characters'] },
        ],
        [
          'a displayName one character too long',
          { objectChangeType: 'Update', displayName: 'd'.repeat(1025) },
          { 'items[1].displayName': ['must be at most 1024 characters'] },
        ],
        [
          'an objectType one character too long',
          { objectChangeType: 'Update', objectType: 'o'.repeat(257) },
          { 'items[1].objectType': ['must be at most 256 characters'] },
        ],
        [
          'a displayName that is not a string',
          { objectChangeType: 'Update', displayName: 42 },
          { 'items[1].displayName': ['must be a string or null'] },
        ],
        [
          'a negative detailCount',
          { objectChangeType: 'Update', outcomes: [{ type: 'AttributeFlow', detailCount: -1 }] },
          { 'items[1].outcomes[0].detailCount': ['must be a non-negative integer'] },
        ],
        ['an item that is not an object', null, { 'items[1]': ['must be an object'] }],
        [
          'outcomes that are not an array',
          { objectChangeType: 'Update', outcomes: { type: 'Joined' } },
          { 'items[1].outcomes': ['must be an array'] },
        ],
      ])('%s', async (_case, bad, validationErrors) => {
        await expectRejected([good, bad, good], validationErrors);
      });

      it('names every bad field of every bad item', async () => {
        await expectRejected(
          [
            { objectChangeType: 'Nope', displayName: 'x'.repeat(1025) },
            good,
            { objectChangeType: 'Update', errorType: 'Oops' },
          ],
          {
            'items[0].objectChangeType': [unknownValue('Nope', OBJECT_CHANGE_TYPES)],
            'items[0].displayName': ['must be at most 1024 characters'],
            'items[2].errorType': [unknownValue('Oops', ERROR_TYPES)],
          },
        );
      });

      it('lists at most 20 problems and says how many more there are', async () => {
        const batch = Array.from({ length: 25 }, () => ({ objectChangeType: 'Nope' }));
        const before = await totalItems();
        const error: ExecutionItemsError = await t.runs.appendItems(runId, batch as never).then(
          () => {
            throw new Error('the batch was accepted');
          },
          (rejection: ExecutionItemsError) => rejection,
        );
        expect(error).toBeInstanceOf(ExecutionItemsError);
        expect(error).toMatchObject({
          reason: 'InvalidInput',
          message: BATCH_MESSAGE,
          details: '5 more problems not listed.',
        });
        expect(Object.keys(error.validationErrors ?? {})).toEqual(
          Array.from({ length: 20 }, (_, i) => `items[${i}].objectChangeType`),
        );
        expect(await totalItems()).toBe(before);
      });

      it('an empty batch', async () => {
        await expectRejected([], { items: ['must be a non-empty array'] }, 'The batch is not valid.');
      });

      it('a batch of more than MAX_ITEMS_PER_BATCH items', async () => {
        await expectRejected(
          Array.from({ length: MAX_ITEMS_PER_BATCH + 1 }, () => good),
          { items: [`must hold at most ${MAX_ITEMS_PER_BATCH} items; split the batch`] },
          'The batch is not valid.',
        );
      });

      it('leaves the run usable: the next good batch continues the sequence', async () => {
        const result = await t.runs.appendItems(runId, [good]);
        expect(result).toMatchObject({ firstSequence: 3, lastSequence: 3, itemCount: 3 });
        expect(await sequences(runId)).toEqual([1, 2, 3]);
      });
    });

    describe('to an activity that cannot take items', () => {
      it('ActivityNotFound for a missing activity, writing nothing', async () => {
        const before = await totalItems();
        await expect(t.runs.appendItems(MISSING_ID, [PROJECTED])).rejects.toMatchObject({
          reason: 'ActivityNotFound',
          message: `Activity with ID ${MISSING_ID} not found.`,
          validationErrors: null,
        });
        expect(await totalItems()).toBe(before);
      });

      it('NotARun for an activity that is not a run profile, writing nothing', async () => {
        const id = 'c0ffee00-1234-4abc-8def-0000000000dd';
        await t.dataSource
          .getRepository(Activity)
          .insert({ id, targetType: 'ConnectedSystem', status: 'InProgress', targetName: 'HR' });
        const before = await totalItems();
        await expect(t.runs.appendItems(id, [PROJECTED])).rejects.toMatchObject({
          reason: 'NotARun',
          message: `Activity with ID ${id} is a ConnectedSystem activity; only ConnectedSystemRunProfile activities have execution items.`,
        });
        expect(await totalItems()).toBe(before);
        expect(await counters(id)).toMatchObject({ item_count: 0, change_type_counts: {} });
      });

      it.each(['Complete', 'Cancelled', 'FailedWithError'] as const)(
        'RunClosed for a run completed as %s, writing nothing',
        async (status) => {
          const run = await startRun();
          await t.runs.appendItems(run.id, [JOINED]);
          await t.runs.completeRun(run.id, { status: status });
          const before = await counters(run.id);
          await expect(t.runs.appendItems(run.id, [PROJECTED])).rejects.toMatchObject({
            reason: 'RunClosed',
            message: `Activity with ID ${run.id} is ${status}; items can only be added to a run in progress.`,
          });
          expect(await counters(run.id)).toEqual(before);
          expect(await sequences(run.id)).toEqual([1]);
        },
      );
    });

    describe('concurrently', () => {
      it('numbers 8 simultaneous batches of 50 as 1..400, each batch contiguous and in order', async () => {
        const run = await startRun();
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, batch) => t.runs.appendItems(run.id, adds(50, `batch${batch}`))),
        );

        const rows: StoredItem[] = await storedItems(run.id);
        expect(rows.map((row) => row.sequence)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
        expect(new Set(rows.map((row) => row.id)).size).toBe(400);

        results.forEach((result, batch) => {
          expect(result.lastSequence - result.firstSequence).toBe(49);
          const written = rows.slice(result.firstSequence - 1, result.lastSequence);
          expect(written.map((row) => row.display_name)).toEqual(
            Array.from({ length: 50 }, (_, i) => `batch${batch}-${i}`),
          );
          expect(written.map((row) => row.id)).toEqual(result.itemIds);
          expect(result.itemCount).toBe(result.lastSequence);
        });
        const starts = results.map((result) => result.firstSequence).sort((a, b) => a - b);
        expect(starts).toEqual([1, 51, 101, 151, 201, 251, 301, 351]);
        expect(await counters(run.id)).toMatchObject({ item_count: 400, change_type_counts: { Add: 400 } });
      });

      it('appends to two runs at once, each numbered on its own', async () => {
        const [a, b] = await Promise.all([startRun(), startRun()]);
        await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            t.runs.appendItems(i % 2 === 0 ? a.id : b.id, adds(25, `${i % 2 === 0 ? 'a' : 'b'}${i}`)),
          ),
        );
        const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);
        expect(await sequences(a.id)).toEqual(oneToHundred);
        expect(await sequences(b.id)).toEqual(oneToHundred);
        expect((await counters(a.id)).item_count).toBe(100);
        expect((await counters(b.id)).item_count).toBe(100);
        const names = await t.dataSource.query(
          `SELECT DISTINCT left(display_name, 1) AS prefix FROM execution_items WHERE activity_id = $1`,
          [a.id],
        );
        expect(names).toEqual([{ prefix: 'a' }]);
      });

      it('a batch racing the completion of its run either lands whole or not at all', async () => {
        const run = await startRun();
        const [append, complete] = await Promise.allSettled([
          t.runs.appendItems(run.id, adds(20, 'race')),
          t.runs.completeRun(run.id, { status: 'Complete' }),
        ]);
        expect(complete.status).toBe('fulfilled');
        const stored = await sequences(run.id);
        if (append.status === 'fulfilled') {
          expect(stored).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        } else {
          expect(append.reason).toMatchObject({ reason: 'RunClosed' });
          expect(stored).toEqual([]);
        }
        expect((await counters(run.id)).item_count).toBe(stored.length);
      });
    });
  });

  describe('appendItems with a batch id (retries)', () => {
    it('answers a retry of a written batch with the first result and writes nothing', async () => {
      const run = await startRun();
      const first = await t.runs.appendItems(run.id, adds(3, 'a'), { batchId: 'engine-batch-1' });
      const before = await counters(run.id);
      const retry = await t.runs.appendItems(run.id, adds(3, 'a'), { batchId: 'engine-batch-1' });

      expect(first.replayed).toBe(false);
      expect(retry).toEqual({ ...first, replayed: true });
      expect(await sequences(run.id)).toEqual([1, 2, 3]);
      expect(await counters(run.id)).toEqual(before);
    });

    it('numbers new batches after the retried one and keeps each batch id to its run', async () => {
      const [run, other] = await Promise.all([startRun(), startRun()]);
      await t.runs.appendItems(run.id, adds(2, 'a'), { batchId: 'b1' });
      const second = await t.runs.appendItems(run.id, adds(2, 'b'), { batchId: 'b2' });
      const retry = await t.runs.appendItems(run.id, adds(2, 'a'), { batchId: 'b1' });
      const elsewhere = await t.runs.appendItems(other.id, adds(2, 'a'), { batchId: 'b1' });

      expect(second).toMatchObject({ firstSequence: 3, lastSequence: 4, itemCount: 4, replayed: false });
      expect(retry).toMatchObject({ firstSequence: 1, lastSequence: 2, itemCount: 4, replayed: true });
      expect(elsewhere).toMatchObject({ firstSequence: 1, lastSequence: 2, itemCount: 2, replayed: false });
      expect((await storedItems(run.id)).map((row) => row.display_name)).toEqual([
        'a-0',
        'a-1',
        'b-0',
        'b-1',
      ]);
    });

    it('answers a retry after the run has ended', async () => {
      const run = await startRun();
      const first = await t.runs.appendItems(run.id, adds(2, 'a'), { batchId: 'last' });
      await t.runs.completeRun(run.id, { status: 'Complete' });
      await expect(t.runs.appendItems(run.id, adds(2, 'a'), { batchId: 'last' })).resolves.toEqual({
        ...first,
        replayed: true,
      });
    });

    it('writes a retry sent while the first attempt is still running exactly once', async () => {
      const run = await startRun();
      const results = await Promise.all(
        Array.from({ length: 4 }, () => t.runs.appendItems(run.id, adds(50, 'x'), { batchId: 'same' })),
      );
      expect(results.filter((result) => !result.replayed)).toHaveLength(1);
      expect(new Set(results.map((result) => JSON.stringify(result.itemIds))).size).toBe(1);
      expect(await sequences(run.id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect((await counters(run.id)).item_count).toBe(50);
    });

    it('refuses a different batch under a used id, writing nothing', async () => {
      const run = await startRun();
      await t.runs.appendItems(run.id, adds(2, 'a'), { batchId: 'b1' });
      await expect(t.runs.appendItems(run.id, adds(2, 'changed'), { batchId: 'b1' })).rejects.toMatchObject({
        reason: 'BatchIdReused',
        message: `Batch b1 was already appended to activity ${run.id} with different items.`,
      });
      expect(await sequences(run.id)).toEqual([1, 2]);
    });

    it.each([
      ['empty', ''],
      ['201 characters', 'x'.repeat(201)],
      ['a NUL', 'a\u0000b'],
      ['not a string', 42 as unknown as string],
    ])('InvalidInput for a batch id that is %s, writing nothing', async (_name, batchId) => {
      const run = await startRun();
      await expect(t.runs.appendItems(run.id, adds(1, 'a'), { batchId })).rejects.toMatchObject({
        reason: 'InvalidInput',
        validationErrors: { batchId: ['must be 1 to 200 characters without control characters'] },
      });
      expect(await sequences(run.id)).toEqual([]);
    });
  });

  describe('completeRun', () => {
    it.each([
      'Complete',
      'CompleteWithWarning',
      'CompleteWithError',
      'FailedWithError',
      'Cancelled',
    ] as const)('ends a run as %s and sets the completed time', async (status) => {
      const run = await startRun();
      await t.runs.appendItems(run.id, [JOINED, BROKEN]);
      const before = Date.now();
      const completed = await t.runs.completeRun(run.id, { status });
      const after = Date.now();
      const row = await activityRow(run.id);
      expect(completed).toEqual({
        ...run,
        status,
        itemCount: 2,
        itemsWithErrors: 1,
        completed: row?.completed?.toISOString(),
      });
      expect(row?.status).toBe(status);
      expect(row?.completed).toBeInstanceOf(Date);
      expect(row!.completed!.getTime()).toBeGreaterThanOrEqual(row!.created.getTime());
      // The database clock and the test's agree within a few seconds.
      expect(row!.completed!.getTime()).toBeGreaterThan(before - 5000);
      expect(row!.completed!.getTime()).toBeLessThan(after + 5000);
    });

    it.each(['InProgress', 'Done', 'complete', ''])(
      'rejects the status %j as InvalidInput, changing nothing',
      async (status) => {
        const run = await startRun();
        await expect(t.runs.completeRun(run.id, { status: status as never })).rejects.toMatchObject({
          reason: 'InvalidInput',
          validationErrors: { status: [FINAL_STATUS_MESSAGE] },
        });
        expect(await activityRow(run.id)).toMatchObject({ status: 'InProgress', completed: null });
      },
    );

    it('rejects completing twice as RunClosed, keeping the first status and time', async () => {
      const run = await startRun();
      await t.runs.completeRun(run.id, { status: 'CompleteWithWarning' });
      const first = await activityRow(run.id);
      await expect(t.runs.completeRun(run.id, { status: 'Complete' })).rejects.toMatchObject({
        reason: 'RunClosed',
        message: `Activity with ID ${run.id} is CompleteWithWarning, not InProgress.`,
      });
      expect(await activityRow(run.id)).toEqual(first);
    });

    it('ActivityNotFound for a missing activity', async () => {
      await expect(t.runs.completeRun(MISSING_ID, { status: 'Complete' })).rejects.toMatchObject({
        reason: 'ActivityNotFound',
        message: `Activity with ID ${MISSING_ID} not found.`,
      });
    });
  });

  it('rejects a large batch whose bad item comes late, writes none of it, and appends the next batch', async () => {
    const run = await startRun();
    const items: NewExecutionItem[] = Array.from({ length: 3000 }, (_, index) => ({
      objectChangeType: 'Add',
      displayName: `User ${index}`,
    }));
    items[2900] = { objectChangeType: 'Teleported' as never, displayName: 'late' };
    await expect(t.runs.appendItems(run.id, items)).rejects.toMatchObject({
      reason: 'InvalidInput',
      validationErrors: {
        'items[2900].objectChangeType': [expect.stringContaining('unknown value "Teleported"')],
      },
    });
    expect(
      await t.dataSource.query('SELECT count(*)::int AS n FROM execution_items WHERE activity_id = $1', [
        run.id,
      ]),
    ).toEqual([{ n: 0 }]);
    const appended = await t.runs.appendItems(run.id, items.slice(0, 2900));
    expect(appended).toMatchObject({ firstSequence: 1, lastSequence: 2900, itemCount: 2900 });
  });

  describe('inputs that once slipped through', () => {
    it('counts object types named like Object.prototype members', async () => {
      const run = await startRun();
      await t.runs.appendItems(run.id, [
        { objectChangeType: 'Add', objectType: 'constructor' },
        { objectChangeType: 'Add', objectType: 'toString' },
        { objectChangeType: 'Add', objectType: 'toString' },
      ]);
      expect((await counters(run.id)).object_type_counts).toEqual({ constructor: 1, toString: 2 });
    });

    it('counts an object type named __proto__ as a plain key', async () => {
      const run = await startRun();
      await t.runs.appendItems(run.id, [{ objectChangeType: 'Add', objectType: '__proto__' }]);
      const [row] = await t.dataSource.query(
        'SELECT object_type_counts::text AS counts FROM activities WHERE id = $1',
        [run.id],
      );
      expect(JSON.parse(row.counts)).toEqual(JSON.parse('{"__proto__": 1}'));
    });

    it('completeRun of an activity that is not a run profile is NotARun', async () => {
      const id = 'c0ffee00-1234-4abc-8def-00000000c0de';
      await t.dataSource.getRepository(Activity).insert({ id, targetType: 'Schedule', status: 'InProgress' });
      await expect(t.runs.completeRun(id, { status: 'Complete' })).rejects.toMatchObject({
        reason: 'NotARun',
      });
      const [row] = await t.dataSource.query('SELECT status FROM activities WHERE id = $1', [id]);
      expect(row.status).toBe('InProgress');
    });

    it('appendItems to an id that is not a GUID rejects with an ExecutionItemsError', async () => {
      await expect(t.runs.appendItems('not-a-guid', [PROJECTED])).rejects.toBeInstanceOf(ExecutionItemsError);
    });

    it('completeRun of an id that is not a GUID rejects with an ExecutionItemsError', async () => {
      await expect(t.runs.completeRun('not-a-guid', { status: 'Complete' })).rejects.toBeInstanceOf(
        ExecutionItemsError,
      );
    });

    it('a lone surrogate in an outcome detailMessage is InvalidInput', async () => {
      const run = await startRun();
      await expect(
        t.runs.appendItems(run.id, [
          {
            objectChangeType: 'Update',
            outcomes: [{ type: 'AttributeFlow', detailMessage: 'bad \ud800 text' }],
          },
        ]),
      ).rejects.toMatchObject({
        reason: 'InvalidInput',
        validationErrors: { 'items[0].outcomes[0].detailMessage': [expect.any(String)] },
      });
    });

    it('a lone surrogate in displayName is InvalidInput, not silently replaced', async () => {
      const run = await startRun();
      await expect(
        t.runs.appendItems(run.id, [{ objectChangeType: 'Update', displayName: 'bad \udc00 name' }]),
      ).rejects.toMatchObject({
        reason: 'InvalidInput',
        validationErrors: { 'items[0].displayName': [expect.any(String)] },
      });
    });
  });
});
