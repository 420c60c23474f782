import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, ErrorCode, statusForCode, type ErrorEnvelope } from './api-error';

/**
 * Errors Fastify raises before a request reaches Nest (a path with broken percent-encoding),
 * answered in the API's envelope instead of Fastify's own body.
 */
export function replyToFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const apiError =
    error.code === 'FST_ERR_BAD_URL'
      ? ApiError.validation({ path: ['is not valid percent-encoding'] })
      : new ApiError(ErrorCode.BadRequest, 'The request could not be processed.');
  const body: ErrorEnvelope = {
    code: apiError.code,
    message: apiError.message,
    details: null,
    validationErrors: apiError.validationErrors,
    timestamp: new Date().toISOString(),
  };
  void reply.code(statusForCode(apiError.code)).send(body);
}
