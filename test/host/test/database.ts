import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface HostDatabase {
  url: string;
  /** PGlite in this process, behind pglite-socket. */
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * A fresh database: on the PostgreSQL server at `DATABASE_URL` (dropped on close), or else an
 * in-memory PGlite served on a loopback port, as the standalone service runs it.
 */
export async function openDatabase(): Promise<HostDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  return adminUrl ? createServerDatabase(adminUrl) : startEmbedded();
}

async function createServerDatabase(adminUrl: string): Promise<HostDatabase> {
  const name = `ei_host_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    embedded: false,
    close: () =>
      withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
  };
}

async function startEmbedded(): Promise<HostDatabase> {
  // Loaded untyped: PGlite's declarations need the DOM and Emscripten types, which a Node host
  // compiled with skipLibCheck off does not have.
  const load = (name: string): Promise<any> => import(name);
  const { PGlite } = await load('@electric-sql/pglite');
  const { PGLiteSocketServer } = await load('@electric-sql/pglite-socket');
  const { pg_trgm } = await load('@electric-sql/pglite/contrib/pg_trgm');
  const { btree_gin } = await load('@electric-sql/pglite/contrib/btree_gin');
  const db = await PGlite.create('memory://', { extensions: { pg_trgm, btree_gin } });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    embedded: true,
    close: async () => {
      await server.stop();
      await db.close();
    },
  };
}

async function withClient(url: string, work: (client: Client) => Promise<unknown>): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
