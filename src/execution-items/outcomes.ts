import { OUTCOME_TYPES, type OutcomeType } from './vocabulary';

/**
 * The contract's `outcomeSummary` (§3) from the number of nodes of each type in an item's tree:
 * `Type:count` for each type present, in canonical order, joined with `,`; `null` for no nodes.
 */
export function formatOutcomeSummary(counts: ReadonlyMap<OutcomeType, number>): string | null {
  const parts = OUTCOME_TYPES.filter((type) => counts.has(type)).map((type) => `${type}:${counts.get(type)}`);
  return parts.length > 0 ? parts.join(',') : null;
}
