import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { loadApiKeysConfig, type ApiKeysConfig } from './api-keys-config';
import { loadFollowConfig, type FollowConfig } from './follow-config';
import type { AuthConfig } from '../auth/auth-config';
import { IN_MEMORY, type DatabaseSettings } from '../database/database-server';
import { DEFAULT_INGEST_BODY_LIMIT_BYTES } from '../execution-items';
import { loadRetentionConfig, type RetentionConfig } from './retention-config';
import { loadWebUiConfig, type WebUiConfig } from './web-ui-config';
import { boolean, ConfigError, integer, text, type Env } from './env';
import { loadOperationsConfig, type OperationsConfig } from './operations-config';

/** Everything the service reads from the environment; logs, limits and health in `OperationsConfig`. */
export interface AppConfig extends OperationsConfig {
  production: boolean;
  host: string;
  port: number;
  database: DatabaseSettings;
  auth: AuthConfig;
  roleClaim: string;
  /** Roles that may read the run history besides `Administrator`. */
  readerRoles: string[];
  /** The role sync engines hold to write runs over HTTP. */
  engineRole: string;
  /** Load the demo activities into an empty database at start. */
  demoData: boolean;
  /** Most bytes of a batch of items sent to `POST /api/v1/activities/{id}/items`. */
  ingestBodyLimitBytes: number;
  apiKeys: ApiKeysConfig;
  retention: RetentionConfig;
  /** The run viewer at `/`. */
  ui: WebUiConfig;
  /** Following runs as server-sent events. */
  follow: FollowConfig;
}

export { ConfigError } from './env';

/**
 * Reads and checks the environment once, at start. Every variable is listed in the README's
 * configuration table.
 */
export function loadAppConfig(env: Env): AppConfig {
  const production = text(env, 'NODE_ENV') === 'production';
  return {
    production,
    host: text(env, 'HOST') ?? '127.0.0.1',
    port: integer(env, 'PORT', 3000, 0, 65535),
    database: loadDatabaseSettings(env),
    auth: authConfig(env, production),
    roleClaim: text(env, 'AUTH_ROLE_CLAIM') ?? 'role',
    ...roles(env),
    demoData: boolean(env, 'DEMO_DATA', !production),
    ingestBodyLimitBytes: integer(
      env,
      'INGEST_BODY_LIMIT_BYTES',
      DEFAULT_INGEST_BODY_LIMIT_BYTES,
      1024,
      1 << 30,
    ),
    apiKeys: loadApiKeysConfig(env),
    retention: loadRetentionConfig(env),
    ui: loadWebUiConfig(env),
    follow: loadFollowConfig(env),
    ...loadOperationsConfig(env, production),
  };
}

/** The database part alone, for command-line tools that need no HTTP or authentication settings. */
export function loadDatabaseSettings(env: Env): DatabaseSettings {
  const databaseUrl = text(env, 'DATABASE_URL');
  const replicaUrls = (text(env, 'DATABASE_REPLICA_URLS') ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean);
  if (!databaseUrl) {
    if (replicaUrls.length > 0) {
      throw new ConfigError(
        'DATABASE_REPLICA_URLS needs DATABASE_URL: replicas are of a PostgreSQL server, and the embedded database has none.',
      );
    }
    return { kind: 'embedded', dataDir: pgliteDataDir(text(env, 'PGLITE_DATA_DIR') ?? './data') };
  }
  return {
    kind: 'server',
    url: postgresUrl(databaseUrl, 'DATABASE_URL'),
    poolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    statementTimeoutMs: integer(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 10_000, 0, 3_600_000),
    poolWaitMs: integer(env, 'DATABASE_POOL_WAIT_MS', 5_000, 1, 600_000),
    connectRetries: integer(env, 'DATABASE_CONNECT_RETRIES', 10, 0, 1000),
    replicas: {
      urls: [...new Set(replicaUrls.map((url) => postgresUrl(url, 'DATABASE_REPLICA_URLS')))],
      maxLagMs: integer(env, 'DATABASE_REPLICA_MAX_LAG_MS', 5_000, 0, 3_600_000),
    },
  };
}

/** `AUTH_READER_ROLES` is a comma-separated list, since role names may hold spaces. */
function roles(env: Env): Pick<AppConfig, 'readerRoles' | 'engineRole'> {
  const readerRoles = (text(env, 'AUTH_READER_ROLES') ?? '')
    .split(',')
    .map((role) => role.trim())
    .filter(Boolean);
  const engineRole = text(env, 'AUTH_ENGINE_ROLE') ?? 'SyncEngine';
  if (engineRole === 'Administrator' || readerRoles.includes(engineRole)) {
    throw new ConfigError(
      'AUTH_ENGINE_ROLE must not be a reading role (Administrator or one of AUTH_READER_ROLES).',
    );
  }
  return { readerRoles: [...new Set(readerRoles)], engineRole };
}

function authConfig(env: Env, production: boolean): AuthConfig {
  const secret = text(env, 'AUTH_JWT_SECRET');
  const jwksUri = text(env, 'AUTH_JWKS_URI');
  const common = {
    issuer: text(env, 'AUTH_JWT_ISSUER') ?? null,
    audience: text(env, 'AUTH_JWT_AUDIENCE') ?? null,
    maxLifetimeSeconds: integer(env, 'AUTH_JWT_MAX_LIFETIME_SECONDS', 86_400, 60, 31_536_000),
    clockToleranceSeconds: integer(env, 'AUTH_JWT_CLOCK_TOLERANCE_SECONDS', 30, 0, 300),
  };
  if (secret && jwksUri) throw new ConfigError('Set AUTH_JWT_SECRET or AUTH_JWKS_URI, not both.');
  if (jwksUri) {
    if (!/^https?:\/\//.test(jwksUri)) throw new ConfigError('AUTH_JWKS_URI must be an http(s) URL.');
    return { ...common, kind: 'jwks', jwksUri, algorithms: ['RS256', 'ES256'] };
  }
  if (secret) {
    if (secret.length < 32)
      throw new ConfigError('AUTH_JWT_SECRET must be at least 32 characters (256 bits for HS256).');
    return { ...common, kind: 'secret', secret, algorithms: ['HS256'], generatedForDevelopment: false };
  }
  if (production) {
    throw new ConfigError(
      'No authentication configured: set AUTH_JWKS_URI (identity provider keys) or AUTH_JWT_SECRET (HS256) when NODE_ENV=production.',
    );
  }
  return {
    ...common,
    kind: 'secret',
    secret: randomBytes(32).toString('base64url'),
    algorithms: ['HS256'],
    generatedForDevelopment: true,
  };
}

function postgresUrl(value: string, name: string): string {
  if (!/^postgres(ql)?:\/\//.test(value)) {
    throw new ConfigError(
      name === 'DATABASE_URL'
        ? 'DATABASE_URL must be a postgres:// URL, e.g. postgres://user@127.0.0.1:5432/dbname.'
        : `${name} must be postgres:// URLs separated by commas, e.g. postgres://user@10.0.0.2:5432/dbname; "${value.replace(/\/\/[^@/]*@/, '//…@')}" is not one.`,
    );
  }
  return value;
}

/** `memory://` keeps the embedded database in memory (tests); anything else is a folder. */
function pgliteDataDir(value: string): string {
  return value === IN_MEMORY ? value : resolve(value);
}
