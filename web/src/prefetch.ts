import type { QueryClient } from '@tanstack/react-query';
import { activityQuery, itemPagesQuery } from './api/queries';
import { getCredential } from './auth/session';
import { routeOf } from './routing';
import { readRunViewState } from './run-view-state';

/**
 * Asks for the data of the page being opened before React renders it: a run's activity and its
 * first items, under the keys its components read, so they find them in the cache (or on the way).
 */
export function prefetchPage(queryClient: QueryClient): void {
  if (!getCredential()) return;
  const route = routeOf(window.location.pathname);
  if (route.name !== 'run') return;
  void queryClient.prefetchQuery(activityQuery(route.runId));
  void queryClient.prefetchInfiniteQuery(
    itemPagesQuery(route.runId, readRunViewState(new URLSearchParams(window.location.search))),
  );
}
