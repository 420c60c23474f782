import { ExecutionItemsError, type ValidationErrors } from './execution-items.error';
import { GUID_PATTERN } from './guid';
import {
  ACTIVITY_STATUSES,
  ACTIVITY_TARGET_TYPES,
  RUN_TYPES,
  isOneOf,
  type ActivityStatus,
  type ActivityTargetType,
  type RunType,
} from './vocabulary';

/** Which activities to list, newest first. */
export interface ActivityFilters {
  targetType?: readonly ActivityTargetType[];
  status?: readonly ActivityStatus[];
  runType?: readonly RunType[];
  /** Exact names of connected systems (`target_context`). */
  connectedSystemName?: readonly string[];
  /** Exact names of run profiles (`target_name`). */
  runProfileName?: readonly string[];
  /** Created at or after (ISO 8601 UTC, as `parseTimestamp` writes it). */
  createdFrom?: string;
  /** Created before. */
  createdTo?: string;
  /** With at least one error item (true), or none (false). */
  hasErrors?: boolean;
}

/**
 * The parts of run filters that the activity list and an object's history share: names of
 * connected systems and run profiles, and a window on when runs were created. Each parser adds
 * its problems to `problems` by parameter, so that one 400 names every bad parameter.
 */

/** Longest connected system or run profile name a filter accepts. */
export const MAX_NAME_LENGTH = 256;
/** Most names one list may hold. */
export const MAX_NAMES = 100;

export const NAMES_MESSAGE = (what: string) =>
  `must be ${what} names of 1 to ${MAX_NAME_LENGTH} characters without control characters`;

/** A list of exact names (1 to 100 of them), or `undefined` when absent or not valid. */
export function parseNames(
  value: unknown,
  key: string,
  what: string,
  problems: ValidationErrors,
): string[] | undefined {
  if (value === undefined) return undefined;
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.length > MAX_NAMES ||
    !value.every(
      (name) =>
        typeof name === 'string' &&
        name.length > 0 &&
        [...name].length <= MAX_NAME_LENGTH &&
        name.isWellFormed() &&
        !/\p{Cc}/u.test(name),
    )
  ) {
    problems[key] = [NAMES_MESSAGE(what)];
    return undefined;
  }
  return [...new Set(value as string[])];
}

/** When runs were created: from (inclusive) and to (exclusive), as normalised ISO 8601 UTC. */
export interface CreatedRange {
  createdFrom?: string;
  createdTo?: string;
}

export const TIMESTAMP_MESSAGE =
  'must be an ISO 8601 date (2026-11-29) or date-time with an offset (2026-11-29T18:00:00Z, 2026-11-29T19:00:00.5+01:00)';

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * A timestamp as the filters take it: a calendar date (midnight UTC), or a date-time with `Z`
 * or an offset, seconds and fractions (to the microsecond) optional. Anything else, and dates
 * that do not exist (2026-02-30, 24:00), is `undefined`. The result is UTC with six fractional
 * digits, which PostgreSQL reads exactly whatever its time zone.
 */
export function parseTimestamp(value: unknown): string | undefined {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? undefined : value.toISOString().replace(/Z$/, '000Z');
  }
  if (typeof value !== 'string') return undefined;
  const match = ISO_8601.exec(value);
  if (!match) return undefined;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', offset = 'Z'] = match;
  const parts = [year, month, day, hour, minute, second].map(Number);
  const date = new Date(0);
  date.setUTCFullYear(parts[0], parts[1] - 1, parts[2]);
  date.setUTCHours(parts[3], parts[4], parts[5], 0);
  const exists =
    date.getUTCFullYear() === parts[0] &&
    date.getUTCMonth() === parts[1] - 1 &&
    date.getUTCDate() === parts[2] &&
    date.getUTCHours() === parts[3] &&
    date.getUTCMinutes() === parts[4] &&
    date.getUTCSeconds() === parts[5];
  if (!exists || parts[0] < 1) return undefined;
  if (offset !== 'Z') {
    const [hours, minutes] = offset.slice(1).split(':').map(Number);
    if (hours > 23 || minutes > 59) return undefined;
    const sign = offset.startsWith('-') ? -1 : 1;
    date.setTime(date.getTime() - sign * (hours * 60 + minutes) * 60_000);
  }
  if (Number.isNaN(date.getTime())) return undefined;
  return date.toISOString().replace(/\.\d{3}Z$/, `.${fraction.padEnd(6, '0')}Z`);
}

