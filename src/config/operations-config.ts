import { isIP } from 'node:net';
import { boolean, ConfigError, integer, oneOf, text, type Env } from './env';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Which addresses may set `X-Forwarded-For`: none, the n proxies nearest the service, or these. */
export type TrustProxy = false | number | string[];

/** What an operator tunes: logs, rate limits, proxies, the API docs and health checks. */
export interface OperationsConfig {
  logging: { level: LogLevel; format: LogFormat };
  rateLimit: {
    enabled: boolean;
    windowSeconds: number;
    /** Requests per window for each authenticated principal (token `sub`, API key). */
    perPrincipal: number;
    /** Requests per window for each client address without valid credentials. */
    perIp: number;
    /** Where the counts live: a Redis shared by every instance, or (null) this process's memory. */
    redisUrl: string | null;
  };
  trustProxy: TrustProxy;
  /** Serve Swagger UI at `/api/docs` (the OpenAPI document is always served). */
  apiDocsUi: boolean;
  health: {
    databaseTimeoutMs: number;
    /** After a shutdown begins, readiness answers 503 for this long before the server closes. */
    shutdownDelayMs: number;
  };
  /** Longest a shutdown may take (readiness delay, requests in flight, pool); then the process exits 1. */
  shutdownTimeoutMs: number;
  exports: {
    /** Exports one principal may have running at once; one more is a 429. */
    maxConcurrentPerPrincipal: number;
    /** An export whose client takes no bytes for this long is cut off; 0: never. */
    writeIdleTimeoutMs: number;
  };
}

/** Proxy-addr's names for address ranges, accepted in `TRUST_PROXY` besides addresses and CIDRs. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

export function loadOperationsConfig(env: Env, production: boolean): OperationsConfig {
  return {
    logging: {
      level: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
      format: logFormat(env, production),
    },
    rateLimit: {
      enabled: boolean(env, 'RATE_LIMIT_ENABLED', true),
      windowSeconds: integer(env, 'RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400),
      perPrincipal: integer(env, 'RATE_LIMIT_PER_PRINCIPAL', 600, 1, 1_000_000),
      perIp: integer(env, 'RATE_LIMIT_PER_IP', 60, 1, 1_000_000),
      redisUrl: redisUrl(env),
    },
    trustProxy: trustProxy(env),
    apiDocsUi: boolean(env, 'API_DOCS_UI', !production),
    health: {
      databaseTimeoutMs: integer(env, 'HEALTH_DATABASE_TIMEOUT_MS', 1000, 1, 60_000),
      shutdownDelayMs: integer(env, 'HEALTH_SHUTDOWN_DELAY_MS', 0, 0, 600_000),
    },
    shutdownTimeoutMs: shutdownTimeout(env),
    exports: {
      maxConcurrentPerPrincipal: integer(env, 'EXPORT_MAX_CONCURRENT_PER_PRINCIPAL', 2, 1, 1000),
      writeIdleTimeoutMs: integer(env, 'EXPORT_WRITE_IDLE_TIMEOUT_MS', 30_000, 0, 3_600_000),
    },
  };
}

/** The shutdown bound must leave time after the readiness delay for requests in flight to finish. */
function shutdownTimeout(env: Env): number {
  const timeout = integer(env, 'SHUTDOWN_TIMEOUT_MS', 30_000, 1_000, 3_600_000);
  const delay = integer(env, 'HEALTH_SHUTDOWN_DELAY_MS', 0, 0, 600_000);
  if (timeout <= delay) {
    throw new ConfigError(
      `SHUTDOWN_TIMEOUT_MS (${timeout}) must be longer than HEALTH_SHUTDOWN_DELAY_MS (${delay}).`,
    );
  }
  return timeout;
}

/** Pretty lines by default outside production, when the dev dependency `pino-pretty` is there. */
function logFormat(env: Env, production: boolean): LogFormat {
  const prettyAvailable = isInstalled('pino-pretty');
  const format = oneOf(env, 'LOG_FORMAT', LOG_FORMATS, production || !prettyAvailable ? 'json' : 'pretty');
  if (format === 'pretty' && !prettyAvailable) {
    throw new ConfigError('LOG_FORMAT=pretty needs the pino-pretty package (a dev dependency); use json.');
  }
  return format;
}

function trustProxy(env: Env): TrustProxy {
  const value = text(env, 'TRUST_PROXY');
  if (value === undefined || value === 'false') return false;
  if (value === 'true') {
    throw new ConfigError(
      'TRUST_PROXY=true would let any client choose its address with X-Forwarded-For; set the number of proxies in front of the service (e.g. 1) or their addresses.',
    );
  }
  if (/^\d+$/.test(value)) return integer(env, 'TRUST_PROXY', 0, 1, 10);
  const entries = value.split(',').map((entry) => entry.trim());
  const bad = entries.filter((entry) => !isAddressOrRange(entry));
  if (bad.length > 0) {
    throw new ConfigError(
      `TRUST_PROXY must be false, a number of proxies from 1 to 10, or comma-separated addresses, CIDR ranges or ${PROXY_RANGE_NAMES.join('/')}; "${bad[0]}" is none of them.`,
    );
  }
  return entries;
}

function isAddressOrRange(entry: string): boolean {
  if (PROXY_RANGE_NAMES.includes(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

function isInstalled(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

function redisUrl(env: Env): string | null {
  const url = text(env, 'REDIS_URL');
  if (url === undefined) return null;
  if (!/^rediss?:\/\/[^/]/.test(url)) {
    throw new ConfigError('REDIS_URL must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379.');
  }
  return url;
}
