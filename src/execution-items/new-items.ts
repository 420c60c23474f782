import { ExecutionItemsError, type ValidationErrors } from './execution-items.error';
import type { OutcomeNode } from './entities/execution-item.entity';
import { formatOutcomeSummary } from './outcomes';
import {
  ERROR_TYPES,
  OBJECT_CHANGE_TYPES,
  OUTCOME_TYPES,
  isOneOf,
  type ErrorType,
  type ObjectChangeType,
  type OutcomeType,
} from './vocabulary';

/** One node of an outcome tree as the sync engine reports it. */
export type OutcomeInput = OutcomeNode;

/** What the sync engine reports for one object it processed. */
export interface NewExecutionItem {
  objectChangeType: ObjectChangeType;
  externalIdValue?: string | null;
  displayName?: string | null;
  objectType?: string | null;
  errorType?: ErrorType | null;
  errorMessage?: string | null;
  errorStackTrace?: string | null;
  outcomes?: OutcomeInput[];
}

/** An item checked and ready for storage; `outcomeSummary` derived from the tree. */
export interface PreparedItem {
  objectChangeType: ObjectChangeType;
  externalIdValue: string | null;
  displayName: string | null;
  objectType: string | null;
  errorType: ErrorType | null;
  errorMessage: string | null;
  errorStackTrace: string | null;
  /** The outcome tree as stored: only the node fields of `OutcomeInput`, absent ones left out. */
  outcomesJson: string;
  outcomeSummary: string | null;
  /** The distinct outcome types anywhere in the tree. */
  outcomeTypes: OutcomeType[];
}

export const MAX_ITEMS_PER_BATCH = 10_000;

/** Longest accepted text per field, in characters. */
export const TEXT_LIMITS = {
  externalIdValue: 1024,
  displayName: 1024,
  objectType: 256,
  errorMessage: 8192,
  errorStackTrace: 65_536,
  detailMessage: 4096,
  targetId: 1024,
  targetDescription: 1024,
} as const;
const MAX_OUTCOME_DEPTH = 16;
const MAX_OUTCOME_NODES = 1000;

/** The fields of an outcome node that are stored; anything else the caller sent is dropped. */
const OUTCOME_NODE_FIELDS = [
  'type',
  'detailCount',
  'detailMessage',
  'targetId',
  'targetDescription',
  'children',
];

/** Reports at most this many problems; a batch with more is wrong in the same way throughout. */
const MAX_REPORTED_PROBLEMS = 20;

/** Rejects an empty batch, or one too large to write in one transaction. */
export function checkBatchSize(items: readonly NewExecutionItem[]): void {
  if (!Array.isArray(items) || items.length === 0) {
    throw ExecutionItemsError.invalid({ items: ['must be a non-empty array'] }, 'The batch is not valid.');
  }
  if (items.length > MAX_ITEMS_PER_BATCH) {
    throw ExecutionItemsError.invalid(
      { items: [`must hold at most ${MAX_ITEMS_PER_BATCH} items; split the batch`] },
      'The batch is not valid.',
    );
  }
}

/**
 * Checks a batch from the engine and prepares it for storage, or throws one `VALIDATION_ERROR`
 * naming each bad field as `items[i].field`. Nothing of a rejected batch is written.
 */
export function prepareItems(items: readonly NewExecutionItem[]): PreparedItem[] {
  checkBatchSize(items);
  return [...prepareEach(items)];
}

/**
 * Prepares a batch (already through `checkBatchSize`) one item at a time, so that a writer can
 * encode and send items while later ones are still being checked. After the first bad item it
 * yields nothing more but checks the rest, then throws one `VALIDATION_ERROR` for all of them;
 * the writer's transaction must then roll back.
 */
export function* prepareEach(items: readonly NewExecutionItem[]): Generator<PreparedItem> {
  const problems = new Problems();
  for (let index = 0; index < items.length; index++) {
    const prepared = prepareItem(items[index], () => `items[${index}]`, problems);
    if (problems.none) yield prepared;
  }
  problems.throwIfAny('The batch is not valid; nothing was written.');
}

/** A field's path in the batch (`items[3].outcomes[0].type`), built only when it is reported. */
type PathOf = () => string;

