/**
 * The public API of the execution-items package: what a host backend imports. Anything not
 * exported here is internal and may change in any release.
 */

// The module, its options and its two services.
export { ExecutionItemsModule } from './execution-items.module';
export type { ExecutionItemsModuleExtras, ExecutionItemsModuleOptions } from './execution-items.options';
export {
  ExecutionItemsService,
  type DiffRunsRequest,
  type ExportItemsRequest,
  type ListActivitiesRequest,
  type ListItemsRequest,
  type ObjectHistoryRequest,
  type PageRequest,
} from './execution-items.service';
export {
  ExecutionRunsService,
  describePurge,
  type AppendOptions,
  type CompleteRunRequest,
  type PurgeRunsRequest,
  type PurgeRunsResult,
  type StartRunRequest,
} from './execution-runs.service';
export {
  ReadConnections,
  type ReadClient,
  type ReadPool,
  type ReadSession,
  type ReadStatement,
  type ReplicaState,
  type ReplicaStatus,
} from './read-connections';
export type { ItemQueryInput } from './item-query';
export type { FollowEvent, FollowFilters, FollowItemsRequest } from './follow-items';
export { MAX_ITEMS_PER_BATCH, type NewExecutionItem, type OutcomeInput } from './new-items';
export type { ItemsExport } from './export-format';

// What the services answer: one class per response, the same that the OpenAPI document shows.
export { ActivityResponse } from './responses/activity.response';
export { ActivityStatsResponse } from './responses/activity-stats.response';
export { AppendResult } from './responses/append-result.response';
export { AppendedBatchResponse } from './responses/appended-batch.response';
export {
  ExecutionItemDetailResponse,
  ExecutionItemResponse,
  OutcomeNodeResponse,
} from './responses/execution-item.response';
export { ActivityPageResponse, ItemPageResponse } from './responses/page.response';
export {
  DiffCountsResponse,
  DiffItemResponse,
  DiffSideResponse,
  RunDiffPageResponse,
} from './responses/run-diff.response';
export {
  ObjectHistoryItemResponse,
  ObjectHistoryPageResponse,
  RunSummaryResponse,
} from './responses/object-history.response';
export { RunProgressResponse } from './responses/run-progress.response';
export { ErrorCode, ErrorEnvelope, errorEnvelope } from './responses/error-envelope.response';

// Errors: the module's, by reason; and the HTTP answers with the contract's codes.
export {
  EXECUTION_ITEMS_ERROR_REASONS,
  ExecutionItemsError,
  type ExecutionItemsErrorReason,
  type ValidationErrors,
} from './execution-items.error';
export { ApiError, codeForReason, statusForCode } from './http/api-error';
export { ApiExceptionFilter } from './http/api-exception.filter';
export { JWT_STRATEGY } from './http/authenticated.guard';
export { ITEMS_MEDIA_TYPES, readsOwnBody } from './http/items-body';
export { DEFAULT_INGEST_BODY_LIMIT_BYTES } from './execution-items.options';
export { BROKEN_PERCENT_ENCODING_MESSAGE, parseQueryString } from './http/query-parameters';

// The schema: entities for the host's TypeORM root, and the migrations that create them.
export { EXECUTION_ITEMS_ENTITIES } from './entities';
export { Activity, type CountsByKey } from './entities/activity.entity';
export { AppendBatch } from './entities/append-batch.entity';
export { ExecutionItem, type OutcomeNode } from './entities/execution-item.entity';
export { RunDiff } from './entities/run-diff.entity';
export { RunDiffRow } from './entities/run-diff-row.entity';
export { EXECUTION_ITEMS_MIGRATIONS, withoutStatementTimeout } from './migrations';

// The contract's vocabularies, each a list and its union type.
export * from './vocabulary';
