import { createCliDatabase, runScript, type CliDatabase, type CliResult } from './support/cli-database';
import { onServer } from './support/test-app';

/** Nothing meant for a terminal (colours, a line rewritten in place) in output that goes to a pipe. */
function expectPlain(result: CliResult): void {
  for (const text of [result.stdout, result.stderr]) {
    expect(text.includes('\u001b') || text.includes('\r')).toBe(false);
  }
}

describe('command-line tools: help', () => {
  it.each([
    ['apikey', ['--help'], 'npm run apikey -- create --name <name>'],
    ['apikey', ['list', '-h'], 'npm run apikey -- revoke <id, prefix or key>'],
    ['generate', ['-h'], 'Usage: npm run generate -- --items <n>'],
    ['purge', ['--help'], 'Usage: npm run purge -- [--older-than <days>]'],
    ['migration:revert', ['--help'], 'npm run migration:revert -- [--yes] [--json]'],
  ])(
    'npm run %s %j prints the usage and exits 0 without opening a database',
    async (script, args, usage) => {
      // A database that cannot be reached: help must not need one.
      const result = await runScript(script, args, { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toContain(usage);
      expectPlain(result);
    },
    300_000,
  );
});

describe('command-line tools: a database that cannot be used', () => {
  it('retries an unreachable server DATABASE_CONNECT_RETRIES times, one line each, then exits 1 without a stack trace', async () => {
    const result = await runScript('apikey', ['list'], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test',
      DATABASE_CONNECT_RETRIES: '1',
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')).toEqual([
      expect.stringMatching(
        /^Cannot connect to the database on 127\.0\.0\.1:1 \(.*ECONNREFUSED.*\); trying again in 3 s \(retry 1 of 1, DATABASE_CONNECT_RETRIES\)\.$/,
      ),
      expect.stringMatching(
        /^Cannot connect to the database on 127\.0\.0\.1:1 \(.*ECONNREFUSED.*\) after 2 attempts\.$/,
      ),
      '',
    ]);
    expectPlain(result);
  }, 300_000);

  // A database name means something only to a PostgreSQL server: PGlite serves any name.
  (onServer ? it : it.skip)(
    'does not retry a database that does not exist (3D000): one line, exit 1',
    async () => {
      const url = new URL(process.env.DATABASE_URL!);
      url.pathname = '/ei_no_such_database';
      const result = await runScript('generate', ['--items', '1'], {
        DATABASE_URL: url.toString(),
        DATABASE_CONNECT_RETRIES: '5',
      });
      expect(result).toEqual({
        code: 1,
        stdout: '',
        stderr: `The database "ei_no_such_database" does not exist on ${url.host}: create it (createdb ei_no_such_database) or correct DATABASE_URL.\n`,
      });
    },
    300_000,
  );
});

describe('command-line tools on the configured database', () => {
  let database: CliDatabase;

  beforeAll(async () => {
    database = await createCliDatabase();
  });
  afterAll(() => database?.drop());

  it('apikey --json: create, list and revoke as JSON; revoking again says it was already revoked and exits 0', async () => {
    const created = await runScript(
      'apikey',
      ['create', '--name', 'scripted', '--role', 'Administrator', '--json'],
      database.env,
    );
    expect(created.code).toBe(0);
    expectPlain(created);
    const { key, apiKey } = JSON.parse(created.stdout) as {
      key: string;
      apiKey: { id: string; prefix: string };
    };
    expect(key).toMatch(/^eik_[0-9A-Za-z]{40}$/);
    expect(apiKey).toEqual({
      id: expect.any(String),
      name: 'scripted',
      prefix: key.slice(0, 12),
      roles: ['Administrator'],
      created: expect.any(String),
      expires: null,
      revoked: null,
      status: 'active',
    });

    const revoked = await runScript('apikey', ['revoke', apiKey.prefix, '--json'], database.env);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toEqual({
      apiKey: {
        ...apiKey,
        name: 'scripted',
        roles: ['Administrator'],
        created: expect.any(String),
        expires: null,
        revoked: expect.any(String),
        status: 'revoked',
      },
      alreadyRevoked: false,
    });
    const revokedAt = (JSON.parse(revoked.stdout) as { apiKey: { revoked: string } }).apiKey.revoked;

    const again = await runScript('apikey', ['revoke', apiKey.id], database.env);
    expect(again).toEqual({
      code: 0,
      stdout: `API key ${apiKey.id} (${apiKey.prefix}, "scripted") was already revoked on ${revokedAt}; nothing changed.\n`,
      stderr: '',
    });

    const listed = await runScript('apikey', ['list', '--json'], database.env);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ id: apiKey.id, status: 'revoked', revoked: revokedAt }),
    ]);
    const [row] = await database.use((dataSource) => dataSource.query('SELECT revoked FROM api_keys'));
    expect((row.revoked as Date).toISOString()).toBe(revokedAt);
  }, 900_000);

  it('generate writes plain progress lines when stderr is not a terminal, and the result as JSON', async () => {
    const result = await runScript(
      'generate',
      ['--items', '30', '--batch-size', '10', '--json'],
      database.env,
    );
    expect(result.code).toBe(0);
    expectPlain(result);
    const { activityId, items } = JSON.parse(result.stdout) as { activityId: string; items: number };
    expect(items).toBe(30);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines.map((line) => line.replace(/, .*$/, ''))).toEqual([
      '33% 10 of 30 items',
      '66% 20 of 30 items',
      '100% 30 of 30 items',
    ]);
    expect(lines.at(-1)).toMatch(/^100% 30 of 30 items, [\d,]+ items\/s, \d+\.\d s, RSS \d+ MB$/);
    const [{ count }] = await database.use((dataSource) =>
      dataSource.query('SELECT item_count AS count FROM activities WHERE id = $1', [activityId]),
    );
    expect(count).toBe(30);
  }, 600_000);

  it('migration:revert says what the last migration drops and drops nothing without --yes; with it, it reverts; migration:run applies it again', async () => {
    const schema = () =>
      database.use(
        async (dataSource) => ({
          migrations: (
            (await dataSource.query('SELECT name FROM migrations ORDER BY id')) as Array<{ name: string }>
          ).map((row) => row.name),
          tables: (
            (await dataSource.query(
              `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
            )) as Array<{ name: string }>
          ).map((row) => row.name),
        }),
        { migrate: false },
      );
    const before = await schema();
    const last = before.migrations.at(-1)!;

    const refused = await runScript('migration:revert', [], database.env);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toBe('');
    const refusal = refused.stderr.split('\n');
    expect(refusal[0]).toBe(`Reverting ${last} would drop:`);
    expect(refusal.at(-2)).toBe('Nothing was changed. Run again with --yes to revert it.');
    if (last === 'ApiKeys1795821298159') expect(refusal[1]).toBe('  table api_keys (1 row, deleted with it)');
    expect(await schema()).toEqual(before);

    const reverted = await runScript('migration:revert', ['--yes', '--json'], database.env);
    expect(reverted.code).toBe(0);
    const after = await schema();
    expect(after.migrations).toEqual(before.migrations.slice(0, -1));
    const droppedTables = before.tables.filter((table) => !after.tables.includes(table));
    const answer = JSON.parse(reverted.stdout) as {
      reverted: string;
      dropped: Array<{ kind: string; name: string }>;
    };
    expect(answer.reverted).toBe(last);
    expect(answer.dropped.filter((object) => object.kind === 'table').map((object) => object.name)).toEqual(
      droppedTables,
    );

    const applied = await runScript('migration:run', ['--json'], database.env);
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.stdout)).toEqual({ applied: [last] });
    expect((await schema()).migrations).toEqual(before.migrations);
  }, 900_000);
});
