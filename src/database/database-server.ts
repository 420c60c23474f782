import { mkdirSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { lockDataDir } from './data-dir-lock';
import type { DatabaseConnection, ReplicaSettings } from './typeorm-options';

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
  /** Stops the embedded database, if one was started; call after the pool has closed. */
  close(): Promise<void>;
}

/**
 * Resolves the settings into a connection. Without `DATABASE_URL` it starts PGlite (PostgreSQL
 * compiled to WASM) in this process and serves it on a loopback port through
 * `@electric-sql/pglite-socket`, so the app reaches it with the same `pg` driver, SQL and
 * migrations as a real server.
 */
export async function openDatabase(settings: DatabaseSettings): Promise<OpenDatabase> {
  if (settings.kind === 'server') {
    const { kind: _kind, ...connection } = settings;
    return { kind: 'server', ...connection, close: async () => undefined };
  }
  return startEmbeddedPostgres(settings.dataDir);
}

/**
 * PostgreSQL settings for the embedded database, lighter than PGlite's defaults (shared_buffers
 * 128MB, max_wal_size 1GB, min_wal_size 80MB, wal_level replica): nothing replicates from it, so
 * bulk writes need not be logged in full and old WAL segments go at each checkpoint. See
 * docs/database.md, "Embedded PGlite".
 */
export const EMBEDDED_SETTINGS = [
  'shared_buffers=32MB',
  'wal_level=minimal',
  'max_wal_senders=0',
  'min_wal_size=32MB',
  'max_wal_size=64MB',
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
  let db: Awaited<ReturnType<typeof PGlite.create>>;
  try {
    db = await PGlite.create(dataDir, {
      extensions: { pg_trgm, btree_gin },
      startParams: [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS.flatMap((setting) => ['-c', setting])],
    });
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

/** PGlite's socket server does not carry COPY FROM STDIN; a server takes the faster COPY. */
export function appendMethodFor(database: Pick<OpenDatabase, 'kind'>): 'copy' | 'insert' {
  return database.kind === 'embedded' ? 'insert' : 'copy';
}
