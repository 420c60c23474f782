/**
 * The exact strings of the API contract (§2), each list with its union type, and the sort and
 * export choices. The database stores the contract's vocabularies as PostgreSQL enum types with
 * the same labels, so a value outside these lists cannot be written by any client.
 */

export const OBJECT_CHANGE_TYPES = [
  'Add',
  'Update',
  'Delete',
  'Projected',
  'Joined',
  'AttributeFlow',
  'Disconnected',
  'DisconnectedOutOfScope',
  'OutOfScopeRetainJoin',
  'DriftCorrection',
  'PendingExport',
  'Exported',
  'Deprovisioned',
  'PendingExportConfirmed',
  'NoChange',
  'Created',
] as const;
export type ObjectChangeType = (typeof OBJECT_CHANGE_TYPES)[number];

export const ERROR_TYPES = [
  'AmbiguousMatch',
  'CouldNotMatchObjectType',
  'MissingExternalIdAttributeValue',
  'DuplicateObject',
  'UnresolvedReference',
  'UnhandledError',
  'CouldNotJoinDueToExistingJoin',
  'DuplicateImportedAttributes',
  'UnexpectedAttribute',
  'UnsupportedExternalIdAttributeType',
  'ExportNotConfirmed',
  'ExportConfirmationFailed',
  'CsoCreationFailed',
  'InvalidGeneratedExternalId',
  'ExpressionEvaluationError',
  'ExpressionMissingInput',
  'MultiValuedToSingleValued',
  'ImportAttributeValueError',
  'ConnectorConfigurationError',
] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

/** Canonical order: `outcomeSummary` lists types in this order. */
export const OUTCOME_TYPES = [
  'CsoAdded',
  'CsoUpdated',
  'CsoDeleted',
  'DeletionDetected',
  'ExportConfirmed',
  'ExportFailed',
  'Projected',
  'Joined',
  'AttributeFlow',
  'Disconnected',
  'DisconnectedOutOfScope',
  'MvoDeleted',
  'DriftCorrection',
  'Provisioned',
  'PendingExportCreated',
  'Exported',
  'Deprovisioned',
  'MvoDeletionScheduled',
  'DeprovisionQueued',
] as const;
export type OutcomeType = (typeof OUTCOME_TYPES)[number];

export const ACTIVITY_TARGET_TYPES = [
  'ConnectedSystemRunProfile',
  'ConnectedSystem',
  'SynchronisationRule',
  'MetaverseObject',
  'ServiceSetting',
  'HistoryRetentionCleanup',
  'Schedule',
  'ApiKey',
  'Role',
  'DataGeneration',
] as const;
export type ActivityTargetType = (typeof ACTIVITY_TARGET_TYPES)[number];

/** The only target type whose activities have execution items. */
export const RUN_PROFILE_TARGET_TYPE: ActivityTargetType = 'ConnectedSystemRunProfile';

export const ACTIVITY_STATUSES = [
  'InProgress',
  'Complete',
  'CompleteWithWarning',
  'CompleteWithError',
  'FailedWithError',
  'Cancelled',
] as const;
export type ActivityStatus = (typeof ACTIVITY_STATUSES)[number];

/** Statuses a run can end with: every status but `InProgress`. */
export type FinalActivityStatus = Exclude<ActivityStatus, 'InProgress'>;
export const FINAL_ACTIVITY_STATUSES = ACTIVITY_STATUSES.filter(
  (status): status is FinalActivityStatus => status !== 'InProgress',
);

export const RUN_TYPES = [
  'FullImport',
  'DeltaImport',
  'FullSynchronisation',
  'DeltaSynchronisation',
  'Export',
] as const;
export type RunType = (typeof RUN_TYPES)[number];

/** What a run's items can be sorted by; ties are broken by sequence. */
export const SORT_KEYS = ['sequence', 'displayName', 'externalIdValue', 'objectType', 'errorType'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export const SORT_DIRECTIONS = ['asc', 'desc'] as const;
export type SortDirection = (typeof SORT_DIRECTIONS)[number];

export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function isOneOf<T extends string>(values: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (values as readonly string[]).includes(value);
}

/**
 * How an object's errors changed between a baseline run and a later run (contract §9), in the
 * order a diff lists them.
 */
export const DIFF_CHANGES = ['NewError', 'Resolved', 'ChangedError', 'StillFailing', 'NotSeen'] as const;
export type DiffChange = (typeof DIFF_CHANGES)[number];
