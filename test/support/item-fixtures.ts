/**
 * Helpers for the e2e specs of filters, search, sort, cursors, item detail, stats and export:
 * writing runs through the service, and the README's rules (filter, search, sort, paging) written
 * out independently of the implementation so that a test can compute what the API must answer.
 */
import request from 'supertest';
import {
  ERROR_TYPES,
  OBJECT_CHANGE_TYPES,
  OUTCOME_TYPES,
  type ExecutionRunsService,
  type NewExecutionItem,
  type OutcomeInput,
} from '../../src/execution-items';
import { adminToken, bearer } from './tokens';

export const MISSING_ID = '0b0c0d0e-0f10-4112-8314-151617181920';
export const TIMESTAMP = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
export const GUID_MESSAGE = 'must be a GUID (8-4-4-4-12 hexadecimal digits)';
export const VALIDATION_MESSAGE = 'The request is not valid.';
export const UNAUTHORISED_MESSAGE = 'A valid bearer token is required.';
export const FORBIDDEN_MESSAGE = 'This requires the Administrator role.';

export const SORT_BYS = ['sequence', 'displayName', 'externalIdValue', 'objectType', 'errorType'] as const;
export type SortBy = (typeof SORT_BYS)[number];
export type SortDirection = 'asc' | 'desc';

/** The error envelope of every non-2xx response. */
export function errorBody(
  code: string,
  message: unknown,
  validationErrors: Record<string, unknown> | null = null,
) {
  return {
    code,
    message: message instanceof RegExp ? expect.stringMatching(message) : message,
    details: null,
    validationErrors,
    timestamp: TIMESTAMP,
  };
}

/** A `VALIDATION_ERROR` naming exactly these parameters (any message text for each). */
export function validationErrorNaming(...params: string[]) {
  return errorBody(
    'VALIDATION_ERROR',
    expect.any(String),
    Object.fromEntries(params.map((param) => [param, [expect.any(String)]])),
  );
}

export function activityNotFoundBody(activityId: string) {
  return errorBody('NOT_FOUND', `Activity with ID ${activityId} not found.`);
}

export function notARunProfileBody(activityId: string, targetType = 'ConnectedSystem') {
  return errorBody(
    'BAD_REQUEST',
    `Activity with ID ${activityId} is a ${targetType} activity; only ConnectedSystemRunProfile activities have execution items.`,
  );
}

/**
 * Asserts a 400 `VALIDATION_ERROR` naming only `param`, with one message that lists every
 * accepted value; for a vocabulary (any parameter but the boolean `hasError`) the message starts
 * with `must be one of `.
 */
export function expectAcceptedValuesError(body: unknown, param: string, accepted: readonly string[]): void {
  expect(body).toEqual(errorBody('VALIDATION_ERROR', expect.any(String), { [param]: [expect.any(String)] }));
  const message = (body as { validationErrors: Record<string, string[]> }).validationErrors[param][0];
  if (param !== 'hasError') expect(message).toMatch(/^must be one of /);
  const words = new Set(message.match(/[A-Za-z0-9]+/g) ?? []);
  for (const value of accepted)
    expect({ message, value, listed: words.has(value) }).toEqual({ message, value, listed: true });
}

/** GET with the administrator's token (or another one, or none with `null`). */
export function getAs(http: unknown, path: string, jwt: string | null = adminToken()) {
  const req = request(http as Parameters<typeof request>[0]).get(path);
  return jwt === null ? req : req.set(bearer(jwt));
}

/** One item as written, with what the service answered for it. */
export interface WrittenItem {
  id: string;
  sequence: number;
  input: NewExecutionItem;
}

/** Appends `inputs` to the run in batches; returns every item with its id and sequence. */
export async function appendInBatches(
  runs: ExecutionRunsService,
  activityId: string,
  inputs: readonly NewExecutionItem[],
  batchSize = 1000,
): Promise<WrittenItem[]> {
  const written: WrittenItem[] = [];
  for (let start = 0; start < inputs.length; start += batchSize) {
    const batch = inputs.slice(start, start + batchSize);
    const result = await runs.appendItems(activityId, batch);
    batch.forEach((input, index) =>
      written.push({ id: result.itemIds[index], sequence: result.firstSequence + index, input }),
    );
  }
  return written;
}

