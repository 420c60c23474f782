import { resolveOptions } from './execution-items.options';

describe('resolveOptions: authStrategies', () => {
  it('accepts bearer tokens alone by default', () => {
    expect(resolveOptions({}).authStrategies).toEqual(['jwt']);
  });

  it('keeps the host’s strategies in their order', () => {
    expect(resolveOptions({ authStrategies: ['api-key', 'jwt'] }).authStrategies).toEqual(['api-key', 'jwt']);
  });

  it.each([[[]], [['jwt', 'jwt']], [['jwt', '']]])('refuses %j', (authStrategies) => {
    expect(() => resolveOptions({ authStrategies })).toThrow(
      `ExecutionItemsModule: authStrategies must be distinct passport strategy names, at least one, got ${JSON.stringify(authStrategies)}`,
    );
  });
});

describe('resolveOptions: export limits', () => {
  it('allows two exports per principal and cuts off a client idle for 30 s by default', () => {
    expect(resolveOptions({})).toMatchObject({
      maxConcurrentExportsPerPrincipal: 2,
      exportWriteIdleTimeoutMs: 30_000,
    });
  });

  it.each([0, 1.5])('refuses maxConcurrentExportsPerPrincipal %p', (value) => {
    expect(() => resolveOptions({ maxConcurrentExportsPerPrincipal: value })).toThrow(
      `ExecutionItemsModule: maxConcurrentExportsPerPrincipal must be a positive integer, got ${value}`,
    );
  });

  it('refuses a negative exportWriteIdleTimeoutMs; 0 turns the cut-off off', () => {
    expect(() => resolveOptions({ exportWriteIdleTimeoutMs: -1 })).toThrow(
      'ExecutionItemsModule: exportWriteIdleTimeoutMs must be 0 or more milliseconds, got -1',
    );
    expect(resolveOptions({ exportWriteIdleTimeoutMs: 0 }).exportWriteIdleTimeoutMs).toBe(0);
  });
});

describe('resolveOptions: read replicas', () => {
  it('skips a replica lagging more than 5 s, checked every second, by default', () => {
    expect(resolveOptions({})).toMatchObject({ replicaMaxLagMs: 5_000, replicaCheckIntervalMs: 1_000 });
  });

  it('accepts a bound of 0: only a replica that has replayed everything it received is read from', () => {
    expect(resolveOptions({ replicaMaxLagMs: 0 }).replicaMaxLagMs).toBe(0);
  });

  it.each([
    [{ replicaMaxLagMs: -1 }, 'replicaMaxLagMs must be 0 or more milliseconds, got -1'],
    [{ replicaCheckIntervalMs: 0 }, 'replicaCheckIntervalMs must be a positive integer, got 0'],
    [{ replicaCheckIntervalMs: 2.5 }, 'replicaCheckIntervalMs must be a positive integer, got 2.5'],
  ])('refuses %j', (options, message) => {
    expect(() => resolveOptions(options)).toThrow(`ExecutionItemsModule: ${message}`);
  });
});
