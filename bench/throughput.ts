/** Throughput under load: autocannon against both servers in ABBA slices, with their RSS. */
import { residentSetBytes, runToCompletion } from './processes';
import type { HttpTarget } from './servers';
import { median } from './stats';

export type ThroughputResult = ReturnType<typeof combine>;

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
const RSS_SAMPLE_MS = 250;

/** autocannon in its own process (its CLI, `--json`), so the load generator never shares our event loop. */
async function autocannon(url: string, token: string, seconds: number, connections: number) {
  const stdout = await runToCompletion('autocannon', process.execPath, [
    ...[AUTOCANNON_CLI, '--json', '--no-progress', '-c', String(connections), '-d', String(seconds)],
    ...['-H', `authorization=Bearer ${token}`, url],
  ]);
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as AutocannonJson;
}

export async function warmUp(
  target: HttpTarget,
  path: string,
  token: string,
  seconds: number,
): Promise<void> {
  await autocannon(`${target.baseUrl}${path}`, token, seconds, 10);
}

type Slice = Awaited<ReturnType<typeof measureSlice>>;

async function measureSlice(
  target: HttpTarget,
  path: string,
  token: string,
  seconds: number,
  connections: number,
) {
  const pid = target.child.process.pid ?? 0;
  const rssBeforeBytes = residentSetBytes(pid);
  const rssSamples: number[] = []; // VmRSS every 250 ms while the slice runs
  const sampler = setInterval(() => rssSamples.push(residentSetBytes(pid)), RSS_SAMPLE_MS);
  try {
    const result = await autocannon(`${target.baseUrl}${path}`, token, seconds, connections);
    return { target, result, rssBeforeBytes, rssAfterBytes: residentSetBytes(pid), rssSamples };
  } finally {
    clearInterval(sampler);
  }
}

/** A target's slices combined: req/s over the summed duration, RSS over all its samples. */
function combine(slices: Slice[]) {
  const sum = (pick: (result: AutocannonJson) => number) =>
    slices.reduce((total, slice) => total + pick(slice.result), 0);
  const worst = (pick: (result: AutocannonJson) => number) =>
    Math.max(...slices.map((slice) => pick(slice.result)));
  const samples = slices.flatMap((slice) => slice.rssSamples);
  return {
    target: slices[0].target.name,
    requestsPerSecond: sum((result) => result['2xx']) / sum((result) => result.duration),
    requests2xx: sum((result) => result['2xx']),
    non2xx: sum((result) => result.non2xx),
    errors: sum((result) => result.errors + result.timeouts),
    p50Ms: worst((result) => result.latency.p50),
    p99Ms: worst((result) => result.latency.p99),
    rssBeforeBytes: slices[0].rssBeforeBytes,
    rssAfterBytes: slices[slices.length - 1].rssAfterBytes,
    // VmRSS sampled every 250 ms during the target's slices.
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
) {
  const slices: Slice[] = [];
  for (const target of [first, second, second, first]) {
    slices.push(await measureSlice(target, path, token, options.seconds / 2, options.connections));
  }
  return [first, second].map((target) => combine(slices.filter((slice) => slice.target === target)));
}
