import { Inject, Injectable } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { EXECUTION_ITEMS_OPTIONS, type ResolvedExecutionItemsOptions } from '../execution-items.options';
import type { FollowEvent } from '../follow-items';
import { ErrorCode } from '../responses/error-envelope.response';
import { RunNotices } from '../run-notices';
import { ApiError } from './api-error';
import { toEventStream } from './event-stream';

/**
 * The open event streams of this process, counted per principal: a principal may hold
 * `followMaxStreamsPerPrincipal` at once, and one more is a 429 `TOO_MANY_REQUESTS`. A stream's
 * place is freed when it closes, however it closes (complete, client gone, shutdown).
 */
@Injectable()
export class FollowStreams {
  private readonly openByPrincipal = new Map<string, number>();

  constructor(
    @Inject(EXECUTION_ITEMS_OPTIONS) private readonly options: ResolvedExecutionItemsOptions,
    private readonly notices: RunNotices,
  ) {}

  /** Streams open now, over all principals (for tests and diagnostics). */
  get openStreams(): number {
    let count = 0;
    for (const open of this.openByPrincipal.values()) count += open;
    return count;
  }

  /** The batches of events as the principal's next stream, or the refusal when it holds its share already. */
  open(principal: unknown, batches: AsyncIterable<readonly FollowEvent[]>): Readable {
    if (this.notices.shutdownSignal.aborted) {
      throw new ApiError(ErrorCode.ServiceUnavailable, 'The service is shutting down. Reconnect shortly.');
    }
    const key = principalKey(principal);
    const open = this.openByPrincipal.get(key) ?? 0;
    const max = this.options.followMaxStreamsPerPrincipal;
    if (open >= max) {
      throw new ApiError(
        ErrorCode.TooManyRequests,
        `At most ${max} streams may be open at once for one principal; close one before opening another.`,
      );
    }
    this.openByPrincipal.set(key, open + 1);
    const stream = toEventStream(batches, this.options.followKeepAliveMs);
    stream.once('close', () => {
      const left = (this.openByPrincipal.get(key) ?? 1) - 1;
      if (left > 0) this.openByPrincipal.set(key, left);
      else this.openByPrincipal.delete(key);
    });
    return stream;
  }
}

/** Who holds a stream: the principal's `sub` (a token's subject, an API key's id). */
function principalKey(principal: unknown): string {
  const sub =
    typeof principal === 'object' && principal !== null ? (principal as { sub?: unknown }).sub : null;
  return typeof sub === 'string' ? `sub:${sub}` : 'without-sub';
}

/**
 * Aborted when the response closes: the client went away, or the response has ended. Fastify's
 * reply and Express's response both lead to Node's `ServerResponse`.
 */
export function closeSignal(response: ServerResponse | { raw: ServerResponse }): AbortSignal {
  const raw = 'raw' in response ? response.raw : response;
  const controller = new AbortController();
  if (raw.destroyed || raw.writableFinished) controller.abort();
  else raw.once('close', () => controller.abort());
  return controller.signal;
}
