/**
 * The embedded database (PGlite), as a person meets it: `npm run generate` into a fresh data
 * directory (its items/s, and the directory's bytes on disk against its tables and indexes, while
 * it writes and after), and the built service started as `npm start` starts it, on a fresh data
 * directory with demo data, its VmRSS once idle; the same service on the PostgreSQL server beside it.
 */
import { lstatSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase } from '../src/database/database-server';
import { withClient } from './database';
import {
  PROJECT_ROOT,
  childEnv,
  freeLoopbackPort,
  log,
  residentSetBytes,
  startChild,
  stopChild,
  waitForHttp,
} from './processes';

export type EmbeddedResult = Awaited<ReturnType<typeof measureEmbedded>>;
export type IdleService = Awaited<ReturnType<typeof idleService>>;

/** The settings the report shows as the embedded database has them in force (`SHOW`). */
const SHOWN_SETTINGS = [
  'shared_buffers',
  'wal_buffers',
  'wal_level',
  'max_wal_size',
  'wal_recycle',
  'wal_init_zero',
  'full_page_writes',
  'checkpoint_timeout',
  'autovacuum',
  'fsync',
];

/** The last progress line of generate: `100% 200,000 of 200,000 items, 4,668 items/s, 42.8 s, RSS 551 MB`. */
const FINAL_PROGRESS = /^100% [\d,]+ of [\d,]+ items, ([\d,]+) items\/s, ([\d.]+) s, RSS (\d+) MB$/m;

/** A process counts as idle once it has used at most this many clock ticks (1/100 s) a second, three seconds in a row. */
const IDLE_TICKS_PER_SECOND = 2;

/**
 * Generates `items` into a fresh PGlite data directory and measures it; then the idle service on
 * a fresh PGlite directory and, given `createDatabase`, on an empty database it makes on the server.
 */
export async function measureEmbedded(
  items: number,
  createDatabase: ((name: string) => Promise<{ url: string; drop(): Promise<void> }>) | null,
) {
  const folder = mkdtempSync(join(tmpdir(), 'ei-bench-pglite-'));
  try {
    log(`PGlite: npm run generate -- --items ${items} into a fresh data directory`);
    const generate = await generateInto(join(folder, 'generated'), items);
    const sizes = await relationSizes(join(folder, 'generated'));
    log('PGlite: the built service on a fresh data directory with demo data, until idle');
    const embedded = await idleService({ PGLITE_DATA_DIR: join(folder, 'service') });
    let server: IdleService | null = null;
    if (createDatabase) {
      log('the built service on the PostgreSQL server (an empty database, demo data), until idle');
      const database = await createDatabase('ei_bench_idle');
      server = await idleService({ DATABASE_URL: database.url }).finally(() => database.drop());
    }
    return { items, generate, sizes, idle: { embedded, server } };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Bytes a file or folder takes on disk (allocated blocks, as `du`; sparse WAL segments count what is written). */
export function diskBytes(path: string): number {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.blocks * 512;
  return readdirSync(path).reduce((sum, name) => sum + diskBytes(join(path, name)), stat.blocks * 512);
}

/**
 * `npm run generate -- --items n` (ts-node, as the script runs it) into `dataDir`; the rate is the
 * one it prints. The folder and its pg_wal are measured every 250 ms while it runs.
 */
async function generateInto(dataDir: string, items: number) {
  const child = startChild(
    'generate',
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'src/cli/generate.ts', '--items', String(items)],
    { env: childEnv({ PGLITE_DATA_DIR: dataDir }) },
  );
  let stderr = '';
  child.process.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const peak = { dirBytes: 0, walBytes: 0 };
  const sampler = setInterval(() => {
    peak.dirBytes = Math.max(peak.dirBytes, diskBytes(dataDir));
    peak.walBytes = Math.max(peak.walBytes, diskBytes(join(dataDir, 'pg_wal')));
  }, 250);
  const started = Date.now();
  const code = await child.exited.finally(() => clearInterval(sampler));
  if (code !== 0) throw new Error(`generate exited with ${code}:\n${child.output()}`);
  const match = FINAL_PROGRESS.exec(stderr);
  if (!match) throw new Error(`generate printed no final progress line:\n${stderr.slice(-2000)}`);
  return {
    itemsPerSecond: Number(match[1].replaceAll(',', '')),
    seconds: Number(match[2]),
    generateRssMb: Number(match[3]),
    /** The whole command: ts-node, PGlite's start, the migrations, the writes, the shutdown checkpoint. */
    processMs: Date.now() - started,
    peak,
    after: { dirBytes: diskBytes(dataDir), walBytes: diskBytes(join(dataDir, 'pg_wal')) },
  };
}

/**
 * Opens the generated directory (after its bytes were counted) and asks PostgreSQL what its
 * relations take: the service's tables with their indexes and TOAST (`pg_total_relation_size`,
 * schema public), the whole database (`pg_database_size`), and the settings in force.
 */
async function relationSizes(dataDir: string) {
  const database = await openDatabase({ kind: 'embedded', dataDir });
  try {
    return await withClient(database.url, async (client) => {
      const { rows } = await client.query<{ tables: number; database: number; items: number }>(
        `SELECT (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = 'public' AND c.relkind IN ('r', 'm'))::float8 AS tables,
                pg_database_size(current_database())::float8 AS database,
                (SELECT count(*) FROM execution_items)::float8 AS items`,
      );
      const settings: Record<string, string> = {};
      for (const name of SHOWN_SETTINGS) {
        settings[name] = (await client.query<Record<string, string>>(`SHOW ${name}`)).rows[0][name];
      }
      return {
        tablesBytes: rows[0].tables,
        databaseBytes: rows[0].database,
        itemRows: rows[0].items,
        settings,
      };
    });
  } finally {
    await database.close();
  }
}

/**
 * `node dist/main` as `npm start` runs it (no NODE_ENV: demo data, a development token)
 * with `env`; once it answers, waits until it is idle (at most a minute), then reads its VmRSS
 * and VmHWM from /proc, and stops it.
 */
async function idleService(env: Record<string, string>) {
  const port = await freeLoopbackPort();
  const started = Date.now();
  const child = startChild('idle service', process.execPath, [resolve(PROJECT_ROOT, 'dist', 'main.js')], {
    stdio: ['ignore', openSync(resolve(__dirname, 'results', 'idle-service.log'), 'w'), 'pipe'],
    env: childEnv({ HOST: '127.0.0.1', PORT: String(port), ...env }),
  });
  try {
    await waitForHttp(child, `http://127.0.0.1:${port}/health/ready`, 180_000);
    const answeredMs = Date.now() - started;
    const pid = child.process.pid!;
    let quietSeconds = 0;
    let idleAfterMs = 0;
    for (let ticks = cpuTicks(pid); quietSeconds < 3 && idleAfterMs < 60_000; idleAfterMs += 1000) {
      await sleep(1000);
      const now = cpuTicks(pid);
      quietSeconds = now - ticks <= IDLE_TICKS_PER_SECOND ? quietSeconds + 1 : 0;
      ticks = now;
    }
    return {
      answeredMs,
      idleAfterMs,
      rssBytes: residentSetBytes(pid),
      peakBytes: residentSetBytes(pid, 'VmHWM'),
    };
  } finally {
    await stopChild(child);
  }
}

/** User + system clock ticks a process has used (`/proc/<pid>/stat`, fields 14 and 15). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
