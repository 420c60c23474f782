export interface ApiKeysModuleOptions {
  /**
   * The principal claim that carries a key's roles: the same as the execution-items module's
   * `roleClaim`, so that its role guard reads them. Default `role`.
   */
  roleClaim?: string;
  /** Seconds a looked-up key is remembered in this process; 0 looks up every request. Default 10. */
  cacheSeconds?: number;
}

export type ResolvedApiKeysOptions = Required<ApiKeysModuleOptions>;

export const API_KEYS_OPTIONS = Symbol('API_KEYS_OPTIONS');

/** The passport strategy name `ApiKeyStrategy` registers. */
export const API_KEY_STRATEGY = 'api-key';

/** Most keys the in-process cache holds; the oldest go first. */
export const API_KEY_CACHE_ENTRIES = 1000;
