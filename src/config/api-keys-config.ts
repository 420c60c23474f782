import { integer, type Env } from './env';

export interface ApiKeysConfig {
  /**
   * How long a looked-up key is remembered in the process, in seconds; 0 looks every request up.
   * A key revoked by the `apikey` command (another process) is refused at the latest this long after.
   */
  cacheSeconds: number;
}

/** `API_KEY_CACHE_SECONDS`: 0 to 300, default 10. */
export function loadApiKeysConfig(env: Env): ApiKeysConfig {
  return { cacheSeconds: integer(env, 'API_KEY_CACHE_SECONDS', 10, 0, 300) };
}
