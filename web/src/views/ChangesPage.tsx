import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { activityQuery, diffPagesQuery } from '../api/queries';
import { ApiProblem } from '../api/errors';
import { DIFF_CHANGES, type DiffChange, type DiffItem, type DiffSide } from '../api/types';
import { Problem, Waiting } from '../components/Problem';
import { formatDateTime, formatNumber } from '../format';
import { followLink, navigate, useLocation } from '../routing';
import { words } from '../vocabulary';

/** The changes the URL selects (`?change=NewError&change=Resolved` or comma-separated). */
export function readChanges(search: URLSearchParams): DiffChange[] {
  const asked = new Set(search.getAll('change').flatMap((value) => value.split(',')));
  return DIFF_CHANGES.filter((change) => asked.has(change));
}

export function changesHref(runId: string, changes: readonly DiffChange[]): string {
  const search = new URLSearchParams();
  for (const change of changes) search.append('change', change);
  const text = search.toString();
  return `/runs/${runId}/changes${text ? `?${text}` : ''}`;
}

const CHANGE_LABELS: Record<DiffChange, string> = {
  NewError: 'New error',
  Resolved: 'Resolved',
  ChangedError: 'Changed error',
  StillFailing: 'Still failing',
  NotSeen: 'Not seen',
};

/** The run against the previous ended run of the same system, run profile and run type. */
export function ChangesPage({ runId }: { runId: string }) {
  const { search } = useLocation();
  const changes = readChanges(search);
  const activity = useQuery(activityQuery(runId));
  const diff = useInfiniteQuery(diffPagesQuery(runId, changes));
  const first = diff.data?.pages[0];
  const rows: DiffItem[] = diff.data?.pages.flatMap((page) => page.items) ?? [];
  const total = first?.totalCount ?? 0;
  const noBaseline = diff.error instanceof ApiProblem && diff.error.status === 404 && activity.isSuccess;
  const run = activity.data;

  const toggle = (change: DiffChange) =>
    navigate(
      changesHref(
        runId,
        changes.includes(change) ? changes.filter((one) => one !== change) : [...changes, change],
      ),
    );

  return (
    <section className="page changes-page" aria-labelledby="changes-title">
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <a href="/" onClick={followLink}>
          ← All runs
        </a>{' '}
        <span aria-hidden="true">/</span>{' '}
        <a href={`/runs/${runId}`} onClick={followLink}>
          {run
            ? `${run.targetContext ?? 'Unknown system'} · ${run.targetName ?? 'Unnamed run profile'}`
            : 'The run'}
        </a>
      </nav>
      <h1 id="changes-title">Changes since the previous run</h1>
      {run && (
        <p className="changes-run">
          This run: {run.targetContext ?? 'Unknown system'} · {run.targetName ?? 'Unnamed run profile'}
          {run.runType ? ` (${words(run.runType)})` : ''}, started{' '}
          <time dateTime={run.created}>{formatDateTime(run.created)}</time>.
        </p>
      )}
      {activity.isError && <Problem error={activity.error} />}
      <Waiting failureReason={diff.failureReason} isError={diff.isError} />
      {noBaseline ? (
        <p className="no-baseline">
          There is no earlier completed run of this system, run profile and run type to compare with.
        </p>
      ) : (
        diff.isError && <Problem error={diff.error} />
      )}
      {first && (
        <>
          <p className="changes-baseline">
            Compared with{' '}
            <a href={`/runs/${first.baseline.id}`} onClick={followLink}>
              the run started {formatDateTime(first.baseline.created)}
            </a>{' '}
            ({words(first.baseline.status)}).
          </p>
          <div className="chips" role="group" aria-label="Filter by change">
            <div className="chip-list">
              {DIFF_CHANGES.map((change) => (
                <button
                  key={change}
                  type="button"
                  className={`chip${change === 'NewError' || change === 'ChangedError' ? ' chip-error' : ''}`}
                  aria-pressed={changes.includes(change)}
                  onClick={() => toggle(change)}
                >
                  {CHANGE_LABELS[change]} <span className="count">{formatNumber(first.counts[change])}</span>
                </button>
              ))}
            </div>
          </div>
        </>
      )}
      {!noBaseline && !diff.isError && (
        <p role="status" className="result-count">
          {diff.isPending
            ? 'Comparing with the previous run…'
            : total === 0
              ? changes.length
                ? 'No objects have these changes.'
                : 'No object has an error in either run.'
              : `${formatNumber(total)} ${total === 1 ? 'object' : 'objects'}; ${
                  diff.hasNextPage ? `${formatNumber(rows.length)} shown.` : 'all shown.'
                }`}
        </p>
      )}
      {rows.length > 0 && (
        <div className="table-scroll">
          <table className="runs-table diff-table">
            <caption className="visually-hidden">Objects whose errors changed since the previous run</caption>
            <thead>
              <tr>
                <th scope="col">External ID</th>
                <th scope="col">Name</th>
                <th scope="col">Object type</th>
                <th scope="col">Change</th>
                <th scope="col">Error now</th>
                <th scope="col">Error in the previous run</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={`${row.change}:${row.externalIdValue}`}>
                  <td className="col-externalIdValue">{row.externalIdValue}</td>
                  <td className="col-displayName">{row.displayName ?? '—'}</td>
                  <td className="col-objectType">{row.connectedSystemObjectType ?? '—'}</td>
                  <td className="col-change">{CHANGE_LABELS[row.change] ?? words(row.change)}</td>
                  <td className="col-current">
                    <Side side={row.current} runId={runId} />
                  </td>
                  <td className="col-baseline">
                    <Side side={row.baseline} runId={first?.baseline.id ?? ''} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {diff.hasNextPage && (
        <button
          type="button"
          className="button-secondary"
          disabled={diff.isFetchingNextPage}
          onClick={() => void diff.fetchNextPage()}
        >
          {diff.isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}

/** One run's side of a row: its error type (a link to the item), no error, or not seen. */
function Side({ side, runId }: { side: DiffSide | null; runId: string }) {
  if (!side) return <span className="muted">Not seen</span>;
  return (
    <a href={`/runs/${runId}?item=${encodeURIComponent(side.itemId)}`} onClick={followLink}>
      {side.errorType ? words(side.errorType) : 'No error'}
    </a>
  );
}
