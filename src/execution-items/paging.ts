/** A page request after the contract's clamping rules (§1). */
export interface PageWindow {
  page: number;
  pageSize: number;
}

export interface PageLimits {
  defaultPageSize: number;
  maxPageSize: number;
}

/** page < 1 → 1; pageSize above the maximum → the maximum; pageSize < 1 (or absent) → the default. */
export function clampPage(
  page: number | undefined,
  pageSize: number | undefined,
  limits: PageLimits,
): PageWindow {
  return {
    page: page === undefined || page < 1 ? 1 : page,
    pageSize:
      pageSize === undefined || pageSize < 1
        ? limits.defaultPageSize
        : Math.min(pageSize, limits.maxPageSize),
  };
}

/** Number of items before the page, as a string: page × pageSize may pass 2^53. */
export function offsetOf({ page, pageSize }: PageWindow): string {
  return ((BigInt(page) - 1n) * BigInt(pageSize)).toString();
}

/** The envelope's paging fields, derived from the total. */
export function pagingFields(window: PageWindow, totalCount: number) {
  const totalPages = Math.ceil(totalCount / window.pageSize);
  return {
    totalCount,
    page: window.page,
    pageSize: window.pageSize,
    totalPages,
    hasNextPage: window.page < totalPages,
    hasPreviousPage: window.page > 1,
  };
}
