import { ApiProperty, ApiSchema } from '@nestjs/swagger';

const counts = (description: string) =>
  ({
    type: 'object',
    additionalProperties: { type: 'integer', minimum: 1 },
    description: `${description} Only non-zero counts appear.`,
  }) as const;

/** A run's counters: non-zero counts only, vocabularies in the contract's order. */
@ApiSchema({ name: 'ActivityStats', description: 'A run’s counts, kept while its items were written.' })
export class ActivityStatsResponse {
  @ApiProperty({ format: 'uuid' })
  activityId!: string;

  @ApiProperty({ type: 'integer', minimum: 0 })
  totalCount!: number;

  @ApiProperty({ type: 'integer', minimum: 0 })
  itemsWithErrors!: number;

  @ApiProperty(counts('Items per change type, in the contract’s order.'))
  objectChangeTypes!: Record<string, number>;

  @ApiProperty(counts('Items per error type, in the contract’s order.'))
  errorTypes!: Record<string, number>;

  @ApiProperty(counts('Items per object type, by name.'))
  objectTypes!: Record<string, number>;

  @ApiProperty(counts('Items whose outcome tree holds the type at least once.'))
  outcomeTypes!: Record<string, number>;
}
