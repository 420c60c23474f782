import { isAbsolute, resolve } from 'node:path';
import { ConfigError, loadAppConfig } from './app-config';

const SECRET = 'a-development-secret-of-32-chars!';
const JWKS_URI = 'https://idp.example.com/.well-known/jwks.json';

/** The error `loadAppConfig` throws for an environment, or a failure if it throws none. */
function configErrorFor(env: Record<string, string | undefined>): ConfigError {
  try {
    loadAppConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('loadAppConfig accepted the environment');
}

describe('loadAppConfig', () => {
  describe('defaults', () => {
    const config = loadAppConfig({});

    it('listens on 127.0.0.1:3000', () => {
      expect(config.host).toBe('127.0.0.1');
      expect(config.port).toBe(3000);
    });

    it('uses the embedded database in ./data, as an absolute path', () => {
      expect(config.database).toEqual({ kind: 'embedded', dataDir: resolve('./data') });
      expect(config.database.kind === 'embedded' && isAbsolute(config.database.dataDir)).toBe(true);
    });

    it('reads roles from the "role" claim', () => {
      expect(config.roleClaim).toBe('role');
    });

    it('is not production and loads the demo data', () => {
      expect(config.production).toBe(false);
      expect(config.demoData).toBe(true);
    });
  });

  it('reads the reading and writing roles', () => {
    expect(loadAppConfig({})).toMatchObject({ readerRoles: [], engineRole: 'SyncEngine' });
    expect(
      loadAppConfig({
        AUTH_READER_ROLES: ' Synchronisation Readers ,Auditors,,Auditors',
        AUTH_ENGINE_ROLE: 'Connector',
      }),
    ).toMatchObject({ readerRoles: ['Synchronisation Readers', 'Auditors'], engineRole: 'Connector' });
    expect(() => loadAppConfig({ AUTH_ENGINE_ROLE: 'Administrator' })).toThrow(
      'AUTH_ENGINE_ROLE must not be a reading role',
    );
    expect(() => loadAppConfig({ AUTH_READER_ROLES: 'Auditors,SyncEngine' })).toThrow(
      'AUTH_ENGINE_ROLE must not be a reading role',
    );
  });

  it('reads HOST, PORT and AUTH_ROLE_CLAIM', () => {
    const config = loadAppConfig({ HOST: '0.0.0.0', PORT: '8080', AUTH_ROLE_CLAIM: 'realm_access.roles' });
    expect(config).toMatchObject({ host: '0.0.0.0', port: 8080, roleClaim: 'realm_access.roles' });
  });

  it('resolves a relative PGLITE_DATA_DIR to an absolute path', () => {
    const config = loadAppConfig({ PGLITE_DATA_DIR: 'var/pglite' });
    expect(config.database).toEqual({ kind: 'embedded', dataDir: resolve('var/pglite') });
  });

  it('keeps memory:// as it is', () => {
    expect(loadAppConfig({ PGLITE_DATA_DIR: 'memory://' }).database).toEqual({
      kind: 'embedded',
      dataDir: 'memory://',
    });
  });

  describe('demo data', () => {
    it('is off in production', () => {
      expect(loadAppConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: SECRET }).demoData).toBe(false);
    });

    it('is on in development and test', () => {
      expect(loadAppConfig({ NODE_ENV: 'development' }).demoData).toBe(true);
      expect(loadAppConfig({ NODE_ENV: 'test' }).demoData).toBe(true);
    });

    it('follows DEMO_DATA when set', () => {
      expect(
        loadAppConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: SECRET, DEMO_DATA: 'true' }).demoData,
      ).toBe(true);
      expect(loadAppConfig({ DEMO_DATA: 'false' }).demoData).toBe(false);
    });

    it('rejects a DEMO_DATA other than true or false, naming it', () => {
      const error = configErrorFor({ DEMO_DATA: 'yes' });
      expect(error.message).toContain('DEMO_DATA');
      expect(error.message).toContain('"yes"');
    });
  });

  describe('database server', () => {
    it('uses a PostgreSQL server for DATABASE_URL, with a pool of 10 by default', () => {
      const url = 'postgres://app@127.0.0.1:5432/items';
      expect(loadAppConfig({ DATABASE_URL: url }).database).toEqual({
        kind: 'server',
        url,
        poolSize: 10,
        statementTimeoutMs: 10_000,
        poolWaitMs: 5_000,
        connectRetries: 10,
        replicas: { urls: [], maxLagMs: 5_000 },
      });
    });

    it('reads the replicas of the server and the lag beyond which one is skipped', () => {
      expect(
        loadAppConfig({
          DATABASE_URL: 'postgres://app@primary/items',
          DATABASE_REPLICA_URLS: ' postgres://app@replica-1/items, ,postgresql://app@replica-2:5433/items,',
          DATABASE_REPLICA_MAX_LAG_MS: '250',
        }).database,
      ).toMatchObject({
        replicas: {
          urls: ['postgres://app@replica-1/items', 'postgresql://app@replica-2:5433/items'],
          maxLagMs: 250,
        },
      });
    });

    it('refuses a replica that is not a postgres:// URL, without showing its password', () => {
      const error = configErrorFor({
        DATABASE_URL: 'postgres://app@primary/items',
        DATABASE_REPLICA_URLS: 'postgres://app@replica-1/items,mysql://app:secret@replica-2/items',
      });
      expect(error.message).toBe(
        'DATABASE_REPLICA_URLS must be postgres:// URLs separated by commas, e.g. postgres://user@10.0.0.2:5432/dbname; "mysql://…@replica-2/items" is not one.',
      );
    });

    it('refuses replicas without DATABASE_URL: the embedded database has none', () => {
      expect(configErrorFor({ DATABASE_REPLICA_URLS: 'postgres://app@replica-1/items' }).message).toBe(
        'DATABASE_REPLICA_URLS needs DATABASE_URL: replicas are of a PostgreSQL server, and the embedded database has none.',
      );
    });

    it.each(['-1', '5s', '3600001'])('rejects DATABASE_REPLICA_MAX_LAG_MS=%p, naming it', (value) => {
      const error = configErrorFor({
        DATABASE_URL: 'postgres://db/items',
        DATABASE_REPLICA_MAX_LAG_MS: value,
      });
      expect(error.message).toContain('DATABASE_REPLICA_MAX_LAG_MS');
    });

    it('reads the statement timeout (0 turns it off), the pool wait and the start-up retries', () => {
      expect(
        loadAppConfig({
          DATABASE_URL: 'postgres://db/items',
          DATABASE_STATEMENT_TIMEOUT_MS: '0',
          DATABASE_POOL_WAIT_MS: '250',
          DATABASE_CONNECT_RETRIES: '0',
        }).database,
      ).toMatchObject({ statementTimeoutMs: 0, poolWaitMs: 250, connectRetries: 0 });
    });

    it.each([
      ['DATABASE_STATEMENT_TIMEOUT_MS', '-1'],
      ['DATABASE_STATEMENT_TIMEOUT_MS', '10s'],
      ['DATABASE_POOL_WAIT_MS', '0'],
      ['DATABASE_CONNECT_RETRIES', '1.5'],
    ])('rejects %s=%p, naming it', (name, value) => {
      expect(configErrorFor({ DATABASE_URL: 'postgres://db/items', [name]: value }).message).toContain(name);
    });

    it('accepts postgresql:// and DATABASE_POOL_SIZE', () => {
      const url = 'postgresql://app@db/items';
      expect(loadAppConfig({ DATABASE_URL: url, DATABASE_POOL_SIZE: '25' }).database).toMatchObject({
        kind: 'server',
        url,
        poolSize: 25,
      });
    });

    it.each(['mysql://app@db/items', 'db:5432', 'http://db/items'])('rejects DATABASE_URL %p', (url) => {
      expect(configErrorFor({ DATABASE_URL: url }).message).toContain('DATABASE_URL');
    });

    it.each(['0', 'abc', '1001'])('rejects DATABASE_POOL_SIZE %p, naming it', (size) => {
      const error = configErrorFor({ DATABASE_URL: 'postgres://db/items', DATABASE_POOL_SIZE: size });
      expect(error.message).toContain('DATABASE_POOL_SIZE');
    });
  });

  it.each(['abc', '70000', '1e3', '-1', '80.5', '0x50'])('rejects PORT %p, naming it', (port) => {
    const error = configErrorFor({ PORT: port });
    expect(error.message).toContain('PORT');
    expect(error.message).toContain(`"${port}"`);
  });

  describe('authentication', () => {
    it('uses an HS256 secret of at least 32 characters', () => {
      expect(loadAppConfig({ AUTH_JWT_SECRET: SECRET }).auth).toEqual({
        kind: 'secret',
        secret: SECRET,
        algorithms: ['HS256'],
        generatedForDevelopment: false,
        issuer: null,
        audience: null,
        maxLifetimeSeconds: 86_400,
        clockToleranceSeconds: 30,
      });
    });

    it('rejects an AUTH_JWT_SECRET shorter than 32 characters', () => {
      expect(configErrorFor({ AUTH_JWT_SECRET: SECRET.slice(0, 31) }).message).toContain('AUTH_JWT_SECRET');
    });

    it('uses JWKS keys with RS256 and ES256 only', () => {
      const config = loadAppConfig({
        AUTH_JWKS_URI: JWKS_URI,
        AUTH_JWT_ISSUER: 'https://idp.example.com/',
        AUTH_JWT_AUDIENCE: 'execution-items',
      });
      expect(config.auth).toEqual({
        kind: 'jwks',
        jwksUri: JWKS_URI,
        algorithms: ['RS256', 'ES256'],
        issuer: 'https://idp.example.com/',
        audience: 'execution-items',
        maxLifetimeSeconds: 86_400,
        clockToleranceSeconds: 30,
      });
    });

    it('rejects a JWKS URI that is not http(s)', () => {
      expect(configErrorFor({ AUTH_JWKS_URI: 'file:///etc/jwks.json' }).message).toContain('AUTH_JWKS_URI');
    });

    it('rejects both a secret and a JWKS URI', () => {
      const error = configErrorFor({ AUTH_JWT_SECRET: SECRET, AUTH_JWKS_URI: JWKS_URI });
      expect(error.message).toContain('AUTH_JWT_SECRET');
      expect(error.message).toContain('AUTH_JWKS_URI');
    });

    it('refuses to start in production without authentication, naming both variables', () => {
      const error = configErrorFor({ NODE_ENV: 'production' });
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toContain('AUTH_JWKS_URI');
      expect(error.message).toContain('AUTH_JWT_SECRET');
    });

    it('accepts production with a secret or JWKS', () => {
      expect(loadAppConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: SECRET })).toMatchObject({
        production: true,
        auth: { kind: 'secret', generatedForDevelopment: false },
      });
      expect(loadAppConfig({ NODE_ENV: 'production', AUTH_JWKS_URI: JWKS_URI })).toMatchObject({
        production: true,
        auth: { kind: 'jwks' },
      });
    });

    it('generates a random HS256 secret for development when none is set', () => {
      const first = loadAppConfig({ NODE_ENV: 'development' }).auth;
      const second = loadAppConfig({ NODE_ENV: 'development' }).auth;
      expect(first).toMatchObject({ kind: 'secret', algorithms: ['HS256'], generatedForDevelopment: true });
      expect(second).toMatchObject({ kind: 'secret', generatedForDevelopment: true });
      const [a, b] = [first, second].map((auth) => (auth.kind === 'secret' ? auth.secret : ''));
      expect(a.length).toBeGreaterThanOrEqual(32);
      expect(b.length).toBeGreaterThanOrEqual(32);
      expect(a).not.toBe(b);
    });

    it('reads the lifetime and clock tolerance, within their bounds', () => {
      expect(
        loadAppConfig({ AUTH_JWT_MAX_LIFETIME_SECONDS: '3600', AUTH_JWT_CLOCK_TOLERANCE_SECONDS: '5' }).auth,
      ).toMatchObject({ maxLifetimeSeconds: 3600, clockToleranceSeconds: 5 });
      expect(configErrorFor({ AUTH_JWT_CLOCK_TOLERANCE_SECONDS: '301' }).message).toContain(
        'AUTH_JWT_CLOCK_TOLERANCE_SECONDS',
      );
      expect(configErrorFor({ AUTH_JWT_MAX_LIFETIME_SECONDS: '59' }).message).toContain(
        'AUTH_JWT_MAX_LIFETIME_SECONDS',
      );
    });
  });
});
