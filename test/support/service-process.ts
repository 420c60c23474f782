import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const MAIN = join(ROOT, 'dist/main.js');

/**
 * The built service (`node dist/main.js`) in a process of its own, as a deployment runs it: its
 * own event loop, pools and signal handling, stopped with a signal. Its log lines are kept.
 */
export class ServiceProcess {
  private readonly lines: string[] = [];
  private readonly exit: Promise<number | null>;

  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => this.lines.push(...chunk.split('\n').filter(Boolean)));
    }
    this.exit = new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  }

  /** Starts the service on `port` with `env` (beside PATH and HOME), and waits until it is ready. */
  static async start(port: number, env: Record<string, string>): Promise<ServiceProcess> {
    const { PATH, HOME } = process.env;
    const child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: { PATH, HOME, ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new ServiceProcess(port, child);
    await service.ready();
    return service;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Everything it has logged so far. */
  get output(): string {
    return this.lines.join('\n');
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` (a graceful shutdown) and resolves with the exit code once the process has ended. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.running) this.child.kill(signal);
    return this.exit;
  }

  private async ready(): Promise<void> {
    const deadline = Date.now() + 60_000;
    let exited = false;
    void this.exit.then(() => (exited = true));
    while (Date.now() < deadline) {
      if (exited) throw new Error(`the service on port ${this.port} exited while starting:\n${this.output}`);
      const status = await fetch(`${this.url}/health/ready`).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) return;
      await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
    this.child.kill('SIGKILL');
    throw new Error(`the service on port ${this.port} was not ready after 60 s:\n${this.output}`);
  }
}

/** A loopback port nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as { port: number };
  await new Promise((resolveClose) => server.close(resolveClose));
  return port;
}

/**
 * Fails unless `dist/main.js` is there and newer than every source file under `src/` (unit specs
 * aside): a test of the built service must not run yesterday's build.
 */
export function assertBuiltFromSources(): void {
  let built: number;
  try {
    built = statSync(MAIN).mtimeMs;
  } catch {
    throw new Error('dist/main.js is missing: run `npm run build` first');
  }
  const newest = newestIn(join(ROOT, 'src'));
  if (newest.mtimeMs > built) {
    throw new Error(`dist/ is older than ${newest.path}: run \`npm run build\` first`);
  }
}

function newestIn(folder: string): { path: string; mtimeMs: number } {
  let newest = { path: folder, mtimeMs: 0 };
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.name.endsWith('.spec.ts')) continue;
    const candidate = entry.isDirectory() ? newestIn(path) : { path, mtimeMs: statSync(path).mtimeMs };
    if (candidate.mtimeMs > newest.mtimeMs) newest = candidate;
  }
  return newest;
}
