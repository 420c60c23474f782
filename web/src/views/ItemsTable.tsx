import { useInfiniteQuery } from '@tanstack/react-query';
import {
  createColumnHelper,
  rowSortingFeature,
  tableFeatures,
  useTable,
  type SortingState,
} from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { itemPagesQuery } from '../api/queries';
import type { ExecutionItem } from '../api/types';
import { Problem, Waiting } from '../components/Problem';
import { formatNumber } from '../format';
import { hasFilters, type RunViewState } from '../run-view-state';
import { words, type SortKey } from '../vocabulary';

const ROW_HEIGHT = 36;
/** Ask for the next page when the last rendered row is this close to the end of what is loaded. */
const PREFETCH_ROWS = 30;

const features = tableFeatures({ rowSortingFeature });
const column = createColumnHelper<typeof features, ExecutionItem>();

/** The list's columns; those the API sorts by carry its sort key as their id. */
const COLUMNS = column.columns([
  column.accessor('displayName', { id: 'displayName', header: 'Display name', enableSorting: true }),
  column.accessor('externalIdValue', { id: 'externalIdValue', header: 'External ID', enableSorting: true }),
  column.accessor('connectedSystemObjectType', {
    id: 'objectType',
    header: 'Object type',
    enableSorting: true,
  }),
  column.accessor('objectChangeType', { id: 'objectChangeType', header: 'Change', enableSorting: false }),
  column.accessor('errorType', { id: 'errorType', header: 'Error', enableSorting: true }),
  column.accessor('outcomeSummary', { id: 'outcomeSummary', header: 'Outcomes', enableSorting: false }),
]);

function cellText(columnId: string, item: ExecutionItem): string {
  switch (columnId) {
    case 'displayName':
      return item.displayName ?? '—';
    case 'externalIdValue':
      return item.externalIdValue ?? '—';
    case 'objectType':
      return item.connectedSystemObjectType ?? '—';
    case 'objectChangeType':
      return words(item.objectChangeType);
    case 'errorType':
      return item.errorType ? words(item.errorType) : '';
    case 'outcomeSummary':
      return (item.outcomeSummary ?? '')
        .split(',')
        .filter(Boolean)
        .map((pair) => {
          const [type, count] = pair.split(':');
          return `${words(type)} ${count}`;
        })
        .join(', ');
    default:
      return '';
  }
}

/**
 * The run's items: a virtualised grid that walks the whole run by `nextCursor`, a page of 100
 * rows per request as the reader nears the end of what is loaded. Column headers sort (through
 * the API); rows are reached with the arrow keys, Page Up/Down, Home and End, and Enter opens
 * an item.
 */
