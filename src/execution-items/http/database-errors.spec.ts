import { isDatabaseUnavailable } from './database-errors';

/** A pg `DatabaseError`-shaped error: a message and a SQLSTATE in `code`. */
function pgError(code: string, message = 'database error'): Error {
  return Object.assign(new Error(message), { code });
}

/** What TypeORM throws: a `QueryFailedError` holding the driver's error in `driverError`. */
function queryFailed(driverError: unknown): Error {
  return Object.assign(new Error('query failed'), {
    name: 'QueryFailedError',
    query: 'SELECT 1',
    parameters: [],
    driverError,
  });
}

describe('isDatabaseUnavailable', () => {
  it('is true for a refused connection', () => {
    expect(isDatabaseUnavailable(pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'))).toBe(true);
  });

  it.each([
    ['57P01', 'admin_shutdown'],
    ['08006', 'connection_failure'],
    ['53300', 'too_many_connections'],
    ['57014', 'query_canceled (statement timeout)'],
  ])('is true for SQLSTATE %s (%s)', (code) => {
    expect(isDatabaseUnavailable(pgError(code))).toBe(true);
  });

  it.each(['timeout exceeded when trying to connect', 'Connection terminated unexpectedly'])(
    'is true for the pg pool message %p',
    (message) => {
      expect(isDatabaseUnavailable(new Error(message))).toBe(true);
    },
  );

  it('is true for a QueryFailedError wrapping an unavailable driver error', () => {
    expect(isDatabaseUnavailable(queryFailed(pgError('57P01')))).toBe(true);
    expect(isDatabaseUnavailable(queryFailed(pgError('ECONNREFUSED')))).toBe(true);
    expect(isDatabaseUnavailable(queryFailed(new Error('Connection terminated unexpectedly')))).toBe(true);
  });

  it.each([
    ['23505', 'duplicate key value violates unique constraint "x"'],
    ['42601', 'syntax error at or near "SELEC"'],
  ])('is false for SQLSTATE %s', (code, message) => {
    expect(isDatabaseUnavailable(pgError(code, message))).toBe(false);
    expect(isDatabaseUnavailable(queryFailed(pgError(code, message)))).toBe(false);
  });

  it('is false for a plain Error, null, undefined and a string', () => {
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
    expect(isDatabaseUnavailable(null)).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
  });
});
