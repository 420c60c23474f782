/**
 * The load client of bench/instances.ts, in a process of its own: `--connections` requests in
 * flight, each next one sent to the next instance in turn (round robin over `--urls`), over
 * keep-alive connections; item pages of one run at random page numbers. Measures `--seconds`
 * after `--warmup` seconds (between the lines `measure-start` and `measure-end`) and prints one
 * JSON line: answers, failures, latency and its own CPU.
 *
 *   node -r ts-node/register/transpile-only bench/round-robin-client.ts --urls http://a,http://b
 *     --run <activity id> --pages <n> [--page-size 100] [--connections 20] [--seconds 10] [--warmup 2]
 *
 * The token comes from `BENCH_TOKEN` (not the command line, which other users of the machine see).
 */
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { percentile } from './stats';

const { values } = parseArgs({
  options: {
    urls: { type: 'string' },
    run: { type: 'string' },
    pages: { type: 'string' },
    'page-size': { type: 'string', default: '100' },
    connections: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
  },
});
const urls = (values.urls ?? '').split(',').filter(Boolean);
const pages = Number(values.pages);
const pageSize = Number(values['page-size']);
const connections = Number(values.connections);
const token = process.env.BENCH_TOKEN ?? '';
if (urls.length === 0 || !values.run || !(pages > 0) || !token) {
  throw new Error('--urls, --run, --pages and BENCH_TOKEN are required');
}
const agents = urls.map((url) => ({ url, agent: new Agent({ keepAlive: true, maxSockets: connections }) }));

/** One GET to the last byte of its body: its status and milliseconds. */
function get(target: (typeof agents)[number], path: string): Promise<{ status: number; ms: number }> {
  return new Promise((resolveGet, reject) => {
    const started = process.hrtime.bigint();
    const req = request(
      `${target.url}${path}`,
      { agent: target.agent, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        res.on('data', () => undefined);
        res.once('end', () =>
          resolveGet({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - started) / 1e6 }),
        );
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  let turn = 0;
  let measuring = false;
  let stopped = false;
  const latencies: number[] = [];
  const perUrl = urls.map(() => 0);
  let failures = 0;
  let firstFailure: string | null = null;
  const worker = async () => {
    while (!stopped) {
      const index = turn++ % agents.length;
      // A page spread over the run: a fixed stride through the page numbers.
      const page = ((turn * 7919) % pages) + 1;
      const path = `/api/v1/activities/${values.run}/items?page=${page}&pageSize=${pageSize}`;
      try {
        const { status, ms } = await get(agents[index], path);
        if (!measuring) continue;
        if (status === 200) {
          latencies.push(ms);
          perUrl[index]++;
        } else {
          failures++;
          firstFailure ??= `${status} from ${urls[index]}`;
        }
      } catch (error) {
        if (!measuring) continue;
        failures++;
        firstFailure ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  const workers = Array.from({ length: connections }, () => worker());
  await new Promise((resolveWait) => setTimeout(resolveWait, Number(values.warmup) * 1000));
  measuring = true;
  // Markers on stdout, so the bench samples the other processes' CPU over the same window.
  process.stdout.write('measure-start\n');
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await new Promise((resolveWait) => setTimeout(resolveWait, Number(values.seconds) * 1000));
  measuring = false;
  process.stdout.write('measure-end\n');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  stopped = true;
  await Promise.all(workers);
  for (const { agent } of agents) agent.destroy();
  process.stdout.write(
    `${JSON.stringify({
      seconds,
      pages: latencies.length,
      pagesPerSecond: latencies.length / seconds,
      perUrl,
      failures,
      firstFailure,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
