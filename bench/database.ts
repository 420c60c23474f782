/** The bench's database: made fresh (or given), the module's services on it, and what PostgreSQL tells about it. */
import type { INestApplicationContext } from '@nestjs/common';
import { Client } from 'pg';
import { executionItemsServices, withCliContext } from '../src/cli/cli-context';

const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const BENCH_DATABASE = 'ei_bench';

export interface BenchDatabase {
  url: string;
  /** True when the bench dropped and created it. */
  fresh: boolean;
}

export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, application_name: 'ei-bench' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** `url` with another database name. */
export function databaseUrl(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** `BENCH_DATABASE_URL` when set; otherwise `ei_bench` on the local server, dropped and created. */
export async function prepareDatabase(): Promise<BenchDatabase> {
  const given = process.env.BENCH_DATABASE_URL?.trim();
  if (given) return { url: given, fresh: false };
  await withClient(DEFAULT_SERVER_URL, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${BENCH_DATABASE}`);
  });
  return { url: databaseUrl(DEFAULT_SERVER_URL, BENCH_DATABASE), fresh: true };
}

/**
 * The execution-items services on `url`, through the command-line tools' one bootstrap
 * (`withCliContext`: the service's migrations, a Nest application context, everything closed after).
 */
export function withServices<T>(
  url: string,
  work: (app: INestApplicationContext) => Promise<T>,
  env: Record<string, string> = {},
): Promise<T> {
  Object.assign(process.env, { ...env, DATABASE_URL: url });
  return withCliContext(executionItemsServices, work);
}

/** A new, empty database `name` on the server of `url` (dropped first if it exists), and its drop. */
export async function scratchDatabase(
  url: string,
  name: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const drop = () =>
    withClient(
      url,
      async (client) => void (await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
    );
  await drop();
  await withClient(url, async (client) => void (await client.query(`CREATE DATABASE ${name}`)));
  return { url: databaseUrl(url, name), drop };
}

export async function vacuumAnalyze(url: string): Promise<void> {
  await withClient(url, async (client) => {
    await client.query('VACUUM ANALYZE');
    await client.query('CHECKPOINT');
  });
}

export async function checkpoint(url: string): Promise<void> {
  await withClient(url, async (client) => void (await client.query('CHECKPOINT')));
}

/** The server's settings the report names (autovacuum off: only inserts past gin_pending_list_limit empty a GIN pending list). */
const SETTINGS = {
  version: 'server_version',
  sharedBuffers: 'shared_buffers',
  maxParallelWorkersPerGather: 'max_parallel_workers_per_gather',
  jit: 'jit',
  autovacuum: 'autovacuum',
  ginPendingListLimit: 'gin_pending_list_limit',
};
export type ServerFacts = Record<keyof typeof SETTINGS, string>;
export type TableSizes = Awaited<ReturnType<typeof tableSizes>>;

export async function serverFacts(url: string): Promise<ServerFacts> {
  const columns = Object.entries(SETTINGS).map(([key, name]) => `current_setting('${name}') AS "${key}"`);
  return withClient(
    url,
    async (client) => (await client.query<ServerFacts>(`SELECT ${columns.join(', ')}`)).rows[0],
  );
}

/**
 * execution_items' size: its rows (counted: in a reused database, earlier runs' ingestion rows
 * that no ANALYZE has seen), the table (heap with its TOAST, free space and visibility maps:
 * `pg_table_size`) and all its indexes (`pg_indexes_size`), pretty and in bytes.
 */
export async function tableSizes(url: string) {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{
      itemRows: number;
      itemsTable: string;
      itemsIndexes: string;
      tableBytes: number;
      indexBytes: number;
    }>(
      `SELECT (SELECT count(*) FROM execution_items)::float8 AS "itemRows",
              pg_size_pretty(pg_table_size('execution_items')) AS "itemsTable",
              pg_size_pretty(pg_indexes_size('execution_items')) AS "itemsIndexes",
              pg_table_size('execution_items')::float8 AS "tableBytes",
              pg_indexes_size('execution_items')::float8 AS "indexBytes"`,
    );
    return rows[0];
  });
}

export interface GinPending {
  name: string;
  pendingPages: number;
  pendingTuples: number;
}

/**
 * The pending lists of the GIN indexes of execution_items (pgstatginindex): inserts land there
 * (fastupdate) until a vacuum or the list passing gin_pending_list_limit merges them, and every
 * scan of the index reads the whole list. Empty when pgstattuple is not installed.
 */
export async function ginPendingLists(url: string): Promise<GinPending[]> {
  return withClient(url, async (client) => {
    const installed = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'pgstattuple'");
    if (installed.rowCount === 0) return [];
    const { rows } = await client.query<GinPending>(
      `SELECT c.relname AS name, g.pending_pages AS "pendingPages", g.pending_tuples::float8 AS "pendingTuples"
         FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid
         JOIN pg_am am ON am.oid = c.relam AND am.amname = 'gin'
         CROSS JOIN LATERAL pgstatginindex(i.indexrelid::regclass) g
        WHERE i.indrelid = 'execution_items'::regclass
        ORDER BY c.relname`,
    );
    return rows;
  });
}

export interface IndexStats {
  name: string;
  /** Access method: btree, gin, ... */
  method: string;
  size: string;
  bytes: number;
  /** pgstatindex figures, for B-tree indexes only (null for the others). */
  leafPages: number | null;
  avgLeafDensity: number | null;
  entriesPerLeaf: number | null;
}

/**
 * Size of each index of execution_items, and leaf pages and density of the B-tree ones
 * (pgstattuple's pgstatindex, which refuses other access methods such as GIN). The extension is
 * created only in a database the bench made itself; in a given database the densities are
 * reported when it is installed there already, the sizes always.
 */
export async function itemIndexStats(url: string, fresh: boolean): Promise<IndexStats[]> {
  return withClient(url, async (client) => {
    if (fresh) await client.query('CREATE EXTENSION IF NOT EXISTS pgstattuple');
    const { rows: installed } = await client.query(
      `SELECT 1 FROM pg_extension WHERE extname = 'pgstattuple'`,
    );
    const density =
      installed.length > 0
        ? `LEFT JOIN LATERAL pgstatindex(CASE WHEN am.amname = 'btree' THEN s.indexrelid::regclass END) b ON true`
        : `LEFT JOIN LATERAL (SELECT NULL::float8 AS leaf_pages, NULL::float8 AS avg_leaf_density) b ON true`;
    const { rows } = await client.query<IndexStats>(
      `SELECT s.indexrelname AS name, am.amname AS method, pg_size_pretty(pg_relation_size(s.indexrelid)) AS size,
              pg_relation_size(s.indexrelid)::float8 AS bytes,
              b.leaf_pages::float8 AS "leafPages", b.avg_leaf_density AS "avgLeafDensity",
              c.reltuples / nullif(b.leaf_pages, 0) AS "entriesPerLeaf"
         FROM pg_stat_user_indexes s
         JOIN pg_class c ON c.oid = s.indexrelid
         JOIN pg_am am ON am.oid = c.relam
         ${density}
        WHERE s.relname = 'execution_items'
        ORDER BY s.indexrelname`,
    );
    return rows;
  });
}
