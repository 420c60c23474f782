import { ExecutionItemsError } from './execution-items.error';
import { MAX_ITEMS_PER_BATCH, TEXT_LIMITS, prepareItems, type NewExecutionItem } from './new-items';

/** Calls `prepareItems` with input the types would not allow, as the engine might send it. */
function prepare(items: unknown[]) {
  return prepareItems(items as NewExecutionItem[]);
}

/** The `ExecutionItemsError` that `prepareItems` throws for a batch, or a failure if it accepts it. */
function rejectionOf(items: unknown[]): ExecutionItemsError {
  try {
    prepare(items);
  } catch (error) {
    if (error instanceof ExecutionItemsError) return error;
    throw error;
  }
  throw new Error('prepareItems accepted the batch');
}

/** The field names a rejected batch's `validationErrors` lists. */
function badFieldsOf(items: unknown[]): string[] {
  const error = rejectionOf(items);
  expect(error.reason).toBe('InvalidInput');
  return Object.keys(error.validationErrors ?? {});
}

/** One chain of `levels` outcome nodes: a root, its child, its grandchild… */
function chain(levels: number): unknown[] {
  let children: unknown[] = [];
  for (let level = levels; level >= 1; level--) children = [{ type: 'AttributeFlow', children }];
  return children;
}

/** `items[0].outcomes[0].children[0]…` down to the node at `level` (1 = the root). */
function pathOfLevel(level: number): string {
  return `items[0].outcomes[0]${'.children[0]'.repeat(level - 1)}`;
}

const valid = { objectChangeType: 'Update' };

