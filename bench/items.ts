import { OUTCOME_TYPES, type NewExecutionItem, type OutcomeType } from '../src/execution-items';
import { FIRST_NAMES, GROUP_NAMES, LAST_NAMES, seededRandom } from '../src/demo/synthetic-items';

export { seededRandom };
import { copyField } from './copy-text';

/**
 * Deterministic synthetic execution items, shaped like the service's own generator: users and
 * groups, a weighted mix of change types with their outcome trees, about 1% errors. Each item
 * carries what the service stores for it (normalised tree, summary), so a COPY writes the same
 * row as `appendItems` would.
 */

/** Canonical outcome order of the contract (§2), used by `outcomeSummary`. */
const OUTCOME_ORDER = OUTCOME_TYPES;

/** An outcome node as a sync engine reports it and the service stores it: absent fields left out. */
interface StoredOutcome {
  type: OutcomeType;
  detailCount?: number;
  detailMessage?: string;
  children?: StoredOutcome[];
}

/** An outcome tree with what the service derives from it, computed once. */
interface OutcomeTree {
  nodes: StoredOutcome[];
  json: string;
  summary: string | null;
  /** Distinct types anywhere in the tree, in canonical order. */
  types: OutcomeType[];
  /** `types` as a PostgreSQL array literal, the `outcome_types` column (`{}` for none). */
  typesArray: string;
}

export interface BenchItem {
  objectChangeType: NewExecutionItem['objectChangeType'];
  errorType: NonNullable<NewExecutionItem['errorType']> | null;
  externalIdValue: string;
  displayName: string;
  objectType: 'user' | 'group';
  errorMessage: string | null;
  errorStackTrace: string | null;
  outcomes: OutcomeTree;
}

function node(type: OutcomeType, extra: Omit<StoredOutcome, 'type'> = {}): StoredOutcome {
  return { type, ...extra };
}

const FLOWED_ATTRIBUTES = ['displayName', 'mail', 'department', 'title', 'manager', 'telephoneNumber'];

function attributeFlows(count: number): StoredOutcome[] {
  return FLOWED_ATTRIBUTES.slice(0, count).map((attribute) =>
    node('AttributeFlow', { detailCount: 1, detailMessage: attribute }),
  );
}

function countTypes(nodes: readonly StoredOutcome[], counts = new Map<OutcomeType, number>()) {
  for (const outcome of nodes) {
    counts.set(outcome.type, (counts.get(outcome.type) ?? 0) + 1);
    countTypes(outcome.children ?? [], counts);
  }
  return counts;
}

function tree(nodes: StoredOutcome[]): OutcomeTree {
  const counts = countTypes(nodes);
  const present = OUTCOME_ORDER.filter((type) => counts.has(type));
  return {
    nodes,
    json: JSON.stringify(nodes),
    summary: present.length > 0 ? present.map((type) => `${type}:${counts.get(type)}`).join(',') : null,
    types: present,
    // Outcome type labels are plain identifiers: no quoting or COPY escaping needed.
    typesArray: `{${present.join(',')}}`,
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

/** Change types of a synchronisation run with their weights and the trees they produce. */
const CHANGE_TYPES: Array<{ type: BenchItem['objectChangeType']; weight: number; trees: OutcomeTree[] }> = [
  { type: 'AttributeFlow', weight: 40, trees: range(1, 4).map((n) => tree(attributeFlows(n))) },
  { type: 'NoChange', weight: 20, trees: [tree([])] },
  {
    type: 'Update',
    weight: 12,
    trees: range(1, 3).map((n) => tree([node('CsoUpdated'), ...attributeFlows(n)])),
  },
  {
    type: 'Joined',
    weight: 8,
    trees: range(1, 2).map((n) => tree([node('Joined', { children: attributeFlows(n) })])),
  },
  {
    type: 'Projected',
    weight: 8,
    trees: range(1, 3).map((n) =>
      tree([node('Projected', { children: [...attributeFlows(n), node('PendingExportCreated')] })]),
    ),
  },
  { type: 'Add', weight: 5, trees: [tree([node('CsoAdded')])] },
  {
    type: 'PendingExport',
    weight: 3,
    trees: range(1, 5).map((n) => tree([node('PendingExportCreated', { detailCount: n })])),
  },
  {
    type: 'Disconnected',
    weight: 2,
    trees: [
      tree([
        node('Disconnected', { children: [node('MvoDeleted', { children: [node('DeprovisionQueued')] })] }),
      ]),
    ],
  },
  {
    type: 'DisconnectedOutOfScope',
    weight: 1,
    trees: [
      tree([
        node('DisconnectedOutOfScope', {
          children: [node('MvoDeleted', { children: [node('DeprovisionQueued')] })],
        }),
      ]),
    ],
  },
  { type: 'Delete', weight: 1, trees: [tree([node('CsoDeleted'), node('DeletionDetected')])] },
];
const TOTAL_WEIGHT = CHANGE_TYPES.reduce((sum, entry) => sum + entry.weight, 0);
const NO_OUTCOMES = tree([]);

const ERROR_CASES: Array<{
  type: NonNullable<BenchItem['errorType']>;
  message: string;
  stack: string | null;
}> = [
  {
    type: 'UnresolvedReference',
    message: "The manager attribute references 'uid=missing,ou=people' which is not in the connector space.",
    stack: null,
  },
  { type: 'AmbiguousMatch', message: 'The object matched 2 metaverse objects on employeeId.', stack: null },
  {
    type: 'ExpressionEvaluationError',
    message: 'Expression \'Split(displayName, " ")[1]\' failed: index was outside the bounds of the array.',
    stack: null,
  },
  {
    type: 'DuplicateObject',
    message: 'Another object in this import has the same external id.',
    stack: null,
  },
  {
    type: 'UnhandledError',
    message: 'Object reference not set to an instance of an object.',
    stack: 'at SyncEngine.ProcessObject(ConnectorSpaceObject cso)\n\tat SyncEngine.RunFullSynchronisation()',
  },
];

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)];
}