/** `createdFrom` and `createdTo`, each a timestamp, `from` before `to` when both are given. */
export function parseCreatedRange(
  input: { createdFrom?: unknown; createdTo?: unknown },
  problems: ValidationErrors,
): CreatedRange {
  const range: CreatedRange = {};
  for (const key of ['createdFrom', 'createdTo'] as const) {
    if (input[key] === undefined) continue;
    const parsed = parseTimestamp(input[key]);
    if (parsed === undefined) problems[key] = [TIMESTAMP_MESSAGE];
    else range[key] = parsed;
  }
  // Both are UTC with the same number of digits, so text order is time order.
  if (
    range.createdFrom !== undefined &&
    range.createdTo !== undefined &&
    range.createdFrom >= range.createdTo
  ) {
    problems.createdTo = ['must be later than createdFrom'];
  }
  return range;
}

/** `true` or `false`, or `undefined` when absent or anything else (a problem under `key`). */
export function parseBoolean(value: unknown, key: string, problems: ValidationErrors): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  problems[key] = ['must be true or false'];
  return undefined;
}

/** PostgreSQL's `to_char` pattern for a timestamptz's exact UTC text (a cursor's key). */
export const EXACT_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/** True when `value` is a timestamp as `EXACT_UTC` writes it. */
export function isExactUtc(value: unknown): value is string {
  return typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(value);
}

/** The activity list's filter parameters (a cursor must agree with any of them that are given). */
export const ACTIVITY_FILTER_KEYS = [
  'targetType',
  'status',
  'runType',
  'connectedSystemName',
  'runProfileName',
  'createdFrom',
  'createdTo',
  'hasErrors',
] as const satisfies ReadonlyArray<keyof ActivityFilters>;

/**
 * The activity filters, checked for callers the types do not bind (JavaScript, HTTP) and
 * normalised (lists in vocabulary order, timestamps in UTC), so that equal filters look equal.
 */
export function parseActivityFilters(input: object): ActivityFilters {
  const request = input as Record<string, unknown>;
  const problems: ValidationErrors = {};
  const vocabularyList = <T extends string>(
    key: 'targetType' | 'status' | 'runType',
    vocabulary: readonly T[],
  ) => {
    const values = request[key];
    if (values === undefined) return undefined;
    if (
      !Array.isArray(values) ||
      values.length === 0 ||
      !values.every((value) => isOneOf(vocabulary, value))
    ) {
      problems[key] = [`must be one of ${vocabulary.join(', ')}`];
      return undefined;
    }
    return vocabulary.filter((value) => values.includes(value));
  };
  const filters: ActivityFilters = {
    targetType: vocabularyList('targetType', ACTIVITY_TARGET_TYPES),
    status: vocabularyList('status', ACTIVITY_STATUSES),
    runType: vocabularyList('runType', RUN_TYPES),
    connectedSystemName: parseNames(
      request.connectedSystemName,
      'connectedSystemName',
      'connected system',
      problems,
    ),
    runProfileName: parseNames(request.runProfileName, 'runProfileName', 'run profile', problems),
    ...parseCreatedRange(request, problems),
    hasErrors: parseBoolean(request.hasErrors, 'hasErrors', problems),
  };
  if (Object.keys(problems).length > 0) throw ExecutionItemsError.invalid(problems);
  return Object.fromEntries(
    Object.entries(filters).filter(([, value]) => value !== undefined),
  ) as ActivityFilters;
}

/** A position in the activity list: a created time as `EXACT_UTC` writes it, and an id. */
export function isActivityPosition(after: unknown[]): boolean {
  return (
    after.length === 2 && isExactUtc(after[0]) && typeof after[1] === 'string' && GUID_PATTERN.test(after[1])
  );
}
