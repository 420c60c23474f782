import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadAppConfig, type AppConfig } from '../src/config/app-config';

const ROOT = resolve(__dirname, '..');

/** `.env.example` as name → value, in file order. */
function envExample(): Map<string, string> {
  const entries = readFileSync(resolve(ROOT, '.env.example'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))
    .map((line): [string, string] => {
      const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
      if (!match) throw new Error(`.env.example: not NAME=value: ${line}`);
      return [match[1], match[2]];
    });
  return new Map(entries);
}

/** The README's configuration table as name → default cell, in table order. */
function readmeTable(): Map<string, string> {
  const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Configuration\n'), readme.indexOf('\n## The database\n'));
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line): [string, string] => {
      const [name, defaultValue] = line
        .split('|')
        .slice(1, 3)
        .map((cell) => cell.trim());
      return [name.replace(/`/g, ''), defaultValue];
    });
  return new Map(rows);
}

/** Every variable `loadAppConfig` reads, with and without a database server configured. */
function variablesRead(): Set<string> {
  const read = new Set<string>();
  for (const given of [{}, { DATABASE_URL: 'postgres://db/items' }, { TRUST_PROXY: '1' }]) {
    const env = new Proxy(given as Record<string, string | undefined>, {
      get(target, name) {
        if (typeof name === 'string') read.add(name);
        return target[name as string];
      },
    });
    loadAppConfig(env);
  }
  return read;
}

/** The config with the generated development secret blanked, so that two loads compare equal. */
function comparable(config: AppConfig): AppConfig {
  return config.auth.kind === 'secret' && config.auth.generatedForDevelopment
    ? { ...config, auth: { ...config.auth, secret: '<generated>' } }
    : config;
}

describe('configuration', () => {
  it('.env.example and the README table list the same variables, in the same order', () => {
    expect([...envExample().keys()]).toEqual([...readmeTable().keys()]);
  });

  it('they list exactly the variables the code reads', () => {
    expect([...envExample().keys()].sort()).toEqual([...variablesRead()].sort());
  });

  it('the README gives each .env.example value as the default, and describes the computed ones', () => {
    const table = readmeTable();
    for (const [name, value] of envExample()) {
      const cell = table.get(name);
      if (value === '')
        expect({ name, cell }).toEqual({ name, cell: expect.not.stringMatching(/^`[^`]*`$/) });
      else expect({ name, cell }).toEqual({ name, cell: `\`${value}\`` });
    }
  });

  it('.env.example’s values are the defaults: loading it gives the configuration of an empty environment', () => {
    const example = Object.fromEntries(envExample());
    expect(comparable(loadAppConfig(example))).toEqual(comparable(loadAppConfig({})));
    const production = { NODE_ENV: 'production', AUTH_JWT_SECRET: 'a-production-secret-of-32-characters' };
    expect(loadAppConfig({ ...example, ...production })).toEqual(loadAppConfig(production));
  });

  describe('a wrong value stops the service with a message naming the variable', () => {
    /** Starts `src/main.ts` with this environment; it must exit before listening. */
    function start(env: Record<string, string>) {
      const { PATH, HOME } = process.env;
      return spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
        cwd: ROOT,
        env: { PATH, HOME, PGLITE_DATA_DIR: 'memory://', LOG_FORMAT: 'json', ...env },
        encoding: 'utf8',
        timeout: 60_000,
      });
    }

    it.each([
      ['PORT', { PORT: 'eighty' }, 'PORT must be an integer from 0 to 65535, got "eighty".'],
      [
        'RATE_LIMIT_PER_IP',
        { RATE_LIMIT_PER_IP: '0' },
        'RATE_LIMIT_PER_IP must be an integer from 1 to 1000000, got "0".',
      ],
      [
        'TRUST_PROXY',
        { TRUST_PROXY: 'true' },
        'TRUST_PROXY=true would let any client choose its address with X-Forwarded-For',
      ],
    ])('%s', (_name, env, message) => {
      const result = start(env);
      expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({
        status: 1,
        output: expect.stringContaining(`Configuration error: ${message}`),
      });
      expect(result.stdout + result.stderr).not.toContain('Listening on');
    });
  });
});
