import { describe, expect, it } from 'vitest';
import { itemsQuery, readRunViewState, writeRunViewState } from './run-view-state';

describe('the run view state in the URL', () => {
  it('reads what it writes, and leaves defaults out of the link', () => {
    const state = readRunViewState(
      new URLSearchParams(
        'errorType=DuplicateObject,UnresolvedReference&objectType=user&hasError=true&search=smith&sortBy=displayName&sortDirection=desc&item=abc',
      ),
    );
    expect(state).toEqual({
      errorType: ['DuplicateObject', 'UnresolvedReference'],
      objectChangeType: [],
      objectType: ['user'],
      outcomeType: [],
      hasError: 'true',
      search: 'smith',
      sortBy: 'displayName',
      sortDirection: 'desc',
      item: 'abc',
    });
    expect(readRunViewState(new URLSearchParams(writeRunViewState(state)))).toEqual(state);
    expect(writeRunViewState(readRunViewState(new URLSearchParams('')))).toBe('');
  });

  it('ignores values it does not know rather than sending them', () => {
    const state = readRunViewState(
      new URLSearchParams('sortBy=colour&sortDirection=sideways&hasError=maybe'),
    );
    expect(state.sortBy).toBe('sequence');
    expect(state.sortDirection).toBe('asc');
    expect(state.hasError).toBeNull();
  });

  it('the API query carries filters, search and sort, not the open item', () => {
    const state = readRunViewState(new URLSearchParams('outcomeType=Projected&search=%20smith%20&item=abc'));
    expect(itemsQuery(state)).toEqual({
      errorType: [],
      objectChangeType: [],
      objectType: [],
      outcomeType: ['Projected'],
      hasError: undefined,
      search: 'smith',
      sortBy: undefined,
      sortDirection: undefined,
    });
  });
});
