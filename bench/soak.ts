/**
 * `npm run soak`: a minute of mixed traffic against the built service (`node dist/main`, in
 * production mode, on PostgreSQL) while an engine appends to a run. Pages at depth, filters,
 * searches, cursors, stats, bad tokens and bad input, over loopback. Reports requests, status
 * classes, p50/p99 per kind and the service's RSS; fails on any 5xx other than a 503 (the
 * deliberate answer to an unavailable database) or on RSS growth beyond the bound.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { seededRandom, syntheticItem } from '../src/demo/synthetic-items';
import { ExecutionRunsService } from '../src/execution-items/execution-runs.service';
import { databaseUrl, withClient, withServices } from './database';
import { installCleanupHandlers, residentSetBytes, stopAllChildren } from './processes';
import { benchCredentials, startService } from './servers';

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

const mb = (bytes: number) => `${Math.round(bytes / 1_000_000)} MB`;
const log = (message: string) => process.stderr.write(`[soak] ${message}\n`);

/** Seeds a run, starts the service, and loads it with every kind of request while a run is appended to. */
async function soak(runs: ExecutionRunsService, url: string): Promise<string[]> {
  log(`seeding a run of ${seedItems} items`);
  const random = seededRandom(7);
  const batch = (from: number, count: number) =>
    Array.from({ length: count }, (_, i) => syntheticItem(from + i + 1, random, 0.01));
  const target = await runs.startRun({
    connectedSystemName: 'Soak',
    runProfileName: 'Target',
    runType: 'FullSynchronisation',
  });
  for (let from = 0; from < seedItems; from += 5000)
    await runs.appendItems(target.id, batch(from, Math.min(5000, seedItems - from)));
  await runs.completeRun(target.id, { status: 'CompleteWithError' });

  const credentials = benchCredentials(randomBytes(32).toString('base64url'));
  const { token } = credentials;
  const service = await startService(url, credentials, {
    env: { LOG_LEVEL: 'warn' },
    log: 'soak-service.log',
  });
  const path = (id: string, query = '') => `/api/v1/activities/${id}/items${query}`;

  // The engine writes a new run for the whole soak: a batch of 500 every 100 ms.
  const live = await runs.startRun({
    connectedSystemName: 'Soak',
    runProfileName: 'Live',
    runType: 'DeltaSynchronisation',
  });
  let appending = true;
  let appended = 0;
  const writer = (async () => {
    while (appending) {
      await runs.appendItems(live.id, batch(appended, 500));
      appended += 500;
      await sleep(100);
    }
  })();

  const first = await fetch(`${service.baseUrl}${path(target.id, '?hasError=true&pageSize=25')}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const { nextCursor: cursor } = (await first.json()) as { nextCursor: string };
  const requests: Array<{ kind: Kind; path: string; auth: string | null }> = [
    { kind: 'page', path: path(target.id, '?pageSize=100'), auth: token },
    {
      kind: 'deep page',
      path: path(target.id, `?pageSize=100&page=${Math.ceil(seedItems / 100)}`),
      auth: token,
    },
    { kind: 'page', path: path(live.id, '?pageSize=100&sortDirection=desc'), auth: token },
    { kind: 'filter', path: path(target.id, '?hasError=true&sortBy=errorType'), auth: token },
    { kind: 'filter', path: path(target.id, '?objectType=group&objectChangeType=Joined'), auth: token },
    { kind: 'search', path: path(target.id, '?search=smith'), auth: token },
    { kind: 'cursor', path: path(target.id, `?cursor=${cursor}`), auth: token },
    { kind: 'stats', path: `/api/v1/activities/${live.id}/stats`, auth: token },
    { kind: 'bad token', path: path(target.id), auth: `${token.slice(0, -3)}AAA` },
    { kind: 'bad token', path: path(target.id), auth: null },
    { kind: 'bad input', path: path(target.id, '?page=0x10&search=%00'), auth: token },
    { kind: 'bad input', path: path('not-a-guid'), auth: token },
  ];

  const rss: number[] = [];
  const sampler = setInterval(() => rss.push(residentSetBytes(service.child.process.pid!)), 1000);
  const kinds = [...new Set(requests.map((entry) => entry.kind))];
  log(`soaking for ${seconds} s: ${kinds.length} kinds of request, ${connections} connections each`);
  // One load generator per kind, all at once, so each kind's statuses and latencies are its own.
  const results = await Promise.all(
    kinds.map(async (kind) => {
      const result = await autocannon({
        url: service.baseUrl,
        connections,
        duration: seconds,
        requests: requests
          .filter((entry) => entry.kind === kind)
          .map((entry) => ({
            method: 'GET' as const,
            path: entry.path,
            headers: entry.auth ? { authorization: `Bearer ${entry.auth}` } : ({} as Record<string, string>),
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
  if (fiveHundreds.length > 0 || rssFailed) process.exitCode = 1;
  return [
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
}

/** A database of its own, dropped after; the engine is the module in the command-line bootstrap. */
async function main(): Promise<void> {
  installCleanupHandlers();
  const database = `ei_soak_${process.pid}`;
  await withClient(ADMIN_URL, (client) => client.query(`CREATE DATABASE ${database}`));
  const url = databaseUrl(ADMIN_URL, database);
  try {
    const lines = await withServices(url, (app) => soak(app.get(ExecutionRunsService), url), {
      DATABASE_POOL_SIZE: '2',
    }).finally(() => stopAllChildren());
    writeFileSync(resolve(__dirname, 'results/soak.md'), `${lines.join('\n')}\n`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await withClient(ADMIN_URL, (client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
