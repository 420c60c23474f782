import { ConfigError } from './app-config';
import { loadApiKeysConfig } from './api-keys-config';

describe('loadApiKeysConfig', () => {
  it('caches keys for 10 seconds by default', () => {
    expect(loadApiKeysConfig({})).toEqual({ cacheSeconds: 10 });
    expect(loadApiKeysConfig({ API_KEY_CACHE_SECONDS: ' ' })).toEqual({ cacheSeconds: 10 });
  });

  it.each([
    ['0', 0],
    ['300', 300],
    [' 30 ', 30],
  ])('reads API_KEY_CACHE_SECONDS=%j', (value, cacheSeconds) => {
    expect(loadApiKeysConfig({ API_KEY_CACHE_SECONDS: value })).toEqual({ cacheSeconds });
  });

  it.each(['-1', '301', '1.5', 'ten', '1e2'])('refuses API_KEY_CACHE_SECONDS=%j, naming it', (value) => {
    expect(() => loadApiKeysConfig({ API_KEY_CACHE_SECONDS: value })).toThrow(
      new ConfigError(`API_KEY_CACHE_SECONDS must be an integer from 0 to 300, got "${value}".`),
    );
  });
});