function prepareItem(item: NewExecutionItem, path: PathOf, problems: Problems): PreparedItem {
  const at =
    (field: string): PathOf =>
    () =>
      `${path()}.${field}`;
  if (typeof item !== 'object' || item === null) {
    problems.add(path, 'must be an object');
    return undefined as never;
  }
  if (!isOneOf(OBJECT_CHANGE_TYPES, item.objectChangeType)) {
    problems.add(at('objectChangeType'), unknownValue(item.objectChangeType, OBJECT_CHANGE_TYPES));
  }
  const errorType = item.errorType ?? null;
  if (errorType !== null && !isOneOf(ERROR_TYPES, errorType)) {
    problems.add(at('errorType'), unknownValue(errorType, ERROR_TYPES));
  }
  const outcomes = item.outcomes ?? [];
  const outcomeCounts = new Map<OutcomeType, number>();
  if (Array.isArray(outcomes)) {
    checkOutcomes(outcomes, at('outcomes'), problems, { depth: 1, nodes: 0, counts: outcomeCounts });
  } else {
    problems.add(at('outcomes'), 'must be an array');
  }
  return {
    objectChangeType: item.objectChangeType,
    externalIdValue: optionalText(
      item.externalIdValue,
      at('externalIdValue'),
      TEXT_LIMITS.externalIdValue,
      problems,
    ),
    displayName: optionalText(item.displayName, at('displayName'), TEXT_LIMITS.displayName, problems),
    objectType: optionalText(item.objectType, at('objectType'), TEXT_LIMITS.objectType, problems),
    errorType,
    errorMessage: optionalText(item.errorMessage, at('errorMessage'), TEXT_LIMITS.errorMessage, problems),
    errorStackTrace: optionalText(
      item.errorStackTrace,
      at('errorStackTrace'),
      TEXT_LIMITS.errorStackTrace,
      problems,
    ),
    outcomesJson: JSON.stringify(Array.isArray(outcomes) ? outcomes : [], OUTCOME_NODE_FIELDS),
    outcomeSummary: formatOutcomeSummary(outcomeCounts),
    outcomeTypes: [...outcomeCounts.keys()],
  };
}

/** Checks an outcome tree in place, counting its nodes by type as it goes. */
function checkOutcomes(
  nodes: readonly OutcomeInput[],
  path: PathOf,
  problems: Problems,
  walk: { depth: number; nodes: number; counts: Map<OutcomeType, number> },
): void {
  if (walk.depth > MAX_OUTCOME_DEPTH && nodes.length > 0) {
    problems.add(path, `outcome trees may be at most ${MAX_OUTCOME_DEPTH} levels deep`);
    return;
  }
  nodes.forEach((node, index) => {
    const nodePath: PathOf = () => `${path()}[${index}]`;
    const at =
      (field: string): PathOf =>
      () =>
        `${nodePath()}.${field}`;
    walk.nodes += 1;
    if (walk.nodes === MAX_OUTCOME_NODES + 1) {
      problems.add(nodePath, `an item may have at most ${MAX_OUTCOME_NODES} outcomes`);
    }
    if (typeof node !== 'object' || node === null) {
      problems.add(nodePath, 'must be an object');
      return;
    }
    if (isOneOf(OUTCOME_TYPES, node.type)) {
      walk.counts.set(node.type, (walk.counts.get(node.type) ?? 0) + 1);
    } else {
      problems.add(at('type'), unknownValue(node.type, OUTCOME_TYPES));
    }
    const detailCount = node.detailCount ?? null;
    if (detailCount !== null && !(Number.isSafeInteger(detailCount) && detailCount >= 0)) {
      problems.add(at('detailCount'), 'must be a non-negative integer');
    }
    optionalText(node.detailMessage, at('detailMessage'), TEXT_LIMITS.detailMessage, problems);
    optionalText(node.targetId, at('targetId'), TEXT_LIMITS.targetId, problems);
    optionalText(node.targetDescription, at('targetDescription'), TEXT_LIMITS.targetDescription, problems);
    const children = node.children ?? [];
    if (Array.isArray(children)) {
      walk.depth += 1;
      checkOutcomes(children, at('children'), problems, walk);
      walk.depth -= 1;
    } else {
      problems.add(at('children'), 'must be an array');
    }
  });
}

function optionalText(value: unknown, path: PathOf, maxLength: number, problems: Problems): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    problems.add(path, 'must be a string or null');
    return null;
  }
  if (value.length > maxLength) problems.add(path, `must be at most ${maxLength} characters`);
  // PostgreSQL text and jsonb cannot hold U+0000, nor UTF-16 halves that encode no character.
  if (value.includes('\u0000')) problems.add(path, 'must not contain NUL characters');
  if (!value.isWellFormed()) problems.add(path, 'must not contain unpaired surrogates');
  return value;
}

function unknownValue(value: unknown, accepted: readonly string[]): string {
  return `unknown value ${JSON.stringify(value) ?? 'undefined'}; accepted: ${accepted.join(', ')}`;
}

class Problems {
  private readonly errors: ValidationErrors = {};
  private count = 0;

  get none(): boolean {
    return this.count === 0;
  }

  add(path: PathOf, message: string): void {
    this.count += 1;
    if (this.count > MAX_REPORTED_PROBLEMS) return;
    (this.errors[path()] ??= []).push(message);
  }

  throwIfAny(message: string): void {
    if (this.count === 0) return;
    const omitted = this.count - MAX_REPORTED_PROBLEMS;
    throw new ExecutionItemsError(
      'InvalidInput',
      message,
      this.errors,
      omitted > 0 ? `${omitted} more problems not listed.` : null,
    );
  }
}
