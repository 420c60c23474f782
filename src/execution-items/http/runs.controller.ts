import {
  Body,
  Controller,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Req,
  Res,
  UseFilters,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { EXECUTION_ITEMS_OPTIONS, type ResolvedExecutionItemsOptions } from '../execution-items.options';
import { ExecutionRunsService } from '../execution-runs.service';
import { ActivityResponse } from '../responses/activity.response';
import { AppendedBatchResponse, toAppendedBatchResponse } from '../responses/appended-batch.response';
import { ErrorCode } from '../responses/error-envelope.response';
import { ActivityIdParams } from './activities.requests';
import { ApiErrorResponses } from './api-error-responses';
import { ApiExceptionFilter } from './api-exception.filter';
import { AuthenticatedGuard } from './authenticated.guard';
import { readItemsBody, withHttpNames, type ItemsBodyRequest } from './items-body';
import { createValidationPipe } from './query-parameters';
import { RequiredRoleGuard, RequiresAccess } from './required-role.guard';
import { CompleteRunBody, NewItemBody, StartRunBody } from './runs.requests';

/**
 * A sync engine in another process records a run here: start it, append its items in batches,
 * complete it. Every route needs the engine role, which grants no reads. What they write is
 * exactly what `ExecutionRunsService` writes for an in-process engine.
 */
@ApiTags('runs')
@ApiBearerAuth()
@Controller('api/v1/activities')
@UseGuards(AuthenticatedGuard, RequiredRoleGuard)
@RequiresAccess('write')
@UsePipes(createValidationPipe())
@UseFilters(ApiExceptionFilter)
@ApiExtraModels(NewItemBody)
export class RunsController {
  constructor(
    private readonly runs: ExecutionRunsService,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(EXECUTION_ITEMS_OPTIONS) private readonly options: ResolvedExecutionItemsOptions,
  ) {}

  @Post()
  @ApiOperation({ operationId: 'startRun', summary: 'Records the start of a run; its items follow.' })
  @ApiCreatedResponse({
    type: ActivityResponse,
    description: 'The run, `InProgress`.',
    headers: { Location: { description: 'The activity’s URL.', schema: { type: 'string' } } },
  })
  @ApiErrorResponses(ErrorCode.Conflict)
  async startRun(
    @Body() body: StartRunBody,
    @Req() request: { url: string; originalUrl?: string },
    @Res({ passthrough: true }) response: unknown,
  ): Promise<ActivityResponse> {
    const activity = await this.runs.startRun(body);
    const path = (request.originalUrl ?? request.url).split('?')[0].replace(/\/+$/, '');
    this.adapterHost.httpAdapter.setHeader(response, 'Location', `${path}/${activity.id}`);
    return activity;
  }

  @Post(':id/items')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'appendItems',
    summary: 'Appends a batch of 1 to 10,000 items to a run in progress, all or nothing.',
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: ['items'],
            additionalProperties: false,
            properties: {
              items: {
                type: 'array',
                minItems: 1,
                maxItems: 10_000,
                items: { $ref: getSchemaPath(NewItemBody) },
              },
            },
          },
        },
        'application/x-ndjson': {
          schema: {
            type: 'string',
            description: 'One item (`NewItem`) per line; blank lines only at the end.',
          },
        },
      },
    },
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'The batch id, 1 to 200 characters: a retry with the same key and the same items gets the first answer and writes nothing; with other items, a 409.',
  })
  @ApiOkResponse({ type: AppendedBatchResponse })
  @ApiErrorResponses(ErrorCode.BadRequest, ErrorCode.NotFound, ErrorCode.Conflict, ErrorCode.PayloadTooLarge)
  async appendItems(
    @Param() { id }: ActivityIdParams,
    @Req() request: ItemsBodyRequest,
    @Headers('idempotency-key') batchId: string | undefined,
  ): Promise<AppendedBatchResponse> {
    const items = await readItemsBody(request, this.options.ingestBodyLimitBytes);
    const result = await this.runs.appendItems(id, items, { batchId }).catch(withHttpNames);
    return toAppendedBatchResponse(result);
  }

  @Post(':id/complete')
  @HttpCode(200)
  @ApiOperation({ operationId: 'completeRun', summary: 'Ends a run in progress.' })
  @ApiOkResponse({ type: ActivityResponse })
  @ApiErrorResponses(ErrorCode.BadRequest, ErrorCode.NotFound, ErrorCode.Conflict)
  completeRun(@Param() { id }: ActivityIdParams, @Body() body: CompleteRunBody): Promise<ActivityResponse> {
    return this.runs.completeRun(id, body);
  }
}
