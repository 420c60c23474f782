/** `{ "pageSize": ["must be an integer"] }`: messages per parameter or field. */
export type ValidationErrors = Record<string, string[]>;

/**
 * Why a call to the module failed. Callers branch on these; the HTTP layer turns each into one
 * of the contract's codes (`codeForReason`).
 */
export const EXECUTION_ITEMS_ERROR_REASONS = [
  /** An argument is not valid; `validationErrors` names each one. */
  'InvalidInput',
  'ActivityNotFound',
  /** The activity exists; the item is not one of its items. */
  'ItemNotFound',
  /** The activity is not a `ConnectedSystemRunProfile` activity, so it has no items. */
  'NotARun',
  /** `startRun` with an id that an activity already has. */
  'ActivityExists',
  /** The run has ended: nothing can be appended, and it cannot be completed again. */
  'RunClosed',
  /** A batch id that the run already holds, sent with different items. */
  'BatchIdReused',
  /** A diff without `against`: no earlier completed run of the same system, profile and type. */
  'BaselineNotFound',
  /** A diff of runs of two different connected systems. */
  'RunsNotComparable',
] as const;
export type ExecutionItemsErrorReason = (typeof EXECUTION_ITEMS_ERROR_REASONS)[number];

/**
 * The module's one error. Every failure of `ExecutionItemsService` and `ExecutionRunsService`
 * that is the caller's to handle is one of these, with a `reason`; anything else (the database
 * going away, say) is passed on as it is.
 */
export class ExecutionItemsError extends Error {
  override readonly name = 'ExecutionItemsError';

  constructor(
    readonly reason: ExecutionItemsErrorReason,
    message: string,
    /** For `InvalidInput`: the messages for each argument, parameter or field. */
    readonly validationErrors: ValidationErrors | null = null,
    /** More about the failure, when there is more to say. */
    readonly details: string | null = null,
  ) {
    super(message);
  }

  static invalid(
    validationErrors: ValidationErrors,
    message = 'The request is not valid.',
  ): ExecutionItemsError {
    return new ExecutionItemsError('InvalidInput', message, validationErrors);
  }

  static activityNotFound(activityId: string): ExecutionItemsError {
    return new ExecutionItemsError('ActivityNotFound', `Activity with ID ${activityId} not found.`);
  }

  static itemNotFound(activityId: string, itemId: string): ExecutionItemsError {
    return new ExecutionItemsError(
      'ItemNotFound',
      `Execution item with ID ${itemId} not found in activity ${activityId}.`,
    );
  }

  static notARun(activityId: string, targetType: string): ExecutionItemsError {
    return new ExecutionItemsError(
      'NotARun',
      `Activity with ID ${activityId} is a ${targetType} activity; only ConnectedSystemRunProfile activities have execution items.`,
    );
  }

  static baselineNotFound(run: {
    id: string;
    targetContext: string | null;
    targetName: string | null;
    runType: string | null;
  }): ExecutionItemsError {
    return new ExecutionItemsError(
      'BaselineNotFound',
      `No completed run before activity ${run.id} of run profile ${run.targetName ?? '(none)'} (${run.runType ?? 'no run type'}) on connected system ${run.targetContext ?? '(none)'}; name one with against.`,
    );
  }

  static runsNotComparable(
    run: { id: string; targetContext: string | null },
    baseline: { id: string; targetContext: string | null },
  ): ExecutionItemsError {
    return new ExecutionItemsError(
      'RunsNotComparable',
      `Activity ${run.id} is a run on connected system ${run.targetContext ?? '(none)'} and activity ${baseline.id} on ${baseline.targetContext ?? '(none)'}; only runs on the same connected system can be compared.`,
    );
  }
}
