import { Controller, Get, Param, Query, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { ApiExceptionFilter } from '../common/api-exception.filter';
import { createValidationPipe } from '../common/validation';
import { ActivityIdParams, ListActivitiesQuery, NoQuery, PageQuery } from './dto/requests';
import type { ActivityResponse, ExecutionItemResponse, PageResponse } from './dto/responses';
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

  @Get(':id/items')
  listItems(
    @Param() { id }: ActivityIdParams,
    @Query() query: PageQuery,
  ): Promise<PageResponse<ExecutionItemResponse>> {
    return this.executionItems.listItems(id, query);
  }
}
