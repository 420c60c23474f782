import type { Activity } from '../entities/activity.entity';
import type { ExecutionItemRow } from '../execution-items.queries';
import type { ActivityResponse, ExecutionItemResponse } from './responses';

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
