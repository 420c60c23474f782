import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { openDatabase } from '../../src/database/database-server';
import { buildTypeOrmOptions } from '../../src/database/typeorm-options';
import { copyOfTemplate } from './embedded-templates';
import { createServerDatabase } from './test-app';

/**
 * A database for a command-line tool to run against in a process of its own: a fresh database on
 * the server at `DATABASE_URL`, or else an embedded one in a temporary folder (PGlite allows one
 * process at a time, so the test opens it only between the tool's runs).
 */
export interface CliDatabase {
  /** Environment for the tool: `DATABASE_URL` or `PGLITE_DATA_DIR`. */
  env: Record<string, string>;
  /** Opens the database (migrated, unless `migrate` is false), runs `work`, and closes it again. */
  use<T>(work: (dataSource: DataSource) => Promise<T>, options?: { migrate?: boolean }): Promise<T>;
  drop(): Promise<void>;
}

export async function createCliDatabase(): Promise<CliDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl) {
    const server = await createServerDatabase(adminUrl);
    return {
      env: { DATABASE_URL: server.url },
      use: (work, options) => withDataSource({ url: server.url, poolSize: 2 }, work, options),
      drop: server.drop,
    };
  }
  // Initialised, not migrated: the tests of the migrations tool see the database a new install has.
  const dataDir = copyOfTemplate('blank') ?? mkdtempSync(join(tmpdir(), 'ei-cli-'));
  return {
    env: { PGLITE_DATA_DIR: dataDir },
    use: async (work, options) => {
      const database = await openDatabase({ kind: 'embedded', dataDir });
      try {
        return await withDataSource(database, work, options);
      } finally {
        await database.close();
      }
    },
    drop: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

async function withDataSource<T>(
  connection: { url: string; poolSize: number },
  work: (dataSource: DataSource) => Promise<T>,
  { migrate = true }: { migrate?: boolean } = {},
): Promise<T> {
  const dataSource = await new DataSource(buildTypeOrmOptions(connection)).initialize();
  try {
    if (migrate) await dataSource.runMigrations();
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `npm run <script> -- <args>` the way an operator would, with the database in `env`. */
export function runScript(script: string, args: string[], env: Record<string, string>): Promise<CliResult> {
  const { DATABASE_URL: _admin, PGLITE_DATA_DIR: _dir, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['run', '--silent', script, '--', ...args],
      { cwd: join(__dirname, '..', '..'), env: { ...inherited, ...env }, timeout: 300_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
