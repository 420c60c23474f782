/**
 * Followers of a run being written at full speed: `npx ts-node --transpile-only bench/follow.ts`
 * (after `npx nest build`; `npm run bench` runs it). Starts the built service (`node dist/main`) on
 * a fresh database of the PostgreSQL server at `FOLLOW_BENCH_ADMIN_URL` (default
 * postgres://postgres@127.0.0.1:5432/postgres), opens `--followers` streams of one run from a child
 * process (this file with `--clients`, so that reading the streams does not hold up the writer),
 * and writes the run from this process (another "instance": its notices reach the service through
 * LISTEN) with `ExecutionRunsService.appendItems`, batch after batch. Checks that every follower
 * sees every item once, in order, then `complete`; measures the delay from each append's commit
 * (its promise resolving here) to each follower reading its items (both clocks are
 * `performance.timeOrigin + performance.now()`), and the service's VmRSS. Writes `--report`
 * (default bench/results/follow.md).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { sign } from 'jsonwebtoken';
import { Client } from 'pg';
import { executionItemsServices, withCliContext } from '../src/cli/cli-context';
import { seededRandom, syntheticItem } from '../src/demo/synthetic-items';
import { ExecutionRunsService } from '../src/execution-items';

const args = new Map(
  process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=') as [string, string]),
);
const FOLLOWERS = Number(args.get('followers') ?? 50);
const ITEMS = Number(args.get('items') ?? 50_000);
const BATCH = Number(args.get('batch') ?? 500);
const ADMIN_URL = process.env.FOLLOW_BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = resolve(__dirname, '..');
const SECRET = randomBytes(48).toString('base64url');
const PORT = 40_000 + Math.floor(Math.random() * 10_000);
const REPORT = resolve(ROOT, args.get('report') ?? 'bench/results/follow.md');

/** Milliseconds on a clock that this process and the clients' process share. */
const clock = () => performance.timeOrigin + performance.now();

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** One follower: a connection of its own, the time it read each sequence, and what went wrong. */
class Follower {
  readonly readAt = new Float64Array(ITEMS + 1);
  next = 1;
  problems: string[] = [];
  completed = false;
  private buffer = '';
  readonly done: Promise<void>;
  /** Settles when the stream has answered (200) or failed. */
  readonly connected: Promise<void>;

  constructor(url: string, jwt: string) {
    let connected = () => undefined as void;
    this.connected = new Promise<void>((resolve) => (connected = resolve));
    this.done = new Promise((finish, fail) => {
      request(url, { headers: { Authorization: `Bearer ${jwt}` }, agent: false }, (response) => {
        connected();
        if (response.statusCode !== 200) fail(new Error(`stream answered ${response.statusCode}`));
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => this.take(chunk));
        response.on('end', () => finish());
        response.on('error', fail);
      })
        .on('error', (error) => {
          connected();
          fail(error);
        })
        .end();
    });
  }

  private take(chunk: string): void {
    const now = clock();
    const text = this.buffer + chunk;
    let start = 0;
    let end: number;
    while ((end = text.indexOf('\n\n', start)) >= 0) {
      const block = text.slice(start, end);
      start = end + 2;
      if (block.startsWith('event: item\n')) {
        const sequence = Number(block.slice(16, block.indexOf('\n', 16)));
        if (sequence !== this.next) this.problems.push(`expected ${this.next}, got ${sequence}`);
        this.next = sequence + 1;
        if (sequence <= ITEMS) this.readAt[sequence] = now;
      } else if (block.startsWith('event: complete')) {
        this.completed = true;
      }
    }
    this.buffer = text.slice(start);
  }
}

function vmKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return match ? Number(match[1]) : 0;
}

