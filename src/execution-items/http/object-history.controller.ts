import { Controller, Get, Query, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ExecutionItemsService } from '../execution-items.service';
import { ObjectHistoryPageResponse } from '../responses/object-history.response';
import { ApiErrorResponses } from './api-error-responses';
import { ApiExceptionFilter } from './api-exception.filter';
import { AuthenticatedGuard } from './authenticated.guard';
import { createValidationPipe } from './query-parameters';
import { RequiredRoleGuard } from './required-role.guard';
import { ObjectHistoryQuery } from './run-history.requests';

/** One object across runs (contract §10); read access. */
@ApiTags('items')
@ApiBearerAuth()
@Controller('api/v1/items')
@UseGuards(AuthenticatedGuard, RequiredRoleGuard)
@UsePipes(createValidationPipe())
@UseFilters(ApiExceptionFilter)
export class ObjectHistoryController {
  constructor(private readonly executionItems: ExecutionItemsService) {}

  @Get()
  @ApiOperation({
    operationId: 'objectHistory',
    summary: 'Every item of one object (by external id or display name) in every run, newest run first.',
  })
  @ApiOkResponse({ type: ObjectHistoryPageResponse })
  @ApiErrorResponses()
  objectHistory(@Query() query: ObjectHistoryQuery): Promise<ObjectHistoryPageResponse> {
    return this.executionItems.objectHistory(query);
  }
}
