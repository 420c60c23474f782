import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsInt, IsOptional, Matches } from 'class-validator';
import { GUID_PATTERN, toList, toStrictInteger } from '../../common/validation';
import {
  ACTIVITY_STATUSES,
  ACTIVITY_TARGET_TYPES,
  type ActivityStatus,
  type ActivityTargetType,
} from '../vocabulary';

export class ActivityIdParams {
  @Matches(GUID_PATTERN, { message: 'must be a GUID (8-4-4-4-12 hexadecimal digits)' })
  id: string;
}

/** For routes without query parameters: any parameter is unknown, so a 400. */
export class NoQuery {}

export class PageQuery {
  /** 1-based; below 1 is treated as 1. */
  @IsOptional()
  @Transform(toStrictInteger)
  @IsInt({ message: 'must be an integer' })
  page?: number;

  /** Default 25, at most 100; below 1 is treated as the default. */
  @IsOptional()
  @Transform(toStrictInteger)
  @IsInt({ message: 'must be an integer' })
  pageSize?: number;
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
