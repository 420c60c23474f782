import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ExecutionItemsError } from '../execution-items.error';
import { ErrorCode, errorEnvelope } from '../responses/error-envelope.response';
import { ApiError, statusForCode } from './api-error';
import { isDatabaseUnavailable } from './database-errors';

/** Seconds a client should wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * Turns every error into the contract's envelope (§4). Module errors get the code of their
 * reason, `ApiError`s keep theirs; Nest's HTTP exceptions (unknown routes, say) are mapped by
 * status; a database that cannot be
 * reached is a 503; anything else is a plain 500 that leaks nothing. Works on any HTTP adapter.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(ApiExceptionFilter.name);

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const error = this.toApiError(exception);
    const status = statusForCode(error.code);
    const { httpAdapter } = this.adapterHost;
    const response = host.switchToHttp().getResponse();

    if (error.code === ErrorCode.Unauthorised) httpAdapter.setHeader(response, 'WWW-Authenticate', 'Bearer');
    // An answer given before the request's body has arrived whole (a 413 while it streams, a 401
    // before it was read) closes the connection: the rest of the body is never read.
    if (bodyStillArriving(host.switchToHttp().getRequest()))
      httpAdapter.setHeader(response, 'Connection', 'close');
    if (error.code === ErrorCode.ServiceUnavailable || error.code === ErrorCode.TooManyRequests) {
      // The rate limiter sets the real wait before it throws; keep it.
      if (!hasHeader(response, 'Retry-After')) {
        httpAdapter.setHeader(response, 'Retry-After', String(RETRY_AFTER_SECONDS));
      }
    }
    httpAdapter.reply(response, errorEnvelope(error), status);
  }

  private toApiError(exception: unknown): ApiError {
    if (exception instanceof ApiError) return exception;
    if (exception instanceof ExecutionItemsError) return ApiError.fromReason(exception);
    if (exception instanceof HttpException) return fromHttpException(exception);
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`Database unavailable: ${describe(exception)}`);
      return new ApiError(
        ErrorCode.ServiceUnavailable,
        'The service is temporarily unavailable. Try again shortly.',
      );
    }
    this.logger.error(describe(exception), exception instanceof Error ? exception.stack : undefined);
    return new ApiError(ErrorCode.InternalError, 'An unexpected error occurred.');
  }
}

function fromHttpException(exception: HttpException): ApiError {
  const status = exception.getStatus();
  switch (status) {
    case 401:
      return new ApiError(ErrorCode.Unauthorised, 'A valid bearer token is required.');
    case 403:
      return new ApiError(ErrorCode.Forbidden, 'You do not have permission to do this.');
    case 404:
      return new ApiError(ErrorCode.NotFound, 'No such resource.');
    case 429:
      return new ApiError(ErrorCode.TooManyRequests, 'Too many requests. Try again later.');
    case 503:
      return new ApiError(
        ErrorCode.ServiceUnavailable,
        'The service is temporarily unavailable. Try again shortly.',
      );
  }
  if (status >= 400 && status < 500)
    return new ApiError(ErrorCode.BadRequest, 'The request could not be processed.');
  return new ApiError(ErrorCode.InternalError, 'An unexpected error occurred.');
}

/** Fastify's request has the Node request as `raw`; Express's is one. */
function bodyStillArriving(request: { raw?: { complete?: boolean }; complete?: boolean }): boolean {
  return (request.raw ?? request).complete === false;
}

/** Fastify's reply and Node's (Express's) response both have `hasHeader`. */
function hasHeader(response: unknown, name: string): boolean {
  const { hasHeader } = response as { hasHeader?: (name: string) => boolean };
  return typeof hasHeader === 'function' && hasHeader.call(response, name);
}

function describe(exception: unknown): string {
  return exception instanceof Error ? `${exception.name}: ${exception.message}` : String(exception);
}
