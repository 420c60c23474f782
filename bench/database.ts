import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { buildTypeOrmOptions } from '../src/database/typeorm-options';

const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const BENCH_DATABASE = 'ei_bench';

export interface BenchDatabase {
  url: string;
  /** True when the bench dropped and created it. */
  fresh: boolean;
}

export async function connect(url: string, applicationName = 'ei-bench'): Promise<Client> {
  const client = new Client({ connectionString: url, application_name: applicationName });
  await client.connect();
  return client;
}

export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = await connect(url);
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** `BENCH_DATABASE_URL` when set; otherwise `ei_bench` on the local server, dropped and created. */
export async function prepareDatabase(): Promise<BenchDatabase> {
  const given = process.env.BENCH_DATABASE_URL?.trim();
  if (given) return { url: given, fresh: false };
  await withClient(DEFAULT_SERVER_URL, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${BENCH_DATABASE}`);
  });
  const url = new URL(DEFAULT_SERVER_URL);
  url.pathname = `/${BENCH_DATABASE}`;
  return { url: url.toString(), fresh: true };
}

/** The service's migrations, through the same TypeORM options the service builds. */
export async function runMigrations(url: string): Promise<void> {
  const dataSource = new DataSource(buildTypeOrmOptions({ url, poolSize: 2 }));
  await dataSource.initialize();
  try {
    await dataSource.runMigrations();
  } finally {
    await dataSource.destroy();
  }
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

export interface ServerFacts {
  version: string;
  sharedBuffers: string;
  maxParallelWorkersPerGather: string;
  jit: string;
  /** Off means nothing but inserts past gin_pending_list_limit empties a GIN pending list. */
  autovacuum: string;
  ginPendingListLimit: string;
}

export async function serverFacts(url: string): Promise<ServerFacts> {
  return withClient(url, async (client) => {
    const setting = async (name: string) =>
      (await client.query<Record<string, string>>(`SHOW ${name}`)).rows[0][name];
    return {
      version: await setting('server_version'),
      sharedBuffers: await setting('shared_buffers'),
      maxParallelWorkersPerGather: await setting('max_parallel_workers_per_gather'),
      jit: await setting('jit'),
      autovacuum: await setting('autovacuum'),
      ginPendingListLimit: await setting('gin_pending_list_limit'),
    };
  });
}

export interface TableSizes {
  itemRows: number;
  itemsTable: string;
  itemsIndexes: string;
}

export async function tableSizes(url: string): Promise<TableSizes> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ rows: string; heap: string; indexes: string }>(
      `SELECT (SELECT reltuples::bigint FROM pg_class WHERE relname = 'execution_items')::text AS rows,
              pg_size_pretty(pg_table_size('execution_items')) AS heap,
              pg_size_pretty(pg_indexes_size('execution_items')) AS indexes`,
    );
    return { itemRows: Number(rows[0].rows), itemsTable: rows[0].heap, itemsIndexes: rows[0].indexes };
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
    const { rows } = await client.query<{ name: string; pending_pages: number; pending_tuples: string }>(
      `SELECT c.relname AS name, g.pending_pages, g.pending_tuples
         FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid
         JOIN pg_am am ON am.oid = c.relam AND am.amname = 'gin'
         CROSS JOIN LATERAL pgstatginindex(i.indexrelid::regclass) g
        WHERE i.indrelid = 'execution_items'::regclass
        ORDER BY c.relname`,
    );
    return rows.map((row) => ({
      name: row.name,
      pendingPages: row.pending_pages,
      pendingTuples: Number(row.pending_tuples),
    }));
  });
}

export interface IndexStats {
  name: string;
  /** Access method: btree, gin, ... */
  method: string;
  size: string;
  /** pgstatindex figures, for B-tree indexes only (null for the others). */
  leafPages: number | null;
  avgLeafDensity: number | null;
  entriesPerLeaf: number | null;
}

/**
 * Size of each index of execution_items, and leaf pages and density of the B-tree ones
 * (pgstattuple's pgstatindex, which refuses other access methods such as GIN). The extension is
 * created only in a database the bench made itself; otherwise, none reported.
 */
export async function itemIndexStats(url: string, fresh: boolean): Promise<IndexStats[]> {
  if (!fresh) return [];
  return withClient(url, async (client) => {
    await client.query('CREATE EXTENSION IF NOT EXISTS pgstattuple');
    const { rows: indexes } = await client.query<{
      oid: number;
      name: string;
      method: string;
      size: string;
      entries: string;
    }>(
      `SELECT s.indexrelid::int AS oid, s.indexrelname AS name, am.amname AS method,
              pg_size_pretty(pg_relation_size(s.indexrelid)) AS size, c.reltuples::bigint AS entries
         FROM pg_stat_user_indexes s
         JOIN pg_class c ON c.oid = s.indexrelid
         JOIN pg_am am ON am.oid = c.relam
        WHERE s.relname = 'execution_items'
        ORDER BY s.indexrelname`,
    );
    const stats: IndexStats[] = [];
    for (const index of indexes) {
      const { name, method, size } = index;
      if (method !== 'btree') {
        stats.push({ name, method, size, leafPages: null, avgLeafDensity: null, entriesPerLeaf: null });
        continue;
      }
      const { rows } = await client.query<{ leaf_pages: string; density: number }>(
        'SELECT leaf_pages, avg_leaf_density AS density FROM pgstatindex($1::oid::regclass)',
        [index.oid],
      );
      const leafPages = Number(rows[0].leaf_pages);
      stats.push({
        name,
        method,
        size,
        leafPages,
        avgLeafDensity: rows[0].density,
        entriesPerLeaf: Number(index.entries) / Math.max(1, leafPages),
      });
    }
    return stats;
  });
}
