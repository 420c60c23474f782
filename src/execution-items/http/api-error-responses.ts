import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ErrorCode, ErrorEnvelope } from '../responses/error-envelope.response';
import { statusForCode } from './api-error';

const WHEN: Record<ErrorCode, string> = {
  [ErrorCode.ValidationError]:
    '`VALIDATION_ERROR`: a path or query parameter is not valid; `validationErrors` names each one',
  [ErrorCode.BadRequest]:
    '`BAD_REQUEST`: the request cannot be served as asked (the activity is not a run profile; a repeated `Authorization` or `Host` header; a bearer token and an API key together; HTTP the parser refuses)',
  [ErrorCode.Unauthorised]: '`UNAUTHORISED`: no valid credentials',
  [ErrorCode.Forbidden]: '`FORBIDDEN`: the principal lacks the required role',
  [ErrorCode.NotFound]: '`NOT_FOUND`: no such resource',
  [ErrorCode.RequestTimeout]:
    '`REQUEST_TIMEOUT`: the request did not arrive in time (answered by the HTTP server, which closes the connection)',
  [ErrorCode.Conflict]:
    '`CONFLICT`: the run is already complete, the activity id is taken, or an `Idempotency-Key` was reused with another body',
  [ErrorCode.PayloadTooLarge]: '`PAYLOAD_TOO_LARGE`: more than 10,000 items, or a body over the byte limit',
  [ErrorCode.TooManyRequests]: '`TOO_MANY_REQUESTS`: over the rate limit',
  [ErrorCode.HeadersTooLarge]:
    '`HEADERS_TOO_LARGE`: the request line and headers exceed 16 KB (answered by the HTTP server, which closes the connection)',
  [ErrorCode.InternalError]: '`INTERNAL_ERROR`: a defect, logged on the server; nothing is leaked',
  [ErrorCode.ServiceUnavailable]: '`SERVICE_UNAVAILABLE`: the database cannot be reached or timed out',
};

type HeaderObject = { description: string; required: boolean; schema: object };

const RETRY_AFTER: Record<string, HeaderObject> = {
  'Retry-After': {
    description: 'Seconds to wait before trying again.',
    required: true,
    schema: { type: 'integer', minimum: 0 },
  },
};
const CONNECTION_CLOSE: Record<string, HeaderObject> = {
  Connection: {
    description: '`close`: the server closes the connection after this answer.',
    required: true,
    schema: { type: 'string', enum: ['close'] },
  },
};
const HEADERS: Partial<Record<number, Record<string, HeaderObject>>> = {
  401: { 'WWW-Authenticate': { description: '`Bearer`', required: true, schema: { type: 'string' } } },
  408: CONNECTION_CLOSE,
  429: RETRY_AFTER,
  431: CONNECTION_CLOSE,
  503: RETRY_AFTER,
};

/**
 * What any authenticated route of the API can answer besides its own codes: `BAD_REQUEST` for a
 * request that is malformed as a whole (a repeated `Authorization` or `Host` header, a bearer
 * token and an API key together, HTTP the parser refuses), and the HTTP server's 408 and 431.
 */
const COMMON_CODES = [
  ErrorCode.ValidationError,
  ErrorCode.BadRequest,
  ErrorCode.Unauthorised,
  ErrorCode.Forbidden,
  ErrorCode.RequestTimeout,
  ErrorCode.TooManyRequests,
  ErrorCode.HeadersTooLarge,
  ErrorCode.InternalError,
  ErrorCode.ServiceUnavailable,
];

/**
 * Documents the error responses of a route: for each status, the envelope with `code` limited to
 * the codes the route can answer with that status. `extraCodes` adds the route's own (e.g.
 * `NOT_FOUND`) to the ones every route has.
 */
export function ApiErrorResponses(...extraCodes: ErrorCode[]): MethodDecorator & ClassDecorator {
  const codes = [...new Set([...COMMON_CODES, ...extraCodes])];
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of Object.values(ErrorCode).filter((code) => codes.includes(code))) {
    const status = statusForCode(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return applyDecorators(
    ApiExtraModels(ErrorEnvelope),
    ...[...byStatus].map(([status, statusCodes]) =>
      ApiResponse({
        status,
        description: statusCodes.map((code) => WHEN[code]).join('; ') + '.',
        headers: HEADERS[status],
        content: {
          'application/json': {
            schema: {
              allOf: [
                { $ref: getSchemaPath(ErrorEnvelope) },
                { type: 'object', properties: { code: { type: 'string', enum: statusCodes } } },
              ],
            },
          },
        },
      }),
    ),
  );
}
