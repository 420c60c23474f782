import type { NewExecutionItem, OutcomeInput } from '../execution-items/new-items';
import type { ErrorType, ObjectChangeType, OutcomeType } from '../execution-items/vocabulary';

/** A small deterministic random source (mulberry32), so generated runs are repeatable. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const FIRST_NAMES = [
  'Jane',
  'John',
  'Amira',
  'Lars',
  'Mei',
  'Carlos',
  'Priya',
  'Tomasz',
  'Aoife',
  'Kwame',
  'Sofia',
  'Yuki',
];
export const LAST_NAMES = [
  'Smith',
  'Doe',
  'Haddad',
  'Nilsson',
  'Chen',
  'García',
  'Patel',
  'Nowak',
  'Murphy',
  'Mensah',
  'Rossi',
  'Tanaka',
];
export const GROUP_NAMES = [
  'Finance',
  'Engineering',
  'Sales EMEA',
  'Helpdesk',
  'Contractors',
  'VPN Users',
  'Payroll Admins',
];

/** Change types of a synchronisation run, weighted as a typical run sees them. */
const CHANGE_TYPE_WEIGHTS: Array<[ObjectChangeType, number]> = [
  ['AttributeFlow', 40],
  ['NoChange', 20],
  ['Update', 12],
  ['Joined', 8],
  ['Projected', 8],
  ['Add', 5],
  ['PendingExport', 3],
  ['Disconnected', 2],
  ['DisconnectedOutOfScope', 1],
  ['Delete', 1],
];

const ERROR_CASES: Array<[ErrorType, string]> = [
  [
    'UnresolvedReference',
    "The manager attribute references 'uid=missing,ou=people' which is not in the connector space.",
  ],
  ['AmbiguousMatch', 'The object matched 2 metaverse objects on employeeId.'],
  [
    'ExpressionEvaluationError',
    'Expression \'Split(displayName, " ")[1]\' failed: index was outside the bounds of the array.',
  ],
  ['MissingExternalIdAttributeValue', 'The object has no value for its external id attribute objectGUID.'],
  ['DuplicateObject', 'Another object in this import has the same external id.'],
  ['UnhandledError', 'Object reference not set to an instance of an object.'],
];

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)];
}

function pickWeighted<T>(random: () => number, weights: ReadonlyArray<[T, number]>): T {
  const total = weights.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [value, weight] of weights) {
    roll -= weight;
    if (roll < 0) return value;
  }
  return weights[weights.length - 1][0];
}

function outcome(type: OutcomeType, extra: Partial<OutcomeInput> = {}): OutcomeInput {
  return { type, ...extra };
}

/** Directory attributes an attribute flow typically writes. */
export const FLOWED_ATTRIBUTES = [
  'displayName',
  'mail',
  'department',
  'title',
  'manager',
  'telephoneNumber',
  'givenName',
  'sn',
];

function attributeFlows(count: number): OutcomeInput[] {
  return Array.from({ length: count }, (_, index) =>
    outcome('AttributeFlow', {
      detailCount: 1,
      detailMessage: FLOWED_ATTRIBUTES[index % FLOWED_ATTRIBUTES.length],
    }),
  );
}

/** The outcome tree a change type usually produces. */
function outcomesFor(changeType: ObjectChangeType, random: () => number): OutcomeInput[] {
  switch (changeType) {
    case 'Projected':
      return [
        outcome('Projected', {
          children: [...attributeFlows(1 + Math.floor(random() * 3)), outcome('PendingExportCreated')],
        }),
      ];
    case 'Joined':
      return [outcome('Joined', { children: attributeFlows(1 + Math.floor(random() * 2)) })];
    case 'AttributeFlow':
      return attributeFlows(1 + Math.floor(random() * 4));
    case 'Update':
      return [outcome('CsoUpdated'), ...attributeFlows(1 + Math.floor(random() * 3))];
    case 'Add':
      return [outcome('CsoAdded')];
    case 'Delete':
      return [outcome('CsoDeleted'), outcome('DeletionDetected')];
    case 'Disconnected':
    case 'DisconnectedOutOfScope':
      return [
        outcome(changeType, {
          children: [outcome('MvoDeleted', { children: [outcome('DeprovisionQueued')] })],
        }),
      ];
    case 'PendingExport':
      return [outcome('PendingExportCreated', { detailCount: 1 + Math.floor(random() * 5) })];
    default:
      return [];
  }
}

/**
 * The `index`-th object of a generated run: users and groups with plausible names, a weighted
 * mix of change types with their outcome trees, and an error on about `errorRate` of them.
 */
export function syntheticItem(index: number, random: () => number, errorRate: number): NewExecutionItem {
  const isGroup = random() < 0.1;
  const displayName = isGroup
    ? `${pick(random, GROUP_NAMES)} ${index}`
    : `${pick(random, FIRST_NAMES)} ${pick(random, LAST_NAMES)}`;
  const externalIdValue = isGroup
    ? `cn=group-${index},ou=groups,dc=example,dc=com`
    : `E${String(100000 + index)}`;
  if (random() < errorRate) {
    const [errorType, errorMessage] = pick(random, ERROR_CASES);
    return {
      objectChangeType: 'NoChange',
      externalIdValue,
      displayName,
      objectType: isGroup ? 'group' : 'user',
      errorType,
      errorMessage,
      errorStackTrace:
        errorType === 'UnhandledError'
          ? 'at SyncEngine.ProcessObject(ConnectorSpaceObject cso)\n   at SyncEngine.RunFullSynchronisation()'
          : null,
    };
  }
  const objectChangeType = pickWeighted(random, CHANGE_TYPE_WEIGHTS);
  return {
    objectChangeType,
    externalIdValue,
    displayName,
    objectType: isGroup ? 'group' : 'user',
    outcomes: outcomesFor(objectChangeType, random),
  };
}
