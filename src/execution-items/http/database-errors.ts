const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

/** SQLSTATEs that say "the database cannot serve this now", not "this request is wrong". */
const UNAVAILABLE_SQLSTATE_PREFIXES = ['08', '53', '57P'];
const STATEMENT_TIMEOUT = '57014';

const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'not queryable',
  'Connection is not established',
];

/**
 * True when an error means the database is unreachable, overloaded or timed out, so the
 * request may succeed later (503 with Retry-After) rather than being a defect (500).
 * TypeORM wraps driver errors in `QueryFailedError.driverError`; both layers are checked.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 3; depth++) {
    if (typeof current !== 'object') return false;
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (NETWORK_ERROR_CODES.has(code) || code === STATEMENT_TIMEOUT) return true;
      if (
        /^[0-9A-Z]{5}$/.test(code) &&
        UNAVAILABLE_SQLSTATE_PREFIXES.some((prefix) => code.startsWith(prefix))
      ) {
        return true;
      }
    }
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((text) => message.includes(text)))
      return true;
    current =
      (current as { driverError?: unknown; cause?: unknown }).driverError ??
      (current as { cause?: unknown }).cause;
  }
  return false;
}
