/**
 * One service instance against two: item pages per second through a load client that sends each
 * request to the next instance in turn (`round-robin-client.ts`), both instances `node dist/main`
 * on the same PostgreSQL database, every production layer on (as `servers.ts` starts them). The
 * two set-ups take turns in ABBA order (one, two, two, one: `--seconds` each), all processes
 * running throughout; the CPU of each (the instances, the database's backends, the client) is
 * read from /proc over each measured window, with the machine's.
 *
 *   npx ts-node --transpile-only bench/instances.ts [--items 200000] [--seconds 20] [--warmup 3]
 *     [--connections 20] [--report bench/results/instances.md]
 *
 * `npm run bench` runs it after `npm run build` (smoke: 10,000 items, 4 s slices). Drops and
 * creates `ei_bench_instances` on postgres://postgres@127.0.0.1:5432.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { runCli } from '../src/cli/cli-context';
import { databaseUrl, vacuumAnalyze, withClient, withServices } from './database';
import { loadDataset } from './dataset';
import { childEnv, cpuTimes, startChild, stopAllChildren } from './processes';
import { benchCredentials, startService, stopTargets, type HttpTarget } from './servers';
import type { DatasetPlan } from './settings';
import { loadAverage, option, textOption } from './arguments';

const SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'ei_bench_instances';
const PAGE_SIZE = 100;
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** A process's CPU time so far (user + system) in seconds; 0 once it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name (which may hold spaces) in parentheses: utime is the 12th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** The machine's busy and total CPU seconds (all cores) so far. */
function machineSeconds(): { busy: number; total: number } {
  const { busy, total } = cpuTimes();
  return { busy: busy / CLOCK_TICKS, total: total / CLOCK_TICKS };
}

/** The server processes serving this database (the instances' pooled connections). */
async function backendPids(url: string): Promise<number[]> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return rows.map((row) => row.pid);
  });
}

interface ClientResult {
  seconds: number;
  pages: number;
  pagesPerSecond: number;
  perUrl: number[];
  failures: number;
  firstFailure: string | null;
  p50Ms: number;
  p99Ms: number;
  cpuSeconds: number;
}

/** CPU seconds so far of the instances, of each backend of the database, and of the machine. */
interface Sample {
  services: number[];
  backends: Map<number, number>;
  machine: ReturnType<typeof machineSeconds>;
}

interface Slice {
  instances: number;
  client: ClientResult;
  /** CPU seconds over the measured window. */
  cpu: { services: number[]; postgres: number; machineBusy: number; machineTotal: number };
}

/** One slice: the client against `targets`, the others' CPU sampled between its markers. */
async function slice(
  url: string,
  targets: readonly HttpTarget[],
  all: readonly HttpTarget[],
  token: string,
  run: { id: string; items: number },
  settings: { seconds: number; warmup: number; connections: number },
): Promise<Slice> {
  const servicePids = all.map((target) => target.child.process.pid ?? 0);
  const client = startChild(
    'round-robin-client',
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      'bench/round-robin-client.ts',
      ...['--urls', targets.map((target) => target.baseUrl).join(',')],
      ...['--run', run.id, '--pages', String(Math.ceil(run.items / PAGE_SIZE))],
      ...['--page-size', String(PAGE_SIZE), '--connections', String(settings.connections)],
      ...['--seconds', String(settings.seconds), '--warmup', String(settings.warmup)],
    ],
    { env: childEnv({ BENCH_TOKEN: token }) },
  );
  let stdout = '';
  let start: Sample | null = null;
  let end: Sample | null = null;
  const sample = async (): Promise<Sample> => {
    const pids = await backendPids(url);
    return {
      services: servicePids.map(cpuSeconds),
      backends: new Map(pids.map((pid) => [pid, cpuSeconds(pid)])),
      machine: machineSeconds(),
    };
  };
  const samples: Array<Promise<void>> = [];
  client.process.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    if (!start && stdout.includes('measure-start\n')) {
      start = { services: servicePids.map(cpuSeconds), backends: new Map(), machine: machineSeconds() };
      samples.push(
        backendPids(url).then((pids) => {
          for (const pid of pids) start!.backends.set(pid, cpuSeconds(pid));
        }),
      );
    }
    if (!end && stdout.includes('measure-end\n')) samples.push(sample().then((taken) => void (end = taken)));
  });
  const code = await client.exited;
  await Promise.all(samples);
  if (code !== 0 || !start || !end) throw new Error(`the client exited with ${code}:\n${client.output()}`);
  const [first, last] = [start as Sample, end as Sample];
  const result = JSON.parse(stdout.trim().split('\n').pop() ?? '') as ClientResult;
  let postgres = 0;
  for (const [pid, after] of last.backends) postgres += after - (first.backends.get(pid) ?? 0);
  return {
    instances: targets.length,
    client: result,
    cpu: {
      services: last.services.map((after, index) => after - first.services[index]),
      postgres,
      machineBusy: last.machine.busy - first.machine.busy,
      machineTotal: last.machine.total - first.machine.total,
    },
  };
}