/** CPU seconds the process has used (user + system). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const database = `ei_bench_follow_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE "${database}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  process.env.DATABASE_URL = url.toString();
  const service = spawn(process.execPath, ['dist/main.js'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: url.toString(),
      AUTH_JWT_SECRET: SECRET,
      PORT: String(PORT),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_ENABLED: 'false',
      UI_ENABLED: 'false',
      RETENTION_ENABLED: 'false',
      FOLLOW_MAX_STREAMS_PER_PRINCIPAL: String(FOLLOWERS),
    },
  });
  try {
    for (let ready = false; !ready;) {
      await sleep(250);
      ready = await new Promise<boolean>((answer) =>
        request(`http://127.0.0.1:${PORT}/health/ready`, (res) => answer(res.statusCode === 200))
          .on('error', () => answer(false))
          .end(),
      );
    }
    const rssIdle = vmKb(service.pid!, 'VmRSS');
    await withCliContext(executionItemsServices, async (app) => {
      const runs = app.get(ExecutionRunsService);
      const run = await runs.startRun({
        connectedSystemName: 'Bench',
        runProfileName: 'Follow',
        runType: 'FullSynchronisation',
      });
      const jwt = sign({ sub: 'bench', role: 'Administrator' }, SECRET, {
        algorithm: 'HS256',
        expiresIn: '1h',
      });
      const clients = startClients(`http://127.0.0.1:${PORT}/api/v1/activities/${run.id}/items/stream`, jwt);
      await clients.connected;
      let rssMax = vmKb(service.pid!, 'VmRSS');
      const sampler = setInterval(() => (rssMax = Math.max(rssMax, vmKb(service.pid!, 'VmRSS'))), 100);
      const cpuBefore = cpuSeconds(service.pid!);
      const random = seededRandom(7);
      const committedAt = new Array<number>(ITEMS + 1).fill(0);
      const started = clock();
      for (let first = 1; first <= ITEMS; first += BATCH) {
        const count = Math.min(BATCH, ITEMS - first + 1);
        const items = Array.from({ length: count }, (_, k) => syntheticItem(first + k, random, 0.1));
        const result = await runs.appendItems(run.id, items);
        const now = clock();
        for (let sequence = result.firstSequence; sequence <= result.lastSequence; sequence++) {
          committedAt[sequence] = now;
        }
      }
      const written = clock() - started;
      await runs.completeRun(run.id);
      const outcome = await clients.result(committedAt);
      const drained = outcome.drainedAt - started;
      clearInterval(sampler);
      const serviceCpu = cpuSeconds(service.pid!) - cpuBefore;
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
      const { delays, early, wrong } = outcome;
      const report = [
        '# Following a run: bench',
        '',
        `Run ${new Date().toISOString()} on this machine (2 cores shared with other work), PostgreSQL at 127.0.0.1.`,
        `\`npx nest build && npx ts-node --transpile-only bench/follow.ts --followers=${FOLLOWERS} --items=${ITEMS} --batch=${BATCH}\``,
        '',
        'The service (`node dist/main`, production settings, pool of 10) serves the streams, which a',
        'child process reads; this process writes the run through `ExecutionRunsService.appendItems` on',
        'its own connection, batch after batch, so every notice reaches the service through',
        'LISTEN/NOTIFY. Delay: from the append’s promise resolving here (just after commit) to a follower',
        'reading the item, on a clock both processes share; an item read before the promise resolved',
        'counts as 0 ms.',
        '',
        '| figure | value |',
        '|---|---|',
        `| followers | ${FOLLOWERS} |`,
        `| items written | ${ITEMS} in batches of ${BATCH} |`,
        `| writing took | ${(written / 1000).toFixed(1)} s (${Math.round(ITEMS / (written / 1000))} items/s) |`,
        `| last follower done | ${(drained / 1000).toFixed(1)} s after the first append |`,
        `| followers that saw every item once, in order, then complete | ${FOLLOWERS - wrong.length} of ${FOLLOWERS} |`,
        `| delay p50 / p95 / p99 / max | ${delays.map((ms) => ms.toFixed(0)).join(' / ')} ms |`,
        `| items read before the append resolved | ${early} of ${FOLLOWERS * ITEMS} |`,
        `| service CPU while streaming | ${serviceCpu.toFixed(1)} s (${((serviceCpu / (drained / 1000)) * 100).toFixed(0)}% of one core) |`,
        `| machine load average at the end (1, 5, 15 min) | ${load} |`,
        `| service VmRSS idle / max while streaming / VmHWM | ${Math.round(rssIdle / 1024)} / ${Math.round(rssMax / 1024)} / ${Math.round(vmKb(service.pid!, 'VmHWM') / 1024)} MiB |`,
        '',
      ].join('\n');
      writeFileSync(REPORT, report);
      process.stdout.write(report);
      if (wrong.length > 0) throw new Error(`followers with problems: ${wrong.join(' | ')}`);
    });
  } finally {
    service.kill('SIGTERM');
    await new Promise((done) => service.once('exit', done));
    await admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  }
}

/** What the clients' process reports once every stream has ended. */
interface ClientsResult {
  /** When the last stream ended (`clock()`). */
  drainedAt: number;
  /** p50, p95, p99 and max of the delays, ms. */
  delays: number[];
  /** Items read before the append that wrote them had resolved in the writer. */
  early: number;
  /** The followers that did not see every item once, in order, then `complete`: their first problems. */
  wrong: string[];
}

