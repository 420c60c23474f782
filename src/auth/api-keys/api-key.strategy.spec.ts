import { ApiError } from '../../execution-items';
import { ApiKeyStrategy } from './api-key.strategy';
import type { ApiKeysService } from './api-keys.service';

describe('ApiKeyStrategy.validate', () => {
  const principal = { sub: 'api-key:1', name: 'ci', apiKeyId: '1', role: ['Administrator'] };
  const known = `eik_${'k'.repeat(40)}`;
  const apiKeys = {
    authenticate: async (key: string) => (key === known ? principal : null),
  } as unknown as ApiKeysService;
  const strategy = new ApiKeyStrategy(apiKeys);

  it('leaves a request without X-API-Key to the next strategy', async () => {
    expect(await strategy.validate({ headers: { authorization: 'Bearer x' } })).toBe(false);
    expect(await strategy.validate({ headers: {} })).toBe(false);
  });

  it('gives the principal of a valid key', async () => {
    expect(await strategy.validate({ headers: { 'x-api-key': known } })).toBe(principal);
  });

  it('refuses an invalid key with a 401 of its own', async () => {
    for (const value of ['eik_nope', '', [known, known]]) {
      const refusal = await strategy
        .validate({ headers: { 'x-api-key': value } })
        .catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(ApiError);
      expect(refusal).toMatchObject({ code: 'UNAUTHORISED', message: 'A valid API key is required.' });
    }
  });

  it('refuses a key together with an Authorization header with a 400, whatever either holds', async () => {
    for (const authorization of ['Bearer x', 'Basic dXNlcjpwYXNz', '']) {
      const refusal = await strategy
        .validate({ headers: { 'x-api-key': known, authorization } })
        .catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(ApiError);
      expect(refusal).toMatchObject({
        code: 'BAD_REQUEST',
        message: 'Send either a bearer token or an API key, not both.',
      });
    }
  });
});
