import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { ActivityResponse } from './activity.response';
import { ExecutionItemResponse } from './execution-item.response';

/** The paging fields of every list (contract §1). */
export abstract class PageFields {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Items that match, on every page.' })
  totalCount!: number;

  @ApiProperty({ type: 'integer', minimum: 1 })
  page!: number;

  @ApiProperty({ type: 'integer', minimum: 1 })
  pageSize!: number;

  @ApiProperty({ type: 'integer', minimum: 0 })
  totalPages!: number;

  @ApiProperty()
  hasNextPage!: boolean;

  @ApiProperty()
  hasPreviousPage!: boolean;
}

@ApiSchema({ name: 'ActivityPage', description: 'A page of activities.' })
export class ActivityPageResponse extends PageFields {
  @ApiProperty({ type: () => [ActivityResponse], description: 'Newest first.' })
  items!: ActivityResponse[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Fetches the next page by keyset (`?cursor=`); `null` when no activity follows.',
  })
  nextCursor!: string | null;
}

@ApiSchema({ name: 'ItemPage', description: 'A page of a run’s items.' })
export class ItemPageResponse extends PageFields {
  @ApiProperty({ type: () => [ExecutionItemResponse] })
  items!: ExecutionItemResponse[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Fetches the next page by keyset (`?cursor=`); `null` when no item follows.',
  })
  nextCursor!: string | null;
}
