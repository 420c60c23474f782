/**
 * Ingestion over HTTP: the same items as the round's `ingestion.ts` (same seed), sent by an engine
 * to the built service as NDJSON batches of `batchSize`, one after the other over one keep-alive
 * connection, into a new run (`POST /api/v1/activities`, `.../items`, `.../complete`). Timed from
 * the first batch to the last answer; the NDJSON is encoded before. The run's rows are then
 * compared with the rows `appendItems` wrote in the child for the same items.
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { sign } from 'jsonwebtoken';
import { DataSource } from 'typeorm';
import { seededRandom, syntheticItem } from '../src/demo/synthetic-items';
import { compareRuns, type IngestionResult } from './ingestion';
import type { HttpTarget } from './servers';

export type HttpIngestionResult = Awaited<ReturnType<typeof measureHttpIngestion>>;

interface Answer {
  status: number;
  body: string;
}

function post(
  agent: Agent,
  sockets: Set<Socket>,
  url: string,
  token: string,
  contentType: string,
  body: string | null,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      agent,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === null ? {} : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) }),
      },
    });
    req.on('socket', (socket) => sockets.add(socket));
    req.on('error', reject);
    req.on('response', (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.end(body ?? undefined);
  });
}

/** Sends the round's items to the service over HTTP as an engine would; see the file's comment. */
export async function measureHttpIngestion(
  service: HttpTarget,
  secret: string,
  databaseUrl: string,
  options: { round: number; items: number; batchSize: number; seed: number; errorRate: number },
  inProcess: IngestionResult,
) {
  const token = sign({ sub: 'bench-engine', role: 'SyncEngine' }, secret, {
    algorithm: 'HS256',
    expiresIn: '1h',
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<Socket>();
  const call = async (path: string, body: string | null, contentType = 'application/json') => {
    const answer = await post(agent, sockets, `${service.baseUrl}${path}`, token, contentType, body);
    if (answer.status >= 300) throw new Error(`POST ${path}: ${answer.status} ${answer.body.slice(0, 500)}`);
    return JSON.parse(answer.body) as Record<string, unknown>;
  };
  try {
    const random = seededRandom(options.seed);
    const lines = Array.from({ length: options.items }, (_, index) => {
      const { objectType, ...item } = syntheticItem(index + 1, random, options.errorRate);
      return JSON.stringify({ ...item, connectedSystemObjectType: objectType ?? null });
    });
    const batches: string[] = [];
    for (let from = 0; from < lines.length; from += options.batchSize) {
      batches.push(lines.slice(from, from + options.batchSize).join('\n') + '\n');
    }
    const run = await call(
      '/api/v1/activities',
      JSON.stringify({
        connectedSystemName: 'Bench Directory',
        runProfileName: `Bench ingestion round ${options.round} (http)`,
        runType: 'FullSynchronisation',
      }),
    );
    const id = run.id as string;
    const started = performance.now();
    for (const [index, batch] of batches.entries()) {
      await call(`/api/v1/activities/${id}/items`, batch, 'application/x-ndjson').then((answer) => {
        if (answer.firstSequence !== index * options.batchSize + 1) {
          throw new Error(`batch ${index + 1} went to sequence ${String(answer.firstSequence)}`);
        }
      });
    }
    const ms = performance.now() - started;
    await call(`/api/v1/activities/${id}/complete`, JSON.stringify({ status: 'CompleteWithError' }));
    const serviceRun = inProcess.results.find((entry) => entry.method === 'service')!.activityId;
    const copy = inProcess.results.find((entry) => entry.method === 'copy')!;
    const rowsPerSecond = options.items / (ms / 1000);
    return {
      activityId: id,
      rows: options.items,
      batchSize: options.batchSize,
      batches: batches.length,
      bodyBytes: batches.reduce((sum, batch) => sum + Buffer.byteLength(batch), 0),
      connections: sockets.size,
      ms,
      rowsPerSecond,
      copyRowsPerSecond: copy.rowsPerSecond,
      ratio: rowsPerSecond / copy.rowsPerSecond,
      ...(await compareRunsAt(databaseUrl, serviceRun, id)),
    };
  } finally {
    agent.destroy();
  }
}

/** The rows of the HTTP run against those `appendItems` wrote in process for the same items. */
async function compareRunsAt(databaseUrl: string, serviceRun: string, httpRun: string) {
  const dataSource = new DataSource({ type: 'postgres', url: databaseUrl });
  await dataSource.initialize();
  try {
    return await compareRuns(dataSource, serviceRun, httpRun);
  } finally {
    await dataSource.destroy();
  }
}
