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
