import { ApiProperty, ApiSchema } from '@nestjs/swagger';

/** What one append wrote. */
@ApiSchema({ name: 'AppendResult', description: 'What one append wrote.' })
export class AppendResult {
  @ApiProperty({ format: 'uuid' })
  activityId!: string;

  @ApiProperty({ type: [String], description: 'Ids of the new items, in the batch’s order.' })
  itemIds!: string[];

  @ApiProperty({ type: 'integer', minimum: 1, description: 'Sequence number of the first new item.' })
  firstSequence!: number;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'Sequence number of the last new item.' })
  lastSequence!: number;

  @ApiProperty({
    type: 'integer',
    minimum: 1,
    description: 'The run’s item count after this append (for a replay: now).',
  })
  itemCount!: number;

  @ApiProperty({
    description: 'True when a batch with this batch id had been written already and nothing was written now.',
  })
  replayed!: boolean;
}
