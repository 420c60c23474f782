import { ExecutionItemsError, type ValidationErrors } from './execution-items.error';
import { GUID_PATTERN } from './guid';
import { TEXT_LIMITS } from './new-items';
import type { ObjectHistoryFilters } from './run-history.query';
import { isExactUtc, parseBoolean, parseCreatedRange, parseNames } from './run-filters';
import { DIFF_CHANGES, isOneOf, type DiffChange } from './vocabulary';

/**
 * The requests of the reads across runs (a diff of two runs, one object's history), checked for
 * callers the types do not bind (JavaScript, HTTP) and normalised, so that the query a cursor
 * carries compares equal to the same parameters sent again.
 */

/** A diff, as `resolveListPage` keeps it in a cursor. */
export interface DiffQuery {
  /** The baseline's id, lower-case; absent: the default baseline. */
  against?: string;
  /** Only these changes, in the table's order; absent: all. */
  change?: DiffChange[];
}

export const DIFF_KEYS = ['against', 'change'] as const;

export function parseDiffQuery(input: object): DiffQuery {
  const request = input as Record<string, unknown>;
  const problems: ValidationErrors = {};
  const query: DiffQuery = {};
  if (request.against !== undefined) {
    if (typeof request.against === 'string' && GUID_PATTERN.test(request.against)) {
      query.against = request.against.toLowerCase();
    } else {
      problems.against = ['must be a GUID'];
    }
  }
  const { change } = request;
  if (change !== undefined) {
    if (
      Array.isArray(change) &&
      change.length > 0 &&
      change.length <= DIFF_CHANGES.length * 4 &&
      change.every((value) => isOneOf(DIFF_CHANGES, value))
    ) {
      query.change = DIFF_CHANGES.filter((value) => change.includes(value));
    } else {
      problems.change = [`must be one of ${DIFF_CHANGES.join(', ')}`];
    }
  }
  if (Object.keys(problems).length > 0) throw ExecutionItemsError.invalid(problems);
  return query;
}

/** A position in a diff: the change's rank in `DIFF_CHANGES` and the external id. */
export function isDiffPosition(after: unknown[]): boolean {
  return (
    after.length === 2 &&
    Number.isInteger(after[0]) &&
    (after[0] as number) >= 0 &&
    (after[0] as number) < DIFF_CHANGES.length &&
    isIdentifier(after[1])
  );
}

export const OBJECT_HISTORY_KEYS = [
  'externalIdValue',
  'displayName',
  'connectedSystemName',
  'hasError',
  'createdFrom',
  'createdTo',
] as const satisfies ReadonlyArray<keyof ObjectHistoryFilters>;

/**
 * An object's history query. `externalIdValue` or `displayName` is required (an object's items
 * are found by an index on either; without one the query would read every item), unless
 * `partial` (the parameters beside a cursor, which holds the whole query).
 */
export function parseObjectHistoryQuery(input: object, partial = false): ObjectHistoryFilters {
  const request = input as Record<string, unknown>;
  const problems: ValidationErrors = {};
  const filters: ObjectHistoryFilters = {};
  for (const key of ['externalIdValue', 'displayName'] as const) {
    const value = request[key];
    if (value === undefined) continue;
    if (isIdentifier(value)) filters[key] = value;
    else problems[key] = [`must be 1 to ${TEXT_LIMITS[key]} characters without NUL`];
  }
  if (!partial && request.externalIdValue === undefined && request.displayName === undefined) {
    problems.externalIdValue = ['is required unless displayName is given'];
    problems.displayName = ['is required unless externalIdValue is given'];
  }
  filters.connectedSystemName = parseNames(
    request.connectedSystemName,
    'connectedSystemName',
    'connected system',
    problems,
  );
  filters.hasError = parseBoolean(request.hasError, 'hasError', problems);
  Object.assign(filters, parseCreatedRange(request, problems));
  if (Object.keys(problems).length > 0) throw ExecutionItemsError.invalid(problems);
  return Object.fromEntries(
    Object.entries(filters).filter(([, value]) => value !== undefined),
  ) as ObjectHistoryFilters;
}

/** A position in an object's history: the run's exact created time and id, and the item's sequence. */
export function isObjectHistoryPosition(after: unknown[]): boolean {
  return (
    after.length === 3 &&
    isExactUtc(after[0]) &&
    typeof after[1] === 'string' &&
    GUID_PATTERN.test(after[1]) &&
    Number.isSafeInteger(after[2]) &&
    (after[2] as number) >= 1 &&
    (after[2] as number) <= 2_147_483_647
  );
}

/** An external id or display name as stored: 1 to 1024 characters, no NUL, well-formed. */
function isIdentifier(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= TEXT_LIMITS.externalIdValue &&
    !value.includes('\u0000') &&
    value.isWellFormed()
  );
}
