import { residentSetBytes, runToCompletion } from './processes';
import type { HttpTarget } from './servers';
import type { ThroughputResult } from './results';

/** The fields of autocannon's `--json` result that the bench reads. */
interface AutocannonJson {
  duration: number;
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latency: { p50: number; p99: number };
}

const AUTOCANNON_CLI = require.resolve('autocannon/autocannon.js');

/** autocannon in its own process (its CLI, `--json`), so the load generator never shares our event loop. */
async function autocannon(
  url: string,
  token: string,
  seconds: number,
  connections: number,
): Promise<AutocannonJson> {
  const args = [AUTOCANNON_CLI, '--json', '--no-progress', '-c', String(connections), '-d', String(seconds)];
  const stdout = await runToCompletion('autocannon', process.execPath, [
    ...args,
    '-H',
    `authorization=Bearer ${token}`,
    url,
  ]);
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as AutocannonJson;
}

export async function warmUp(
  target: HttpTarget,
  path: string,
  token: string,
  seconds: number,
): Promise<void> {
  await autocannon(`${target.baseUrl}${path}`, token, seconds, 10);
}

/** One autocannon run against a target, with the target's RSS just before and after. */
export async function measureThroughput(
  target: HttpTarget,
  path: string,
  token: string,
  options: { seconds: number; connections: number },
): Promise<ThroughputResult> {
  const pid = target.child.process.pid ?? 0;
  const rssBeforeBytes = residentSetBytes(pid);
  const result = await autocannon(`${target.baseUrl}${path}`, token, options.seconds, options.connections);
  const rssAfterBytes = residentSetBytes(pid);
  return {
    target: target.name,
    requestsPerSecond: result['2xx'] / result.duration,
    requests2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    rssBeforeBytes,
    rssAfterBytes,
  };
}
