import type { OutcomeNode } from './entities/execution-item.entity';
import { OUTCOME_TYPES, type OutcomeType } from './vocabulary';

/** Number of nodes of each type in the tree, roots and descendants alike. */
export function countOutcomeNodes(roots: readonly OutcomeNode[]): Map<OutcomeType, number> {
  const counts = new Map<OutcomeType, number>();
  const pending = [...roots];
  for (let node = pending.pop(); node; node = pending.pop()) {
    counts.set(node.type, (counts.get(node.type) ?? 0) + 1);
    pending.push(...node.children);
  }
  return counts;
}

/**
 * The contract's `outcomeSummary` (§3): `Type:count` for each type in the tree, in canonical
 * order, joined with `,`; `null` for an empty tree.
 */
export function summariseOutcomes(roots: readonly OutcomeNode[]): string | null {
  return formatOutcomeSummary(countOutcomeNodes(roots));
}

export function formatOutcomeSummary(counts: ReadonlyMap<OutcomeType, number>): string | null {
  const parts = OUTCOME_TYPES.filter((type) => counts.has(type)).map((type) => `${type}:${counts.get(type)}`);
  return parts.length > 0 ? parts.join(',') : null;
}
