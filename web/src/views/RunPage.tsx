import { useQuery } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState } from 'react';
import { api, queryString } from '../api/client';
import { activityQuery } from '../api/queries';
import { sentenceFor } from '../api/errors';
import type { Activity, ActivityStats } from '../api/types';
import { Problem, Waiting } from '../components/Problem';
import { StatusBadge } from '../components/StatusBadge';
import { formatDateTime, formatDuration, formatNumber } from '../format';
import { followLink, navigate, useLocation } from '../routing';
import {
  hasFilters,
  itemsQuery,
  readRunViewState,
  toggle,
  writeRunViewState,
  type ListFilter,
  type RunViewState,
} from '../run-view-state';
import { words } from '../vocabulary';
import { ItemPanel } from './ItemPanel';
import { ItemsTable } from './ItemsTable';
import { LIVE_REFRESH_MS } from './RunsPage';
import { useLiveRun, type LiveRun } from './useLiveRun';

/** How long the search waits after the last keystroke before it asks the API. */
export const SEARCH_DEBOUNCE_MS = 300;

/** One run: its header, count chips that filter, the search, the export and the items. */
export function RunPage({ runId }: { runId: string }) {
  const { search } = useLocation();
  const state = readRunViewState(search);
  const setState = (change: Partial<RunViewState>, options: { replace?: boolean } = {}) =>
    navigate(`/runs/${runId}${writeRunViewState({ ...state, ...change })}`, options);

  // While the item stream is open it keeps the run current; polling is the fallback when it is not.
  const streamOpen = useRef(false);
  const activity = useQuery({
    ...activityQuery(runId),
    refetchInterval: (query) =>
      query.state.data?.status === 'InProgress' && !streamOpen.current ? LIVE_REFRESH_MS : false,
  });
  const inProgress = activity.data?.status === 'InProgress';
  const live = useLiveRun(
    runId,
    activity.data,
    state.sortBy === 'sequence' && state.sortDirection === 'asc' && state.search === '',
  );
  streamOpen.current = live?.connection === 'live';
  const stats = useQuery({
    queryKey: ['stats', runId],
    queryFn: ({ signal }) => api.getStats(runId, signal),
    enabled: activity.isSuccess,
    staleTime: inProgress ? 0 : Infinity,
    refetchInterval: inProgress && !streamOpen.current ? LIVE_REFRESH_MS : false,
  });

  if (activity.isError) {
    return (
      <section className="page">
        <BackToRuns />
        <h1>Run {runId}</h1>
        <Problem error={activity.error} />
      </section>
    );
  }
  // One tree whether or not the run has arrived, so that the items table, asked for at once
  // beside the run, is not unmounted (and its first page cancelled and asked for again) when
  // the run arrives.
  const run = activity.data;
  return (
    <div className={`run-layout${run && state.item ? ' with-panel' : ''}`}>
      <section className="page run-page" aria-labelledby={run ? 'run-title' : undefined}>
        <BackToRuns />
        {run ? (
          <>
            <RunHeader activity={run} stats={stats.data} live={live} />
            {live && <LiveIndicator live={live} />}
            <p className="run-links">
              <a href={`/runs/${runId}/changes`} onClick={followLink}>
                Changes since the previous run
              </a>
            </p>
            <Waiting failureReason={stats.failureReason} isError={stats.isError} />
            {stats.isError && <Problem error={stats.error} />}
            {stats.data && <CountChips stats={stats.data} state={state} setState={setState} />}
            <Toolbar runId={runId} state={state} setState={setState} />
          </>
        ) : (
          <>
            <Waiting failureReason={activity.failureReason} isError={false} />
            <p role="status">Loading the run…</p>
          </>
        )}
        <ItemsTable
          runId={runId}
          state={state}
          onSort={(sortBy, sortDirection) => setState({ sortBy, sortDirection })}
          onOpen={(item) => setState({ item })}
        />
      </section>
      {run && state.item && (
        <ItemPanel runId={runId} itemId={state.item} onClose={() => setState({ item: null })} />
      )}
    </div>
  );
}

