import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import { itemsQuery, type RunViewState } from '../run-view-state';
import { api, queryString } from './client';

/** Rows per request: the API's largest page. */
export const ITEMS_PAGE_SIZE = 100;

/**
 * The queries a page asks for, one definition each, shared by the components and by the
 * prefetch that starts them before the first render.
 */
export const activityQuery = (runId: string) =>
  queryOptions({
    queryKey: ['activity', runId],
    queryFn: ({ signal }) => api.getActivity(runId, signal),
  });

/** A run's items as the view state selects them, a page of 100 at a time by `nextCursor`. */
export const itemPagesQuery = (runId: string, state: RunViewState) => {
  const query = queryString({ ...itemsQuery(state), pageSize: ITEMS_PAGE_SIZE });
  return infiniteQueryOptions({
    queryKey: ['items', runId, query],
    queryFn: ({ pageParam, signal }) =>
      api.listItems(runId, pageParam ? queryString({ cursor: pageParam }) : query, signal),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    staleTime: Infinity,
  });
};

/** The changes since the baseline run, optionally only some kinds, a page of 100 at a time. */
export const diffPagesQuery = (runId: string, change: readonly string[]) => {
  const query = queryString({
    change: change.length ? change.join(',') : undefined,
    pageSize: ITEMS_PAGE_SIZE,
  });
  return infiniteQueryOptions({
    queryKey: ['diff', runId, query],
    queryFn: ({ pageParam, signal }) =>
      api.diff(runId, pageParam ? queryString({ cursor: pageParam }) : query, signal),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    staleTime: 30_000,
  });
};
