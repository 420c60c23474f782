import {
  Controller,
  Get,
  Header,
  Headers,
  Param,
  Query,
  Req,
  Res,
  StreamableFile,
  UseFilters,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { ServerResponse } from 'node:http';
import { ExecutionItemsService } from '../execution-items.service';
import { ActivityResponse } from '../responses/activity.response';
import { ErrorCode } from '../responses/error-envelope.response';
import { ExecutionItemResponse } from '../responses/execution-item.response';
import { RunProgressResponse } from '../responses/run-progress.response';
import { ActivityIdParams } from './activities.requests';
import { ApiErrorResponses } from './api-error-responses';
import { ApiExceptionFilter } from './api-exception.filter';
import { AuthenticatedGuard } from './authenticated.guard';
import { closeSignal, FollowStreams } from './follow-streams';
import { FollowQuery, followRequest, LAST_EVENT_ID_HEADER } from './follow.requests';
import { createValidationPipe } from './query-parameters';
import { RequiredRoleGuard } from './required-role.guard';

/**
 * A run as it is written, as server-sent events. The checks run as for the list (401, 403, 400,
 * 404, 400 not a run), then the principal's share of streams (429); only then does the stream
 * start, so every refusal is the usual envelope.
 */
@ApiTags('activities')
@ApiBearerAuth()
@Controller('api/v1/activities')
@UseGuards(AuthenticatedGuard, RequiredRoleGuard)
@UsePipes(createValidationPipe())
@UseFilters(ApiExceptionFilter)
@ApiExtraModels(ExecutionItemResponse, RunProgressResponse, ActivityResponse)
export class FollowController {
  constructor(
    private readonly executionItems: ExecutionItemsService,
    private readonly streams: FollowStreams,
  ) {}

  @Get(':id/items/stream')
  @Header('Cache-Control', 'no-cache')
  @Header('X-Accel-Buffering', 'no')
  @ApiOperation({
    operationId: 'followItems',
    summary: 'A run’s items as they are written, as server-sent events.',
    description: [
      '`event: item` (`id:` the item’s sequence, `data:` an `ExecutionItem` as in the list), in sequence order, each once;',
      '`event: progress` (`data:` a `RunProgress`) at most once a second while the run is in progress and its counters changed;',
      '`event: complete` (`data:` the `Activity`) once the run has ended and every matching item has been sent; then the stream closes.',
      'A comment line (`: keep-alive`) after 15 s without anything sent.',
    ].join(' '),
  })
  @ApiHeader({
    name: LAST_EVENT_ID_HEADER,
    required: false,
    description:
      'Resume after this sequence (what a reconnecting `EventSource` sends); takes precedence over `after`.',
    schema: { type: 'string', pattern: '^[0-9]+$' },
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: 'The event stream.',
    content: {
      'text/event-stream': {
        schema: {
          type: 'string',
          description: `Events whose data are ${[ExecutionItemResponse, RunProgressResponse, ActivityResponse]
            .map((type) => getSchemaPath(type))
            .join(', ')}.`,
        },
      },
    },
  })
  @ApiErrorResponses(ErrorCode.BadRequest, ErrorCode.NotFound)
  async followItems(
    @Param() { id }: ActivityIdParams,
    @Query() query: FollowQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: { user?: unknown },
    @Res({ passthrough: true }) response: ServerResponse | { raw: ServerResponse },
  ): Promise<StreamableFile> {
    const batches = await this.executionItems.followItemBatches(
      id,
      followRequest(query, lastEventId, closeSignal(response)),
    );
    return new StreamableFile(this.streams.open(request.user, batches), { type: 'text/event-stream' });
  }
}
