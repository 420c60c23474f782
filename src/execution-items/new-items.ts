import { ApiError, type ValidationErrors } from '../common/api-error';
import type { OutcomeNode } from './entities/execution-item.entity';
import { countOutcomeNodes, formatOutcomeSummary } from './outcomes';
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
export interface OutcomeInput {
  type: OutcomeType;
  detailCount?: number | null;
  detailMessage?: string | null;
  targetId?: string | null;
  targetDescription?: string | null;
  children?: OutcomeInput[];
}

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

/** An item checked and normalised for storage; `outcomeSummary` derived from the tree. */
export interface PreparedItem {
  objectChangeType: ObjectChangeType;
  externalIdValue: string | null;
  displayName: string | null;
  objectType: string | null;
  errorType: ErrorType | null;
  errorMessage: string | null;
  errorStackTrace: string | null;
  outcomes: OutcomeNode[];
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

/** Reports at most this many problems; a batch with more is wrong in the same way throughout. */
const MAX_REPORTED_PROBLEMS = 20;

/**
 * Checks a batch from the engine and prepares it for storage, or throws one `VALIDATION_ERROR`
 * naming each bad field as `items[i].field`. Nothing of a rejected batch is written.
 */
export function prepareItems(items: readonly NewExecutionItem[]): PreparedItem[] {
  const problems = new Problems();
  if (!Array.isArray(items) || items.length === 0) {
    throw ApiError.validation({ items: ['must be a non-empty array'] }, 'The batch is not valid.');
  }
  if (items.length > MAX_ITEMS_PER_BATCH) {
    throw ApiError.validation(
      { items: [`must hold at most ${MAX_ITEMS_PER_BATCH} items; split the batch`] },
      'The batch is not valid.',
    );
  }
  const prepared = items.map((item, index) => prepareItem(item, `items[${index}]`, problems));
  problems.throwIfAny('The batch is not valid; nothing was written.');
  return prepared;
}

function prepareItem(item: NewExecutionItem, path: string, problems: Problems): PreparedItem {
  if (typeof item !== 'object' || item === null) {
    problems.add(path, 'must be an object');
    return undefined as never;
  }
  if (!isOneOf(OBJECT_CHANGE_TYPES, item.objectChangeType)) {
    problems.add(`${path}.objectChangeType`, unknownValue(item.objectChangeType, OBJECT_CHANGE_TYPES));
  }
  const errorType = item.errorType ?? null;
  if (errorType !== null && !isOneOf(ERROR_TYPES, errorType)) {
    problems.add(`${path}.errorType`, unknownValue(errorType, ERROR_TYPES));
  }
  const outcomes = item.outcomes ?? [];
  const tree = Array.isArray(outcomes)
    ? prepareOutcomes(outcomes, `${path}.outcomes`, problems, 1, { nodes: 0 })
    : [];
  if (!Array.isArray(outcomes)) problems.add(`${path}.outcomes`, 'must be an array');
  const outcomeCounts = countOutcomeNodes(tree);
  return {
    objectChangeType: item.objectChangeType,
    externalIdValue: optionalText(
      item.externalIdValue,
      `${path}.externalIdValue`,
      TEXT_LIMITS.externalIdValue,
      problems,
    ),
    displayName: optionalText(item.displayName, `${path}.displayName`, TEXT_LIMITS.displayName, problems),
    objectType: optionalText(item.objectType, `${path}.objectType`, TEXT_LIMITS.objectType, problems),
    errorType,
    errorMessage: optionalText(item.errorMessage, `${path}.errorMessage`, TEXT_LIMITS.errorMessage, problems),
    errorStackTrace: optionalText(
      item.errorStackTrace,
      `${path}.errorStackTrace`,
      TEXT_LIMITS.errorStackTrace,
      problems,
    ),
    outcomes: tree,
    outcomeSummary: formatOutcomeSummary(outcomeCounts),
    outcomeTypes: [...outcomeCounts.keys()],
  };
}

function prepareOutcomes(
  nodes: readonly OutcomeInput[],
  path: string,
  problems: Problems,
  depth: number,
  seen: { nodes: number },
): OutcomeNode[] {
  if (depth > MAX_OUTCOME_DEPTH && nodes.length > 0) {
    problems.add(path, `outcome trees may be at most ${MAX_OUTCOME_DEPTH} levels deep`);
    return [];
  }
  return nodes.map((node, index) => {
    const at = `${path}[${index}]`;
    seen.nodes += 1;
    if (seen.nodes === MAX_OUTCOME_NODES + 1)
      problems.add(at, `an item may have at most ${MAX_OUTCOME_NODES} outcomes`);
    if (typeof node !== 'object' || node === null) {
      problems.add(at, 'must be an object');
      return undefined as never;
    }
    if (!isOneOf(OUTCOME_TYPES, node.type))
      problems.add(`${at}.type`, unknownValue(node.type, OUTCOME_TYPES));
    const detailCount = node.detailCount ?? null;
    if (detailCount !== null && !(Number.isSafeInteger(detailCount) && detailCount >= 0)) {
      problems.add(`${at}.detailCount`, 'must be a non-negative integer');
    }
    const children = node.children ?? [];
    if (!Array.isArray(children)) problems.add(`${at}.children`, 'must be an array');
    return {
      type: node.type,
      detailCount,
      detailMessage: optionalText(
        node.detailMessage,
        `${at}.detailMessage`,
        TEXT_LIMITS.detailMessage,
        problems,
      ),
      targetId: optionalText(node.targetId, `${at}.targetId`, TEXT_LIMITS.targetId, problems),
      targetDescription: optionalText(
        node.targetDescription,
        `${at}.targetDescription`,
        TEXT_LIMITS.targetDescription,
        problems,
      ),
      children: Array.isArray(children)
        ? prepareOutcomes(children, `${at}.children`, problems, depth + 1, seen)
        : [],
    };
  });
}

function optionalText(value: unknown, path: string, maxLength: number, problems: Problems): string | null {
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

  add(path: string, message: string): void {
    this.count += 1;
    if (this.count > MAX_REPORTED_PROBLEMS) return;
    (this.errors[path] ??= []).push(message);
  }

  throwIfAny(message: string): void {
    if (this.count === 0) return;
    const omitted = this.count - MAX_REPORTED_PROBLEMS;
    const error = ApiError.validation(this.errors, message);
    throw omitted > 0
      ? new ApiError(error.code, message, this.errors, `${omitted} more problems not listed.`)
      : error;
  }
}
