import type { ActivityStatus, ActivityTargetType, ErrorType, ObjectChangeType, RunType } from '../vocabulary';

/** One execution item in a list (contract §1): every field present, `null` when absent. */
export interface ExecutionItemResponse {
  id: string;
  externalIdValue: string | null;
  displayName: string | null;
  connectedSystemObjectType: string | null;
  objectChangeType: ObjectChangeType;
  errorType: ErrorType | null;
  outcomeSummary: string | null;
}

export interface ActivityResponse {
  id: string;
  created: string;
  status: ActivityStatus;
  targetType: ActivityTargetType;
  targetName: string | null;
  targetContext: string | null;
  runType: RunType | null;
  itemCount: number;
}

/** The paged envelope (contract §1). */
export interface PageResponse<T> {
  items: T[];
  totalCount: number;
  page: number;
  pageSize: number;
  totalPages: number;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

/** What one append wrote. */
export interface AppendResult {
  activityId: string;
  /** Ids of the new items, in the batch's order. */
  itemIds: string[];
  /** Sequence numbers of the first and last new item. */
  firstSequence: number;
  lastSequence: number;
  /** The run's item count after this append. */
  itemCount: number;
}
