import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { Allow } from 'class-validator';
import type { CompleteRunRequest, StartRunRequest } from '../execution-runs.service';
import { GUID_PATTERN } from '../guid';
import { TEXT_LIMITS } from '../new-items';
import {
  ERROR_TYPES,
  FINAL_ACTIVITY_STATUSES,
  OBJECT_CHANGE_TYPES,
  OUTCOME_TYPES,
  RUN_TYPES,
  type ErrorType,
  type FinalActivityStatus,
  type ObjectChangeType,
  type OutcomeType,
  type RunType,
} from '../vocabulary';

/*
 * The bodies of the write routes. Unknown fields are refused by the validation pipe; the values
 * are checked by `ExecutionRunsService`, which in-process engines call too, so that both get the
 * same rules and the same messages.
 */

export class StartRunBody implements StartRunRequest {
  @ApiProperty({ minLength: 1, maxLength: 400, example: 'HR Feed' })
  @Allow()
  connectedSystemName!: string;

  @ApiProperty({ minLength: 1, maxLength: 400, example: 'Delta Import' })
  @Allow()
  runProfileName!: string;

  @ApiProperty({ enum: RUN_TYPES, enumName: 'RunType' })
  @Allow()
  runType!: RunType;

  @ApiPropertyOptional({
    pattern: GUID_PATTERN.source,
    description: 'The activity’s id, when the engine assigns it; a new UUIDv7 otherwise.',
  })
  @Allow()
  id?: string;
}

export class CompleteRunBody implements CompleteRunRequest {
  @ApiPropertyOptional({
    enum: FINAL_ACTIVITY_STATUSES,
    description:
      'How the run ended; without it, `CompleteWithError` when it has error items, else `Complete`.',
  })
  @Allow()
  status?: FinalActivityStatus;

  @ApiPropertyOptional({
    maxLength: 4096,
    description:
      'The engine’s closing words (why it failed, say). Activities have no field for it: it is written to the service’s log with the run’s completion, not stored.',
  })
  @Allow()
  message?: string;
}

const nullableText = (maxLength: number, description?: string) => ({
  type: String,
  nullable: true,
  required: false,
  maxLength,
  ...(description ? { description } : {}),
});

/** OpenAPI only: an outcome node as an engine sends it (the reader passes items to the service as sent). */
@ApiSchema({ name: 'NewOutcome', description: 'A node of an item’s outcome tree; other fields are dropped.' })
export class NewOutcomeBody {
  @ApiProperty({ enum: OUTCOME_TYPES, enumName: 'OutcomeType' })
  type!: OutcomeType;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, nullable: true })
  detailCount?: number | null;

  @ApiPropertyOptional(nullableText(TEXT_LIMITS.detailMessage))
  detailMessage?: string | null;

  @ApiPropertyOptional(nullableText(TEXT_LIMITS.targetId))
  targetId?: string | null;

  @ApiPropertyOptional(nullableText(TEXT_LIMITS.targetDescription))
  targetDescription?: string | null;

  @ApiPropertyOptional({ type: () => [NewOutcomeBody], description: 'In order; may be left out when none.' })
  children?: NewOutcomeBody[];
}

/**
 * OpenAPI only: an item in a batch, with the item list's field names. The server derives `id`,
 * `outcomeSummary` and the sequence; any field not listed here is refused.
 */
@ApiSchema({ name: 'NewItem', description: 'An item as a sync engine sends it.' })
export class NewItemBody {
  @ApiProperty({ enum: OBJECT_CHANGE_TYPES, enumName: 'ObjectChangeType' })
  objectChangeType!: ObjectChangeType;

  @ApiPropertyOptional(nullableText(TEXT_LIMITS.externalIdValue))
  externalIdValue?: string | null;

  @ApiPropertyOptional(nullableText(TEXT_LIMITS.displayName))
  displayName?: string | null;

  @ApiPropertyOptional(nullableText(TEXT_LIMITS.objectType, 'For example `user` or `group`.'))
  connectedSystemObjectType?: string | null;

  @ApiPropertyOptional({ enum: ERROR_TYPES, enumName: 'ErrorType', nullable: true })
  errorType?: ErrorType | null;

  @ApiPropertyOptional(nullableText(TEXT_LIMITS.errorMessage))
  errorMessage?: string | null;

  @ApiPropertyOptional(nullableText(TEXT_LIMITS.errorStackTrace))
  errorStackTrace?: string | null;

  @ApiPropertyOptional({
    type: () => [NewOutcomeBody],
    description: 'The outcome tree: at most 16 levels and 1,000 nodes.',
  })
  outcomes?: NewOutcomeBody[];
}
