import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  ValidateBy,
} from 'class-validator';
import type { ExportItemsRequest, ListActivitiesRequest, ListItemsRequest } from '../execution-items.service';
import { GUID_PATTERN } from '../guid';
import { MAX_LIST_VALUES, MAX_OBJECT_TYPE_LENGTH, MAX_SEARCH_LENGTH } from '../item-query';
import { MAX_NAME_LENGTH, MAX_NAMES, NAMES_MESSAGE } from '../run-filters';
import {
  ACTIVITY_STATUSES,
  ACTIVITY_TARGET_TYPES,
  ERROR_TYPES,
  EXPORT_FORMATS,
  OBJECT_CHANGE_TYPES,
  OUTCOME_TYPES,
  RUN_TYPES,
  SORT_DIRECTIONS,
  SORT_KEYS,
  type ActivityStatus,
  type ActivityTargetType,
  type ErrorType,
  type ExportFormat,
  type ObjectChangeType,
  type OutcomeType,
  type RunType,
  type SortDirection,
  type SortKey,
} from '../vocabulary';
import { toBoolean, toList, toStrictInteger } from './query-parameters';

export const GUID_MESSAGE = 'must be a GUID (8-4-4-4-12 hexadecimal digits)';

/** OpenAPI: a GUID path parameter. */
export const GUID_SCHEMA = { pattern: GUID_PATTERN.source, example: '7d3e2a10-5c4b-4f6e-9a8d-1b2c3d4e5f60' };

/**
 * OpenAPI: a list parameter, repeated (`a=x&a=y`) or comma-separated (`a=x,y`), of at most
 * `maxItems` values: those of a vocabulary, or names of 1 to `maxLength` characters.
 */
function listDoc(
  description: string,
  limits: { values: readonly string[]; maxItems: number } | { maxLength: number; maxItems: number },
) {
  return {
    description: `${description} Repeated or comma-separated; any of them matches.`,
    type: 'array' as const,
    maxItems: limits.maxItems,
    items:
      'values' in limits
        ? { type: 'string' as const, enum: [...limits.values] }
        : { type: 'string' as const, minLength: 1, maxLength: limits.maxLength },
  };
}

/** OpenAPI: a page number or size, a plain decimal integer in the safe range (clamped after). */
const INTEGER_DOC = {
  type: 'integer',
  minimum: Number.MIN_SAFE_INTEGER,
  maximum: Number.MAX_SAFE_INTEGER,
} as const;

export class ActivityIdParams {
  @ApiProperty({ ...GUID_SCHEMA, description: 'The activity.' })
  @Matches(GUID_PATTERN, { message: GUID_MESSAGE })
  id!: string;
}

export class ItemIdParams extends ActivityIdParams {
  @ApiProperty({ ...GUID_SCHEMA, example: '01a21ec8-48fe-754b-bf45-9ce5fc3554a3', description: 'The item.' })
  @Matches(GUID_PATTERN, { message: GUID_MESSAGE })
  itemId!: string;
}

/** An optional plain decimal integer (see `toStrictInteger`). */
function IntegerParameter(): PropertyDecorator {
  return applyDecorators(
    IsOptional(),
    Transform(toStrictInteger),
    IsInt({ message: 'must be an integer' }),
  ) as PropertyDecorator;
}

/**
 * An optional list: repeated, comma-separated, or both. Its values are checked by the service
 * (`parseItemQuery`), which other modules call too: the field's type is what the service
 * accepts, and anything else reaches it only to be refused with the same messages.
 */
function ListParameter(): PropertyDecorator {
  return applyDecorators(IsOptional(), Transform(toList)) as PropertyDecorator;
}

/**
 * An optional list of values of one vocabulary, repeated or comma-separated, checked here (the
 * activity filters, which the service checks again for module callers, with the same message).
 */
