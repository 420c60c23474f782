import { containsPattern, type ItemFilters } from './item-query';
import { ERROR_TYPES, isOneOf, type SortDirection, type SortKey } from './vocabulary';

/** A value of a sort key, as the page query returns it and a cursor carries it. */
export type KeyValue = string | number | boolean;

/**
 * One column of a sort order: an expression that is never null (so a cursor is a single row
 * comparison), matching an index of the LeanItemIndexes migration expression for expression.
 */
interface SortColumn {
  sql: (alias: string) => string;
  /** The type a cursor's value is cast to. */
  cast: 'text' | 'boolean' | 'error_type';
  isValue: (value: unknown) => boolean;
}

/** A text value the database accepts as a parameter: no NUL, no unpaired surrogate. */
const isText = (value: unknown) =>
  typeof value === 'string' && !value.includes('\u0000') && value.isWellFormed();

const MAX_SEQUENCE = 2_147_483_647;
const lowerText = (column: string) => (alias: string) =>
  `(coalesce(lower(${alias}.${column}), '') COLLATE "C")`;

/** The sort columns before the sequence, which always comes last and breaks ties. */
const SORT_COLUMNS: Record<SortKey, SortColumn[]> = {
  sequence: [],
  displayName: [{ sql: lowerText('display_name'), cast: 'text', isValue: isText }],
  externalIdValue: [{ sql: lowerText('external_id_value'), cast: 'text', isValue: isText }],
  objectType: [{ sql: objectTypeKey, cast: 'text', isValue: isText }],
  // Errors first, in vocabulary order; items without an error after them. The placeholder in
  // the second column only keeps it non-null: the first column has already ordered those items.
  // No index has these expressions: the order is read in two parts (`sortParts`).
  errorType: [
    {
      sql: (alias) => `(${alias}.error_type IS NULL)`,
      cast: 'boolean',
      isValue: (v) => typeof v === 'boolean',
    },
    {
      sql: (alias) => `coalesce(${alias}.error_type, '${ERROR_TYPES[0]}')`,
      cast: 'error_type',
      isValue: (v) => isOneOf(ERROR_TYPES, v),
    },
  ],
};

function objectTypeKey(alias: string): string {
  return `(coalesce(${alias}.object_type, '') COLLATE "C")`;
}

/**
 * Rows of `alias` in the run `activity` (a parameter): its `activity_id`, and the 4-byte run key
 * `uuid_hash(activity_id)` that leads the filter and sort indexes (LeanItemIndexes migration). The
 * key finds the run's entries in those indexes; two runs may share a key value, so the
 * `activity_id` comparison stays. Compared with a value (not a column of another table), the two
 * are estimated together through the table's extended statistics, which know that the key follows
 * from the id; as a join condition each would be counted as selective on its own.
 */
export function runConditions(alias: string, activity: string, withRunKey: boolean): string[] {
  const id = `${alias}.activity_id = ${activity}`;
  return withRunKey ? [id, `uuid_hash(${alias}.activity_id) = uuid_hash(${activity})`] : [id];
}

/**
 * Whether an index led by the run key can serve these filters (a count) or, with `sortBy`, this
 * order (a page). Otherwise the key is left out: the indexes that can serve are led by
 * `activity_id`, and a run key condition would only invite the planner to AND a scan of a whole
 * run's entries in a run-keyed index into a search's bitmap.
 */
export function usesRunKey(filters: ItemFilters, sortBy?: SortKey): boolean {
  return (
    filters.objectType !== undefined ||
    filters.objectChangeType !== undefined ||
    sortBy === 'displayName' ||
    sortBy === 'externalIdValue' ||
    sortBy === 'objectType'
  );
}

/** Numbered parameters for one statement. */
export class SqlParameters {
  readonly values: unknown[] = [];

  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return cast ? `$${this.values.length}::${cast}` : `$${this.values.length}`;
  }
}

/**
 * `expression` equal to one of `values`. One value is a plain equality: PostgreSQL reads an index
 * on (run, column, sequence) in sequence order for `column = x`, but not for `column = ANY(...)`
 * on a column after the first (before PostgreSQL 17).
 */
function oneOf(expression: string, values: readonly string[], type: string, params: SqlParameters): string {
  return values.length === 1
    ? `${expression} = ${params.add(values[0], type)}`
    : `${expression} = ANY(${params.add(values, `${type}[]`)})`;
}

