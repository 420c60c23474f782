/** The error codes of the contract (§4); each has exactly one HTTP status. */
export enum ErrorCode {
  ValidationError = 'VALIDATION_ERROR',
  BadRequest = 'BAD_REQUEST',
  Unauthorised = 'UNAUTHORISED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  TooManyRequests = 'TOO_MANY_REQUESTS',
  InternalError = 'INTERNAL_ERROR',
  ServiceUnavailable = 'SERVICE_UNAVAILABLE',
}

/** `{ "pageSize": ["must be an integer"] }`: messages per parameter or field. */
export type ValidationErrors = Record<string, string[]>;

/** The body of every non-2xx response. */
export interface ErrorEnvelope {
  code: ErrorCode;
  message: string;
  details: string | null;
  validationErrors: ValidationErrors | null;
  timestamp: string;
}

/**
 * The one domain exception. The service throws it to other modules as well as to HTTP clients:
 * callers branch on `code`, and `ApiExceptionFilter` maps it to a status with `statusForCode`.
 */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly validationErrors: ValidationErrors | null = null,
    readonly details: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static validation(validationErrors: ValidationErrors, message = 'The request is not valid.'): ApiError {
    return new ApiError(ErrorCode.ValidationError, message, validationErrors);
  }

  static notFound(message: string): ApiError {
    return new ApiError(ErrorCode.NotFound, message);
  }

  static badRequest(message: string): ApiError {
    return new ApiError(ErrorCode.BadRequest, message);
  }
}

export function statusForCode(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.ValidationError:
    case ErrorCode.BadRequest:
      return 400;
    case ErrorCode.Unauthorised:
      return 401;
    case ErrorCode.Forbidden:
      return 403;
    case ErrorCode.NotFound:
      return 404;
    case ErrorCode.TooManyRequests:
      return 429;
    case ErrorCode.InternalError:
      return 500;
    case ErrorCode.ServiceUnavailable:
      return 503;
  }
}
