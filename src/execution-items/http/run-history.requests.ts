import { ApiPropertyOptional } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import type { DiffRunsRequest, ObjectHistoryRequest } from '../execution-items.service';
import { GUID_PATTERN } from '../guid';
import { TEXT_LIMITS } from '../new-items';
import { DIFF_CHANGES, type DiffChange } from '../vocabulary';
import {
  BooleanParameter,
  CursorParameter,
  GUID_MESSAGE,
  GUID_SCHEMA,
  NameListParameter,
  PageQuery,
  SingleParameter,
  TimestampParameter,
  VocabularyListParameter,
} from './activities.requests';

export class RunDiffQuery extends PageQuery implements DiffRunsRequest {
  @ApiPropertyOptional({
    ...GUID_SCHEMA,
    description:
      'The baseline run, of the same connected system. Default: the latest earlier run of the same connected system, run profile and run type that has ended.',
  })
  @Matches(GUID_PATTERN, { message: GUID_MESSAGE })
  @SingleParameter()
  against?: string;

  @VocabularyListParameter(
    'Only objects with these changes; `counts` still cover the whole diff.',
    DIFF_CHANGES,
  )
  change?: DiffChange[];

  @CursorParameter()
  cursor?: string;
}

export class ObjectHistoryQuery extends PageQuery implements ObjectHistoryRequest {
  @ApiPropertyOptional({
    minLength: 1,
    maxLength: TEXT_LIMITS.externalIdValue,
    description: 'The object’s external id, exact. This or `displayName` is required.',
  })
  @SingleParameter()
  externalIdValue?: string;

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: TEXT_LIMITS.displayName,
    description:
      'The object’s display name, exact but case-insensitive. This or `externalIdValue` is required.',
  })
  @SingleParameter()
  displayName?: string;

  @NameListParameter('connected system', 'Only runs against these connected systems', 'HR Feed')
  connectedSystemName?: string[];

  @BooleanParameter('Only items with (or without) an error.')
  hasError?: boolean;

  @TimestampParameter('Only runs created at or after this time.')
  createdFrom?: string;

  @TimestampParameter('Only runs created before this time (exclusive); later than `createdFrom`.')
  createdTo?: string;

  @CursorParameter()
  cursor?: string;
}