/** The conditions an item must meet, for rows of `alias`; empty for the whole run. */
export function filterConditions(filters: ItemFilters, alias: string, params: SqlParameters): string[] {
  const conditions: string[] = [];
  if (filters.errorType)
    conditions.push(oneOf(`${alias}.error_type`, filters.errorType, 'error_type', params));
  if (filters.objectChangeType) {
    conditions.push(
      oneOf(`${alias}.object_change_type`, filters.objectChangeType, 'object_change_type', params),
    );
  }
  if (filters.objectType) conditions.push(oneOf(objectTypeKey(alias), filters.objectType, 'text', params));
  if (filters.outcomeType)
    conditions.push(`${alias}.outcome_types && ${params.add(filters.outcomeType, 'text[]')}`);
  if (filters.hasError !== undefined) {
    conditions.push(`${alias}.error_type IS ${filters.hasError ? 'NOT NULL' : 'NULL'}`);
  }
  if (filters.search !== undefined) {
    const pattern = params.add(containsPattern(filters.search), 'text');
    conditions.push(
      `(${alias}.display_name ILIKE ${pattern} OR ${alias}.external_id_value ILIKE ${pattern})`,
    );
  }
  return conditions;
}

/** The sort key expressions, sequence last, for rows of `alias`. */
export function sortExpressions(sortBy: SortKey, alias: string): string[] {
  return [...SORT_COLUMNS[sortBy].map((column) => column.sql(alias)), `${alias}.sequence`];
}

/** `ORDER BY` items: every key in the one direction, so one index scan (or its reverse) serves it. */
export function orderBy(sortBy: SortKey, direction: SortDirection, alias: string): string {
  return sortExpressions(sortBy, alias)
    .map((expression) => `${expression} ${direction.toUpperCase()}`)
    .join(', ');
}

/** Rows after the position `after` in this order: one row comparison, an index range. */
export function afterCondition(
  sortBy: SortKey,
  direction: SortDirection,
  after: readonly KeyValue[],
  alias: string,
  params: SqlParameters,
): string {
  const casts = [...SORT_COLUMNS[sortBy].map((column) => column.cast), 'int'];
  const values = after.map((value, index) => params.add(value, casts[index]));
  return `(${sortExpressions(sortBy, alias).join(', ')}) ${direction === 'asc' ? '>' : '<'} (${values.join(', ')})`;
}

/**
 * One part of a sort order that a single index scan reads in order: its rows (`conditions`, with
 * the part of a cursor's position that concerns them) and its `ORDER BY`.
 */
export interface SortPart {
  conditions: string[];
  orderBy: string;
}

/**
 * The parts a sort order is read in, when one index cannot serve it; `null` when one can (every
 * order but `errorType`). `sortBy=errorType` puts the items with an error first, by error type
 * then sequence, and the items without one after them in sequence order: the first part is the
 * partial (activity_id, error_type, sequence) index of the items with an error, the second the
 * (activity_id, sequence) key. A statement reads each part up to the rows it needs, in its own
 * order, and orders their union by the sort keys (`orderBy`).
 */
export function sortParts(
  sortBy: SortKey,
  direction: SortDirection,
  after: readonly KeyValue[] | null,
  alias: string,
  params: SqlParameters,
): SortPart[] | null {
  if (sortBy !== 'errorType') return null;
  const dir = direction.toUpperCase();
  const greater = direction === 'asc' ? '>' : '<';
  // Each part holds one value of the first key, `error_type IS NULL` (false sorts first). A part
  // whose value lies past the cursor's in the reading direction is wholly after it; a part before
  // it has no rows left; the cursor's own part continues after its remaining keys.
  const partAfter = (withoutError: boolean, rest: () => string): string[] => {
    if (!after) return [];
    const cursorWithoutError = after[0] as boolean;
    if (withoutError === cursorWithoutError) return [rest()];
    return withoutError > cursorWithoutError === (direction === 'asc') ? [] : ['false'];
  };
  const withError: SortPart = {
    conditions: [
      `${alias}.error_type IS NOT NULL`,
      ...partAfter(
        false,
        () =>
          `(${alias}.error_type, ${alias}.sequence) ${greater} (${params.add(after![1], 'error_type')}, ${params.add(after![2], 'int')})`,
      ),
    ],
    orderBy: `${alias}.error_type ${dir}, ${alias}.sequence ${dir}`,
  };
  const withoutError: SortPart = {
    conditions: [
      `${alias}.error_type IS NULL`,
      ...partAfter(true, () => `${alias}.sequence ${greater} ${params.add(after![2], 'int')}`),
    ],
    orderBy: `${alias}.sequence ${dir}`,
  };
  return direction === 'asc' ? [withError, withoutError] : [withoutError, withError];
}

/** True when `values` is a position in this sort order: each key's value, then a sequence. */
export function isPosition(sortBy: SortKey, values: unknown): values is KeyValue[] {
  const columns = SORT_COLUMNS[sortBy];
  return (
    Array.isArray(values) &&
    values.length === columns.length + 1 &&
    columns.every((column, index) => column.isValue(values[index])) &&
    Number.isInteger(values[columns.length]) &&
    (values[columns.length] as number) >= 0 &&
    (values[columns.length] as number) <= MAX_SEQUENCE
  );
}
