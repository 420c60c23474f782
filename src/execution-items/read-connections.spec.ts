import { describeServer, replicaFailure } from './read-connections';

/** An error as `pg` raises it for a statement the server refused: the SQLSTATE in `code`. */
function serverError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('replicaFailure: which failed reads run again on the primary', () => {
  it.each([
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5433'), { code: 'ECONNREFUSED' }),
    ],
    ['a connection cut mid-statement', new Error('Connection terminated unexpectedly')],
    ['a replica shutting down', serverError('57P01', 'terminating connection due to administrator command')],
    ['a replica starting up', serverError('57P03', 'the database system is starting up')],
    ['a replica out of connections', serverError('53300', 'sorry, too many clients already')],
    ['a pool with no free connection in time', new Error('timeout exceeded when trying to connect')],
  ])('%s: the replica is unavailable (marked down)', (_case, error) => {
    expect(replicaFailure(error)).toBe('unavailable');
  });

  it.each([
    serverError('40001', 'canceling statement due to conflict with recovery'),
    serverError('40P01', 'canceling statement due to conflict with recovery'),
  ])('a statement replay cancelled ($code): a conflict (not marked down)', (error) => {
    expect(replicaFailure(error)).toBe('conflict');
  });

  it.each([
    [
      'a statement timeout (the primary would take as long)',
      serverError('57014', 'canceling statement due to statement timeout'),
    ],
    ['a defect in the statement', serverError('42703', 'column "nope" does not exist')],
    ['an error of the module', new Error('Activity not found')],
  ])('%s: not retried', (_case, error) => {
    expect(replicaFailure(error)).toBeNull();
  });
});

describe('describeServer', () => {
  it('names a replica by host, port and database, never its user or password', () => {
    expect(describeServer({ url: 'postgres://reader:secret@10.0.0.7:5433/items?sslmode=require' })).toBe(
      '10.0.0.7:5433/items',
    );
    expect(describeServer({ url: 'postgresql://reader@replica.internal/items' })).toBe(
      'replica.internal:5432/items',
    );
    expect(describeServer({ host: 'replica.internal', port: 6432, database: 'items' })).toBe(
      'replica.internal:6432/items',
    );
  });
});
