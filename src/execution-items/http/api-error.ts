import {
  ExecutionItemsError,
  type ExecutionItemsErrorReason,
  type ValidationErrors,
} from '../execution-items.error';
import { ErrorCode } from '../responses/error-envelope.response';

/**
 * An answer refused over HTTP before any call to the module: credentials (401), roles (403), the
 * request's parameters (400), the rate limit (429). A host's passport strategy may throw one to
 * refuse a request with its own answer. Module calls fail with `ExecutionItemsError` instead.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly validationErrors: ValidationErrors | null = null,
    readonly details: string | null = null,
  ) {
    super(message);
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

  /** The contract's code for a module error, with its message and details. */
  static fromReason(error: ExecutionItemsError): ApiError {
    return new ApiError(codeForReason(error.reason), error.message, error.validationErrors, error.details);
  }
}

/** The contract's code for each reason a module call can fail. */
export function codeForReason(reason: ExecutionItemsErrorReason): ErrorCode {
  switch (reason) {
    case 'InvalidInput':
      return ErrorCode.ValidationError;
    case 'ActivityNotFound':
    case 'ItemNotFound':
    case 'BaselineNotFound':
      return ErrorCode.NotFound;
    case 'NotARun':
    case 'RunsNotComparable':
      return ErrorCode.BadRequest;
    case 'ActivityExists':
    case 'RunClosed':
    case 'BatchIdReused':
      return ErrorCode.Conflict;
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
    case ErrorCode.RequestTimeout:
      return 408;
    case ErrorCode.Conflict:
      return 409;
    case ErrorCode.PayloadTooLarge:
      return 413;
    case ErrorCode.TooManyRequests:
      return 429;
    case ErrorCode.HeadersTooLarge:
      return 431;
    case ErrorCode.InternalError:
      return 500;
    case ErrorCode.ServiceUnavailable:
      return 503;
  }
}