function BackToRuns() {
  return (
    <nav aria-label="Breadcrumb" className="breadcrumb">
      <a href="/" onClick={followLink}>
        ← All runs
      </a>
    </nav>
  );
}

/** Says that the page follows the run, with the live counters, or why it does not right now. */
function LiveIndicator({ live }: { live: LiveRun }) {
  const count = live.itemCount === null ? '' : `: ${formatNumber(live.itemCount)} items`;
  const errors = live.itemsWithErrors ? `, ${formatNumber(live.itemsWithErrors)} with errors` : '';
  const text =
    live.connection === 'live'
      ? `Following live${count}${errors}`
      : live.connection === 'connecting'
        ? `Connecting to follow the run live${count}${errors}`
        : live.connection === 'reconnecting'
          ? `Reconnecting${count}${errors}. ${live.problem ?? ''}`
          : `Not following live: ${live.problem ?? ''} The page refreshes every few seconds instead.`;
  return (
    <p role="status" className={`live-indicator live-${live.connection}`}>
      {live.connection === 'live' && (
        <span className="live-dot" aria-hidden="true">
          ●{' '}
        </span>
      )}
      {text}
    </p>
  );
}

function RunHeader({
  activity,
  stats,
  live,
}: {
  activity: Activity;
  stats: ActivityStats | undefined;
  live: LiveRun | null;
}) {
  const [now, setNow] = useState(() => Date.now());
  const running = activity.status === 'InProgress';
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  return (
    <header className="run-header">
      <h1 id="run-title">
        {activity.targetContext ?? 'Unknown system'} <span aria-hidden="true">·</span>{' '}
        <span className="run-profile">{activity.targetName ?? 'Unnamed run profile'}</span>
      </h1>
      <dl className="facts">
        <div>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={activity.status} />
          </dd>
        </div>
        <div>
          <dt>Run type</dt>
          <dd>{activity.runType ? words(activity.runType) : '—'}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>
            <time dateTime={activity.created}>{formatDateTime(activity.created)}</time>
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>
            {running
              ? `running for ${formatDuration(now - Date.parse(activity.created))}`
              : activity.completed
                ? formatDuration(Date.parse(activity.completed) - Date.parse(activity.created))
                : '—'}
          </dd>
        </div>
        <div>
          <dt>Items</dt>
          <dd>{formatNumber(Math.max(live?.itemCount ?? 0, activity.itemCount))}</dd>
        </div>
        <div>
          <dt>With errors</dt>
          <dd>
            {formatNumber(
              Math.max(live?.itemsWithErrors ?? 0, stats?.itemsWithErrors ?? activity.itemsWithErrors),
            )}
          </dd>
        </div>
      </dl>
    </header>
  );
}

const CHIP_GROUPS: Array<{ filter: ListFilter; stats: keyof ActivityStats; label: string }> = [
  { filter: 'errorType', stats: 'errorTypes', label: 'Errors' },
  { filter: 'objectChangeType', stats: 'objectChangeTypes', label: 'Changes' },
  { filter: 'objectType', stats: 'objectTypes', label: 'Object types' },
  { filter: 'outcomeType', stats: 'outcomeTypes', label: 'Outcomes' },
];

