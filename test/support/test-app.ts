import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import type { DestinationStream } from 'pino';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app';
import { loadAppConfig } from '../../src/config/app-config';
import { IN_MEMORY, openDatabase, type OpenDatabase } from '../../src/database/database-server';
import { ExecutionItemsService, ExecutionRunsService } from '../../src/execution-items';
import { describedByDocument } from './contract/served-apps';
import { copyOfTemplate } from './embedded-templates';
import { TEST_SECRET } from './tokens';

export interface TestApp {
  app: NestFastifyApplication;
  /** For supertest. */
  http: ReturnType<NestFastifyApplication['getHttpServer']>;
  /** The module's reads. */
  service: ExecutionItemsService;
  /** The module's writes. */
  runs: ExecutionRunsService;
  dataSource: DataSource;
  /** `SIGTERM` closes as the service does on that signal (readiness first answers 503). */
  close(signal?: string): Promise<void>;
}

/** True when this run uses the PostgreSQL server at `DATABASE_URL` rather than embedded PGlite. */
export const onServer = Boolean(process.env.DATABASE_URL);

/**
 * A database of the test file's own: in-memory PGlite by default, or a fresh database created
 * on the server at `DATABASE_URL` (dropped on close), so test files running in parallel never
 * see each other's rows.
 */
export async function openTestDatabase(): Promise<OpenDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    // Empty, as a new database on the server is: the caller migrates it (or tests the migrations).
    const dataDir = copyOfTemplate('blank');
    const database = await openDatabase({ kind: 'embedded', dataDir: dataDir ?? IN_MEMORY });
    return { ...database, close: () => database.close().finally(() => removeDataDir(dataDir)) };
  }
  const server = await createServerDatabase(adminUrl);
  return {
    kind: 'server',
    url: server.url,
    poolSize: 5,
    startCheckpoints: () => async () => undefined,
    close: server.drop,
  };
}

/** The real standalone app (Fastify, JWT with the test secret) on a test database. */
export async function createTestApp(
  env: Record<string, string> = {},
  options: { logDestination?: DestinationStream } = {},
): Promise<TestApp> {
  const server = process.env.DATABASE_URL ? await createServerDatabase(process.env.DATABASE_URL) : null;
  // A copy of the migrated template, unless the caller names its own directory.
  const dataDir = server || env.PGLITE_DATA_DIR ? null : copyOfTemplate('migrated');
  const config = loadAppConfig({
    AUTH_JWT_SECRET: TEST_SECRET,
    DEMO_DATA: 'false',
    PGLITE_DATA_DIR: dataDir ?? IN_MEMORY,
    // Rate limits on, but out of the way of specs that send many requests with one token.
    RATE_LIMIT_PER_PRINCIPAL: '1000000',
    RATE_LIMIT_PER_IP: '1000000',
    // Swagger UI and the run viewer off: the specs that test them (openapi, web-ui) turn them on.
    API_DOCS_UI: 'false',
    UI_ENABLED: 'false',
    ...(server ? { DATABASE_URL: server.url, DATABASE_POOL_SIZE: '5' } : {}),
    ...env,
  });
  const running = await createApp(config, { logger: false, ...options });
  await running.app.getHttpAdapter().getInstance().ready();
  // Its answers are checked against the OpenAPI document (test/support/contract).
  describedByDocument(running.app.getHttpServer());
  return {
    app: running.app,
    http: running.app.getHttpServer(),
    service: running.app.get(ExecutionItemsService),
    runs: running.app.get(ExecutionRunsService),
    dataSource: running.app.get(DataSource),
    close: async (signal?: string) => {
      await running.close(signal);
      await server?.drop();
      removeDataDir(dataDir);
    },
  };
}

function removeDataDir(dataDir: string | null): void {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}

/** Creates an empty database beside the one `adminUrl` names. */
export async function createServerDatabase(
  adminUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `ei_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** Runs `work` on a connection of its own to `url`, closed after. */
export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