/** The followers, in a child process (this file with `--clients`). */
function startClients(url: string, jwt: string) {
  const child: ChildProcess = fork(__filename, [`--clients=${url}`, ...process.argv.slice(2)], {
    execArgv: ['-r', 'ts-node/register/transpile-only'],
    env: { ...process.env, FOLLOW_BENCH_JWT: jwt },
  });
  const message = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (data: { type: string } & T) => {
        if (data.type !== type) return;
        child.off('message', onMessage);
        resolve(data);
      };
      child.on('message', onMessage);
      child.once('exit', (code) =>
        reject(new Error(`the clients' process exited (${code}) before "${type}"`)),
      );
    });
  return {
    connected: message<void>('connected'),
    result: (committedAt: number[]) => {
      const answer = message<ClientsResult>('result');
      child.send({ type: 'committed', committedAt });
      return answer;
    },
  };
}

/** The clients' process: opens the streams, reads them to the end, and reports the delays. */
async function clients(url: string, jwt: string): Promise<void> {
  const followers = Array.from({ length: FOLLOWERS }, () => new Follower(url, jwt));
  const done = Promise.all(followers.map((follower) => follower.done)).then(() => clock());
  await Promise.all(followers.map((follower) => follower.connected));
  process.send!({ type: 'connected' });
  const committedAt = await new Promise<number[]>((resolve) =>
    process.once('message', (data: { committedAt: number[] }) => resolve(data.committedAt)),
  );
  const drainedAt = await done;
  const delays = new Float64Array(FOLLOWERS * ITEMS);
  let early = 0;
  followers.forEach((follower, index) => {
    for (let sequence = 1; sequence <= ITEMS; sequence++) {
      const delay = follower.readAt[sequence] - committedAt[sequence];
      if (delay < 0) early += 1;
      delays[index * ITEMS + sequence - 1] = Math.max(0, delay);
    }
  });
  delays.sort();
  const sorted = Array.from(delays);
  const result: ClientsResult = {
    drainedAt,
    delays: [...[50, 95, 99].map((p) => percentile(sorted, p)), sorted.at(-1)!],
    early,
    wrong: followers
      .filter((f) => f.problems.length > 0 || !f.completed || f.next !== ITEMS + 1)
      .map((f) => f.problems.slice(0, 3).join('; ') || `ended at ${f.next - 1}, complete: ${f.completed}`),
  };
  process.send!({ type: 'result', ...result }, () => process.exit(0));
}

const CLIENTS_URL = args.get('clients');
(CLIENTS_URL ? clients(CLIENTS_URL, process.env.FOLLOW_BENCH_JWT!) : main()).catch((error: unknown) => {
  process.stderr.write(
    `follow bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
