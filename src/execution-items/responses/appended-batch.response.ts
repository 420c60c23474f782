import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import type { AppendResult } from './append-result.response';

/**
 * The answer to a batch appended over HTTP. A retry under the same `Idempotency-Key` gets the
 * same answer, so it holds nothing that changes after the batch was written.
 */
@ApiSchema({ name: 'AppendedBatch', description: 'Where a batch of items went in its run.' })
export class AppendedBatchResponse {
  @ApiProperty({ format: 'uuid' })
  activityId!: string;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'Sequence number of the batch’s first item.' })
  firstSequence!: number;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'Sequence number of the batch’s last item.' })
  lastSequence!: number;

  @ApiProperty({
    type: 'integer',
    minimum: 1,
    maximum: 10_000,
    description: 'Items in the batch (`lastSequence - firstSequence + 1`).',
  })
  itemCount!: number;
}

export function toAppendedBatchResponse(result: AppendResult): AppendedBatchResponse {
  return {
    activityId: result.activityId,
    firstSequence: result.firstSequence,
    lastSequence: result.lastSequence,
    itemCount: result.lastSequence - result.firstSequence + 1,
  };
}
