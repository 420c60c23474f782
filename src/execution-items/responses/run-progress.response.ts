import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { ACTIVITY_STATUSES, type ActivityStatus } from '../vocabulary';

@ApiSchema({
  name: 'RunProgress',
  description:
    'How far a run in progress has got: its counters (the whole run, whatever a stream’s filters).',
})
export class RunProgressResponse {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Items written so far.' })
  itemCount!: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Items written so far with an error.' })
  itemsWithErrors!: number;

  @ApiProperty({ enum: ACTIVITY_STATUSES, enumName: 'ActivityStatus' })
  status!: ActivityStatus;
}
