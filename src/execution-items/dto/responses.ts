import type {
  ActivityStatus,
  ActivityTargetType,
  ErrorType,
  ObjectChangeType,
  OutcomeType,
  RunType,
} from '../vocabulary';

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

/** A page of a run's items; `nextCursor` fetches the next one, `null` when no item follows. */
export interface ItemPageResponse extends PageResponse<ExecutionItemResponse> {
  nextCursor: string | null;
}

/** One node of an outcome tree: every field present, `null` when absent, children in order. */
export interface OutcomeNodeResponse {
  type: OutcomeType;
  detailCount: number | null;
  detailMessage: string | null;
  targetId: string | null;
  targetDescription: string | null;
  children: OutcomeNodeResponse[];
}

/** One item in full. */
export interface ExecutionItemDetailResponse extends ExecutionItemResponse {
  sequence: number;
  errorMessage: string | null;
  errorStackTrace: string | null;
  outcomes: OutcomeNodeResponse[];
}

/** A run's counters: non-zero counts only, vocabularies in the contract's order. */
export interface ActivityStatsResponse {
  activityId: string;
  totalCount: number;
  itemsWithErrors: number;
  objectChangeTypes: Record<string, number>;
  errorTypes: Record<string, number>;
  objectTypes: Record<string, number>;
  /** Items whose outcome tree holds the type. */
  outcomeTypes: Record<string, number>;
}

/** What one append wrote. */
export interface AppendResult {
  activityId: string;
  /** Ids of the new items, in the batch's order. */
  itemIds: string[];
  /** Sequence numbers of the first and last new item. */
  firstSequence: number;
  lastSequence: number;
  /** The run's item count after this append (for a replay: now). */
  itemCount: number;
  /** True when a batch with this `batchId` had been written already and nothing was written now. */
  replayed: boolean;
}
