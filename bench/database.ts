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

export interface IndexStats {
  name: string;
  size: string;
  leafPages: number;
  avgLeafDensity: number;
  entriesPerLeaf: number;
}

/**
 * Leaf pages and density of each index of execution_items (pgstattuple's pgstatindex). The
 * extension is created only in a database the bench made itself; otherwise, none reported.
 */
export async function itemIndexStats(url: string, fresh: boolean): Promise<IndexStats[]> {
  if (!fresh) return [];
  return withClient(url, async (client) => {
    await client.query('CREATE EXTENSION IF NOT EXISTS pgstattuple');
    const { rows } = await client.query<{
      name: string;
      size: string;
      leaf_pages: string;
      density: number;
      entries: string;
    }>(
      `SELECT s.indexrelname AS name, pg_size_pretty(pg_relation_size(s.indexrelid)) AS size,
              st.leaf_pages, st.avg_leaf_density AS density, c.reltuples::bigint AS entries
         FROM pg_stat_user_indexes s
         JOIN pg_class c ON c.oid = s.indexrelid
         CROSS JOIN LATERAL pgstatindex(s.indexrelid::regclass) st
        WHERE s.relname = 'execution_items'
        ORDER BY s.indexrelname`,
    );
    return rows.map((row) => ({
      name: row.name,
      size: row.size,
      leafPages: Number(row.leaf_pages),
      avgLeafDensity: row.density,
      entriesPerLeaf: Number(row.entries) / Math.max(1, Number(row.leaf_pages)),
    }));
  });
}
