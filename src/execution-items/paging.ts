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

function parseBody(value: string): unknown {
  if (value.length === 0 || value.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(value)) {
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
