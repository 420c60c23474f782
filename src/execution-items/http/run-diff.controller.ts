import { Controller, Get, Param, Query, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ExecutionItemsService } from '../execution-items.service';
import { ErrorCode } from '../responses/error-envelope.response';
import { RunDiffPageResponse } from '../responses/run-diff.response';
import { ActivityIdParams } from './activities.requests';
import { ApiErrorResponses } from './api-error-responses';
import { ApiExceptionFilter } from './api-exception.filter';
import { AuthenticatedGuard } from './authenticated.guard';
import { createValidationPipe } from './query-parameters';
import { RequiredRoleGuard } from './required-role.guard';
import { RunDiffQuery } from './run-history.requests';

/** Comparing two runs (contract §9); read access. */
@ApiTags('activities')
@ApiBearerAuth()
@Controller('api/v1/activities')
@UseGuards(AuthenticatedGuard, RequiredRoleGuard)
@UsePipes(createValidationPipe())
@UseFilters(ApiExceptionFilter)
export class RunDiffController {
  constructor(private readonly executionItems: ExecutionItemsService) {}

  @Get(':id/diff')
  @ApiOperation({
    operationId: 'diffRuns',
    summary: 'What changed in a run’s errors against an earlier run of the same connected system.',
  })
  @ApiOkResponse({ type: RunDiffPageResponse })
  @ApiErrorResponses(ErrorCode.BadRequest, ErrorCode.NotFound)
  diffRuns(@Param() { id }: ActivityIdParams, @Query() query: RunDiffQuery): Promise<RunDiffPageResponse> {
    return this.executionItems.diffRuns(id, query);
  }
}
