import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { sign } from 'jsonwebtoken';
import { Client } from 'pg';
import { buildTypeOrmOptions } from '../src/database/typeorm-options';
import { seededRandom, syntheticItem } from '../src/demo/synthetic-items';
import { ExecutionItemsModule, ExecutionRunsService } from '../src/execution-items';

/**
 * `npm run soak`: a minute of mixed traffic against the built service (`node dist/main`, in
 * production mode, on PostgreSQL) while an engine appends to a run. Pages at depth, filters,
 * searches, cursors, stats, bad tokens and bad input, over loopback. Reports requests, status
 * classes, p50/p99 per kind and the service's RSS; fails on any 5xx other than a 503 (the
 * deliberate answer to an unavailable database) or on RSS growth beyond the bound.
 */

const USAGE = 'Usage: npm run soak -- [--seconds 60] [--connections 2] [--items 200000]';
const ADMIN_URL = process.env.SOAK_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** RSS at the end may exceed RSS after warm-up by at most this fraction. */
const RSS_GROWTH_BOUND = 0.25;
/** Shorter runs end inside the warm-up's growth: their RSS is reported, not judged. */
const RSS_JUDGED_FROM_SECONDS = 30;

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    connections: { type: 'string', default: '2' },
    items: { type: 'string', default: '200000' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const seedItems = Number(values.items);
if (![seconds, connections, seedItems].every((n) => Number.isSafeInteger(n) && n > 0)) throw new Error(USAGE);

@Module({})
class EngineModule {
  static forRoot(url: string): DynamicModule {
    return {
      module: EngineModule,
      imports: [
        TypeOrmModule.forRoot({ ...buildTypeOrmOptions({ url, poolSize: 2 }), migrationsRun: true }),
        ExecutionItemsModule.forRoot({ appendMethod: 'copy' }),
      ],
    };
  }
}

type Kind = 'page' | 'deep page' | 'filter' | 'search' | 'cursor' | 'stats' | 'bad token' | 'bad input';

/** The part of autocannon's programmatic API used here (the package ships no types). */
interface LoadResult {
  requests: { total: number };
  latency: { p50: number; p99: number };
  statusCodeStats: Record<string, { count: number }>;
  errors: number;
  timeouts: number;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  requests: Array<{ method: 'GET'; path: string; headers: Record<string, string> }>;
}) => Promise<LoadResult>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

