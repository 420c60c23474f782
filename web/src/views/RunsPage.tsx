import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { api, type RunsFilter } from '../api/client';
import { ApiProblem } from '../api/errors';
import type { Activity } from '../api/types';
import { Problem, Waiting } from '../components/Problem';
import { StatusBadge } from '../components/StatusBadge';
import { formatDateTime, formatNumber } from '../format';
import { followLink, navigate, useLocation } from '../routing';
import { ACTIVITY_STATUSES, RUN_TYPES, words } from '../vocabulary';

const PAGE_SIZE = 25;
/** How often runs in progress are asked for again while the list is open. */
export const LIVE_REFRESH_MS = 3000;

function readFilter(search: URLSearchParams): RunsFilter {
  const list = (name: string) =>
    search
      .getAll(name)
      .flatMap((value) => value.split(','))
      .filter(Boolean);
  return {
    status: list('status'),
    runType: list('runType'),
    connectedSystemName: search.getAll('connectedSystemName').filter(Boolean),
  };
}

function writeFilter(filter: RunsFilter): string {
  const search = new URLSearchParams();
  for (const value of filter.status) search.append('status', value);
  for (const value of filter.runType) search.append('runType', value);
  for (const value of filter.connectedSystemName) search.append('connectedSystemName', value);
  const text = search.toString();
  return text ? `/?${text}` : '/';
}

/** All runs, newest first, with filters in the URL; runs in progress refresh while the page is open. */
export function RunsPage() {
  const { search } = useLocation();
  const filter = readFilter(search);
  const update = (change: Partial<RunsFilter>) => navigate(writeFilter({ ...filter, ...change }));
  const toggle = (values: string[], value: string) =>
    values.includes(value) ? values.filter((one) => one !== value) : [...values, value];
  const systemId = useId();

  const runs = useInfiniteQuery({
    queryKey: ['runs', filter],
    queryFn: ({ pageParam, signal }) => api.listRuns(filter, pageParam, PAGE_SIZE, signal),
    initialPageParam: 1,
    getNextPageParam: (last) => (last.hasNextPage ? last.page + 1 : undefined),
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => page.items.some((run) => run.status === 'InProgress'))
        ? LIVE_REFRESH_MS
        : false,
    staleTime: 0,
  });
  // Connected systems to choose from: those of the latest runs.
  const systems = useQuery({
    queryKey: ['connected-systems'],
    queryFn: async ({ signal }) => {
      const page = await api.listRuns({ status: [], runType: [], connectedSystemName: [] }, 1, 100, signal);
      return [
        ...new Set(page.items.map((run) => run.targetContext).filter((name): name is string => !!name)),
      ].sort();
    },
  });
  const rows = runs.data?.pages.flatMap((page) => page.items) ?? [];
  const total = runs.data?.pages[0]?.totalCount ?? 0;
  const filtered = filter.status.length + filter.runType.length + filter.connectedSystemName.length > 0;
  const systemChoices = [...new Set([...(systems.data ?? []), ...filter.connectedSystemName])].sort();
  // Filters are of no use to someone the API refuses (401, 403): the problem alone is shown.
  const refused =
    runs.error instanceof ApiProblem && (runs.error.status === 401 || runs.error.status === 403);

  return (
    <section className="page" aria-labelledby="runs-title">
      <h1 id="runs-title">Runs</h1>
      {!refused && (
        <div className="filters" role="group" aria-label="Filter runs">
          <fieldset className="chip-group">
            <legend>Status</legend>
            {ACTIVITY_STATUSES.map((status) => (
              <button
                key={status}
                type="button"
                className="chip"
                aria-pressed={filter.status.includes(status)}
                onClick={() => update({ status: toggle(filter.status, status) })}
              >
                {words(status)}
              </button>
            ))}
          </fieldset>
          <fieldset className="chip-group">
            <legend>Run type</legend>
            {RUN_TYPES.map((runType) => (
              <button
                key={runType}
                type="button"
                className="chip"
                aria-pressed={filter.runType.includes(runType)}
                onClick={() => update({ runType: toggle(filter.runType, runType) })}
              >
                {words(runType)}
              </button>
            ))}
          </fieldset>
          <div className="field">
            <label htmlFor={systemId}>Connected system</label>
            <select
              id={systemId}
              value={filter.connectedSystemName[0] ?? ''}
              onChange={(event) =>
                update({ connectedSystemName: event.target.value ? [event.target.value] : [] })
              }
            >
              <option value="">Any</option>
              {systemChoices.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </div>
          {filtered && (
            <button type="button" className="button-quiet" onClick={() => navigate('/')}>
              Clear filters
            </button>
          )}
        </div>
      )}

      <Waiting failureReason={runs.failureReason} isError={runs.isError} />
      {runs.isError && <Problem error={runs.error} />}
      {runs.isPending && <p role="status">Loading runs…</p>}
      {runs.isSuccess && (
        <>
          <p role="status" className="result-count">
            {total === 0
              ? filtered
                ? 'No runs match these filters.'
                : 'There are no runs yet.'
              : `${formatNumber(total)} ${total === 1 ? 'run' : 'runs'}${filtered ? ' match these filters' : ''}, newest first.`}
          </p>
          {rows.length > 0 && <RunsTable runs={rows} />}
          {runs.hasNextPage && (
            <button
              type="button"
              className="button-secondary"
              onClick={() => void runs.fetchNextPage()}
              disabled={runs.isFetchingNextPage}
            >
              {runs.isFetchingNextPage ? 'Loading…' : 'Show older runs'}
            </button>
          )}
        </>
      )}
    </section>
  );
}

function RunsTable({ runs }: { runs: Activity[] }) {
  return (
    <table className="runs-table">
      <caption className="visually-hidden">Runs, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Started</th>
          <th scope="col">Connected system</th>
          <th scope="col">Run profile</th>
          <th scope="col">Run type</th>
          <th scope="col">Status</th>
          <th scope="col" className="numeric">
            Items
          </th>
          <th scope="col" className="numeric">
            Errors
          </th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => {
          const errors = run.itemsWithErrors;
          return (
            <tr key={run.id} className={run.status === 'InProgress' ? 'in-progress' : undefined}>
              <td>{formatDateTime(run.created)}</td>
              <td>{run.targetContext ?? '—'}</td>
              <td>
                <a href={`/runs/${run.id}`} onClick={followLink}>
                  {run.targetName ?? 'Unnamed run profile'}
                </a>
              </td>
              <td>{run.runType ? words(run.runType) : '—'}</td>
              <td>
                <StatusBadge status={run.status} />
              </td>
              <td className="numeric">{formatNumber(run.itemCount)}</td>
              <td className={`numeric${errors ? ' has-errors' : ''}`}>{formatNumber(errors)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
