/** Sequential GETs over one keep-alive connection per server, timed to the last body byte. */
import { Agent, request } from 'node:http';
import { median, percentile } from './stats';

export interface TimedResponse {
  status: number;
  body: string;
  /** From sending the request to the last byte of the body, in milliseconds. */
  ms: number;
}

/** One keep-alive connection per server, so sequential requests measure the server, not connects. */
const agents = new Map<string, Agent>();

export function timedGet(url: string, token: string): Promise<TimedResponse> {
  const target = new URL(url);
  let agent = agents.get(target.origin);
  if (!agent) agents.set(target.origin, (agent = new Agent({ keepAlive: true, maxSockets: 1 })));
  return new Promise((resolveResponse, reject) => {
    const started = process.hrtime.bigint();
    const headers = { authorization: `Bearer ${token}` };
    const req = request(target, { method: 'GET', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        resolveResponse({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms });
      });
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });
}

export function closeHttpAgents(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

export interface SamplingOptions {
  requestsPerPoint: number;
  warmupPerPoint: number;
  /** A request that has taken this long in total and holds `minSamples` samples is not sent again. */
  secondsPerPoint?: number;
  minSamples?: number;
}

export interface SampledLatency {
  medianMs: number;
  p99Ms: number;
  samples: number;
  /** Answers other than 200 (not sampled), and the first of them. */
  failures: number;
  firstFailure: string | null;
}

/**
 * Sequential GETs, interleaved: each repetition sends every request once, in reverse order every
 * other repetition, so drift weighs on all alike; warm-up answers are not kept. A request that
 * has spent its time budget is left out of the remaining repetitions (of the warm-up once it has
 * spent a quarter of it): a slow one must not stretch a round to many minutes.
 */
export async function sampleSequentially(
  urls: string[],
  token: string,
  options: SamplingOptions,
): Promise<SampledLatency[]> {
  const budgetMs = (options.secondsPerPoint ?? Infinity) * 1000;
  const state = urls.map((url) => ({ url, samples: [] as number[], spentMs: 0, failures: [] as string[] }));
  for (let repetition = 0; repetition < options.warmupPerPoint + options.requestsPerPoint; repetition++) {
    const warmingUp = repetition < options.warmupPerPoint;
    for (const entry of repetition % 2 === 0 ? state : [...state].reverse()) {
      const spent = warmingUp
        ? entry.spentMs > budgetMs / 4
        : entry.spentMs > budgetMs && entry.samples.length >= (options.minSamples ?? 0);
      if (spent) continue;
      const response = await timedGet(entry.url, token);
      entry.spentMs += response.ms;
      // A failure (a statement timeout, say) is a finding, not a reason to stop the bench.
      if (response.status !== 200)
        entry.failures.push(
          `${response.status} after ${response.ms.toFixed(0)} ms: ${response.body.slice(0, 200)}`,
        );
      else if (!warmingUp) entry.samples.push(response.ms);
    }
  }
  return state.map(({ samples, failures }) => ({
    medianMs: median(samples),
    p99Ms: percentile(samples, 99),
    samples: samples.length,
    failures: failures.length,
    firstFailure: failures[0] ?? null,
  }));
}
