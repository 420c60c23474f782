import { ConfigError } from './app-config';
import { loadOperationsConfig } from './operations-config';

function configErrorFor(env: Record<string, string>, production = false): ConfigError {
  try {
    loadOperationsConfig(env, production);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('loadOperationsConfig accepted the environment');
}

describe('loadOperationsConfig', () => {
  it('has these defaults outside production (pino-pretty is a dev dependency, so installed here)', () => {
    expect(loadOperationsConfig({}, false)).toEqual({
      logging: { level: 'info', format: 'pretty' },
      rateLimit: { enabled: true, windowSeconds: 60, perPrincipal: 600, perIp: 60, redisUrl: null },
      trustProxy: false,
      apiDocsUi: true,
      health: { databaseTimeoutMs: 1000, shutdownDelayMs: 0 },
      shutdownTimeoutMs: 30_000,
      exports: { maxConcurrentPerPrincipal: 2, writeIdleTimeoutMs: 30_000 },
    });
  });

  it('logs JSON and turns Swagger UI off in production', () => {
    expect(loadOperationsConfig({}, true)).toMatchObject({ logging: { format: 'json' }, apiDocsUi: false });
  });

  it('reads every variable', () => {
    expect(
      loadOperationsConfig(
        {
          LOG_LEVEL: 'debug',
          LOG_FORMAT: 'json',
          RATE_LIMIT_ENABLED: 'false',
          RATE_LIMIT_WINDOW_SECONDS: '10',
          RATE_LIMIT_PER_PRINCIPAL: '100',
          RATE_LIMIT_PER_IP: '5',
          REDIS_URL: 'redis://cache.internal:6379/2',
          TRUST_PROXY: '2',
          API_DOCS_UI: 'true',
          HEALTH_DATABASE_TIMEOUT_MS: '250',
          HEALTH_SHUTDOWN_DELAY_MS: '5000',
          SHUTDOWN_TIMEOUT_MS: '20000',
          EXPORT_MAX_CONCURRENT_PER_PRINCIPAL: '4',
          EXPORT_WRITE_IDLE_TIMEOUT_MS: '0',
        },
        true,
      ),
    ).toEqual({
      logging: { level: 'debug', format: 'json' },
      rateLimit: {
        enabled: false,
        windowSeconds: 10,
        perPrincipal: 100,
        perIp: 5,
        redisUrl: 'redis://cache.internal:6379/2',
      },
      trustProxy: 2,
      apiDocsUi: true,
      health: { databaseTimeoutMs: 250, shutdownDelayMs: 5000 },
      shutdownTimeoutMs: 20_000,
      exports: { maxConcurrentPerPrincipal: 4, writeIdleTimeoutMs: 0 },
    });
  });

  it('wants the shutdown bound longer than the readiness delay, naming both', () => {
    expect(() =>
      loadOperationsConfig({ HEALTH_SHUTDOWN_DELAY_MS: '30000', SHUTDOWN_TIMEOUT_MS: '30000' }, true),
    ).toThrow('SHUTDOWN_TIMEOUT_MS (30000) must be longer than HEALTH_SHUTDOWN_DELAY_MS (30000).');
    expect(() => loadOperationsConfig({ SHUTDOWN_TIMEOUT_MS: '500' }, true)).toThrow(
      'SHUTDOWN_TIMEOUT_MS must be an integer from 1000 to 3600000, got "500".',
    );
  });

  it.each([
    [
      'LOG_LEVEL',
      'verbose',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose".',
    ],
    ['LOG_FORMAT', 'text', 'LOG_FORMAT must be one of json, pretty, got "text".'],
    ['RATE_LIMIT_ENABLED', 'yes', 'RATE_LIMIT_ENABLED must be true or false, got "yes".'],
    [
      'REDIS_URL',
      'cache.internal:6379',
      'REDIS_URL must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379.',
    ],
    [
      'RATE_LIMIT_WINDOW_SECONDS',
      '0',
      'RATE_LIMIT_WINDOW_SECONDS must be an integer from 1 to 86400, got "0".',
    ],
    [
      'RATE_LIMIT_PER_PRINCIPAL',
      '1e3',
      'RATE_LIMIT_PER_PRINCIPAL must be an integer from 1 to 1000000, got "1e3".',
    ],
    ['RATE_LIMIT_PER_IP', '-1', 'RATE_LIMIT_PER_IP must be an integer from 1 to 1000000, got "-1".'],
    ['API_DOCS_UI', 'on', 'API_DOCS_UI must be true or false, got "on".'],
    [
      'HEALTH_DATABASE_TIMEOUT_MS',
      '0',
      'HEALTH_DATABASE_TIMEOUT_MS must be an integer from 1 to 60000, got "0".',
    ],
    [
      'HEALTH_SHUTDOWN_DELAY_MS',
      'soon',
      'HEALTH_SHUTDOWN_DELAY_MS must be an integer from 0 to 600000, got "soon".',
    ],
  ])('rejects %s=%p, naming it', (name, value, message) => {
    expect(configErrorFor({ [name]: value }).message).toBe(message);
  });

  describe('TRUST_PROXY', () => {
    it.each([
      ['false', false],
      ['1', 1],
      ['10', 10],
      ['10.0.0.1', ['10.0.0.1']],
      ['10.0.0.0/8, 192.168.1.7,loopback', ['10.0.0.0/8', '192.168.1.7', 'loopback']],
      ['::1/128,fd00::/8,uniquelocal,linklocal', ['::1/128', 'fd00::/8', 'uniquelocal', 'linklocal']],
    ])('accepts %p', (value, expected) => {
      expect(loadOperationsConfig({ TRUST_PROXY: value }, false).trustProxy).toEqual(expected);
    });

    it('refuses true, which would let any client pick its address', () => {
      expect(configErrorFor({ TRUST_PROXY: 'true' }).message).toMatch(
        /^TRUST_PROXY=true would let any client/,
      );
    });

    it.each(['0', '11', '10.0.0.0/33', '10.0.0.256', 'proxy.internal', '10.0.0.1/8/2', '::1/129'])(
      'refuses %p, naming the variable',
      (value) => {
        expect(configErrorFor({ TRUST_PROXY: value }).message).toMatch(/^TRUST_PROXY must be/);
      },
    );
  });
});
