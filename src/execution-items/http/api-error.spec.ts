import { EXECUTION_ITEMS_ERROR_REASONS, ExecutionItemsError } from '../execution-items.error';
import { ApiError, codeForReason, statusForCode } from './api-error';
import { ErrorCode, errorEnvelope } from '../responses/error-envelope.response';

/** The statuses of the contract (§4). */
const CONTRACT_STATUS: Record<string, number> = {
  VALIDATION_ERROR: 400,
  BAD_REQUEST: 400,
  UNAUTHORISED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
};

describe('statusForCode', () => {
  it('has exactly the codes of the contract', () => {
    expect([...Object.values(ErrorCode)].sort()).toEqual(Object.keys(CONTRACT_STATUS).sort());
  });

  it.each(Object.values(ErrorCode))('maps %s to the contract status', (code) => {
    expect(statusForCode(code)).toBe(CONTRACT_STATUS[code]);
  });
});

describe('codeForReason', () => {
  it.each([
    ['InvalidInput', 'VALIDATION_ERROR'],
    ['ActivityNotFound', 'NOT_FOUND'],
    ['ItemNotFound', 'NOT_FOUND'],
    ['NotARun', 'BAD_REQUEST'],
    ['ActivityExists', 'CONFLICT'],
    ['RunClosed', 'CONFLICT'],
    ['BatchIdReused', 'CONFLICT'],
    ['BaselineNotFound', 'NOT_FOUND'],
    ['RunsNotComparable', 'BAD_REQUEST'],
  ] as const)('maps %s to %s', (reason, code) => {
    expect(codeForReason(reason)).toBe(code);
  });

  it('maps every reason', () => {
    for (const reason of EXECUTION_ITEMS_ERROR_REASONS) {
      expect(Object.values(ErrorCode)).toContain(codeForReason(reason));
    }
  });
});

describe('errorEnvelope', () => {
  it('carries a module error’s message and validation errors under its code', () => {
    const error = ExecutionItemsError.invalid(
      { 'items[3].errorType': ['unknown value'] },
      'The batch is not valid.',
    );
    expect(errorEnvelope(ApiError.fromReason(error))).toEqual({
      code: 'VALIDATION_ERROR',
      message: 'The batch is not valid.',
      details: null,
      validationErrors: { 'items[3].errorType': ['unknown value'] },
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
  });
});

describe('ApiError', () => {
  it('builds a VALIDATION_ERROR carrying the messages per field', () => {
    const error = ApiError.validation({ pageSize: ['must be an integer'] });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'ApiError',
      code: ErrorCode.ValidationError,
      validationErrors: { pageSize: ['must be an integer'] },
      details: null,
    });
  });

  it('builds NOT_FOUND and BAD_REQUEST with their message and no validation errors', () => {
    expect(ApiError.notFound('gone')).toMatchObject({
      code: ErrorCode.NotFound,
      message: 'gone',
      validationErrors: null,
    });
    expect(ApiError.badRequest('wrong')).toMatchObject({
      code: ErrorCode.BadRequest,
      message: 'wrong',
      validationErrors: null,
    });
  });
});
