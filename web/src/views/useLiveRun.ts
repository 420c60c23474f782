import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { getApiBase } from '../api/client';
import { followEventStream } from '../api/event-stream';
import type { Activity } from '../api/types';
import { sentenceFor } from '../api/errors';

/** How often, at most, new items refresh the table and the counts. */
export const LIVE_REFETCH_MS = 1000;

export interface LiveRun {
  /** `connecting`, `live` (a stream is open), `reconnecting` (after a failure), or `failed`. */
  connection: 'connecting' | 'live' | 'reconnecting' | 'failed';
  itemCount: number | null;
  itemsWithErrors: number | null;
  problem: string | null;
}

/**
 * Follows a run in progress through its item stream: the counters from `progress` events, the
 * items table and the counts refreshed (at most once a second) when items arrive, and the run,
 * its counts and its items read again when `complete` arrives. The stream stops on unmount.
 * `refreshItems` says whether the table's order and search let new items show (sequence order,
 * no search); otherwise only the counters follow.
 */
export function useLiveRun(
  runId: string,
  activity: Activity | undefined,
  refreshItems: boolean,
): LiveRun | null {
  const queryClient = useQueryClient();
  const following = activity?.status === 'InProgress';
  const refreshItemsRef = useRef(refreshItems);
  refreshItemsRef.current = refreshItems;
  const [live, setLive] = useState<LiveRun | null>(null);

  useEffect(() => {
    if (!following) {
      setLive(null);
      return;
    }
    // The items already written are in the table; the stream brings the ones after them.
    const startAfter = activity?.itemCount ?? 0;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | null = null;
    let lastRefresh = 0;
    let itemsPending = false;
    const refresh = () => {
      timer = null;
      lastRefresh = Date.now();
      void queryClient.invalidateQueries({ queryKey: ['stats', runId] });
      if (itemsPending && refreshItemsRef.current)
        void queryClient.invalidateQueries({ queryKey: ['items', runId] });
      itemsPending = false;
    };
    const scheduleRefresh = () => {
      if (timer !== null || controller.signal.aborted) return;
      timer = setTimeout(refresh, Math.max(0, lastRefresh + LIVE_REFETCH_MS - Date.now()));
    };
    setLive({
      connection: 'connecting',
      itemCount: activity?.itemCount ?? null,
      itemsWithErrors: activity?.itemsWithErrors ?? null,
      problem: null,
    });
    followEventStream(getApiBase(), {
      url: `/activities/${encodeURIComponent(runId)}/items/stream?after=${startAfter}`,
      signal: controller.signal,
      onOpen: () => setLive((previous) => previous && { ...previous, connection: 'live', problem: null }),
      onRetry: (delayMs, error) =>
        setLive(
          (previous) =>
            previous && {
              ...previous,
              connection: 'reconnecting',
              problem: `${sentenceFor(error)} Trying again in ${Math.round(delayMs / 1000)} s.`,
            },
        ),
      onEvent: (event) => {
        if (event.event === 'item') {
          itemsPending = true;
          scheduleRefresh();
        } else if (event.event === 'progress') {
          const progress = JSON.parse(event.data) as { itemCount: number; itemsWithErrors: number };
          setLive(
            (previous) =>
              previous && {
                ...previous,
                itemCount: progress.itemCount,
                itemsWithErrors: progress.itemsWithErrors,
              },
          );
          scheduleRefresh();
        } else if (event.event === 'complete') {
          const ended = JSON.parse(event.data) as Activity;
          queryClient.setQueryData(['activity', runId], ended);
          void queryClient.invalidateQueries({ queryKey: ['activity', runId] });
          void queryClient.invalidateQueries({ queryKey: ['stats', runId] });
          void queryClient.invalidateQueries({ queryKey: ['items', runId] });
        }
      },
    }).catch((error: unknown) => {
      if (!controller.signal.aborted)
        setLive((previous) => previous && { ...previous, connection: 'failed', problem: sentenceFor(error) });
    });
    return () => {
      controller.abort();
      if (timer !== null) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runId, following, queryClient]);

  return following ? live : null;
}
