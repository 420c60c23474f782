/** The servers under test: the built service and the baseline, each a child process on a loopback port. */
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sign } from 'jsonwebtoken';
import { ModuleKind, ScriptTarget, transpileModule } from 'typescript';
import {
  PROJECT_ROOT,
  childEnv,
  freeLoopbackPort,
  startChild,
  stopChild,
  waitForHttp,
  type Child,
} from './processes';

export type TargetName = 'service' | 'baseline';

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

const BUILD = resolve(PROJECT_ROOT, 'dist');

async function startTarget(name: TargetName, entry: string, env: Record<string, string>, log?: number) {
  const port = await freeLoopbackPort();
  const child = startChild(name, process.execPath, [entry], {
    stdio: ['ignore', log ?? 'pipe', 'pipe'],
    env: childEnv({ NODE_ENV: 'production', PORT: String(port), ...env }),
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(child, `${baseUrl}/`);
  return { name, baseUrl, child };
}

/**
 * The built service, `node dist/main`, in production mode without demo data, every layer on; its
 * rate limit allows the bench's one principal far more than it sends. Its request log
 * goes to a file, as in production (a collector reads it there), not through a pipe into this
 * process, whose reading would compete with the servers for the CPU.
 */
export async function startService(
  databaseUrl: string,
  credentials: Credentials,
  { env = {}, log = 'service.log' }: { env?: Record<string, string>; log?: string } = {},
): Promise<HttpTarget> {
  const main = resolve(BUILD, 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  return startTarget(
    'service',
    main,
    {
      DEMO_DATA: 'false',
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: '10',
      AUTH_JWT_SECRET: credentials.secret,
      // Every production layer on, the rate limit too, at a budget the bench's one principal stays under.
      RATE_LIMIT_PER_PRINCIPAL: '1000000',
      RATE_LIMIT_PER_IP: '1000000',
      ...env,
    },
    openSync(resolve(__dirname, 'results', log), 'w'),
  );
}

/**
 * bench/baseline-server.ts on plain node (no ts-node hooks in the measured process), like the
 * service: transpiled into a temporary folder, its imports of the production sources (`../src/`)
 * pointed at their build in dist/, its packages resolved from the project's node_modules.
 */
export async function startBaseline(databaseUrl: string, credentials: Credentials): Promise<HttpTarget> {
  const folder = mkdtempSync(join(tmpdir(), 'ei-bench-baseline-'));
  const entry = join(folder, 'baseline-server.js');
  const { outputText } = transpileModule(readFileSync(resolve(__dirname, 'baseline-server.ts'), 'utf8'), {
    compilerOptions: { module: ModuleKind.CommonJS, target: ScriptTarget.ES2023, esModuleInterop: true },
  });
  writeFileSync(entry, outputText.replaceAll('"../src/', `"${BUILD}/`));
  try {
    return await startTarget('baseline', entry, {
      NODE_PATH: resolve(PROJECT_ROOT, 'node_modules'),
      DATABASE_URL: databaseUrl,
      AUTH_JWT_SECRET: credentials.secret,
    });
  } finally {
    rmSync(folder, { recursive: true, force: true }); // loaded by now: node keeps the modules it required
  }
}

export async function stopTargets(targets: HttpTarget[]): Promise<void> {
  await Promise.all(targets.map((target) => stopChild(target.child)));
}

export function itemsPath(activityId: string, page: number, pageSize: number): string {
  return `/api/v1/activities/${activityId}/items?page=${page}&pageSize=${pageSize}`;
}
