/**
 * The page query of the service, copied verbatim from `pageBySequence` in
 * src/execution-items/execution-items.queries.ts, and the contract's envelope built the same way
 * (src/execution-items/paging.ts, dto/mappers.ts, the `nextCursor` of cursor.ts), rows sorted by
 * sequence in code as the service does. The baseline server serves this; the bench compares it with the SQL the running service
 * is seen sending (pg_stat_activity) and reports any difference.
 */
export const PAGE_SQL = `SELECT a.target_type, a.item_count, i.sequence,
                i.id, i.external_id_value, i.display_name, i.object_type,
                i.object_change_type, i.error_type, i.outcome_summary
           FROM activities a
           LEFT JOIN LATERAL (
                SELECT i.sequence, i.id, i.external_id_value, i.display_name, i.object_type,
                       i.object_change_type, i.error_type, i.outcome_summary
                  FROM execution_items i
                 WHERE i.activity_id = a.id
                   AND i.sequence > $2::bigint AND i.sequence <= $2::bigint + $3::int
           ) i ON true
          WHERE a.id = $1`;

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

export interface PageRow {
  target_type: string;
  item_count: number;
  sequence: number | null;
  id: string | null;
  external_id_value: string | null;
  display_name: string | null;
  object_type: string | null;
  object_change_type: string;
  error_type: string | null;
  outcome_summary: string | null;
}

export interface PageWindow {
  page: number;
  pageSize: number;
}

/** The contract's clamping: page < 1 → 1; pageSize < 1 or absent → 25; above 100 → 100. */
export function clampWindow(page: number | undefined, pageSize: number | undefined): PageWindow {
  return {
    page: page === undefined || page < 1 ? 1 : page,
    pageSize: pageSize === undefined || pageSize < 1 ? DEFAULT_PAGE_SIZE : Math.min(pageSize, MAX_PAGE_SIZE),
  };
}

/** Items before the page, as a string (page × pageSize may pass 2^53), like the service. */
export function offsetOf({ page, pageSize }: PageWindow): string {
  return ((BigInt(page) - 1n) * BigInt(pageSize)).toString();
}

/**
 * The service's `nextCursor` of an unfiltered page in sequence order (encodeCursor in
 * src/execution-items/cursor.ts): base64url JSON of the run, the empty query, the page it leads
 * to and the last sequence returned; null on the last page.
 */
function nextCursor(activityId: string, window: PageWindow, lastSequence: number | null, totalCount: number) {
  if (lastSequence === null || lastSequence >= totalCount) return null;
  const body = {
    v: 1,
    a: activityId.toLowerCase(),
    f: {},
    s: 'sequence',
    d: 'asc',
    n: window.pageSize,
    p: window.page + 1,
    k: [lastSequence],
  };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

export function pageEnvelope(activityId: string, window: PageWindow, rows: PageRow[]) {
  const totalCount = rows[0].item_count;
  const totalPages = Math.ceil(totalCount / window.pageSize);
  // Like the service: the statement has no ORDER BY; rows are put in sequence order here.
  const items =
    rows[0].id === null
      ? []
      : rows
          .sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0))
          .map((row) => ({
            id: row.id,
            externalIdValue: row.external_id_value,
            displayName: row.display_name,
            connectedSystemObjectType: row.object_type,
            objectChangeType: row.object_change_type,
            errorType: row.error_type,
            outcomeSummary: row.outcome_summary,
          }));
  return {
    items,
    totalCount,
    page: window.page,
    pageSize: window.pageSize,
    totalPages,
    hasNextPage: window.page < totalPages,
    hasPreviousPage: window.page > 1,
    nextCursor: nextCursor(activityId, window, rows.at(-1)?.sequence ?? null, totalCount),
  };
}

/** Whitespace-insensitive form of a statement, to compare SQL texts. */
export function normaliseSql(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim();
}