export function VocabularyListParameter(
  description: string,
  vocabulary: readonly string[],
): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional(listDoc(description, { values: vocabulary, maxItems: vocabulary.length })),
    IsOptional(),
    Transform(toList),
    ArrayMaxSize(vocabulary.length, { message: 'lists too many values' }),
    IsIn(vocabulary, { each: true, message: `must be one of ${vocabulary.join(', ')}` }),
  ) as PropertyDecorator;
}

/** An optional parameter that may appear once; its value is checked by the service. */
export function SingleParameter(): PropertyDecorator {
  return applyDecorators(IsOptional(), NotRepeated()) as PropertyDecorator;
}

/** A query parameter given once: the parser makes a repeated one an array. */
function NotRepeated(): PropertyDecorator {
  return ValidateBy({
    name: 'notRepeated',
    validator: { validate: (value) => !Array.isArray(value), defaultMessage: () => 'must appear once' },
  });
}

/** For routes without query parameters: any parameter is unknown, so a 400. */
export class NoQuery {}

export class PageQuery {
  /** 1-based; below 1 is treated as 1. */
  @ApiPropertyOptional({ ...INTEGER_DOC, default: 1, description: '1-based; below 1 is treated as 1.' })
  @IntegerParameter()
  page?: number;

  /** Default 25, at most 100; below 1 is treated as the default. */
  @ApiPropertyOptional({
    ...INTEGER_DOC,
    default: 25,
    description: 'At most 100 (more is treated as 100); below 1 is treated as the default.',
  })
  @IntegerParameter()
  pageSize?: number;
}

/** Which items, and in which order: the list's and the export's common parameters. */
export class ItemQueryParameters {
  @ApiPropertyOptional(
    listDoc('Items with one of these error types.', { values: ERROR_TYPES, maxItems: MAX_LIST_VALUES }),
  )
  @ListParameter()
  errorType?: ErrorType[];

  @ApiPropertyOptional(
    listDoc('Items with one of these change types.', {
      values: OBJECT_CHANGE_TYPES,
      maxItems: MAX_LIST_VALUES,
    }),
  )
  @ListParameter()
  objectChangeType?: ObjectChangeType[];

  @ApiPropertyOptional({
    ...listDoc(
      `Items of these object types (exact, case-sensitive names of 1 to ${MAX_OBJECT_TYPE_LENGTH} characters).`,
      { maxLength: MAX_OBJECT_TYPE_LENGTH, maxItems: MAX_LIST_VALUES },
    ),
    example: ['user'],
  })
  @ListParameter()
  objectType?: string[];

  @ApiPropertyOptional(
    listDoc('Items whose outcome tree holds one of these types, at any depth.', {
      values: OUTCOME_TYPES,
      maxItems: MAX_LIST_VALUES,
    }),
  )
  @ListParameter()
  outcomeType?: OutcomeType[];

  /** `true` or `false`. */
  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'Only items with (or without) an error.' })
  @SingleParameter()
  @Transform(toBoolean)
  hasError?: boolean;

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: MAX_SEARCH_LENGTH,
    description:
      'A case-insensitive substring of `displayName` or `externalIdValue`; `%`, `_` and `\\` match themselves. No control characters.',
  })
  @SingleParameter()
  search?: string;

  @ApiPropertyOptional({
    enum: [...SORT_KEYS],
    default: 'sequence',
    description: 'Ties are broken by sequence.',
  })
  @SingleParameter()
  sortBy?: SortKey;

  @ApiPropertyOptional({ enum: [...SORT_DIRECTIONS], default: 'asc' })
  @SingleParameter()
  sortDirection?: SortDirection;
}

export class ItemsQuery extends ItemQueryParameters implements ListItemsRequest {
  @ApiPropertyOptional({
    ...INTEGER_DOC,
    default: 1,
    description: '1-based; below 1 is treated as 1. Not with `cursor`.',
  })
  @IntegerParameter()
  page?: number;

  @ApiPropertyOptional({
    ...INTEGER_DOC,
    default: 25,
    description: 'At most 100 (more is treated as 100); below 1 is treated as the default.',
  })
  @IntegerParameter()
  pageSize?: number;

