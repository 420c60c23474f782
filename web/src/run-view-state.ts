import { SORT_KEYS, type SortKey } from './vocabulary';

/** Everything that decides what the run view shows; it lives in the URL's query string. */
export interface RunViewState {
  errorType: string[];
  objectChangeType: string[];
  objectType: string[];
  outcomeType: string[];
  hasError: 'true' | 'false' | null;
  search: string;
  sortBy: SortKey;
  sortDirection: 'asc' | 'desc';
  /** The item whose panel is open. */
  item: string | null;
}

export const LIST_FILTERS = ['objectChangeType', 'errorType', 'objectType', 'outcomeType'] as const;
export type ListFilter = (typeof LIST_FILTERS)[number];

const list = (search: URLSearchParams, name: string) => [
  ...new Set(
    search
      .getAll(name)
      .flatMap((value) => value.split(','))
      .filter((value) => value !== ''),
  ),
];

export function readRunViewState(search: URLSearchParams): RunViewState {
  const sortBy = search.get('sortBy');
  const hasError = search.get('hasError');
  return {
    errorType: list(search, 'errorType'),
    objectChangeType: list(search, 'objectChangeType'),
    objectType: list(search, 'objectType'),
    outcomeType: list(search, 'outcomeType'),
    hasError: hasError === 'true' || hasError === 'false' ? hasError : null,
    search: search.get('search') ?? '',
    sortBy: (SORT_KEYS as readonly string[]).includes(sortBy ?? '') ? (sortBy as SortKey) : 'sequence',
    sortDirection: search.get('sortDirection') === 'desc' ? 'desc' : 'asc',
    item: search.get('item'),
  };
}

/** The view's query string, with defaults left out so that links stay short. */
export function writeRunViewState(state: RunViewState): string {
  const search = new URLSearchParams();
  for (const name of LIST_FILTERS) for (const value of state[name]) search.append(name, value);
  if (state.hasError) search.set('hasError', state.hasError);
  if (state.search.trim() !== '') search.set('search', state.search);
  if (state.sortBy !== 'sequence') search.set('sortBy', state.sortBy);
  if (state.sortDirection !== 'asc') search.set('sortDirection', state.sortDirection);
  if (state.item) search.set('item', state.item);
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** The API query for the items list or the export: the filters, search and sort, without the panel. */
export function itemsQuery(state: RunViewState): Record<string, string | string[] | undefined> {
  return {
    errorType: state.errorType,
    objectChangeType: state.objectChangeType,
    objectType: state.objectType,
    outcomeType: state.outcomeType,
    hasError: state.hasError ?? undefined,
    search: state.search.trim() === '' ? undefined : state.search.trim(),
    sortBy: state.sortBy === 'sequence' ? undefined : state.sortBy,
    sortDirection: state.sortDirection === 'asc' ? undefined : state.sortDirection,
  };
}

export function hasFilters(state: RunViewState): boolean {
  return (
    LIST_FILTERS.some((name) => state[name].length > 0) ||
    state.hasError !== null ||
    state.search.trim() !== ''
  );
}

export function toggle(values: string[], value: string): string[] {
  return values.includes(value) ? values.filter((one) => one !== value) : [...values, value];
}
