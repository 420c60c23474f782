import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { api } from '../api/client';
import { Problem, Waiting } from '../components/Problem';
import { formatNumber } from '../format';
import { words } from '../vocabulary';
import { OutcomeTree } from './OutcomeTree';

/** One item in full: every field, the outcome tree, and the error with its stack trace. Escape closes it. */
export function ItemPanel({
  runId,
  itemId,
  onClose,
}: {
  runId: string;
  itemId: string;
  onClose: () => void;
}) {
  const item = useQuery({
    queryKey: ['item', runId, itemId],
    queryFn: ({ signal }) => api.getItem(runId, itemId, signal),
    staleTime: Infinity,
  });
  const heading = useRef<HTMLHeadingElement>(null);
  const returnFocus = useRef<Element | null>(null);
  useEffect(() => {
    returnFocus.current = document.activeElement;
    heading.current?.focus();
    return () => {
      if (returnFocus.current instanceof HTMLElement && returnFocus.current.isConnected)
        returnFocus.current.focus();
    };
  }, [itemId]);

  const data = item.data;
  const fields: Array<[string, string | number | null]> = data
    ? [
        ['Display name', data.displayName],
        ['External ID', data.externalIdValue],
        ['Object type', data.connectedSystemObjectType],
        ['Change', words(data.objectChangeType)],
        ['Error', data.errorType ? words(data.errorType) : null],
        ['Outcome summary', data.outcomeSummary],
        ['Sequence', formatNumber(data.sequence)],
        ['Item ID', data.id],
      ]
    : [];

  return (
    <aside
      className="item-panel"
      aria-labelledby="item-title"
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.preventDefault();
          onClose();
        }
      }}
    >
      <div className="item-panel-head">
        <h2 id="item-title" tabIndex={-1} ref={heading}>
          {data ? (data.displayName ?? data.externalIdValue ?? 'Item without a name') : 'Item'}
        </h2>
        <button type="button" className="button-quiet" onClick={onClose} aria-label="Close the item">
          Close
        </button>
      </div>
      <Waiting failureReason={item.failureReason} isError={item.isError} />
      {item.isError && <Problem error={item.error} />}
      {item.isPending && <p role="status">Loading the item…</p>}
      {data && (
        <>
          <dl className="item-fields">
            {fields.map(([name, value]) => (
              <div key={name}>
                <dt>{name}</dt>
                <dd>{value === null || value === '' ? <span className="none">none</span> : value}</dd>
              </div>
            ))}
          </dl>
          {(data.errorMessage || data.errorStackTrace) && (
            <section aria-labelledby="item-error" className="item-error">
              <h3 id="item-error">Error</h3>
              {data.errorMessage && <p className="error-message">{data.errorMessage}</p>}
              {data.errorStackTrace && (
                <pre className="stack-trace" tabIndex={0} aria-label="Stack trace">
                  {data.errorStackTrace}
                </pre>
              )}
            </section>
          )}
          <section aria-labelledby="item-outcomes">
            <h3 id="item-outcomes">Outcomes</h3>
            <OutcomeTree outcomes={data.outcomes} label="Outcome tree" />
          </section>
        </>
      )}
    </aside>
  );
}
