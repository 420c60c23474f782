import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Logger } from '@nestjs/common';
import { lockDataDir } from './data-dir-lock';
import type { DatabaseConnection, ReplicaSettings } from './typeorm-options';
import { checkpointWhenWalExceeds } from './wal-checkpoints';

/** `PGLITE_DATA_DIR` value that keeps the embedded database in memory. */
export const IN_MEMORY = 'memory://';

/** Where the service's data lives: a PostgreSQL server, or PGlite embedded in the process. */
export type DatabaseSettings = ServerSettings | { kind: 'embedded'; dataDir: string };

export interface ServerSettings {
  kind: 'server';
  url: string;
  poolSize: number;
  /** Longest a statement may run before the server cancels it (0: no limit). */
  statementTimeoutMs?: number;
  /** Longest a request waits for a pooled connection. */
  poolWaitMs?: number;
  /** Further attempts to connect at start, 3 s apart, before giving up. */
  connectRetries?: number;
  /** Read replicas of the server, for the reads that may lag (`DATABASE_REPLICA_URLS`). */
  replicas?: ReplicaSettings;
}

export interface OpenDatabase extends DatabaseConnection {
  kind: DatabaseSettings['kind'];
  /**
   * Keeps the embedded database's WAL within `max_wal_size` while it runs: `checkpoint` (a
   * CHECKPOINT through the caller's pool) whenever pg_wal holds more (`checkpointWhenWalExceeds`).
   * Nothing to do on a server, whose checkpointer does it, or in memory. Returns the stop; call
   * it before the pool closes.
   */
  startCheckpoints(checkpoint: () => Promise<unknown>): () => Promise<void>;
  /** Stops the embedded database, if one was started; call after the pool has closed. */
  close(): Promise<void>;
}

const nothingToStop = () => async () => undefined;

/**
 * Resolves the settings into a connection. Without `DATABASE_URL` it starts PGlite (PostgreSQL
 * compiled to WASM) in this process and serves it on a loopback port through
 * `@electric-sql/pglite-socket`, so the app reaches it with the same `pg` driver, SQL and
 * migrations as a real server.
 */
export async function openDatabase(settings: DatabaseSettings): Promise<OpenDatabase> {
  if (settings.kind === 'server') {
    const { kind: _kind, ...connection } = settings;
    return { kind: 'server', ...connection, startCheckpoints: nothingToStop, close: async () => undefined };
  }
  return startEmbeddedPostgres(settings.dataDir);
}

/** Most WAL the embedded database keeps between checkpoints (its `max_wal_size`). */
export const EMBEDDED_MAX_WAL_BYTES = 64 * 1024 * 1024;

/**
 * PostgreSQL settings for the embedded database, lighter than PGlite's defaults (shared_buffers
 * 128MB, wal_level replica, WAL segments recycled and zero-filled). PGlite runs PostgreSQL as a
 * single-user backend without a checkpointer process, so `max_wal_size` and `checkpoint_timeout`
 * start no checkpoint there: `startCheckpoints` does that work. Nothing replicates from it, so
 * bulk writes need not be logged in full, and a segment the checkpoint no longer needs is deleted
 * rather than kept for reuse. See docs/database.md, "Settings of the embedded database".
 */
export const EMBEDDED_SETTINGS = [
  'shared_buffers=32MB',
  'wal_level=minimal',
  'max_wal_senders=0',
  `max_wal_size=${EMBEDDED_MAX_WAL_BYTES / 1024 / 1024}MB`,
  'wal_recycle=off',
  'wal_init_zero=off',
];

async function startEmbeddedPostgres(dataDir: string): Promise<OpenDatabase> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  // The search and outcome-type indexes need pg_trgm and btree_gin (see the ItemQueries migration).
  const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
  const { btree_gin } = await import('@electric-sql/pglite/contrib/btree_gin');
  let unlock = () => undefined as void;
  if (dataDir !== IN_MEMORY) {
    mkdirSync(dataDir, { recursive: true });
    // One process per data directory, before anything is read or written (see data-dir-lock.ts).
    unlock = lockDataDir(dataDir);
  }
  const startParams = [
    ...PGlite.defaultStartParams,
    ...EMBEDDED_SETTINGS.flatMap((setting) => ['-c', setting]),
  ];
  let db: Awaited<ReturnType<typeof PGlite.create>>;
  try {
    if (dataDir !== IN_MEMORY) await createDataDir(dataDir, startParams);
    db = await PGlite.create(dataDir, { extensions: { pg_trgm, btree_gin }, startParams });
  } catch (error) {
    unlock();
    throw error;
  }
  // PGlite is one backend: the socket server multiplexes connections at the protocol-message
  // level, which interleaves the extended-protocol messages of concurrent clients. One
  // connection, and a pool of one, keeps every statement and transaction whole.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  new Logger('Database').log(`Embedded PostgreSQL (PGlite) on ${server.getServerConn()}, data in ${dataDir}`);
  return {
    kind: 'embedded',
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    poolSize: 1,
    // One connection: a request may wait behind an export, so it waits longer than on a server.
    poolWaitMs: 30_000,
    startCheckpoints:
      dataDir === IN_MEMORY
        ? nothingToStop
        : (checkpoint) => checkpointWhenWalExceeds(dataDir, EMBEDDED_MAX_WAL_BYTES, checkpoint),
    close: async () => {
      try {
        await server.stop();
        await db.close();
      } finally {
        unlock();
      }
    },
  };
}

/**
 * Runs initdb for a data directory that has no database yet, in a child process. PGlite runs
 * initdb in a second PostgreSQL instance with a WASM heap of its own; in this process that memory
 * would stay resident after the instance is closed (the service measured 574 to 709 MB idle after
 * its first start, about 260 MB after later ones). A child's memory goes with it.
 */
async function createDataDir(dataDir: string, startParams: string[]): Promise<void> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  const script = [
    'const [pglite, dataDir, startParams] = process.argv.slice(1);',
    'import(pglite)',
    '  .then(async ({ PGlite }) => (await PGlite.create(dataDir, { startParams: JSON.parse(startParams) })).close())',
    '  .catch((error) => { process.stderr.write(String(error?.message ?? error)); process.exit(1); });',
  ].join('\n');
  const pglite = pathToFileURL(require.resolve('@electric-sql/pglite')).href;
  const child = spawn(process.execPath, ['-e', script, pglite, dataDir, JSON.stringify(startParams)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`Creating the embedded database in ${dataDir} failed: ${stderr.trim()}`);
}

/** PGlite's socket server does not carry COPY FROM STDIN; a server takes the faster COPY. */
export function appendMethodFor(database: Pick<OpenDatabase, 'kind'>): 'copy' | 'insert' {
  return database.kind === 'embedded' ? 'insert' : 'copy';
}
