import { ExecutionItemsError } from './execution-items.error';
import { containsPattern, parseItemQuery } from './item-query';

/** The problems reported for an input, typed or not (JavaScript callers can send anything). */
function problemsOf(input: Record<string, unknown>): Record<string, string[]> | null {
  try {
    parseItemQuery(input as never);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(ExecutionItemsError);
    expect((error as ExecutionItemsError).reason).toBe('InvalidInput');
    return (error as ExecutionItemsError).validationErrors;
  }
}

describe('parseItemQuery', () => {
  it('defaults to every item in processing order', () => {
    expect(parseItemQuery({})).toEqual({ filters: {}, sortBy: 'sequence', sortDirection: 'asc' });
  });

  it('puts vocabulary lists in vocabulary order without duplicates, so equal filters look equal', () => {
    const query = parseItemQuery({
      errorType: ['UnresolvedReference', 'AmbiguousMatch', 'UnresolvedReference'],
      outcomeType: ['PendingExportCreated', 'Projected'],
      objectChangeType: ['Joined', 'Add'],
    });
    expect(query.filters).toEqual({
      errorType: ['AmbiguousMatch', 'UnresolvedReference'],
      outcomeType: ['Projected', 'PendingExportCreated'],
      objectChangeType: ['Add', 'Joined'],
    });
  });

  it('keeps object type names exact, deduplicated, in code point order', () => {
    expect(parseItemQuery({ objectType: ['user', 'Group', 'user', 'group'] }).filters.objectType).toEqual([
      'Group',
      'group',
      'user',
    ]);
  });

  it.each([true, false])('reads hasError %p', (hasError) => {
    expect(parseItemQuery({ hasError }).filters.hasError).toBe(hasError);
  });

  it('takes hasError as a boolean only (the HTTP query converts "true" and "false")', () => {
    expect(problemsOf({ hasError: 'true' })).toEqual({ hasError: ['must be true or false'] });
  });

  it('reports every bad parameter at once, listing the accepted values', () => {
    const problems = problemsOf({
      errorType: ['Nope'],
      objectChangeType: ['add'],
      outcomeType: ['projected'],
      hasError: '1',
      sortBy: 'name',
      sortDirection: 'up',
    });
    expect(Object.keys(problems!)).toEqual([
      'errorType',
      'objectChangeType',
      'outcomeType',
      'hasError',
      'sortBy',
      'sortDirection',
    ]);
    expect(problems!.errorType[0]).toMatch(/^must be one of AmbiguousMatch, CouldNotMatchObjectType, /);
    expect(problems!.sortBy).toEqual([
      'must be one of sequence, displayName, externalIdValue, objectType, errorType',
    ]);
  });

  it.each([
    ['empty', ''],
    ['NUL', 'a\u0000b'],
    ['a tab', 'a\tb'],
    ['DEL', 'a\u007fb'],
    ['a C1 control', 'a\u0085b'],
    ['an unpaired surrogate', 'a\ud800b'],
    ['257 characters', 'x'.repeat(257)],
  ])('rejects a search that is %s', (_name, search) => {
    expect(problemsOf({ search })).toEqual({
      search: ['must be 1 to 256 characters without control characters'],
    });
  });

  it('accepts 256 characters counted as code points, emoji and right-to-left text', () => {
    expect(parseItemQuery({ search: '😀'.repeat(256) }).filters.search).toHaveLength(512);
    expect(parseItemQuery({ search: 'שלום' }).filters.search).toBe('שלום');
  });

  it('rejects empty lists, too many values and object type names with control characters', () => {
    expect(problemsOf({ errorType: [] })).toEqual({ errorType: ['must hold 1 to 100 values'] });
    expect(problemsOf({ objectType: Array.from({ length: 101 }, (_, i) => `t${i}`) })).toEqual({
      objectType: ['must hold 1 to 100 values'],
    });
    expect(problemsOf({ objectType: ['us\u0000er'] })).toEqual({
      objectType: ['must be object type names of 1 to 256 characters without control characters'],
    });
  });
});

describe('containsPattern', () => {
  it('matches anywhere and takes %, _ and \\ literally', () => {
    expect(containsPattern('smith')).toBe('%smith%');
    expect(containsPattern('100%_a\\b')).toBe('%100\\%\\_a\\\\b%');
  });
});
