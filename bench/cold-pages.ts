/**
 * The page statement on a cold cache, a one-off beside `npm run bench` (whose plans are all warm).
 * Before each of `--pages` pages, drawn at random (seeded) from the run, it restarts the machine's
 * PostgreSQL cluster (`pg_ctlcluster`) and drops the kernel's page cache, then runs
 * `PAGE_BY_SEQUENCE_SQL` once under EXPLAIN (ANALYZE, BUFFERS): execution time and the buffers
 * read from disk. Needs root, and a cluster nothing else is using while it runs.
 *
 *   npx ts-node --transpile-only bench/cold-pages.ts --database ei_bench [--run <activity id>]
 *     [--page-size 25] [--pages 20] [--seed 42]
 *
 * Without `--run`, the run with the most items. The same seed draws the same pages from runs of
 * the same size, so two databases (two schemas, say) can be compared page for page.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { Client } from 'pg';
import { seededRandom } from '../src/demo/synthetic-items';
import { PAGE_BY_SEQUENCE_SQL } from '../src/execution-items/execution-items.query';
import { option, textOption } from './arguments';

const database = textOption('database', 'ei_bench');
const url = `postgres://postgres@127.0.0.1:5432/${database}`;

async function connect(): Promise<Client> {
  for (let attempt = 0; ; attempt++) {
    const client = new Client({ connectionString: url });
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (attempt >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Restarts the cluster (an empty shared_buffers) and drops the kernel's page cache. */
function coldStart(): void {
  const [version] = readdirSync('/etc/postgresql');
  execFileSync('pg_ctlcluster', [version, 'main', 'restart']);
  execFileSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3');
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const pageSize = option('page-size', 25);
  const pages = option('pages', 20);
  const random = seededRandom(option('seed', 42));
  const setup = await connect();
  const [run] = (
    await setup.query<{ id: string; item_count: number }>(
      `SELECT id, item_count FROM activities WHERE id = coalesce($1::uuid, id) ORDER BY item_count DESC LIMIT 1`,
      [textOption('run', '') || null],
    )
  ).rows;
  await setup.end();
  const lastPage = Math.ceil(run.item_count / pageSize);
  const ms: number[] = [];
  const read: number[] = [];
  for (let sample = 0; sample < pages; sample++) {
    const page = 1 + Math.floor(random() * lastPage);
    coldStart();
    const client = await connect();
    const { rows } = await client.query<{
      'QUERY PLAN': Array<{ Plan: Record<string, number>; 'Execution Time': number }>;
    }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${PAGE_BY_SEQUENCE_SQL}`, [
      run.id,
      String((page - 1) * pageSize),
      pageSize,
    ]);
    await client.end();
    const [{ Plan: plan, 'Execution Time': executionMs }] = rows[0]['QUERY PLAN'];
    ms.push(executionMs);
    read.push(plan['Shared Read Blocks']);
    console.log(
      `page ${page}: ${executionMs.toFixed(3)} ms, ${plan['Shared Read Blocks']} read, ${plan['Shared Hit Blocks']} hit`,
    );
  }
  console.log(
    `${database}, run ${run.id} (${run.item_count} items), pageSize ${pageSize}, ${pages} cold pages: ` +
      `median ${median(ms).toFixed(3)} ms (worst ${Math.max(...ms).toFixed(3)}), ` +
      `median ${median(read)} buffers read (worst ${Math.max(...read)})`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