/** Every node of an outcome tree, roots and descendants. */
export function outcomeNodes(outcomes: readonly OutcomeInput[] | undefined): OutcomeInput[] {
  return (outcomes ?? []).flatMap((node) => [node, ...outcomeNodes(node.children)]);
}

/** The contract's §3 summary, computed from the tree. */
export function outcomeSummaryOf(outcomes: readonly OutcomeInput[] | undefined): string | null {
  const counts = new Map<string, number>();
  for (const node of outcomeNodes(outcomes)) counts.set(node.type, (counts.get(node.type) ?? 0) + 1);
  const parts = OUTCOME_TYPES.filter((type) => counts.has(type)).map((type) => `${type}:${counts.get(type)}`);
  return parts.length > 0 ? parts.join(',') : null;
}

/** The item as the list answers it. */
export function listItem({ id, input }: WrittenItem) {
  return {
    id,
    externalIdValue: input.externalIdValue ?? null,
    displayName: input.displayName ?? null,
    connectedSystemObjectType: input.objectType ?? null,
    objectChangeType: input.objectChangeType,
    errorType: input.errorType ?? null,
    outcomeSummary: outcomeSummaryOf(input.outcomes),
  };
}

/** The list's query parameters, parsed. */
export interface ItemQuery {
  errorType?: string[];
  objectChangeType?: string[];
  objectType?: string[];
  outcomeType?: string[];
  hasError?: boolean;
  search?: string;
  sortBy?: SortBy;
  sortDirection?: SortDirection;
}

const LIST_PARAMS = ['errorType', 'objectChangeType', 'objectType', 'outcomeType'] as const;

/**
 * The query string (without `?`) for `query`, lists as `a,b` (`comma`) or as repeated parameters
 * (`repeated`), followed by `extra` parameters such as `pageSize`.
 */
export function queryString(
  query: ItemQuery,
  extra: Record<string, string | number> = {},
  listForm: 'comma' | 'repeated' = 'comma',
): string {
  const parts: string[] = [];
  const add = (name: string, value: string | number | boolean) =>
    parts.push(`${name}=${encodeURIComponent(String(value))}`);
  for (const name of LIST_PARAMS) {
    const values = query[name];
    if (!values) continue;
    if (listForm === 'comma') add(name, values.join(','));
    else values.forEach((value) => add(name, value));
  }
  if (query.hasError !== undefined) add('hasError', query.hasError);
  if (query.search !== undefined) add('search', query.search);
  if (query.sortBy !== undefined) add('sortBy', query.sortBy);
  if (query.sortDirection !== undefined) add('sortDirection', query.sortDirection);
  for (const [name, value] of Object.entries(extra)) add(name, value);
  return parts.join('&');
}

/** Whether the README's filters and search select the item: AND across parameters, OR within. */
export function matchesQuery({ input }: WrittenItem, query: ItemQuery): boolean {
  const errorType = input.errorType ?? null;
  if (query.errorType && !(errorType !== null && query.errorType.includes(errorType))) return false;
  if (query.objectChangeType && !query.objectChangeType.includes(input.objectChangeType)) return false;
  const objectType = input.objectType ?? null;
  if (query.objectType && !(objectType !== null && query.objectType.includes(objectType))) return false;
  if (query.outcomeType) {
    const types = new Set(outcomeNodes(input.outcomes).map((node) => node.type as string));
    if (!query.outcomeType.some((type) => types.has(type))) return false;
  }
  if (query.hasError !== undefined && query.hasError !== (errorType !== null)) return false;
  if (query.search !== undefined) {
    const needle = query.search.toLowerCase();
    const hit = [input.displayName, input.externalIdValue].some(
      (value) => typeof value === 'string' && value.toLowerCase().includes(needle),
    );
    if (!hit) return false;
  }
  return true;
}

/** Compares strings by Unicode code point (JavaScript's `<` compares UTF-16 code units). */
export function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const difference = left[i].codePointAt(0)! - right[i].codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

/**
 * The README's sort: `displayName` and `externalIdValue` lower-cased then by code point (missing
 * as ''), `objectType` by code point with missing first, `errorType` in vocabulary order with no
 * error last; ties by sequence; `desc` reverses the whole order.
 */
