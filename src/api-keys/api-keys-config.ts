import { ConfigError } from '../config/app-config';

export interface ApiKeysConfig {
  /**
   * How long a looked-up key is remembered in the process, in seconds; 0 looks every request up.
   * A key revoked by the `apikey` command (another process) is refused at the latest this long after.
   */
  cacheSeconds: number;
}

type Env = Record<string, string | undefined>;

/** `API_KEY_CACHE_SECONDS`: 0 to 300, default 10. */
export function loadApiKeysConfig(env: Env): ApiKeysConfig {
  const name = 'API_KEY_CACHE_SECONDS';
  const value = env[name]?.trim();
  if (!value) return { cacheSeconds: 10 };
  const parsed = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed > 300) {
    throw new ConfigError(`${name} must be an integer from 0 to 300, got "${value}".`);
  }
  return { cacheSeconds: parsed };
}
