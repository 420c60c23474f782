import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { IsOptional, ValidateBy } from 'class-validator';
import { MAX_SEQUENCE, type FollowItemsRequest } from '../follow-items';
import { ItemQueryParameters } from './activities.requests';
import { ApiError } from './api-error';

const SEQUENCE_MESSAGE = `must be a non-negative integer (a sequence number, at most ${MAX_SEQUENCE})`;

/** The header an `EventSource` sends when it reconnects: the id (sequence) of the last event it saw. */
export const LAST_EVENT_ID_HEADER = 'Last-Event-ID';

/** A sequence number written as plain decimal digits; `null` for anything else. */
export function parseSequence(raw: unknown): number | null {
  if (typeof raw !== 'string' || !/^\d{1,10}$/.test(raw)) return null;
  const value = Number(raw);
  return value <= MAX_SEQUENCE ? value : null;
}

/** A parameter a stream refuses: the list's search, sort and paging. */
function NotForStreams(): PropertyDecorator {
  return applyDecorators(
    IsOptional(),
    ValidateBy({
      name: 'notForStreams',
      validator: {
        validate: () => false,
        defaultMessage: () =>
          'cannot be used when following a run: the stream is every matching item in sequence order',
      },
    }),
  ) as PropertyDecorator;
}

/** The stream's query: the list's filters, and where to start. */
export class FollowQuery extends PickType(ItemQueryParameters, [
  'errorType',
  'objectChangeType',
  'objectType',
  'outcomeType',
  'hasError',
] as const) {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_SEQUENCE,
    default: 0,
    description: `Start after the item with this sequence number (0: from the first). A \`${LAST_EVENT_ID_HEADER}\` header, sent by a reconnecting \`EventSource\`, takes precedence.`,
  })
  @IsOptional()
  @ValidateBy({
    name: 'sequence',
    validator: { validate: (value) => parseSequence(value) !== null, defaultMessage: () => SEQUENCE_MESSAGE },
  })
  after?: string;

  @NotForStreams()
  search?: unknown;

  @NotForStreams()
  sortBy?: unknown;

  @NotForStreams()
  sortDirection?: unknown;

  @NotForStreams()
  page?: unknown;

  @NotForStreams()
  pageSize?: unknown;

  @NotForStreams()
  cursor?: unknown;
}

/**
 * The module call for a stream request. It starts after the `Last-Event-ID` header's sequence
 * when the client sends one (an `EventSource` reconnecting to the same URL sends it beside the
 * `after` it started with), else after the `after` parameter, else from the first item.
 */
export function followRequest(
  query: FollowQuery,
  lastEventId: string | undefined,
  signal: AbortSignal,
): FollowItemsRequest {
  let after = query.after === undefined ? 0 : parseSequence(query.after)!;
  if (lastEventId !== undefined) {
    const sequence = parseSequence(lastEventId);
    if (sequence === null) throw ApiError.validation({ [LAST_EVENT_ID_HEADER]: [SEQUENCE_MESSAGE] });
    after = sequence;
  }
  const { errorType, objectChangeType, objectType, outcomeType, hasError } = query;
  return { errorType, objectChangeType, objectType, outcomeType, hasError, after, signal };
}
