import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import {
  DIFF_CHANGES,
  ERROR_TYPES,
  OBJECT_CHANGE_TYPES,
  type DiffChange,
  type ErrorType,
  type ObjectChangeType,
} from '../vocabulary';
import { ActivityResponse } from './activity.response';
import { PageFields } from './page.response';

@ApiSchema({ name: 'DiffSide', description: 'The item that stands for the object in one of the two runs.' })
export class DiffSideResponse {
  @ApiProperty({ format: 'uuid' })
  itemId!: string;

  @ApiProperty({ enum: ERROR_TYPES, enumName: 'ErrorType', nullable: true })
  errorType!: ErrorType | null;

  @ApiProperty({ enum: OBJECT_CHANGE_TYPES, enumName: 'ObjectChangeType' })
  objectChangeType!: ObjectChangeType;
}

@ApiSchema({
  name: 'DiffItem',
  description: 'One object whose errors differ, or persist, between the two runs.',
})
export class DiffItemResponse {
  @ApiProperty({ description: 'What the two runs are matched by.' })
  externalIdValue!: string;

  @ApiProperty({ type: String, nullable: true, description: 'From this run’s item, else the baseline’s.' })
  displayName!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'From this run’s item, else the baseline’s.' })
  connectedSystemObjectType!: string | null;

  @ApiProperty({ enum: DIFF_CHANGES, enumName: 'DiffChange' })
  change!: DiffChange;

  @ApiProperty({
    type: () => DiffSideResponse,
    nullable: true,
    description: '`null`: this run did not process the object.',
  })
  current!: DiffSideResponse | null;

  @ApiProperty({
    type: () => DiffSideResponse,
    nullable: true,
    description: '`null`: the baseline did not process the object.',
  })
  baseline!: DiffSideResponse | null;
}

@ApiSchema({
  name: 'DiffCounts',
  description: 'Objects per change over the whole diff, whatever the `change` filter.',
})
export class DiffCountsResponse {
  @ApiProperty({ type: 'integer', minimum: 0 })
  NewError!: number;

  @ApiProperty({ type: 'integer', minimum: 0 })
  Resolved!: number;

  @ApiProperty({ type: 'integer', minimum: 0 })
  ChangedError!: number;

  @ApiProperty({ type: 'integer', minimum: 0 })
  StillFailing!: number;

  @ApiProperty({ type: 'integer', minimum: 0 })
  NotSeen!: number;
}

@ApiSchema({
  name: 'RunDiffPage',
  description: 'A page of the differences in errors between a run and a baseline run.',
})
export class RunDiffPageResponse extends PageFields {
  @ApiProperty({
    type: () => [DiffItemResponse],
    description: 'By change (in the table’s order), then externalIdValue.',
  })
  items!: DiffItemResponse[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Fetches the next page by keyset (`?cursor=`); `null` when no object follows.',
  })
  nextCursor!: string | null;

  @ApiProperty({ type: () => ActivityResponse, description: 'The run compared against.' })
  baseline!: ActivityResponse;

  @ApiProperty({ type: () => DiffCountsResponse })
  counts!: DiffCountsResponse;
}

/** A row of the diff statement. */
export interface DiffRow {
  rank: number;
  external_id_value: string;
  display_name: string | null;
  object_type: string | null;
  current_id: string | null;
  current_error_type: ErrorType | null;
  current_change_type: ObjectChangeType | null;
  baseline_id: string | null;
  baseline_error_type: ErrorType | null;
  baseline_change_type: ObjectChangeType | null;
}

export function toDiffItemResponse(row: DiffRow): DiffItemResponse {
  const side = (id: string | null, errorType: ErrorType | null, changeType: ObjectChangeType | null) =>
    id === null ? null : { itemId: id, errorType, objectChangeType: changeType! };
  return {
    externalIdValue: row.external_id_value,
    displayName: row.display_name,
    connectedSystemObjectType: row.object_type,
    change: DIFF_CHANGES[row.rank],
    current: side(row.current_id, row.current_error_type, row.current_change_type),
    baseline: side(row.baseline_id, row.baseline_error_type, row.baseline_change_type),
  };
}

/** The five counts, in the table's order, from the statement's array. */
export function toDiffCountsResponse(counts: readonly number[]): DiffCountsResponse {
  return Object.fromEntries(
    DIFF_CHANGES.map((change, index) => [change, counts[index]]),
  ) as unknown as DiffCountsResponse;
}
