import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsInt, IsOptional, IsString, Matches } from 'class-validator';
import { GUID_PATTERN, toList, toStrictInteger } from '../../common/validation';
import {
  ACTIVITY_STATUSES,
  ACTIVITY_TARGET_TYPES,
  type ActivityStatus,
  type ActivityTargetType,
} from '../vocabulary';

const GUID_MESSAGE = 'must be a GUID (8-4-4-4-12 hexadecimal digits)';

export class ActivityIdParams {
  @Matches(GUID_PATTERN, { message: GUID_MESSAGE })
  id: string;
}

export class ItemIdParams extends ActivityIdParams {
  @Matches(GUID_PATTERN, { message: GUID_MESSAGE })
  itemId: string;
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
 * (`parseItemQuery`), which other modules call too.
 */
function ListParameter(): PropertyDecorator {
  return applyDecorators(IsOptional(), Transform(toList)) as PropertyDecorator;
}

/** An optional parameter that may appear once; its value is checked by the service. */
function SingleParameter(): PropertyDecorator {
  return applyDecorators(IsOptional(), IsString({ message: 'must appear once' })) as PropertyDecorator;
}

/** For routes without query parameters: any parameter is unknown, so a 400. */
export class NoQuery {}

export class PageQuery {
  /** 1-based; below 1 is treated as 1. */
  @IntegerParameter()
  page?: number;

  /** Default 25, at most 100; below 1 is treated as the default. */
  @IntegerParameter()
  pageSize?: number;
}

/** Which items, and in which order: the list's and the export's common parameters. */
export class ItemQueryParameters {
  @ListParameter()
  errorType?: string[];

  @ListParameter()
  objectChangeType?: string[];

  @ListParameter()
  objectType?: string[];

  @ListParameter()
  outcomeType?: string[];

  /** `true` or `false`. */
  @SingleParameter()
  hasError?: string;

  @SingleParameter()
  search?: string;

  @SingleParameter()
  sortBy?: string;

  @SingleParameter()
  sortDirection?: string;
}

export class ItemsQuery extends ItemQueryParameters {
  @IntegerParameter()
  page?: number;

  @IntegerParameter()
  pageSize?: number;

  /** The `nextCursor` of a previous page. */
  @SingleParameter()
  cursor?: string;
}

export class ExportQuery extends ItemQueryParameters {
  /** `csv` (default) or `ndjson`. */
  @SingleParameter()
  format?: string;
}

export class ListActivitiesQuery extends PageQuery {
  /** One or more target types, repeated or comma-separated; any of them matches. */
  @IsOptional()
  @Transform(toList)
  @ArrayMaxSize(ACTIVITY_TARGET_TYPES.length, { message: 'lists too many values' })
  @IsIn(ACTIVITY_TARGET_TYPES, { each: true, message: `must be one of ${ACTIVITY_TARGET_TYPES.join(', ')}` })
  targetType?: ActivityTargetType[];

  /** One or more statuses, repeated or comma-separated; any of them matches. */
  @IsOptional()
  @Transform(toList)
  @ArrayMaxSize(ACTIVITY_STATUSES.length, { message: 'lists too many values' })
  @IsIn(ACTIVITY_STATUSES, { each: true, message: `must be one of ${ACTIVITY_STATUSES.join(', ')}` })
  status?: ActivityStatus[];
}
