import { existsSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { sign } from 'jsonwebtoken';
import { buildBaseline } from './baseline-build';
import { PROJECT_ROOT, freeLoopbackPort, startChild, stopChild, waitForHttp, type Child } from './processes';
import type { TargetName } from './results';

export type { TargetName };

/** A server under test: a child process answering HTTP on a loopback port. */
export interface HttpTarget {
  name: TargetName;
  baseUrl: string;
  child: Child;
}

export interface Credentials {
  secret: string;
  token: string;
}

/** A fresh HS256 secret and an administrator token for this bench run. */
export function benchCredentials(secret: string): Credentials {
  const token = sign({ sub: 'bench', role: 'Administrator' }, secret, {
    algorithm: 'HS256',
    expiresIn: '3h',
  });
  return { secret, token };
}

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { PATH, HOME, LANG, TZ } = process.env;
  return { PATH, HOME, LANG, TZ, ...extra };
}

/** Where the service's log lines (stdout) go during a bench run. */
export const SERVICE_LOG = resolve(PROJECT_ROOT, 'bench/results/service.log');

/**
 * The built service, `node dist/main`, in production mode without demo data, its rate limit off:
 * the bench is one principal sending thousands of requests a minute on purpose.
 */
export async function startService(databaseUrl: string, credentials: Credentials): Promise<HttpTarget> {
  const main = resolve(PROJECT_ROOT, 'dist/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  const port = await freeLoopbackPort();
  // Its request log goes to a file, as in production (a collector reads it there), not through
  // a pipe into this process, whose reading would compete with the servers for the CPU.
  const log = openSync(SERVICE_LOG, 'w');
  const child = startChild('service', process.execPath, [main], {
    stdio: ['ignore', log, 'pipe'],
    env: childEnv({
      NODE_ENV: 'production',
      DEMO_DATA: 'false',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: '10',
      AUTH_JWT_SECRET: credentials.secret,
      RATE_LIMIT_ENABLED: 'false',
    }),
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(child, `${baseUrl}/`);
  return { name: 'service', baseUrl, child };
}

/**
 * bench/baseline-server.ts (Fastify + pg Pool(10), same SQL, envelope and token check), run on
 * plain node from a transpiled copy; its packages resolve from the project's node_modules.
 */
export async function startBaseline(databaseUrl: string, credentials: Credentials): Promise<HttpTarget> {
  const port = await freeLoopbackPort();
  const build = buildBaseline();
  const child = startChild('baseline', process.execPath, [build.entry], {
    env: childEnv({
      NODE_ENV: 'production',
      NODE_PATH: resolve(PROJECT_ROOT, 'node_modules'),
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      AUTH_JWT_SECRET: credentials.secret,
    }),
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(child, `${baseUrl}/`);
  } finally {
    build.remove(); // loaded by now: node keeps the modules it required
  }
  return { name: 'baseline', baseUrl, child };
}

export async function stopTargets(targets: HttpTarget[]): Promise<void> {
  await Promise.all(targets.map((target) => stopChild(target.child)));
}

export function itemsPath(activityId: string, page: number, pageSize: number): string {
  return `/api/v1/activities/${activityId}/items?page=${page}&pageSize=${pageSize}`;
}
