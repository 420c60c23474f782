import { ApiProperty, ApiSchema } from '@nestjs/swagger';

/** The error codes of the contract (§4); each has exactly one HTTP status. */
export enum ErrorCode {
  ValidationError = 'VALIDATION_ERROR',
  BadRequest = 'BAD_REQUEST',
  Unauthorised = 'UNAUTHORISED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  RequestTimeout = 'REQUEST_TIMEOUT',
  Conflict = 'CONFLICT',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  TooManyRequests = 'TOO_MANY_REQUESTS',
  HeadersTooLarge = 'HEADERS_TOO_LARGE',
  InternalError = 'INTERNAL_ERROR',
  ServiceUnavailable = 'SERVICE_UNAVAILABLE',
}

@ApiSchema({ name: 'ErrorEnvelope', description: 'The body of every non-2xx response under `/api`.' })
export class ErrorEnvelope {
  @ApiProperty({ enum: ErrorCode, enumName: 'ErrorCode' })
  code!: ErrorCode;

  @ApiProperty()
  message!: string;

  @ApiProperty({ type: String, nullable: true })
  details!: string | null;

  @ApiProperty({
    type: 'object',
    nullable: true,
    additionalProperties: { type: 'array', items: { type: 'string' } },
    description: 'For `VALIDATION_ERROR`: the messages for each parameter.',
    example: { pageSize: ['must be an integer'] },
  })
  validationErrors!: Record<string, string[]> | null;

  @ApiProperty({ format: 'date-time' })
  timestamp!: string;
}

/**
 * The body of every non-2xx answer under `/api`: the exception filter's, and the host's for
 * errors its HTTP server raises before a request reaches Nest.
 */
export function errorEnvelope(error: Omit<ErrorEnvelope, 'timestamp'>): ErrorEnvelope {
  return {
    code: error.code,
    message: error.message,
    details: error.details,
    validationErrors: error.validationErrors,
    timestamp: new Date().toISOString(),
  };
}