function pickChangeType(random: () => number) {
  let roll = random() * TOTAL_WEIGHT;
  for (const entry of CHANGE_TYPES) {
    roll -= entry.weight;
    if (roll < 0) return entry;
  }
  return CHANGE_TYPES[CHANGE_TYPES.length - 1];
}

/** The `index`-th object of a run (1-based); the same seed gives the same items. */
export function syntheticItem(index: number, random: () => number, errorRate: number): BenchItem {
  const isGroup = random() < 0.1;
  const externalIdValue = isGroup ? `cn=group-${index},ou=groups,dc=example,dc=com` : `E${100000 + index}`;
  const displayName = isGroup
    ? `${pick(random, GROUP_NAMES)} ${index}`
    : `${pick(random, FIRST_NAMES)} ${pick(random, LAST_NAMES)}`;
  const objectType = isGroup ? 'group' : 'user';
  const error = random() < errorRate ? pick(random, ERROR_CASES) : null;
  const changeType = error ? null : pickChangeType(random);
  return {
    objectChangeType: changeType ? changeType.type : 'NoChange',
    errorType: error ? error.type : null,
    externalIdValue,
    displayName,
    objectType,
    errorMessage: error ? error.message : null,
    errorStackTrace: error ? error.stack : null,
    outcomes: changeType ? pick(random, changeType.trees) : NO_OUTCOMES,
  };
}

/** The item as the sync engine hands it to `ExecutionItemsService.appendItems`. */
export function toNewExecutionItem(item: BenchItem): NewExecutionItem {
  return {
    objectChangeType: item.objectChangeType,
    externalIdValue: item.externalIdValue,
    displayName: item.displayName,
    objectType: item.objectType,
    errorType: item.errorType,
    errorMessage: item.errorMessage,
    errorStackTrace: item.errorStackTrace,
    outcomes: item.outcomes.nodes,
  };
}

/** Columns of `execution_items` in the order `itemCopyLine` writes them. */
export const ITEM_COPY_COLUMNS =
  'id, activity_id, sequence, object_change_type, error_type, external_id_value, display_name, ' +
  'object_type, outcome_summary, error_message, error_stack_trace, outcomes, outcome_types';

export function itemCopyLine(id: string, activityId: string, sequence: number, item: BenchItem): string {
  return (
    `${id}\t${activityId}\t${sequence}\t${item.objectChangeType}\t${copyField(item.errorType)}\t` +
    `${copyField(item.externalIdValue)}\t${copyField(item.displayName)}\t${item.objectType}\t` +
    `${copyField(item.outcomes.summary)}\t${copyField(item.errorMessage)}\t${copyField(item.errorStackTrace)}\t` +
    `${copyField(item.outcomes.json)}\t${item.outcomes.typesArray}\n`
  );
}

type Counts = Record<string, number>;

/** A run's counters, kept the way the service keeps them while appending. */
export class RunCounters {
  itemCount = 0;
  errorItemCount = 0;
  readonly changeTypeCounts: Counts = {};
  readonly errorTypeCounts: Counts = {};
  readonly objectTypeCounts: Counts = {};
  /** Per outcome type, the items whose tree holds it (what the `outcomeType` filter returns). */
  readonly outcomeTypeCounts: Counts = {};

  add(item: BenchItem): void {
    this.itemCount += 1;
    increment(this.changeTypeCounts, item.objectChangeType);
    if (item.errorType) {
      this.errorItemCount += 1;
      increment(this.errorTypeCounts, item.errorType);
    }
    increment(this.objectTypeCounts, item.objectType);
    for (const type of item.outcomes.types) increment(this.outcomeTypeCounts, type);
  }

  /** Parameters $2..$7 of `UPDATE_COUNTERS_SQL`. */
  asParameters(): Array<number | string> {
    return [
      this.itemCount,
      this.errorItemCount,
      JSON.stringify(this.changeTypeCounts),
      JSON.stringify(this.errorTypeCounts),
      JSON.stringify(this.objectTypeCounts),
      JSON.stringify(this.outcomeTypeCounts),
    ];
  }
}

export const UPDATE_COUNTERS_SQL = `UPDATE activities
   SET item_count = $2, error_item_count = $3, change_type_counts = $4::jsonb, error_type_counts = $5::jsonb,
       object_type_counts = $6::jsonb, outcome_type_counts = $7::jsonb
 WHERE id = $1`;

function increment(counts: Counts, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
