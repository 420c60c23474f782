import { ApiError } from '../common/api-error';
import { decodeCursor, encodeCursor, type Cursor } from './cursor';

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
    return (error as ApiError).validationErrors?.cursor;
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