/** One chip per count of the run; pressing a chip filters (OR within a group, AND across groups). */
function CountChips({
  stats,
  state,
  setState,
}: {
  stats: ActivityStats;
  state: RunViewState;
  setState: (change: Partial<RunViewState>) => void;
}) {
  return (
    <div className="chips" role="group" aria-label="Filter by count">
      <fieldset className="chip-group">
        <legend>All items</legend>
        <div className="chip-list">
          <button
            type="button"
            className="chip chip-error"
            aria-pressed={state.hasError === 'true'}
            onClick={() => setState({ hasError: state.hasError === 'true' ? null : 'true' })}
          >
            With errors <span className="count">{formatNumber(stats.itemsWithErrors)}</span>
          </button>
          <button
            type="button"
            className="chip"
            aria-pressed={state.hasError === 'false'}
            onClick={() => setState({ hasError: state.hasError === 'false' ? null : 'false' })}
          >
            Without errors{' '}
            <span className="count">{formatNumber(stats.totalCount - stats.itemsWithErrors)}</span>
          </button>
        </div>
      </fieldset>
      {CHIP_GROUPS.map(({ filter, stats: key, label }) => {
        const counts = Object.entries(stats[key] as Record<string, number>);
        if (counts.length === 0) return null;
        return (
          <fieldset key={filter} className="chip-group">
            <legend>{label}</legend>
            <div className="chip-list">
              {counts.map(([value, count]) => (
                <button
                  key={value}
                  type="button"
                  className={`chip${filter === 'errorType' ? ' chip-error' : ''}`}
                  aria-pressed={state[filter].includes(value)}
                  onClick={() => setState({ [filter]: toggle(state[filter], value) })}
                >
                  {filter === 'objectType' ? value : words(value)}{' '}
                  <span className="count">{formatNumber(count)}</span>
                </button>
              ))}
            </div>
          </fieldset>
        );
      })}
    </div>
  );
}

function Toolbar({
  runId,
  state,
  setState,
}: {
  runId: string;
  state: RunViewState;
  setState: (change: Partial<RunViewState>, options?: { replace?: boolean }) => void;
}) {
  const searchId = useId();
  const [text, setText] = useState(state.search);
  const latest = useRef(state);
  latest.current = state;
  // The box follows the URL (Back, a link), and the URL follows the box after a pause in typing.
  useEffect(() => setText(state.search), [state.search]);
  useEffect(() => {
    if (text === latest.current.search) return;
    const timer = setTimeout(
      () => setState({ search: text, item: null }, { replace: true }),
      SEARCH_DEBOUNCE_MS,
    );
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [text]);

  return (
    <div className="toolbar">
      <div className="field search-field">
        <label htmlFor={searchId}>Search by name or external ID</label>
        <input
          id={searchId}
          type="search"
          value={text}
          maxLength={256}
          autoComplete="off"
          onChange={(event) => setText(event.target.value)}
        />
      </div>
      {hasFilters(state) && (
        <button
          type="button"
          className="button-quiet"
          onClick={() =>
            setState({
              errorType: [],
              objectChangeType: [],
              objectType: [],
              outcomeType: [],
              hasError: null,
              search: '',
              item: null,
            })
          }
        >
          Clear filters
        </button>
      )}
      <ExportButtons runId={runId} state={state} />
    </div>
  );
}

/** CSV and NDJSON of the items that match the current filters, search and sort. */
function ExportButtons({ runId, state }: { runId: string; state: RunViewState }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<{ text: string; problem: boolean } | null>(null);
  const run = async (format: 'csv' | 'ndjson') => {
    setBusy(format);
    setMessage(null);
    try {
      const { fileName, blob } = await api.exportItems(runId, queryString({ ...itemsQuery(state), format }));
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = fileName;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setMessage({ text: `Saved ${fileName} (${formatNumber(blob.size)} bytes).`, problem: false });
    } catch (error) {
      setMessage({ text: sentenceFor(error), problem: true });
    } finally {
      setBusy(null);
    }
  };
  return (
    <div className="export" role="group" aria-label="Export the matching items">
      <button
        type="button"
        className="button-secondary"
        disabled={busy !== null}
        onClick={() => void run('csv')}
      >
        {busy === 'csv' ? 'Exporting…' : 'Export CSV'}
      </button>
      <button
        type="button"
        className="button-secondary"
        disabled={busy !== null}
        onClick={() => void run('ndjson')}
      >
        {busy === 'ndjson' ? 'Exporting…' : 'Export NDJSON'}
      </button>
      <span role="status" className={message?.problem ? 'problem-inline' : 'export-message'}>
        {message?.text}
      </span>
    </div>
  );
}
