import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { LOCK_FILE } from '../src/database/data-dir-lock';
import { openDatabase } from '../src/database/database-server';
import { buildTypeOrmOptions } from '../src/database/typeorm-options';
import { runScript } from './support/cli-database';
import { copyOfTemplate } from './support/embedded-templates';

/**
 * One process per PGlite data directory. These tests use the embedded database whatever
 * DATABASE_URL says (the tools run with PGLITE_DATA_DIR only), so they run the same on both
 * databases.
 */
// Each case starts PGlite and a command-line tool (ts-node) or two: minutes on a busy machine.
jest.setTimeout(600_000);

describe('the embedded database: one process per data directory', () => {
  let dataDir: string;
  const env = () => ({ PGLITE_DATA_DIR: dataDir });
  const lockPath = () => join(dataDir, LOCK_FILE);

  beforeEach(() => {
    dataDir = copyOfTemplate('blank') ?? mkdtempSync(join(tmpdir(), 'ei-lock-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  /** Opens the directory in this process (migrated), runs `work`, closes it. */
  async function holding<T>(work: (dataSource: DataSource) => Promise<T>): Promise<T> {
    const database = await openDatabase({ kind: 'embedded', dataDir });
    try {
      const dataSource = await new DataSource(buildTypeOrmOptions(database)).initialize();
      try {
        await dataSource.runMigrations();
        return await work(dataSource);
      } finally {
        await dataSource.destroy();
      }
    } finally {
      await database.close();
    }
  }

  const keyCount = () =>
    holding(async (dataSource) =>
      Number((await dataSource.query('SELECT count(*) AS n FROM api_keys'))[0].n),
    );

  it('a CLI (apikey, migration:run) on a directory another process holds exits 75 naming the holder and how to proceed; nothing is written', async () => {
    const refused = await holding(async () => {
      expect(JSON.parse(readFileSync(lockPath(), 'utf8'))).toMatchObject({ pid: process.pid });
      const migrations = await runScript('migration:run', [], env());
      expect(migrations.code).toBe(75);
      expect(migrations.stderr).toContain(`is in use by process ${process.pid}`);
      return runScript('apikey', ['create', '--name', 'second-writer', '--role', 'Administrator'], env());
    });
    expect(refused.code).toBe(75);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(
      `The embedded database in ${dataDir} is in use by process ${process.pid}`,
    );
    expect(refused.stderr).toContain('nothing was done');
    expect(refused.stderr).toContain('Stop that process');
    expect(refused.stderr).toContain('DATABASE_URL');
    expect(refused.stderr).not.toMatch(/^\s+at /m);
    expect(await keyCount()).toBe(0);
  });

  it('the holder releases the directory when it closes: the next process takes it, and releases it at exit', async () => {
    await holding(async () => undefined);
    expect(existsSync(lockPath())).toBe(false);
    const created = await runScript(
      'apikey',
      ['create', '--name', 'after', '--role', 'Administrator'],
      env(),
    );
    expect(created.code).toBe(0);
    expect(existsSync(lockPath())).toBe(false);
    expect(await keyCount()).toBe(1);
  });

  it('a lock left by a process that died is taken over', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(
      lockPath(),
      JSON.stringify({ pid: dead, command: 'dist/main', since: '2026-01-01T00:00:00.000Z' }),
    );
    const created = await runScript(
      'apikey',
      ['create', '--name', 'survivor', '--role', 'Administrator'],
      env(),
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(existsSync(lockPath())).toBe(false);
    expect(await keyCount()).toBe(1);
  });

  it('a second open in the same process is refused too', async () => {
    await holding(async () => {
      await expect(openDatabase({ kind: 'embedded', dataDir })).rejects.toThrow(
        `is in use by process ${process.pid}`,
      );
    });
  });
});
