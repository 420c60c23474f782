import type { Activity, CountsByKey } from '../entities/activity.entity';
import type { OutcomeNode } from '../entities/execution-item.entity';
import type { ExecutionItemDetailRow, ExecutionItemRow, RunCounters } from '../execution-items.queries';
import { ERROR_TYPES, OBJECT_CHANGE_TYPES, OUTCOME_TYPES } from '../vocabulary';
import type {
  ActivityResponse,
  ActivityStatsResponse,
  ExecutionItemDetailResponse,
  ExecutionItemResponse,
  OutcomeNodeResponse,
} from './responses';

export function toExecutionItemResponse(row: ExecutionItemRow): ExecutionItemResponse {
  return {
    id: row.id,
    externalIdValue: row.external_id_value,
    displayName: row.display_name,
    connectedSystemObjectType: row.object_type,
    objectChangeType: row.object_change_type,
    errorType: row.error_type,
    outcomeSummary: row.outcome_summary,
  };
}

export function toActivityResponse(activity: Activity): ActivityResponse {
  return {
    id: activity.id,
    created: activity.created.toISOString(),
    status: activity.status,
    targetType: activity.targetType,
    targetName: activity.targetName,
    targetContext: activity.targetContext,
    runType: activity.runType,
    itemCount: activity.itemCount,
  };
}

export function toExecutionItemDetailResponse(row: ExecutionItemDetailRow): ExecutionItemDetailResponse {
  const { id, ...listFields } = toExecutionItemResponse(row);
  return {
    id,
    sequence: row.sequence,
    ...listFields,
    errorMessage: row.error_message,
    errorStackTrace: row.error_stack_trace,
    outcomes: row.outcomes.map(toOutcomeNodeResponse),
  };
}

function toOutcomeNodeResponse(node: OutcomeNode): OutcomeNodeResponse {
  return {
    type: node.type,
    detailCount: node.detailCount ?? null,
    detailMessage: node.detailMessage ?? null,
    targetId: node.targetId ?? null,
    targetDescription: node.targetDescription ?? null,
    children: (node.children ?? []).map(toOutcomeNodeResponse),
  };
}

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
