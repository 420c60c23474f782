import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import type { ExecutionItemRow } from '../entities/execution-item.entity';
import { ACTIVITY_STATUSES, RUN_TYPES, type ActivityStatus, type RunType } from '../vocabulary';
import { ExecutionItemResponse, toExecutionItemResponse } from './execution-item.response';
import { PageFields } from './page.response';

@ApiSchema({ name: 'RunSummary', description: 'The run an item belongs to.' })
export class RunSummaryResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'date-time' })
  created!: string;

  @ApiProperty({ enum: ACTIVITY_STATUSES, enumName: 'ActivityStatus' })
  status!: ActivityStatus;

  @ApiProperty({ type: String, nullable: true, description: 'The run profile.' })
  targetName!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The connected system.' })
  targetContext!: string | null;

  @ApiProperty({ enum: RUN_TYPES, enumName: 'RunType', nullable: true })
  runType!: RunType | null;
}

@ApiSchema({ name: 'ObjectHistoryItem', description: 'One item of the object, with the run it belongs to.' })
export class ObjectHistoryItemResponse extends ExecutionItemResponse {
  @ApiProperty({ type: () => RunSummaryResponse })
  activity!: RunSummaryResponse;
}

@ApiSchema({ name: 'ObjectHistoryPage', description: 'A page of one object’s items across runs.' })
export class ObjectHistoryPageResponse extends PageFields {
  @ApiProperty({
    type: () => [ObjectHistoryItemResponse],
    description: 'Newest run first; within a run, in processing order.',
  })
  items!: ObjectHistoryItemResponse[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Fetches the next page by keyset (`?cursor=`); `null` when no item follows.',
  })
  nextCursor!: string | null;
}

/** A row of the history statement: the item's list columns and its run's. */
export interface ObjectHistoryRow extends ExecutionItemRow {
  sequence: number;
  activity_id: string;
  activity_created: Date;
  activity_created_key: string;
  activity_status: ActivityStatus;
  activity_target_name: string | null;
  activity_target_context: string | null;
  activity_run_type: RunType | null;
}

export function toObjectHistoryItemResponse(row: ObjectHistoryRow): ObjectHistoryItemResponse {
  return {
    ...toExecutionItemResponse(row),
    activity: {
      id: row.activity_id,
      created: row.activity_created.toISOString(),
      status: row.activity_status,
      targetName: row.activity_target_name,
      targetContext: row.activity_target_context,
      runType: row.activity_run_type,
    },
  };
}
