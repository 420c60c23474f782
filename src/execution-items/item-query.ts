import { ExecutionItemsError, type ValidationErrors } from './execution-items.error';
import {
  ERROR_TYPES,
  OBJECT_CHANGE_TYPES,
  OUTCOME_TYPES,
  SORT_DIRECTIONS,
  SORT_KEYS,
  isOneOf,
  type ErrorType,
  type ObjectChangeType,
  type OutcomeType,
  type SortDirection,
  type SortKey,
} from './vocabulary';

/** Longest accepted search term and object type name, in characters (code points). */
export const MAX_SEARCH_LENGTH = 256;
export const MAX_OBJECT_TYPE_LENGTH = 256;
/** Most values one list parameter may hold. */
export const MAX_LIST_VALUES = 100;

/**
 * Which items of a run to return and in which order, as callers state it. Lists match any of
 * their values (1 to 100 of them); different filters must all match.
 */
export interface ItemQueryInput {
  /** Items with any of these error types. */
  errorType?: readonly ErrorType[];
  /** Items with any of these change types. */
  objectChangeType?: readonly ObjectChangeType[];
  /** Items of any of these object types (exact, case-sensitive names). */
  objectType?: readonly string[];
  /** Items whose outcome tree holds any of these types, at any depth. */
  outcomeType?: readonly OutcomeType[];
  /** Only items with (true) or without (false) an error. */
  hasError?: boolean;
  /** Case-insensitive substring of the display name or the external id, taken literally. */
  search?: string;
  /** Default `sequence` (processing order). */
  sortBy?: SortKey;
  /** Default `asc`. */
  sortDirection?: SortDirection;
}

/** A checked filter: lists deduplicated and in a fixed order, so equal filters look equal. */
export interface ItemFilters {
  errorType?: ErrorType[];
  objectChangeType?: ObjectChangeType[];
  objectType?: string[];
  outcomeType?: OutcomeType[];
  hasError?: boolean;
  search?: string;
}

export interface ItemQuery {
  filters: ItemFilters;
  sortBy: SortKey;
  sortDirection: SortDirection;
}

/** The parameters that make up a query (a cursor must agree with any of them that are given). */
export const QUERY_PARAMETERS = [
  'errorType',
  'objectChangeType',
  'objectType',
  'outcomeType',
  'hasError',
  'search',
  'sortBy',
  'sortDirection',
] as const satisfies ReadonlyArray<keyof ItemQueryInput>;

/**
 * Checks and normalises a query; every problem is reported at once, by parameter, as a
 * `VALIDATION_ERROR`. HTTP input and other modules' calls both come through here.
 */
export function parseItemQuery(request: ItemQueryInput): ItemQuery {
  // Typed callers cannot send a wrong value, but JavaScript callers and HTTP clients can.
  const input = request as Record<keyof ItemQueryInput, unknown>;
  const problems: ValidationErrors = {};
  const filters: ItemFilters = {};
  const vocabularyList = <T extends string>(key: keyof ItemQueryInput, vocabulary: readonly T[]) => {
    const values = listOf(input[key], key, problems);
    if (!values) return undefined;
    if (!values.every((value) => isOneOf(vocabulary, value))) {
      problems[key] = [`must be one of ${vocabulary.join(', ')}`];
      return undefined;
    }
    return vocabulary.filter((value) => values.includes(value));
  };
  filters.errorType = vocabularyList('errorType', ERROR_TYPES);
  filters.objectChangeType = vocabularyList('objectChangeType', OBJECT_CHANGE_TYPES);
  filters.outcomeType = vocabularyList('outcomeType', OUTCOME_TYPES);

  const objectTypes = listOf(input.objectType, 'objectType', problems);
  if (objectTypes) {
    if (objectTypes.every((name) => isPlainText(name, MAX_OBJECT_TYPE_LENGTH))) {
      filters.objectType = [...new Set(objectTypes)].sort(byCodePoint);
    } else {
      problems.objectType = [
        `must be object type names of 1 to ${MAX_OBJECT_TYPE_LENGTH} characters without control characters`,
      ];
    }
  }

  const { hasError, search, sortBy = 'sequence', sortDirection = 'asc' } = input;
  if (typeof hasError === 'boolean') filters.hasError = hasError;
  else if (hasError !== undefined) problems.hasError = ['must be true or false'];

  if (search !== undefined) {
    if (isPlainText(search, MAX_SEARCH_LENGTH)) filters.search = search;
    else problems.search = [`must be 1 to ${MAX_SEARCH_LENGTH} characters without control characters`];
  }
  if (!isOneOf(SORT_KEYS, sortBy)) problems.sortBy = [`must be one of ${SORT_KEYS.join(', ')}`];
  if (!isOneOf(SORT_DIRECTIONS, sortDirection)) {
    problems.sortDirection = [`must be one of ${SORT_DIRECTIONS.join(', ')}`];
  }
  if (Object.keys(problems).length > 0) throw ExecutionItemsError.invalid(problems);
  return {
    filters: withoutUndefined(filters),
    sortBy: sortBy as SortKey,
    sortDirection: sortDirection as SortDirection,
  };
}

/** True when the query returns every item of the run (whatever the order). */
export function isUnfiltered(filters: ItemFilters): boolean {
  return Object.keys(filters).length === 0;
}

/** A `LIKE` pattern matching `term` anywhere, with `%`, `_` and `\` in it matching themselves. */
export function containsPattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

function listOf(value: unknown, key: string, problems: ValidationErrors): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    problems[key] = ['must be a list of values'];
    return undefined;
  }
  if (value.length === 0 || value.length > MAX_LIST_VALUES) {
    problems[key] = [`must hold 1 to ${MAX_LIST_VALUES} values`];
    return undefined;
  }
  return value as string[];
}

/** Non-empty, at most `maxLength` code points, well-formed, and no control character (NUL included). */
function isPlainText(value: unknown, maxLength: number): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.isWellFormed() &&
    !/\p{Cc}/u.test(value) &&
    [...value].length <= maxLength
  );
}

/** Code point order, as the database's "C" collation sorts. */
function byCodePoint(a: string, b: string): number {
  const left = [...a].map((character) => character.codePointAt(0)!);
  const right = [...b].map((character) => character.codePointAt(0)!);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    if (left[i] !== right[i]) return left[i] - right[i];
  }
  return left.length - right.length;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