async function main(): Promise<void> {
  const database = `ei_soak_${process.pid}`;
  await withAdmin((client) => client.query(`CREATE DATABASE ${database}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  const secret = randomBytes(32).toString('base64url');
  let service: ChildProcess | null = null;
  const engine = await NestFactory.createApplicationContext(EngineModule.forRoot(url.toString()), {
    logger: ['error', 'warn'],
  });
  try {
    const items = engine.get(ExecutionRunsService);
    log(`seeding a run of ${seedItems} items`);
    const random = seededRandom(7);
    const target = await items.startRun({
      connectedSystemName: 'Soak',
      runProfileName: 'Target',
      runType: 'FullSynchronisation',
    });
    for (let from = 0; from < seedItems; from += 5000) {
      const batch = Array.from({ length: Math.min(5000, seedItems - from) }, (_, i) =>
        syntheticItem(from + i + 1, random, 0.01),
      );
      await items.appendItems(target.id, batch);
    }
    await items.completeRun(target.id, { status: 'CompleteWithError' });

    const port = await freePort();
    service = spawn(process.execPath, ['dist/main.js'], {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_URL: url.toString(),
        AUTH_JWT_SECRET: secret,
        DEMO_DATA: 'false',
        LOG_LEVEL: 'warn',
        RATE_LIMIT_ENABLED: 'false',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const base = `http://127.0.0.1:${port}`;
    const token = sign({ sub: 'soak', role: 'Administrator' }, secret, {
      algorithm: 'HS256',
      expiresIn: '1h',
    });
    await waitForService(`${base}/api/v1/activities`, token);

    // The engine writes a new run for the whole soak: a batch of 500 every 100 ms.
    const live = await items.startRun({
      connectedSystemName: 'Soak',
      runProfileName: 'Live',
      runType: 'DeltaSynchronisation',
    });
    let appending = true;
    let appended = 0;
    const writer = (async () => {
      while (appending) {
        const batch = Array.from({ length: 500 }, (_, i) => syntheticItem(appended + i + 1, random, 0.01));
        await items.appendItems(live.id, batch);
        appended += batch.length;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    const cursor = await firstCursor(
      `${base}/api/v1/activities/${target.id}/items?hasError=true&pageSize=25`,
      token,
    );
    const lastPage = Math.ceil(seedItems / 100);
    const requests: Array<{ kind: Kind; path: string; auth: string | null }> = [
      { kind: 'page', path: `/api/v1/activities/${target.id}/items?pageSize=100`, auth: token },
      {
        kind: 'deep page',
        path: `/api/v1/activities/${target.id}/items?pageSize=100&page=${lastPage}`,
        auth: token,
      },
      {
        kind: 'page',
        path: `/api/v1/activities/${live.id}/items?pageSize=100&sortDirection=desc`,
        auth: token,
      },
      {
        kind: 'filter',
        path: `/api/v1/activities/${target.id}/items?hasError=true&sortBy=errorType`,
        auth: token,
      },
      {
        kind: 'filter',
        path: `/api/v1/activities/${target.id}/items?objectType=group&objectChangeType=Joined`,
        auth: token,
      },
      { kind: 'search', path: `/api/v1/activities/${target.id}/items?search=smith`, auth: token },
      { kind: 'cursor', path: `/api/v1/activities/${target.id}/items?cursor=${cursor}`, auth: token },
      { kind: 'stats', path: `/api/v1/activities/${live.id}/stats`, auth: token },
      { kind: 'bad token', path: `/api/v1/activities/${target.id}/items`, auth: `${token.slice(0, -3)}AAA` },
      { kind: 'bad token', path: `/api/v1/activities/${target.id}/items`, auth: null },
      { kind: 'bad input', path: `/api/v1/activities/${target.id}/items?page=0x10&search=%00`, auth: token },
      { kind: 'bad input', path: `/api/v1/activities/not-a-guid/items`, auth: token },
    ];

    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(vmRss(service!.pid!)), 1000);
    const kinds = [...new Set(requests.map((entry) => entry.kind))];
    log(`soaking for ${seconds} s: ${kinds.length} kinds of request, ${connections} connections each`);
    // One load generator per kind, all at once, so each kind's statuses and latencies are its own.
    const results = await Promise.all(
      kinds.map(async (kind) => {
        const result = await autocannon({
          url: base,
          connections,
          duration: seconds,
          requests: requests
            .filter((entry) => entry.kind === kind)
            .map((entry) => ({
              method: 'GET' as const,
              path: entry.path,
              headers: entry.auth
                ? { authorization: `Bearer ${entry.auth}` }
                : ({} as Record<string, string>),
            })),
        });
        return [kind, result] as const;
      }),
    );
    clearInterval(sampler);
    appending = false;
    await writer;

    const warm = rss[Math.min(5, rss.length - 1)];
    const end = rss.at(-1)!;
    const growth = (end - warm) / warm;
    const rssJudged = seconds >= RSS_JUDGED_FROM_SECONDS;
    const rssFailed = rssJudged && growth > RSS_GROWTH_BOUND;
    const statusTotals = new Map<number, number>();
    for (const [, result] of results) {
      for (const [status, { count }] of Object.entries(result.statusCodeStats)) {
        statusTotals.set(Number(status), (statusTotals.get(Number(status)) ?? 0) + count);
      }
    }
    const total = results.reduce((sum, [, result]) => sum + result.requests.total, 0);
    const failures = results.reduce((sum, [, result]) => sum + result.errors + result.timeouts, 0);
    const fiveHundreds = [...statusTotals].filter(([status]) => status >= 500 && status !== 503);
    const lines = [
      `# Soak (${new Date().toISOString()})`,
      '',
      `- ${seconds} s, ${connections} connections, loopback; service: \`node dist/main\` (production) on PostgreSQL; ` +
        `target run of ${seedItems} items; the engine appended ${appended} items to a live run meanwhile`,
      `- requests: ${total} (${Math.round(total / seconds)}/s), ${connections} connections per kind; connection errors and timeouts: ${failures}`,
      `- statuses: ${[...statusTotals]
        .sort()
        .map(([status, n]) => `${status}: ${n}`)
        .join(', ')}`,
      `- service RSS: ${mb(rss[0])} at start, ${mb(warm)} after warm-up, ${mb(end)} at the end (${(growth * 100).toFixed(1)}%; ${rssJudged ? `bound +${RSS_GROWTH_BOUND * 100}%` : `not judged under ${RSS_JUDGED_FROM_SECONDS} s`}), max ${mb(Math.max(...rss))}`,
      '',
      '| kind | requests | statuses | p50 ms | p99 ms |',
      '|---|---|---|---|---|',
      ...results.map(([kind, result]) => {
        const statuses = Object.entries(result.statusCodeStats)
          .map(([status, { count }]) => `${status}: ${count}`)
          .join(', ');
        return `| ${kind} | ${result.requests.total} | ${statuses} | ${result.latency.p50} | ${result.latency.p99} |`;
      }),
      '',
      `Verdict: ${fiveHundreds.length === 0 && !rssFailed ? 'pass' : 'FAIL'}` +
        (fiveHundreds.length
          ? `; unexpected 5xx: ${fiveHundreds.map(([s, n]) => `${s}×${n}`).join(', ')}`
          : '') +
        (rssFailed ? `; RSS grew ${(growth * 100).toFixed(1)}%` : ''),
    ];
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/soak.md', `${lines.join('\n')}\n`);
    process.stdout.write(`${lines.join('\n')}\n`);
    if (fiveHundreds.length > 0 || rssFailed) process.exitCode = 1;
  } finally {
    service?.kill('SIGTERM');
    await engine.close();
    await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  }
}

async function withAdmin(work: (client: Client) => Promise<unknown>): Promise<void> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForService(url: string, token: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('the service did not start within 60 s');
}

async function firstCursor(url: string, token: string): Promise<string> {
  const body = (await (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).json()) as {
    nextCursor: string;
  };
  return body.nextCursor;
}

function vmRss(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

const mb = (bytes: number) => `${Math.round(bytes / 1_000_000)} MB`;
const log = (message: string) => process.stderr.write(`[soak] ${message}\n`);

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
