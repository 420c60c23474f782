import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, ErrorCode, errorEnvelope, statusForCode } from '../execution-items';

/**
 * Errors Fastify raises before a request reaches Nest (a path with broken percent-encoding),
 * answered in the API's envelope instead of Fastify's own body.
 */
export function replyToFrameworkError(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const apiError =
    error.code === 'FST_ERR_BAD_URL'
      ? ApiError.validation({ path: ['is not valid percent-encoding'] })
      : new ApiError(ErrorCode.BadRequest, 'The request could not be processed.');
  void reply.code(statusForCode(apiError.code)).send(errorEnvelope(apiError));
}
