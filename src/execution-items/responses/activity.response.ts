import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import type { Activity } from '../entities/activity.entity';
import {
  ACTIVITY_STATUSES,
  ACTIVITY_TARGET_TYPES,
  RUN_TYPES,
  type ActivityStatus,
  type ActivityTargetType,
  type RunType,
} from '../vocabulary';

@ApiSchema({
  name: 'Activity',
  description:
    'An activity; for a run, `targetName` is the run profile and `targetContext` the connected system.',
})
export class ActivityResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'date-time' })
  created!: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the run ended; `null` while it is in progress and for activities that are not runs.',
  })
  completed!: string | null;

  @ApiProperty({ enum: ACTIVITY_STATUSES, enumName: 'ActivityStatus' })
  status!: ActivityStatus;

  @ApiProperty({ enum: ACTIVITY_TARGET_TYPES, enumName: 'ActivityTargetType' })
  targetType!: ActivityTargetType;

  @ApiProperty({ type: String, nullable: true, description: 'For a run: the run profile.' })
  targetName!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'For a run: the connected system.' })
  targetContext!: string | null;

  @ApiProperty({ enum: RUN_TYPES, enumName: 'RunType', nullable: true })
  runType!: RunType | null;

  @ApiProperty({ type: 'integer', minimum: 0 })
  itemCount!: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Items with an error (`errorType` not null).' })
  itemsWithErrors!: number;
}

/** The columns of an activity that its response shows. */
export type ActivityFields = Pick<
  Activity,
  | 'id'
  | 'created'
  | 'completed'
  | 'status'
  | 'targetType'
  | 'targetName'
  | 'targetContext'
  | 'runType'
  | 'itemCount'
  | 'errorItemCount'
>;

export function toActivityResponse(activity: ActivityFields): ActivityResponse {
  return {
    id: activity.id,
    created: activity.created.toISOString(),
    completed: activity.completed?.toISOString() ?? null,
    status: activity.status,
    targetType: activity.targetType,
    targetName: activity.targetName,
    targetContext: activity.targetContext,
    runType: activity.runType,
    itemCount: activity.itemCount,
    itemsWithErrors: activity.errorItemCount,
  };
}