export function ItemsTable({
  runId,
  state,
  onSort,
  onOpen,
}: {
  runId: string;
  state: RunViewState;
  onSort: (sortBy: SortKey, direction: 'asc' | 'desc') => void;
  onOpen: (itemId: string) => void;
}) {
  const pages = itemPagesQuery(runId, state);
  const items = useInfiniteQuery(pages);
  const rows = useMemo(() => items.data?.pages.flatMap((page) => page.items) ?? [], [items.data]);
  const total = items.data?.pages[0]?.totalCount ?? 0;

  const sorting: SortingState =
    state.sortBy === 'sequence' ? [] : [{ id: state.sortBy, desc: state.sortDirection === 'desc' }];
  const table = useTable<typeof features, ExecutionItem>({
    features,
    columns: COLUMNS,
    data: rows,
    getRowId: (row) => row.id,
    manualSorting: true,
    enableSortingRemoval: true,
    state: { sorting },
    onSortingChange: (updater) => {
      const next = typeof updater === 'function' ? updater(sorting) : updater;
      const first = next[0];
      if (!first) onSort('sequence', 'asc');
      else onSort(first.id as SortKey, first.desc ? 'desc' : 'asc');
    },
  });

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length + (items.hasNextPage ? 1 : 0),
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const virtualRows = virtualizer.getVirtualItems();
  const lastRendered = virtualRows[virtualRows.length - 1]?.index ?? 0;
  useEffect(() => {
    if (items.hasNextPage && !items.isFetchingNextPage && lastRendered >= rows.length - PREFETCH_ROWS) {
      void items.fetchNextPage();
    }
  }, [items, lastRendered, rows.length]);

  // Keyboard: one row is in the tab order at a time (roving tabindex).
  const [active, setActive] = useState(0);
  const focusAfterRender = useRef(false);
  // A new query (another filter, search or sort) starts again at its first row.
  const query = pages.queryKey[2];
  useEffect(() => setActive(0), [query]);
  useEffect(() => {
    if (!focusAfterRender.current) return;
    const element = scrollRef.current?.querySelector<HTMLElement>(`[data-index="${active}"]`);
    if (element) {
      focusAfterRender.current = false;
      element.focus({ preventScroll: true });
    }
  });
  const moveTo = (index: number) => {
    const next = Math.max(0, Math.min(index, rows.length - 1));
    setActive(next);
    focusAfterRender.current = true;
    virtualizer.scrollToIndex(next, { align: 'auto' });
  };
  const pageRows = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 400) / ROW_HEIGHT) - 1);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const target = event.target as HTMLElement;
    if (!target.matches('[role="row"][data-index]')) return;
    const keys: Record<string, () => void> = {
      ArrowDown: () => moveTo(active + 1),
      ArrowUp: () => moveTo(active - 1),
      PageDown: () => moveTo(active + pageRows),
      PageUp: () => moveTo(active - pageRows),
      Home: () => moveTo(0),
      End: () => moveTo(rows.length - 1),
      Enter: () => rows[active] && onOpen(rows[active].id),
      ' ': () => rows[active] && onOpen(rows[active].id),
    };
    const action = keys[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  };

  const headerGroup = table.getHeaderGroups()[0];
  const filtered = hasFilters(state);

  return (
    <div className="items">
      <p role="status" className="result-count">
        {items.isPending
          ? 'Loading items…'
          : items.isError
            ? ''
            : total === 0
              ? filtered
                ? 'No items match these filters and this search. Clear a filter or change the search to see more.'
                : 'This run has no items.'
              : `${formatNumber(total)} ${total === 1 ? 'item' : 'items'}${filtered ? (total === 1 ? ' matches' : ' match') : ''}; ${
                  items.hasNextPage ? `${formatNumber(rows.length)} loaded. Scroll for more.` : 'all loaded.'
                }`}
      </p>
      <Waiting failureReason={items.failureReason} isError={items.isError} />
      {items.isError && <Problem error={items.error} />}
      <div
        className="grid"
        role="grid"
        aria-label="Items of the run"
        aria-rowcount={total + 1}
        aria-colcount={COLUMNS.length + 1}
        aria-busy={items.isFetching}
      >
        <div role="rowgroup" className="grid-head">
          <div role="row" aria-rowindex={1} className="grid-row">
            <div
              role="columnheader"
              aria-colindex={1}
              className="col-position"
              aria-sort={
                state.sortBy === 'sequence'
                  ? state.sortDirection === 'asc'
                    ? 'ascending'
                    : 'descending'
                  : undefined
              }
            >
              <button
                type="button"
                className="sort"
                onClick={() =>
                  onSort(
                    'sequence',
                    state.sortBy === 'sequence' && state.sortDirection === 'asc' ? 'desc' : 'asc',
                  )
                }
              >
                #<SortMark direction={state.sortBy === 'sequence' ? state.sortDirection : null} />
                <span className="visually-hidden">, order processed</span>
              </button>
            </div>
            {headerGroup?.headers.map((header, index) => {
              const sorted = header.column.getIsSorted();
              const canSort = header.column.getCanSort();
              const label = String(header.column.columnDef.header ?? '');
              return (
                <div
                  key={header.id}
                  role="columnheader"
                  aria-colindex={index + 2}
                  className={`col-${header.column.id}`}
                  aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : undefined}
                >
                  {canSort ? (
                    <button
                      type="button"
                      className="sort"
                      onClick={() => onSort(header.column.id as SortKey, sorted === 'asc' ? 'desc' : 'asc')}
                    >
                      {label}
                      <SortMark direction={sorted || null} />
                    </button>
                  ) : (
                    <span className="unsortable">{label}</span>
                  )}
                </div>
              );
            })}
          </div>
        </div>
        <div ref={scrollRef} className="grid-body" role="rowgroup" onKeyDown={onKeyDown}>
          <div className="grid-spacer" style={{ height: virtualizer.getTotalSize() }}>
            {virtualRows.map((virtualRow) => {
              const item = rows[virtualRow.index];
              const top = { transform: `translateY(${virtualRow.start}px)`, height: virtualRow.size };
              if (!item) {
                return (
                  <div
                    key="loading"
                    role="row"
                    aria-rowindex={virtualRow.index + 2}
                    className="grid-row loading-row"
                    style={top}
                  >
                    <div role="gridcell" aria-colindex={1} className="loading-cell">
                      Loading more items…
                    </div>
                  </div>
                );
              }
              const selected = item.id === state.item;
              return (
                <div
                  key={item.id}
                  role="row"
                  data-index={virtualRow.index}
                  aria-rowindex={virtualRow.index + 2}
                  aria-selected={selected}
                  tabIndex={virtualRow.index === active ? 0 : -1}
                  className={`grid-row${item.errorType ? ' row-error' : ''}${selected ? ' row-selected' : ''}`}
                  style={top}
                  onClick={() => {
                    setActive(virtualRow.index);
                    onOpen(item.id);
                  }}
                  onFocus={() => setActive(virtualRow.index)}
                >
                  <div role="gridcell" aria-colindex={1} className="col-position">
                    {formatNumber(virtualRow.index + 1)}
                  </div>
                  {COLUMNS.map((columnDef, index) => (
                    <div
                      key={columnDef.id}
                      role="gridcell"
                      aria-colindex={index + 2}
                      className={`col-${columnDef.id}`}
                    >
                      {cellText(columnDef.id!, item)}
                    </div>
                  ))}
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </div>
  );
}

function SortMark({ direction }: { direction: 'asc' | 'desc' | null }) {
  if (!direction)
    return (
      <span className="sort-mark" aria-hidden="true">
        ↕
      </span>
    );
  return (
    <span className="sort-mark active" aria-hidden="true">
      {direction === 'asc' ? '▲' : '▼'}
    </span>
  );
}
