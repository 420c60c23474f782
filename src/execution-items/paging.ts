import { ExecutionItemsError } from './execution-items.error';
import { parseItemQuery, type ItemQuery } from './item-query';
import { isPosition, type KeyValue } from './item-sql';

/**
 * Paging, in one place: page numbers clamped as the contract says (§1), the envelope's fields,
 * cursors (`nextCursor`) that carry their query and the position after the last item shown, and
 * the look-ahead row that tells whether another page follows.
 */

/** A page request after the contract's clamping rules (§1). */
export interface PageWindow {
  page: number;
  pageSize: number;
}

export interface PageLimits {
  defaultPageSize: number;
  maxPageSize: number;
}

/** page < 1 → 1; pageSize above the maximum → the maximum; pageSize < 1 (or absent) → the default. */
export function clampPage(
  page: number | undefined,
  pageSize: number | undefined,
  limits: PageLimits,
): PageWindow {
  return {
    page: page === undefined || page < 1 ? 1 : page,
    pageSize:
      pageSize === undefined || pageSize < 1
        ? limits.defaultPageSize
        : Math.min(pageSize, limits.maxPageSize),
  };
}

/** Number of items before the page, as a string: page × pageSize may pass 2^53. */
export function offsetOf({ page, pageSize }: PageWindow): string {
  return ((BigInt(page) - 1n) * BigInt(pageSize)).toString();
}

/** Which page of a query to read: by offset (page numbers) or after a cursor's position. */
export type PagePosition = { offset: string } | { after: KeyValue[] };

/** The envelope's paging fields, derived from the total. */
export function pagingFields(window: PageWindow, totalCount: number) {
  const totalPages = Math.ceil(totalCount / window.pageSize);
  return {
    totalCount,
    page: window.page,
    pageSize: window.pageSize,
    totalPages,
    hasNextPage: window.page < totalPages,
    hasPreviousPage: window.page > 1,
  };
}

/**
 * A page read with one row more than it shows (`LIMIT pageSize + 1`): the extra row says whether
 * another page follows, without counting.
 */
export function lookAhead<T>(rows: readonly T[], pageSize: number): { rows: T[]; hasMore: boolean } {
  return { rows: rows.slice(0, pageSize), hasMore: rows.length > pageSize };
}

/** Where a walk through a query's items stands: the next page starts after `after`. */
export interface Cursor {
  activityId: string;
  query: ItemQuery;
  pageSize: number;
  /** The number of the page this cursor fetches. */
  page: number;
  /** The sort key values and sequence of the last item already returned. */
  after: KeyValue[];
}

/** Longest cursor accepted; one made here stays far below it (a key is at most 1024 characters). */
export const MAX_CURSOR_LENGTH = 8192;

const VERSION = 1;

