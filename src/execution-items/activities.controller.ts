import {
  Controller,
  Get,
  Param,
  Query,
  StreamableFile,
  UseFilters,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { ApiExceptionFilter } from '../common/api-exception.filter';
import { createValidationPipe } from '../common/validation';
import {
  ActivityIdParams,
  ExportQuery,
  ItemIdParams,
  ItemsQuery,
  ListActivitiesQuery,
  NoQuery,
} from './dto/requests';
import type {
  ActivityResponse,
  ActivityStatsResponse,
  ExecutionItemDetailResponse,
  ItemPageResponse,
  PageResponse,
} from './dto/responses';
import { ExecutionItemsService } from './execution-items.service';
import { JwtAuthGuard } from './jwt-auth.guard';
import { RequiredRoleGuard } from './required-role.guard';

/**
 * The run history over HTTP. Checks run in the contract's order: authentication (401), role
 * (403), input validation (400), then the service's not found (404) and not-a-run (400).
 */
@Controller('api/v1/activities')
@UseGuards(JwtAuthGuard, RequiredRoleGuard)
@UsePipes(createValidationPipe())
@UseFilters(ApiExceptionFilter)
export class ActivitiesController {
  constructor(private readonly executionItems: ExecutionItemsService) {}

  @Get()
  listActivities(@Query() query: ListActivitiesQuery): Promise<PageResponse<ActivityResponse>> {
    return this.executionItems.listActivities(query);
  }

  @Get(':id')
  getActivity(@Param() { id }: ActivityIdParams, @Query() _query: NoQuery): Promise<ActivityResponse> {
    return this.executionItems.getActivity(id);
  }

  @Get(':id/stats')
  getStats(@Param() { id }: ActivityIdParams, @Query() _query: NoQuery): Promise<ActivityStatsResponse> {
    return this.executionItems.getStats(id);
  }

  @Get(':id/items')
  listItems(@Param() { id }: ActivityIdParams, @Query() query: ItemsQuery): Promise<ItemPageResponse> {
    return this.executionItems.listItems(id, query);
  }

  /** Declared before `:itemId`, so that `export` is never read as an item id. */
  @Get(':id/items/export')
  async exportItems(@Param() { id }: ActivityIdParams, @Query() query: ExportQuery): Promise<StreamableFile> {
    const file = await this.executionItems.exportItems(id, query);
    return new StreamableFile(file.stream, {
      type: file.contentType,
      disposition: `attachment; filename="${file.fileName}"`,
    });
  }

  @Get(':id/items/:itemId')
  getItem(
    @Param() { id, itemId }: ItemIdParams,
    @Query() _query: NoQuery,
  ): Promise<ExecutionItemDetailResponse> {
    return this.executionItems.getItem(id, itemId);
  }
}
