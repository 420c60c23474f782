import {
  Controller,
  Get,
  Param,
  Query,
  StreamableFile,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ExecutionItemsService } from '../execution-items.service';
import { ActivityResponse } from '../responses/activity.response';
import { ActivityStatsResponse } from '../responses/activity-stats.response';
import { ErrorCode } from '../responses/error-envelope.response';
import { ExecutionItemDetailResponse } from '../responses/execution-item.response';
import { ActivityPageResponse, ItemPageResponse } from '../responses/page.response';
import {
  ActivityIdParams,
  ExportQuery,
  ItemIdParams,
  ItemsQuery,
  ListActivitiesQuery,
  NoQuery,
} from './activities.requests';
import { ApiErrorResponses } from './api-error-responses';
import { ApiExceptionFilter } from './api-exception.filter';
import { AuthenticatedGuard } from './authenticated.guard';
import { ExportLimitsInterceptor } from './export-limits.interceptor';
import { createValidationPipe } from './query-parameters';
import { RequiredRoleGuard } from './required-role.guard';

/**
 * The run history over HTTP. Checks run in the contract's order: authentication (401), role
 * (403), input validation (400), then the service's not found (404) and not-a-run (400).
 */
@ApiTags('activities')
@ApiBearerAuth()
@Controller('api/v1/activities')
@UseGuards(AuthenticatedGuard, RequiredRoleGuard)
@UsePipes(createValidationPipe())
@UseFilters(ApiExceptionFilter)
export class ActivitiesController {
  constructor(private readonly executionItems: ExecutionItemsService) {}

  @Get()
  @ApiOperation({ operationId: 'listActivities', summary: 'Activities, newest first.' })
  @ApiOkResponse({ type: ActivityPageResponse })
  @ApiErrorResponses()
  listActivities(@Query() query: ListActivitiesQuery): Promise<ActivityPageResponse> {
    return this.executionItems.listActivities(query);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getActivity', summary: 'One activity.' })
  @ApiOkResponse({ type: ActivityResponse })
  @ApiErrorResponses(ErrorCode.NotFound)
  getActivity(@Param() { id }: ActivityIdParams, @Query() _query: NoQuery): Promise<ActivityResponse> {
    return this.executionItems.getActivity(id);
  }

  @Get(':id/stats')
  @ApiOperation({ operationId: 'getStats', summary: 'A run’s counts, kept while its items were written.' })
  @ApiOkResponse({ type: ActivityStatsResponse })
  @ApiErrorResponses(ErrorCode.BadRequest, ErrorCode.NotFound)
  getStats(@Param() { id }: ActivityIdParams, @Query() _query: NoQuery): Promise<ActivityStatsResponse> {
    return this.executionItems.getStats(id);
  }

  @Get(':id/items')
  @ApiOperation({
    operationId: 'listItems',
    summary: 'A run’s execution items: filters, search, sort, page numbers or a cursor.',
  })
  @ApiOkResponse({ type: ItemPageResponse })
  @ApiErrorResponses(ErrorCode.BadRequest, ErrorCode.NotFound)
  listItems(@Param() { id }: ActivityIdParams, @Query() query: ItemsQuery): Promise<ItemPageResponse> {
    return this.executionItems.listItems(id, query);
  }

  /** Declared before `:itemId`, so that `export` is never read as an item id. */
  @Get(':id/items/export')
  @ApiOperation({
    operationId: 'exportItems',
    summary: 'Every matching item as CSV (RFC 4180) or NDJSON, streamed.',
  })
  @ApiProduces('text/csv', 'application/x-ndjson')
  @ApiOkResponse({
    description:
      'The file. A failure after streaming has started closes the connection without the final chunk.',
    headers: {
      'Content-Disposition': {
        description: '`attachment; filename="<connected system>-<run profile>-<activity id>.<format>"`',
        schema: { type: 'string' },
      },
    },
    content: {
      'text/csv': { schema: { type: 'string' } },
      'application/x-ndjson': { schema: { type: 'string' } },
    },
  })
  @ApiErrorResponses(ErrorCode.BadRequest, ErrorCode.NotFound)
  @UseInterceptors(ExportLimitsInterceptor)
  async exportItems(@Param() { id }: ActivityIdParams, @Query() query: ExportQuery): Promise<StreamableFile> {
    const file = await this.executionItems.exportItems(id, query);
    return new StreamableFile(file.stream, {
      type: file.contentType,
      disposition: `attachment; filename="${file.fileName}"`,
    });
  }

  @Get(':id/items/:itemId')
  @ApiOperation({ operationId: 'getItem', summary: 'One item in full, with its outcome tree.' })
  @ApiOkResponse({ type: ExecutionItemDetailResponse })
  @ApiErrorResponses(ErrorCode.BadRequest, ErrorCode.NotFound)
  getItem(
    @Param() { id, itemId }: ItemIdParams,
    @Query() _query: NoQuery,
  ): Promise<ExecutionItemDetailResponse> {
    return this.executionItems.getItem(id, itemId);
  }
}
