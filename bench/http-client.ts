import { Agent, request } from 'node:http';

export interface TimedResponse {
  status: number;
  body: string;
  /** From sending the request to the last byte of the body, in milliseconds. */
  ms: number;
}

/** One keep-alive connection per server, so sequential requests measure the server, not connects. */
const agents = new Map<string, Agent>();

function agentFor(origin: string): Agent {
  let agent = agents.get(origin);
  if (!agent) {
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.set(origin, agent);
  }
  return agent;
}

export function timedGet(url: string, token: string): Promise<TimedResponse> {
  const target = new URL(url);
  return new Promise((resolveResponse, reject) => {
    const started = process.hrtime.bigint();
    const req = request(
      target,
      { method: 'GET', agent: agentFor(target.origin), headers: { authorization: `Bearer ${token}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          resolveResponse({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms });
        });
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end();
  });
}

export function closeHttpAgents(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}
