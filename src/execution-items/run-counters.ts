import type { CountsByKey } from './entities/activity.entity';
import type { ItemFilters } from './item-query';
import type { SqlParameters } from './item-sql';
import type { PreparedItem } from './new-items';
import type { ActivityStatsResponse } from './responses/activity-stats.response';
import { ERROR_TYPES, OBJECT_CHANGE_TYPES, OUTCOME_TYPES } from './vocabulary';

/**
 * A run's counters, on its activity row: written in the same transaction as every append, read
 * by `/stats` and as the total of a filtered page, and checked before a filtered scan. No total
 * ever needs `COUNT(*)` over the items when one kind of filter is applied.
 */
export interface RunCounters {
  itemCount: number;
  errorItemCount: number;
  changeTypeCounts: CountsByKey;
  errorTypeCounts: CountsByKey;
  objectTypeCounts: CountsByKey;
  /** Items whose outcome tree holds the type (at least once). */
  outcomeTypeCounts: CountsByKey;
}

/** The counters with a batch added. Maps, so that any object type name is just a key. */
export function countersAfter(run: RunCounters, items: readonly PreparedItem[]): RunCounters {
  const changeTypeCounts = new Map(Object.entries(run.changeTypeCounts));
  const errorTypeCounts = new Map(Object.entries(run.errorTypeCounts));
  const objectTypeCounts = new Map(Object.entries(run.objectTypeCounts));
  const outcomeTypeCounts = new Map(Object.entries(run.outcomeTypeCounts));
  let errorItemCount = run.errorItemCount;
  for (const item of items) {
    increment(changeTypeCounts, item.objectChangeType);
    if (item.errorType) {
      increment(errorTypeCounts, item.errorType);
      errorItemCount += 1;
    }
    if (item.objectType !== null) increment(objectTypeCounts, item.objectType);
    for (const type of item.outcomeTypes) increment(outcomeTypeCounts, type);
  }
  return {
    itemCount: run.itemCount + items.length,
    errorItemCount,
    changeTypeCounts: Object.fromEntries(changeTypeCounts),
    errorTypeCounts: Object.fromEntries(errorTypeCounts),
    objectTypeCounts: Object.fromEntries(objectTypeCounts),
    outcomeTypeCounts: Object.fromEntries(outcomeTypeCounts),
  };
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** `/stats`: the non-zero counts, vocabularies in the contract's order, object types by name. */
export function toActivityStatsResponse(activityId: string, run: RunCounters): ActivityStatsResponse {
  return {
    activityId,
    totalCount: run.itemCount,
    itemsWithErrors: run.errorItemCount,
    objectChangeTypes: nonZero(run.changeTypeCounts, OBJECT_CHANGE_TYPES),
    errorTypes: nonZero(run.errorTypeCounts, ERROR_TYPES),
    objectTypes: nonZero(run.objectTypeCounts, Object.keys(run.objectTypeCounts).sort()),
    outcomeTypes: nonZero(run.outcomeTypeCounts, OUTCOME_TYPES),
  };
}

/** The counts of `order`'s keys that are above zero, in that order. */
function nonZero(counts: CountsByKey, order: readonly string[]): Record<string, number> {
  return Object.fromEntries(order.filter((key) => (counts[key] ?? 0) > 0).map((key) => [key, counts[key]]));
}

/** The sum of a run's counters (activity alias `a`) for the given keys, as SQL. */
function counted(column: string, keys: readonly string[], params: SqlParameters): string {
  return `coalesce((SELECT sum(value::int) FROM jsonb_each_text(a.${column}) WHERE key = ANY(${params.add(keys, 'text[]')})), 0)`;
}

/**
 * The number of items matching `filters`, from the run's counters, as SQL: with no filter, or
 * one kind of filter and no search (several outcome types can share an item, so only one);
 * `null` when the matches have to be counted.
 */
export function countedMatches(filters: ItemFilters, params: SqlParameters): string | null {
  const kinds = Object.keys(filters);
  if (kinds.length === 0) return 'a.item_count';
  if (kinds.length > 1) return null;
  const { errorType, objectChangeType, objectType, outcomeType, hasError } = filters;
  if (errorType) return counted('error_type_counts', errorType, params);
  if (objectChangeType) return counted('change_type_counts', objectChangeType, params);
  if (objectType) return counted('object_type_counts', objectType, params);
  if (outcomeType?.length === 1) return counted('outcome_type_counts', outcomeType, params);
  if (hasError !== undefined) return hasError ? 'a.error_item_count' : 'a.item_count - a.error_item_count';
  return null;
}

/**
 * Conditions on the run's counters that are false when a filter cannot match any item: the
 * database checks them once, before scanning, so a filter for a type the run never had answers
 * at once instead of reading the whole run to find nothing.
 */
export function counterGuards(filters: ItemFilters, params: SqlParameters): string[] {
  const guards: string[] = [];
  if (filters.errorType) guards.push(`${counted('error_type_counts', filters.errorType, params)} > 0`);
  if (filters.objectChangeType) {
    guards.push(`${counted('change_type_counts', filters.objectChangeType, params)} > 0`);
  }
  if (filters.objectType) guards.push(`${counted('object_type_counts', filters.objectType, params)} > 0`);
  if (filters.outcomeType) guards.push(`${counted('outcome_type_counts', filters.outcomeType, params)} > 0`);
  if (filters.hasError === true) guards.push('a.error_item_count > 0');
  if (filters.hasError === false) guards.push('a.item_count > a.error_item_count');
  return guards;
}
