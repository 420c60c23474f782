import { ExecutionItemsError } from './execution-items.error';
import {
  clampPage,
  decodeCursor,
  encodeCursor,
  lookAhead,
  offsetOf,
  pagingFields,
  type Cursor,
} from './paging';

const limits = { defaultPageSize: 25, maxPageSize: 100 };

describe('clampPage', () => {
  it('keeps values inside the limits', () => {
    expect(clampPage(3, 50, limits)).toEqual({ page: 3, pageSize: 50 });
  });

  it('defaults an absent page to 1 and an absent pageSize to the default', () => {
    expect(clampPage(undefined, undefined, limits)).toEqual({ page: 1, pageSize: 25 });
  });

  it.each([0, -1, -1000, Number.MIN_SAFE_INTEGER])('treats page %p as 1', (page) => {
    expect(clampPage(page, 10, limits)).toEqual({ page: 1, pageSize: 10 });
  });

  it('keeps page 1 and the largest safe page', () => {
    expect(clampPage(1, 10, limits).page).toBe(1);
    expect(clampPage(Number.MAX_SAFE_INTEGER, 10, limits).page).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([101, 1000, Number.MAX_SAFE_INTEGER])('clamps pageSize %p to the maximum', (pageSize) => {
    expect(clampPage(1, pageSize, limits)).toEqual({ page: 1, pageSize: 100 });
  });

  it('accepts pageSize equal to the maximum and pageSize 1', () => {
    expect(clampPage(1, 100, limits).pageSize).toBe(100);
    expect(clampPage(1, 1, limits).pageSize).toBe(1);
  });

  it.each([0, -1, Number.MIN_SAFE_INTEGER])('treats pageSize %p as the default', (pageSize) => {
    expect(clampPage(2, pageSize, limits)).toEqual({ page: 2, pageSize: 25 });
  });

  it('uses the limits it is given', () => {
    expect(clampPage(1, 0, { defaultPageSize: 10, maxPageSize: 20 }).pageSize).toBe(10);
    expect(clampPage(1, 21, { defaultPageSize: 10, maxPageSize: 20 }).pageSize).toBe(20);
  });
});

describe('offsetOf', () => {
  it('is 0 for the first page', () => {
    expect(offsetOf({ page: 1, pageSize: 25 })).toBe('0');
  });

  it('is (page - 1) × pageSize', () => {
    expect(offsetOf({ page: 2, pageSize: 25 })).toBe('25');
    expect(offsetOf({ page: 5, pageSize: 100 })).toBe('400');
  });

  it('is exact beyond 2^53 for page = Number.MAX_SAFE_INTEGER', () => {
    // (9007199254740991 - 1) × 100, which a double cannot represent exactly.
    expect(offsetOf({ page: Number.MAX_SAFE_INTEGER, pageSize: 100 })).toBe('900719925474099000');
    expect(offsetOf({ page: Number.MAX_SAFE_INTEGER, pageSize: 7 })).toBe(
      ((BigInt(Number.MAX_SAFE_INTEGER) - 1n) * 7n).toString(),
    );
  });
});

describe('pagingFields', () => {
  it('derives the envelope fields for a middle page', () => {
    expect(pagingFields({ page: 2, pageSize: 50 }, 248)).toEqual({
      totalCount: 248,
      page: 2,
      pageSize: 50,
      totalPages: 5,
      hasNextPage: true,
      hasPreviousPage: true,
    });
  });

  it('matches the contract example (first page of 248 at 50 a page)', () => {
    expect(pagingFields({ page: 1, pageSize: 50 }, 248)).toEqual({
      totalCount: 248,
      page: 1,
      pageSize: 50,
      totalPages: 5,
      hasNextPage: true,
      hasPreviousPage: false,
    });
  });

  it('has no next page on the last page', () => {
    expect(pagingFields({ page: 5, pageSize: 50 }, 248)).toMatchObject({
      totalPages: 5,
      hasNextPage: false,
      hasPreviousPage: true,
    });
  });

  it.each([
    [1, 25, 1],
    [25, 25, 1],
    [26, 25, 2],
    [100, 25, 4],
    [101, 25, 5],
    [1_000_000, 100, 10_000],
    [1_000_001, 100, 10_001],
  ])('totalPages for %p items at %p a page is %p', (total, pageSize, totalPages) => {
    expect(pagingFields({ page: 1, pageSize }, total).totalPages).toBe(totalPages);
  });

  it('has 0 pages and neither next nor previous page when there are no items', () => {
    expect(pagingFields({ page: 1, pageSize: 25 }, 0)).toEqual({
      totalCount: 0,
      page: 1,
      pageSize: 25,
      totalPages: 0,
      hasNextPage: false,
      hasPreviousPage: false,
    });
  });

  it('reports the true total and no next page for a page past the end', () => {
    expect(pagingFields({ page: 9, pageSize: 25 }, 30)).toEqual({
      totalCount: 30,
      page: 9,
      pageSize: 25,
      totalPages: 2,
      hasNextPage: false,
      hasPreviousPage: true,
    });
  });
});

describe('lookAhead', () => {
  it('shows pageSize rows and says another page follows when the extra row came', () => {
    expect(lookAhead([1, 2, 3], 2)).toEqual({ rows: [1, 2], hasMore: true });
  });

  it('says no page follows when no extra row came', () => {
    expect(lookAhead([1, 2], 2)).toEqual({ rows: [1, 2], hasMore: false });
    expect(lookAhead([], 2)).toEqual({ rows: [], hasMore: false });
  });
});

const RUN = '0b0c0d0e-0f10-4112-8314-151617181920';

const cursor: Cursor = {
  activityId: RUN,
  query: { filters: { hasError: true, search: 'smith' }, sortBy: 'displayName', sortDirection: 'desc' },
  pageSize: 50,
  page: 3,
  after: ['jane smith', 120],
};

function problemOf(value: string, activityId = RUN): string[] | undefined {
  try {
    decodeCursor(value, activityId);
    return undefined;
  } catch (error) {
    return (error as ExecutionItemsError).validationErrors?.cursor;
  }
}

/** A cursor with one field of its body replaced, as a client tampering with it would make. */
function edited(field: string, value: unknown): string {
  const body = JSON.parse(Buffer.from(encodeCursor(cursor), 'base64url').toString());
  body[field] = value;
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

describe('cursor', () => {
  it('round-trips through a URL-safe string', () => {
    const value = encodeCursor(cursor);
    expect(value).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(value, RUN)).toEqual(cursor);
  });

  it('accepts the run id in another case', () => {
    expect(decodeCursor(encodeCursor(cursor), RUN.toUpperCase()).page).toBe(3);
  });

  it('refuses a cursor of another run', () => {
    expect(problemOf(encodeCursor(cursor), '0b0c0d0e-0f10-4112-8314-151617181921')).toEqual([
      'belongs to another activity',
    ]);
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('{').toString('base64url')],
    ['JSON but no object', Buffer.from('[1]').toString('base64url')],
    ['too long', 'a'.repeat(9000)],
    ['another version', edited('v', 2)],
    ['a bad filter', edited('f', { errorType: ['Nope'] })],
    ['a bad sort key', edited('s', 'name')],
    ['a page size of 0', edited('n', 0)],
    ['a fractional page', edited('p', 1.5)],
    ['a position of the wrong shape', edited('k', [120])],
    ['a position with a NUL', edited('k', ['a\u0000', 1])],
    ['a sequence beyond the column', edited('k', ['a', 2 ** 31])],
  ])('refuses a cursor that is %s', (_name, value) => {
    expect(problemOf(value)).toEqual(['is not a cursor this API returned']);
  });

  it('checks the position against the sort order it belongs to', () => {
    const errorSort = { ...cursor, query: { ...cursor.query, sortBy: 'errorType' as const } };
    expect(
      decodeCursor(encodeCursor({ ...errorSort, after: [false, 'DuplicateObject', 7] }), RUN).after,
    ).toEqual([false, 'DuplicateObject', 7]);
    expect(problemOf(encodeCursor({ ...errorSort, after: [false, 'Nope', 7] }))).toEqual([
      'is not a cursor this API returned',
    ]);
  });
});
