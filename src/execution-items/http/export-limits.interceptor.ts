import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { Observable } from 'rxjs';
import { EXECUTION_ITEMS_OPTIONS, type ResolvedExecutionItemsOptions } from '../execution-items.options';
import { ErrorCode } from '../responses/error-envelope.response';
import { ApiError } from './api-error';

/**
 * The export route's limits, on any HTTP adapter: at most `maxConcurrentExportsPerPrincipal`
 * exports per principal at once (one more is a 429), and an export whose client stops taking its
 * bytes for `exportWriteIdleTimeoutMs` is cut off. An export's place is held until its response
 * closes: finished, failed, cut off, or the client gone.
 */
@Injectable()
export class ExportLimitsInterceptor implements NestInterceptor {
  private readonly running = new Map<string, number>();

  constructor(@Inject(EXECUTION_ITEMS_OPTIONS) private readonly options: ResolvedExecutionItemsOptions) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const principal = principalKey(http.getRequest());
    const response = rawResponse(http.getResponse());
    const count = this.running.get(principal) ?? 0;
    const max = this.options.maxConcurrentExportsPerPrincipal;
    if (count >= max) {
      throw new ApiError(
        ErrorCode.TooManyRequests,
        `At most ${max} exports may run at once for one caller. Try again when one has finished.`,
      );
    }
    this.running.set(principal, count + 1);
    const stopWatching = watchWriteIdle(response, this.options.exportWriteIdleTimeoutMs);
    response.once('close', () => {
      stopWatching();
      const left = (this.running.get(principal) ?? 1) - 1;
      if (left > 0) this.running.set(principal, left);
      else this.running.delete(principal);
    });
    return next.handle();
  }
}

/** Who runs the export: the principal's `sub`, else the client address. */
function principalKey(request: { user?: unknown; ip?: string }): string {
  const sub = (request.user as { sub?: unknown } | null | undefined)?.sub;
  return typeof sub === 'string' && sub ? `sub:${sub}` : `address:${request.ip ?? ''}`;
}

/** Fastify's reply wraps Node's response (`raw`); Express's response is Node's. */
function rawResponse(response: { raw?: ServerResponse } & Partial<ServerResponse>): ServerResponse {
  return response.raw ?? (response as ServerResponse);
}

/**
 * Closes the connection when bytes have waited in the socket for `timeoutMs` without the client
 * taking any: the socket's idle timer runs while nothing moves, and when it fires with bytes still
 * queued the client is not reading; with none queued the service is the one still working (reading
 * the database), and the timer starts again. A listener on the response keeps Node's HTTP server
 * from closing the socket on its own. Returns the undo, for when the response has closed.
 */
function watchWriteIdle(response: ServerResponse, timeoutMs: number): () => void {
  const socket = response.socket;
  if (timeoutMs === 0 || !socket) return () => undefined;
  const previous = socket.timeout ?? 0;
  const onTimeout = () => {
    if (socket.writableLength > 0) socket.destroy();
    else socket.setTimeout(timeoutMs);
  };
  response.on('timeout', onTimeout);
  socket.setTimeout(timeoutMs);
  return () => {
    response.removeListener('timeout', onTimeout);
    // Node sets the keep-alive timeout on the socket when a response finishes; leave that one.
    if (!socket.destroyed && socket.timeout === timeoutMs) socket.setTimeout(previous);
  };
}