runCli(
  async () => {
    const items = option('items', 200_000);
    const settings = {
      seconds: option('seconds', 20),
      warmup: option('warmup', 3),
      connections: option('connections', 20),
    };
    const reportPath = textOption('report', 'bench/results/instances.md');
    const url = databaseUrl(SERVER, DATABASE);
    const loads = [`start ${loadAverage()}`];
    await withClient(SERVER, async (client) => {
      await client.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
      await client.query(`CREATE DATABASE ${DATABASE}`);
    });
    const plan: DatasetPlan = {
      seed: 20261130,
      errorRate: 0.01,
      chunkRows: 5000,
      runs: [
        {
          connectedSystemName: 'Corporate AD',
          runProfileName: 'Full Synchronisation',
          runType: 'FullSynchronisation',
          items,
        },
      ],
    };
    const dataset = await withServices(url, (app) => loadDataset(app, plan, (line) => console.error(line)));
    await vacuumAnalyze(url);
    const run = { id: dataset.target.id, items };
    const credentials = benchCredentials(randomBytes(48).toString('base64url'));
    const targets = [
      await startService(url, credentials, { log: 'instances-1.log' }),
      await startService(url, credentials, { log: 'instances-2.log' }),
    ];
    const slices: Slice[] = [];
    try {
      loads.push(`before the slices ${loadAverage()}`);
      for (const count of [1, 2, 2, 1]) {
        slices.push(await slice(url, targets.slice(0, count), targets, credentials.token, run, settings));
        const last = slices[slices.length - 1];
        console.error(
          `${count} instance(s): ${last.client.pagesPerSecond.toFixed(0)} pages/s, ${last.client.failures} failures`,
        );
      }
      loads.push(`after ${loadAverage()}`);
    } finally {
      await stopTargets(targets);
      await stopAllChildren();
    }
    const failures = slices.reduce((sum, s) => sum + s.client.failures, 0);
    if (failures > 0) {
      throw new Error(
        `${failures} requests failed; first: ${slices.find((s) => s.client.firstFailure)?.client.firstFailure}`,
      );
    }

    const combined = (count: number) => {
      const mine = slices.filter((s) => s.instances === count);
      const seconds = mine.reduce((sum, s) => sum + s.client.seconds, 0);
      const sum = (pick: (s: Slice) => number) => mine.reduce((total, s) => total + pick(s), 0);
      const cores = (cpuSecondsUsed: number) => cpuSecondsUsed / seconds;
      const services = [0, 1].map((index) => cores(sum((s) => s.cpu.services[index])));
      const postgres = cores(sum((s) => s.cpu.postgres));
      const client = cores(sum((s) => s.client.cpuSeconds));
      const machine = cores(sum((s) => s.cpu.machineBusy));
      const pagesPerSecond = sum((s) => s.client.pages) / seconds;
      return {
        count,
        pagesPerSecond,
        perInstance: [0, 1].map((index) => sum((s) => s.client.perUrl[index] ?? 0) / seconds),
        p50Ms: Math.max(...mine.map((s) => s.client.p50Ms)),
        p99Ms: Math.max(...mine.map((s) => s.client.p99Ms)),
        services,
        postgres,
        client,
        machine,
        others: machine - services[0] - services[1] - postgres - client,
        pagesPerServiceCore: pagesPerSecond / (services[0] + services[1]),
        pagesPerCoreOfAll: pagesPerSecond / (services[0] + services[1] + postgres + client),
      };
    };
    const one = combined(1);
    const two = combined(2);
    const cores = (value: number) => value.toFixed(2);
    const row = (r: ReturnType<typeof combined>) =>
      `| ${r.count} | ${r.pagesPerSecond.toFixed(0)} | ${r.perInstance
        .slice(0, r.count)
        .map((v) => v.toFixed(0))
        .join(
          ' + ',
        )} | ${r.p50Ms.toFixed(1)} / ${r.p99Ms.toFixed(1)} | ${r.services.map(cores).join(' + ')} | ${cores(r.postgres)} | ${cores(r.client)} | ${cores(r.machine)} (${cores(r.others)}) | ${r.pagesPerServiceCore.toFixed(0)} | ${r.pagesPerCoreOfAll.toFixed(0)} |`;
    const lines = [
      `Item pages (pageSize ${PAGE_SIZE}, random page numbers of a ${items.toLocaleString('en-US')}-item run, an administrator token) from one client process with ${settings.connections} requests in flight, each next request to the next instance in turn; ${settings.seconds} s slices in the order one, two, two, one instance(s), after ${settings.warmup} s of warm-up each. CPU in cores (CPU seconds per second) over the measured windows, from /proc: each instance, the PostgreSQL backends of the database, the client, and the whole machine (in brackets: what none of these used, i.e. other work on the machine).`,
      '',
      '| instances | pages/s | per instance | p50 / p99 ms (worst slice) | CPU: instance 1 + 2 | CPU: postgres | CPU: client | CPU: machine (others) | pages/s per service core | pages/s per core of all four |',
      '|---|---|---|---|---|---|---|---|---|---|',
      row(one),
      row(two),
      '',
      `Two instances ÷ one: **${(two.pagesPerSecond / one.pagesPerSecond).toFixed(2)}** (pages/s, measured in one run, interleaved).`,
    ];
    const report = [
      '# One instance against two (bench/instances.ts)',
      '',
      `Run ${new Date().toISOString()}, PostgreSQL on 127.0.0.1, database \`${DATABASE}\`, ${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? '?'} cores; machine load average (1, 5, 15 min): ${loads.join('; ')}.`,
      `Command: \`npx ts-node --transpile-only bench/instances.ts ${process.argv.slice(2).join(' ')}\` (after \`npm run build\`).`,
      '',
      ...lines,
      '',
    ].join('\n');
    // Formatted by the project's prettier, as run.ts writes its report, so `prettier --check bench` stays clean.
    const path = resolve(__dirname, '..', reportPath);
    writeFileSync(path, await format(report, { ...((await resolveConfig(path)) ?? {}), filepath: path }));
    console.log(lines.join('\n'));
  },
  (error) => (error instanceof Error ? (error.stack ?? error.message) : String(error)),
);