export function itemComparator(sortBy: SortBy = 'sequence', direction: SortDirection = 'asc') {
  const primary = (a: WrittenItem, b: WrittenItem): number => {
    switch (sortBy) {
      case 'sequence':
        return 0;
      case 'displayName':
      case 'externalIdValue':
        return compareCodePoints(
          (a.input[sortBy] ?? '').toLowerCase(),
          (b.input[sortBy] ?? '').toLowerCase(),
        );
      case 'objectType': {
        const x = a.input.objectType ?? null;
        const y = b.input.objectType ?? null;
        if (x === null || y === null) return (x === null ? 0 : 1) - (y === null ? 0 : 1);
        return compareCodePoints(x, y);
      }
      case 'errorType': {
        const rank = (item: WrittenItem) =>
          item.input.errorType ? ERROR_TYPES.indexOf(item.input.errorType) : ERROR_TYPES.length;
        return rank(a) - rank(b);
      }
    }
  };
  const ascending = (a: WrittenItem, b: WrittenItem) => primary(a, b) || a.sequence - b.sequence;
  return direction === 'asc' ? ascending : (a: WrittenItem, b: WrittenItem) => ascending(b, a);
}

/** Every written item that the query selects, in the query's order. */
export function expectedItems(items: readonly WrittenItem[], query: ItemQuery): WrittenItem[] {
  return items
    .filter((item) => matchesQuery(item, query))
    .sort(itemComparator(query.sortBy, query.sortDirection));
}

/** The list envelope of one page, as the README defines it. */
export function expectedPage(
  matching: readonly WrittenItem[],
  page: number,
  pageSize: number,
): Record<string, unknown> {
  const totalPages = Math.ceil(matching.length / pageSize);
  const items = matching.slice((page - 1) * pageSize, page * pageSize).map(listItem);
  return {
    items,
    totalCount: matching.length,
    page,
    pageSize,
    totalPages,
    hasNextPage: page < totalPages,
    hasPreviousPage: page > 1,
    nextCursor: page * pageSize < matching.length ? expect.any(String) : null,
  };
}

/**
 * The envelope's arithmetic (totalPages, hasNextPage, hasPreviousPage), and `nextCursor` a string
 * exactly when an item follows the page.
 */
export function expectPagingArithmetic(body: Record<string, unknown>): void {
  const { totalCount, page, pageSize, totalPages, hasNextPage, hasPreviousPage, nextCursor } = body as {
    totalCount: number;
    page: number;
    pageSize: number;
    totalPages: number;
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    nextCursor: unknown;
  };
  expect({
    totalPages,
    hasNextPage,
    hasPreviousPage,
    nextCursorPresent: typeof nextCursor === 'string',
  }).toEqual({
    totalPages: Math.ceil(totalCount / pageSize),
    hasNextPage: page < Math.ceil(totalCount / pageSize),
    hasPreviousPage: page > 1,
    nextCursorPresent: page * pageSize < totalCount,
  });
  if (typeof nextCursor !== 'string') expect(nextCursor).toBeNull();
}

/** Stats as the README defines them, keys in the documented order. */
export function expectedStats(activityId: string, items: readonly NewExecutionItem[]) {
  const inOrder = (order: readonly string[], counts: Map<string, number>) =>
    Object.fromEntries(order.filter((key) => counts.has(key)).map((key) => [key, counts.get(key)!]));
  const bump = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  const changeTypes = new Map<string, number>();
  const errorTypes = new Map<string, number>();
  const objectTypes = new Map<string, number>();
  const outcomeTypes = new Map<string, number>();
  let itemsWithErrors = 0;
  for (const item of items) {
    bump(changeTypes, item.objectChangeType);
    if (item.errorType) {
      itemsWithErrors += 1;
      bump(errorTypes, item.errorType);
    }
    if (item.objectType != null) bump(objectTypes, item.objectType);
    const nodes = outcomeNodes(item.outcomes);
    for (const type of new Set(nodes.map((node) => node.type))) bump(outcomeTypes, type);
  }
  return {
    activityId,
    totalCount: items.length,
    itemsWithErrors,
    objectChangeTypes: inOrder(OBJECT_CHANGE_TYPES, changeTypes),
    errorTypes: inOrder(ERROR_TYPES, errorTypes),
    objectTypes: inOrder([...objectTypes.keys()].sort(compareCodePoints), objectTypes),
    outcomeTypes: inOrder(OUTCOME_TYPES, outcomeTypes),
  };
}
