/** The API's answers, as the contract and the OpenAPI document describe them. */

export interface Page<T> {
  items: T[];
  totalCount: number;
  page: number;
  pageSize: number;
  totalPages: number;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

export interface ItemPage extends Page<ExecutionItem> {
  nextCursor: string | null;
}

export interface Activity {
  id: string;
  created: string;
  /** When the run ended; null while it runs. */
  completed: string | null;
  status: string;
  targetType: string;
  targetName: string | null;
  targetContext: string | null;
  runType: string | null;
  itemCount: number;
  itemsWithErrors: number;
}

export interface ExecutionItem {
  id: string;
  externalIdValue: string | null;
  displayName: string | null;
  connectedSystemObjectType: string | null;
  objectChangeType: string;
  errorType: string | null;
  outcomeSummary: string | null;
}

export interface OutcomeNode {
  type: string;
  detailCount: number | null;
  detailMessage: string | null;
  targetId: string | null;
  targetDescription: string | null;
  children: OutcomeNode[];
}

export interface ExecutionItemDetail extends ExecutionItem {
  sequence: number;
  errorMessage: string | null;
  errorStackTrace: string | null;
  outcomes: OutcomeNode[];
}

export interface ActivityStats {
  activityId: string;
  totalCount: number;
  itemsWithErrors: number;
  objectChangeTypes: Record<string, number>;
  errorTypes: Record<string, number>;
  objectTypes: Record<string, number>;
  outcomeTypes: Record<string, number>;
}

/** The error envelope every non-2xx answer under /api carries. */
export interface ErrorEnvelope {
  code: string;
  message: string;
  details: unknown;
  validationErrors: Record<string, string[]> | null;
  timestamp: string;
}

/** What the page learns from the server before sign-in (`/ui-config.json`). */
export interface UiConfig {
  apiBase: string;
  oidc: { authority: string; clientId: string; scope: string; resource: string | null } | null;
}

/** How an object's error differs between a run and its baseline. */
export const DIFF_CHANGES = ['NewError', 'Resolved', 'ChangedError', 'StillFailing', 'NotSeen'] as const;
export type DiffChange = (typeof DIFF_CHANGES)[number];

export interface DiffSide {
  itemId: string;
  errorType: string | null;
  objectChangeType: string;
}

export interface DiffItem {
  externalIdValue: string;
  displayName: string | null;
  connectedSystemObjectType: string | null;
  change: DiffChange;
  current: DiffSide | null;
  baseline: DiffSide | null;
}

export interface DiffPage extends Page<DiffItem> {
  nextCursor: string | null;
  baseline: Activity;
  counts: Record<DiffChange, number>;
}