/** The cursor as a URL-safe string. It is opaque to clients, not secret: it holds the query. */
export function encodeCursor(cursor: Cursor): string {
  const { query } = cursor;
  const body = {
    v: VERSION,
    a: cursor.activityId,
    f: query.filters,
    s: query.sortBy,
    d: query.sortDirection,
    n: cursor.pageSize,
    p: cursor.page,
    k: cursor.after,
  };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/**
 * Reads a cursor for the run `activityId`. Anything but a cursor made by `encodeCursor` for that
 * run (bad encoding, edited fields, another run's) is a `VALIDATION_ERROR` naming `cursor`.
 */
export function decodeCursor(value: string, activityId: string): Cursor {
  const body = parseBody(value);
  if (!isRecord(body) || body.v !== VERSION || !isRecord(body.f)) throw invalidCursor();
  if (typeof body.a !== 'string' || body.a.toLowerCase() !== activityId.toLowerCase()) {
    throw ExecutionItemsError.invalid({ cursor: ['belongs to another activity'] });
  }
  let query: ItemQuery;
  try {
    query = parseItemQuery({ ...body.f, sortBy: body.s, sortDirection: body.d } as never);
  } catch {
    throw invalidCursor();
  }
  if (!isCount(body.n) || !isCount(body.p) || !isPosition(query.sortBy, body.k)) throw invalidCursor();
  return { activityId: body.a, query, pageSize: body.n, page: body.p, after: body.k };
}

function parseBody(value: string, maxLength = MAX_CURSOR_LENGTH): unknown {
  if (value.length === 0 || value.length > maxLength || !/^[A-Za-z0-9_-]+$/.test(value)) {
    throw invalidCursor();
  }
  try {
    return JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
}

function invalidCursor(): ExecutionItemsError {
  return ExecutionItemsError.invalid({ cursor: ['is not a cursor this API returned'] });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

/**
 * Cursors of the lists that are not one run's items (activities, a diff, an object's history):
 * which list, what it is scoped to (a run, or nothing), its normalised query, and the position
 * after the last row shown. The caller checks the query and the position it gets back.
 */
export interface ListCursor {
  list: string;
  scope: string | null;
  query: Record<string, unknown>;
  pageSize: number;
  page: number;
  after: KeyValue[];
}

/**
 * Longest list cursor accepted: an object's history may hold an external id and a display name
 * of 1,024 characters each, up to 3 bytes each in UTF-8, in base64.
 */
export const MAX_LIST_CURSOR_LENGTH = 16_384;

export function encodeListCursor(cursor: ListCursor): string {
  const body = {
    v: VERSION,
    l: cursor.list,
    a: cursor.scope,
    f: cursor.query,
    n: cursor.pageSize,
    p: cursor.page,
    k: cursor.after,
  };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/**
 * Reads a cursor of `list` for `scope`. Anything but a cursor made by `encodeListCursor` for that
 * list and scope is a `VALIDATION_ERROR` naming `cursor`; the query and position inside are the
 * caller's to check.
 */
export function decodeListCursor(value: unknown, list: string, scope: string | null): ListCursor {
  if (typeof value !== 'string') throw ExecutionItemsError.invalid({ cursor: ['must be a string'] });
  const body = parseBody(value, MAX_LIST_CURSOR_LENGTH);
  if (
    !isRecord(body) ||
    body.v !== VERSION ||
    body.l !== list ||
    !isRecord(body.f) ||
    !isCount(body.n) ||
    !isCount(body.p) ||
    !Array.isArray(body.k) ||
    !(body.a === null || typeof body.a === 'string')
  ) {
    throw invalidCursor();
  }
  if ((body.a ?? '').toLowerCase() !== (scope ?? '').toLowerCase()) {
    throw ExecutionItemsError.invalid({ cursor: ['belongs to another activity'] });
  }
  return { list, scope, query: body.f, pageSize: body.n, page: body.p, after: body.k as KeyValue[] };
}

/** A page of a list: by page number, or after the position a cursor holds. */
export interface ListPage<Q> {
  query: Q;
  window: PageWindow;
  position: PagePosition;
}

/**
 * The page a list request asks for: page numbers, or its cursor with the query the cursor holds.
 * Parameters sent beside a cursor must say what the cursor says (`pageSize` after clamping);
 * `page` cannot come with one. `parse` checks a query, the request's or the cursor's (a cursor
 * whose query no longer parses was not made here); `isAfter` checks the cursor's position.
 */
export function resolveListPage<Q extends object>(
  request: { page?: number; pageSize?: number; cursor?: string },
  given: Q,
  limits: PageLimits,
  cursorOf: {
    list: string;
    scope: string | null;
    parse: (query: Record<string, unknown>) => Q;
    isAfter: (after: unknown[]) => boolean;
  },
  givenKeys: readonly string[],
): ListPage<Q> {
  if (request.cursor === undefined) {
    const window = clampPage(request.page, request.pageSize, limits);
    return { query: given, window, position: { offset: offsetOf(window) } };
  }
  if (request.page !== undefined) {
    throw ExecutionItemsError.invalid({ page: ['cannot be combined with cursor'] });
  }
  const cursor = decodeListCursor(request.cursor, cursorOf.list, cursorOf.scope);
  if (cursor.pageSize > limits.maxPageSize || !cursorOf.isAfter(cursor.after)) throw invalidCursor();
  let query: Q;
  try {
    query = cursorOf.parse(cursor.query);
  } catch {
    throw invalidCursor();
  }
  const differing = givenKeys.filter(
    (key) =>
      JSON.stringify((query as Record<string, unknown>)[key]) !==
      JSON.stringify((given as Record<string, unknown>)[key]),
  );
  if (request.pageSize !== undefined && clampPage(1, request.pageSize, limits).pageSize !== cursor.pageSize) {
    differing.push('pageSize');
  }
  if (differing.length > 0) {
    throw ExecutionItemsError.invalid({
      cursor: [
        `was made for another query (${differing.join(', ')} differ); send the cursor alone or with the same parameters`,
      ],
    });
  }
  return {
    query,
    window: { page: cursor.page, pageSize: cursor.pageSize },
    position: { after: cursor.after },
  };
}
