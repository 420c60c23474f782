import { residentSetBytes, runToCompletion } from './processes';
import type { HttpTarget } from './servers';
import type { ThroughputResult } from './results';
import { median } from './stats';

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

interface Slice {
  target: HttpTarget;
  result: AutocannonJson;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  /** VmRSS sampled every 250 ms while the slice ran. */
  rssSamples: number[];
}

const RSS_SAMPLE_MS = 250;

async function measureSlice(
  target: HttpTarget,
  url: string,
  token: string,
  seconds: number,
  connections: number,
): Promise<Slice> {
  const pid = target.child.process.pid ?? 0;
  const rssBeforeBytes = residentSetBytes(pid);
  const rssSamples: number[] = [];
  const sampler = setInterval(() => rssSamples.push(residentSetBytes(pid)), RSS_SAMPLE_MS);
  try {
    const result = await autocannon(url, token, seconds, connections);
    return { target, result, rssBeforeBytes, rssAfterBytes: residentSetBytes(pid), rssSamples };
  } finally {
    clearInterval(sampler);
  }
}

/** A target's slices combined: req/s over the summed duration, RSS over all its samples. */
function combine(slices: Slice[]): ThroughputResult {
  const sum = (pick: (result: AutocannonJson) => number) =>
    slices.reduce((total, slice) => total + pick(slice.result), 0);
  const samples = slices.flatMap((slice) => slice.rssSamples);
  return {
    target: slices[0].target.name,
    requestsPerSecond: sum((result) => result['2xx']) / sum((result) => result.duration),
    requests2xx: sum((result) => result['2xx']),
    non2xx: sum((result) => result.non2xx),
    errors: sum((result) => result.errors + result.timeouts),
    p50Ms: Math.max(...slices.map((slice) => slice.result.latency.p50)),
    p99Ms: Math.max(...slices.map((slice) => slice.result.latency.p99)),
    rssBeforeBytes: slices[0].rssBeforeBytes,
    rssAfterBytes: slices[slices.length - 1].rssAfterBytes,
    rssMedianBytes: median(samples),
    rssMaxBytes: Math.max(...samples),
  };
}

/**
 * Throughput of two targets in one round, in ABBA order (each target gets two slices of half the
 * duration), so load that drifts during the round weighs on both alike. `first` leads this round.
 */
export async function measureThroughputRound(
  [first, second]: [HttpTarget, HttpTarget],
  path: string,
  token: string,
  options: { seconds: number; connections: number },
): Promise<ThroughputResult[]> {
  const sliceSeconds = options.seconds / 2;
  const slices: Slice[] = [];
  for (const target of [first, second, second, first]) {
    slices.push(
      await measureSlice(target, `${target.baseUrl}${path}`, token, sliceSeconds, options.connections),
    );
  }
  return [first, second].map((target) => combine(slices.filter((slice) => slice.target === target)));
}