  /** The `nextCursor` of a previous page. */
  @ApiPropertyOptional({
    description:
      'The `nextCursor` of a previous page. It carries its query: other parameters may be repeated with it but must be the same.',
  })
  @SingleParameter()
  cursor?: string;
}

export class ExportQuery extends ItemQueryParameters implements ExportItemsRequest {
  /** `csv` (default) or `ndjson`. */
  @ApiPropertyOptional({ enum: [...EXPORT_FORMATS], default: 'csv' })
  @SingleParameter()
  format?: ExportFormat;
}

const MAX_CONNECTED_SYSTEM_NAME_LENGTH = MAX_NAME_LENGTH;

/** An optional list of exact names, repeated or comma-separated, checked here and by the service. */
export function NameListParameter(what: string, description: string, example: string): PropertyDecorator {
  const message = NAMES_MESSAGE(what);
  return applyDecorators(
    ApiPropertyOptional({
      ...listDoc(`${description} (exact, case-sensitive names of 1 to ${MAX_NAME_LENGTH} characters).`, {
        maxLength: MAX_NAME_LENGTH,
        maxItems: MAX_NAMES,
      }),
      example: [example],
    }),
    IsOptional(),
    Transform(toList),
    ArrayMaxSize(MAX_NAMES, { message: 'lists too many values' }),
    IsString({ each: true, message }),
    Length(1, MAX_CONNECTED_SYSTEM_NAME_LENGTH, { each: true, message }),
    Matches(/^\P{Cc}*$/u, { each: true, message }),
  ) as PropertyDecorator;
}

/** An optional ISO 8601 timestamp, given once; the service parses it and names it when it is not one. */
export function TimestampParameter(description: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: String,
      format: 'date-time',
      description: `${description} ISO 8601: a date (midnight UTC) or a date-time with \`Z\` or an offset.`,
      example: '2026-11-01T00:00:00Z',
    }),
    SingleParameter(),
  ) as PropertyDecorator;
}

/** An optional `true` or `false`, given once. */
export function BooleanParameter(description: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ enum: ['true', 'false'], description }),
    SingleParameter(),
    Transform(toBoolean),
  ) as PropertyDecorator;
}

/** A cursor: the `nextCursor` of a previous page. */
export function CursorParameter(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      description:
        'The `nextCursor` of a previous page. It carries its query: other parameters may be repeated with it but must be the same.',
    }),
    SingleParameter(),
  ) as PropertyDecorator;
}

export class ListActivitiesQuery extends PageQuery implements ListActivitiesRequest {
  /** One or more target types, repeated or comma-separated; any of them matches. */
  @VocabularyListParameter('Activities of these target types.', ACTIVITY_TARGET_TYPES)
  targetType?: ActivityTargetType[];

  /** One or more statuses, repeated or comma-separated; any of them matches. */
  @VocabularyListParameter('Activities with these statuses.', ACTIVITY_STATUSES)
  status?: ActivityStatus[];

  /** One or more run types, repeated or comma-separated; any of them matches. */
  @VocabularyListParameter('Runs of these run types.', RUN_TYPES)
  runType?: RunType[];

  /** One or more connected system names (exact, case-sensitive), repeated or comma-separated. */
  @NameListParameter('connected system', 'Runs against these connected systems', 'HR Feed')
  connectedSystemName?: string[];

  /** One or more run profile names (exact, case-sensitive), repeated or comma-separated. */
  @NameListParameter('run profile', 'Runs of these run profiles', 'Full Synchronisation')
  runProfileName?: string[];

  @TimestampParameter('Activities created at or after this time.')
  createdFrom?: string;

  @TimestampParameter('Activities created before this time (exclusive); later than `createdFrom`.')
  createdTo?: string;

  @BooleanParameter('Only runs with at least one error item (`true`), or with none (`false`).')
  hasErrors?: boolean;

  @CursorParameter()
  cursor?: string;
}