describe('prepareItems', () => {
  describe('normalising', () => {
    it('turns every absent field into null and an absent tree into no outcomes', () => {
      expect(prepare([{ objectChangeType: 'Add' }])).toEqual([
        {
          objectChangeType: 'Add',
          externalIdValue: null,
          displayName: null,
          objectType: null,
          errorType: null,
          errorMessage: null,
          errorStackTrace: null,
          outcomesJson: '[]',
          outcomeSummary: null,
          outcomeTypes: [],
        },
      ]);
    });

    it('keeps the values it is given', () => {
      const [item] = prepare([
        {
          objectChangeType: 'Projected',
          externalIdValue: 'a4f2e8c1-3b7d-4e9a-b5c6-d8f0e1a2b3c4',
          displayName: 'Jane Smith',
          objectType: 'user',
          errorType: 'UnresolvedReference',
          errorMessage: 'manager not found',
          errorStackTrace: 'at line 1',
        },
      ]);
      expect(item).toMatchObject({
        objectChangeType: 'Projected',
        externalIdValue: 'a4f2e8c1-3b7d-4e9a-b5c6-d8f0e1a2b3c4',
        displayName: 'Jane Smith',
        objectType: 'user',
        errorType: 'UnresolvedReference',
        errorMessage: 'manager not found',
        errorStackTrace: 'at line 1',
      });
    });

    it('treats explicit nulls like absent fields', () => {
      const [item] = prepare([
        { objectChangeType: 'Delete', displayName: null, errorType: null, outcomes: null },
      ]);
      expect(item).toMatchObject({
        displayName: null,
        errorType: null,
        outcomesJson: '[]',
        outcomeSummary: null,
      });
    });

    it('keeps the node fields of the tree, drops others, and derives the summary (the contract example)', () => {
      const [item] = prepare([
        {
          objectChangeType: 'Projected',
          outcomes: [
            {
              type: 'Projected',
              targetId: 'mvo-1',
              children: [
                { type: 'AttributeFlow', detailCount: 12 },
                { type: 'PendingExportCreated', detailMessage: 'LDAP' },
                { type: 'PendingExportCreated', targetDescription: 'HR', extra: 'dropped' },
              ],
            },
          ],
        },
      ]);
      expect(JSON.parse(item.outcomesJson)).toEqual([
        {
          type: 'Projected',
          targetId: 'mvo-1',
          children: [
            { type: 'AttributeFlow', detailCount: 12 },
            { type: 'PendingExportCreated', detailMessage: 'LDAP' },
            { type: 'PendingExportCreated', targetDescription: 'HR' },
          ],
        },
      ]);
      expect(item.outcomeSummary).toBe('Projected:1,AttributeFlow:1,PendingExportCreated:2');
      expect([...item.outcomeTypes].sort()).toEqual(['AttributeFlow', 'PendingExportCreated', 'Projected']);
    });

    it('counts nodes at every depth and lists each type once', () => {
      const [item] = prepare([
        {
          objectChangeType: 'Disconnected',
          outcomes: [
            {
              type: 'Disconnected',
              children: [{ type: 'MvoDeleted', children: [{ type: 'DeprovisionQueued' }] }],
            },
            { type: 'DeprovisionQueued' },
          ],
        },
      ]);
      expect(item.outcomeSummary).toBe('Disconnected:1,MvoDeleted:1,DeprovisionQueued:2');
      expect([...item.outcomeTypes].sort()).toEqual(['DeprovisionQueued', 'Disconnected', 'MvoDeleted']);
    });

    it('accepts detailCount 0 and prepares items in order', () => {
      const prepared = prepare([
        { objectChangeType: 'Add', displayName: 'first', outcomes: [{ type: 'CsoAdded', detailCount: 0 }] },
        { objectChangeType: 'Update', displayName: 'second' },
      ]);
      expect(prepared.map((item) => item.displayName)).toEqual(['first', 'second']);
      expect(JSON.parse(prepared[0].outcomesJson)[0].detailCount).toBe(0);
    });

    it('does not change its input', () => {
      const input = [{ objectChangeType: 'Add', outcomes: [{ type: 'CsoAdded' }] }];
      const copy = structuredClone(input);
      prepare(input);
      expect(input).toEqual(copy);
    });
  });

  describe('rejecting', () => {
    it('rejects an empty batch', () => {
      const error = rejectionOf([]);
      expect(error).toMatchObject({
        reason: 'InvalidInput',
        validationErrors: { items: [expect.any(String)] },
      });
    });

    it(`accepts ${MAX_ITEMS_PER_BATCH} items and rejects one more`, () => {
      const full = Array.from({ length: MAX_ITEMS_PER_BATCH }, () => valid);
      expect(prepare(full)).toHaveLength(MAX_ITEMS_PER_BATCH);
      const error = rejectionOf([...full, valid]);
      expect(error).toMatchObject({
        reason: 'InvalidInput',
        validationErrors: { items: [expect.stringContaining(String(MAX_ITEMS_PER_BATCH))] },
      });
    });

    it('rejects an item that is not an object', () => {
      expect(badFieldsOf([valid, null, 'Add'])).toEqual(['items[1]', 'items[2]']);
    });

    it('rejects an unknown or missing objectChangeType, naming the item', () => {
      const error = rejectionOf([valid, { objectChangeType: 'Modify' }, {}]);
      expect(error.validationErrors).toEqual({
        'items[1].objectChangeType': [expect.stringContaining('unknown value "Modify"')],
        'items[2].objectChangeType': [expect.stringContaining('unknown value')],
      });
      expect(error.validationErrors?.['items[1].objectChangeType'][0]).toContain('Update');
    });

    it('rejects an unknown errorType', () => {
      expect(badFieldsOf([{ objectChangeType: 'Add', errorType: 'Oops' }])).toEqual(['items[0].errorType']);
      expect(badFieldsOf([{ objectChangeType: 'Add', errorType: '' }])).toEqual(['items[0].errorType']);
      expect(badFieldsOf([{ objectChangeType: 'Add', errorType: 3 }])).toEqual(['items[0].errorType']);
    });

    it('rejects an unknown outcome type deep in the tree', () => {
      const outcomes = [
        {
          type: 'Projected',
          children: [{ type: 'AttributeFlow' }, { type: 'Joined', children: [{ type: 'Nope' }] }],
        },
      ];
      expect(badFieldsOf([valid, { ...valid, outcomes }])).toEqual([
        'items[1].outcomes[0].children[1].children[0].type',
      ]);
    });

    it('rejects outcomes and children that are not arrays, and nodes that are not objects', () => {
      expect(badFieldsOf([{ ...valid, outcomes: { type: 'CsoAdded' } }])).toEqual(['items[0].outcomes']);
      expect(badFieldsOf([{ ...valid, outcomes: [{ type: 'CsoAdded', children: 'none' }] }])).toEqual([
        'items[0].outcomes[0].children',
      ]);
      expect(badFieldsOf([{ ...valid, outcomes: [{ type: 'CsoAdded' }, null] }])).toEqual([
        'items[0].outcomes[1]',
      ]);
    });

    it.each([
      ['externalIdValue', 42],
      ['displayName', { first: 'Jane' }],
      ['objectType', ['user']],
      ['errorMessage', true],
      ['errorStackTrace', 1],
    ])('rejects a non-string %s', (field, value) => {
      expect(badFieldsOf([{ ...valid, [field]: value }])).toEqual([`items[0].${field}`]);
    });

    it.each([
      ['detailMessage', 42],
      ['targetId', { id: 1 }],
      ['targetDescription', false],
    ])('rejects a non-string outcome %s', (field, value) => {
      const outcomes = [{ type: 'Joined', children: [{ type: 'AttributeFlow', [field]: value }] }];
      expect(badFieldsOf([{ ...valid, outcomes }])).toEqual([`items[0].outcomes[0].children[0].${field}`]);
    });

    it('rejects NUL characters in item and outcome text', () => {
      const error = rejectionOf([
        { ...valid, displayName: 'Jane\u0000Smith', outcomes: [{ type: 'Joined', detailMessage: '\u0000' }] },
      ]);
      expect(error.validationErrors).toEqual({
        'items[0].displayName': ['must not contain NUL characters'],
        'items[0].outcomes[0].detailMessage': ['must not contain NUL characters'],
      });
    });

    const itemFields = [
      'externalIdValue',
      'displayName',
      'objectType',
      'errorMessage',
      'errorStackTrace',
    ] as const;
    it.each(itemFields)('accepts %s at its length limit and rejects one character more', (field) => {
      const limit = TEXT_LIMITS[field];
      expect(prepare([{ ...valid, [field]: 'x'.repeat(limit) }])[0][field]).toHaveLength(limit);
      const error = rejectionOf([{ ...valid, [field]: 'x'.repeat(limit + 1) }]);
      expect(error.validationErrors).toEqual({
        [`items[0].${field}`]: [`must be at most ${limit} characters`],
      });
    });

    const nodeFields = ['detailMessage', 'targetId', 'targetDescription'] as const;
    it.each(nodeFields)('accepts outcome %s at its length limit and rejects one character more', (field) => {
      const limit = TEXT_LIMITS[field];
      const node = (text: string) => [
        { type: 'Exported', children: [{ type: 'CsoUpdated', [field]: text }] },
      ];
      expect(
        JSON.parse(prepare([{ ...valid, outcomes: node('x'.repeat(limit)) }])[0].outcomesJson)[0].children[0][
          field
        ],
      ).toHaveLength(limit);
      const error = rejectionOf([{ ...valid, outcomes: node('x'.repeat(limit + 1)) }]);
      expect(error.validationErrors).toEqual({
        [`items[0].outcomes[0].children[0].${field}`]: [`must be at most ${limit} characters`],
      });
    });

    it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '3'])(
      'rejects detailCount %p',
      (detailCount) => {
        const outcomes = [{ type: 'AttributeFlow', detailCount }];
        expect(badFieldsOf([{ ...valid, outcomes }])).toEqual(['items[0].outcomes[0].detailCount']);
      },
    );

    it('accepts an outcome tree 15 levels deep', () => {
      expect(prepare([{ ...valid, outcomes: chain(15) }])[0].outcomeSummary).toBe('AttributeFlow:15');
    });

    // Contract of the code: "outcome trees may be at most 16 levels deep". A 16-level tree is
    // rejected today because the leaves' empty child lists are checked at depth 17 (bug).
    it('accepts an outcome tree exactly 16 levels deep', () => {
      expect(prepare([{ ...valid, outcomes: chain(16) }])[0].outcomeSummary).toBe('AttributeFlow:16');
    });

    it('rejects an outcome tree more than 16 levels deep, naming the children that go too deep', () => {
      const error = rejectionOf([{ ...valid, outcomes: chain(17) }]);
      expect(error.validationErrors).toEqual({
        [`${pathOfLevel(16)}.children`]: ['outcome trees may be at most 16 levels deep'],
      });
      expect(badFieldsOf([{ ...valid, outcomes: chain(40) }])).toEqual([`${pathOfLevel(16)}.children`]);
    });

    it('accepts 1000 outcome nodes in an item and rejects 1001, naming the first node too many', () => {
      const nodes = (count: number) => Array.from({ length: count }, () => ({ type: 'AttributeFlow' }));
      expect(prepare([{ ...valid, outcomes: nodes(1000) }])[0].outcomeSummary).toBe('AttributeFlow:1000');
      const error = rejectionOf([{ ...valid, outcomes: nodes(1001) }]);
      expect(error.validationErrors).toEqual({
        'items[0].outcomes[1000]': ['an item may have at most 1000 outcomes'],
      });
    });

    it('counts outcome nodes at every depth toward the 1000', () => {
      const children = Array.from({ length: 1000 }, () => ({ type: 'AttributeFlow' }));
      expect(badFieldsOf([{ ...valid, outcomes: [{ type: 'Projected', children }] }])).toEqual([
        'items[0].outcomes[0].children[999]',
      ]);
    });

    it('counts the 1000 outcome nodes per item, not per batch', () => {
      const outcomes = Array.from({ length: 600 }, () => ({ type: 'CsoAdded' }));
      expect(
        prepare([
          { ...valid, outcomes },
          { ...valid, outcomes },
        ]),
      ).toHaveLength(2);
    });

    it('reports every problem of a batch at once', () => {
      const error = rejectionOf([
        { objectChangeType: 'Nope', displayName: 1 },
        valid,
        { ...valid, errorType: 'Nope', outcomes: [{ type: 'Nope', detailCount: -1 }] },
      ]);
      expect(error).toMatchObject({ reason: 'InvalidInput', details: null });
      expect(Object.keys(error.validationErrors ?? {}).sort()).toEqual([
        'items[0].displayName',
        'items[0].objectChangeType',
        'items[2].errorType',
        'items[2].outcomes[0].detailCount',
        'items[2].outcomes[0].type',
      ]);
    });

    it('lists exactly 20 problems without a note', () => {
      const items = Array.from({ length: 20 }, () => ({ objectChangeType: 'Nope' }));
      const error = rejectionOf(items);
      expect(Object.keys(error.validationErrors ?? {})).toHaveLength(20);
      expect(error.details).toBeNull();
    });

    it('lists at most 20 problems and says how many more there are', () => {
      const items = Array.from({ length: 25 }, () => ({ objectChangeType: 'Nope' }));
      const error = rejectionOf(items);
      expect(error.reason).toBe('InvalidInput');
      expect(Object.keys(error.validationErrors ?? {})).toEqual(
        Array.from({ length: 20 }, (_, index) => `items[${index}].objectChangeType`),
      );
      expect(error.details).toContain('5 more');
    });

    it('counts several problems of one field toward the 20', () => {
      const items = Array.from({ length: 15 }, () => ({
        ...valid,
        displayName: `x${'\u0000'.repeat(1024)}`,
      }));
      const error = rejectionOf(items);
      const listed = Object.values(error.validationErrors ?? {}).flat();
      expect(listed).toHaveLength(20);
      expect(error.details).toContain('10 more');
    });
  });
});
