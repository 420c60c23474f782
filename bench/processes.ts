/** The bench's processes: children started and always stopped, ports, memory of a process, the machine's CPU load, progress lines. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const PROJECT_ROOT = resolve(__dirname, '..');
export const STARTED = Date.now();

/** A progress line, with the minutes and seconds since the start. */
export function log(line: string): void {
  const elapsed = Math.round((Date.now() - STARTED) / 1000);
  const clock = [Math.floor(elapsed / 60), elapsed % 60].map((n) => String(n).padStart(2, '0')).join(':');
  process.stdout.write(`[${clock}] ${line}\n`);
}

/** The last lines a child wrote, kept to explain a failure. */
const OUTPUT_LINES_KEPT = 40;

export interface Child {
  name: string;
  process: ChildProcess;
  /** Its stdout and stderr, last lines only. */
  output(): string;
  exited: Promise<number | null>;
}

const running = new Set<Child>();

/** Starts a child process that is killed on exit, error or interrupt of this process. */
export function startChild(name: string, command: string, args: string[], options: SpawnOptions = {}): Child {
  const child = spawn(command, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - OUTPUT_LINES_KEPT));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolveExit) => {
    child.once('exit', (code) => resolveExit(code));
    child.once('error', (error) => {
      lines.push(`spawn failed: ${error.message}`);
      resolveExit(-1);
    });
  });
  const handle: Child = { name, process: child, output: () => lines.join('\n'), exited };
  running.add(handle);
  void exited.then(() => running.delete(handle));
  return handle;
}

/** Only what a child needs from this environment, and `extra`. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { PATH, HOME, LANG, TZ } = process.env;
  return { PATH, HOME, LANG, TZ, ...extra };
}

/** Stops a child: SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
export async function stopChild(child: Child, graceMs = 5000): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill('SIGTERM');
  const exited = await Promise.race([child.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!exited) {
    child.process.kill('SIGKILL');
    await child.exited;
  }
}

export async function stopAllChildren(): Promise<void> {
  await Promise.all([...running].map((child) => stopChild(child)));
}

/** Kills every child on the way out, also on SIGINT/SIGTERM and on a crash. */
export function installCleanupHandlers(): void {
  process.once('exit', () => {
    for (const child of running) child.process.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal} received: stopping child processes\n`);
      void stopAllChildren().finally(() => process.exit(130));
    });
  }
}

/** Runs a child to completion and returns its stdout; rejects on a non-zero exit. */
export async function runToCompletion(
  name: string,
  command: string,
  args: string[],
  options: SpawnOptions = {},
) {
  const child = startChild(name, command, args, options);
  let stdout = '';
  child.process.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const code = await child.exited;
  if (code !== 0) throw new Error(`${name} exited with ${code}:\n${child.output()}`);
  return stdout;
}

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Waits until the child answers HTTP on `url` (any status); fails if it exits first. */
export async function waitForHttp(child: Child, url: string, timeoutMs = 90_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(250)) {
    if (child.process.exitCode !== null)
      throw new Error(
        `${child.name} exited with ${child.process.exitCode} before listening:\n${child.output()}`,
      );
    const answered = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (response) => response.body?.cancel().then(() => true) ?? true,
      () => false,
    );
    if (answered) return;
  }
  throw new Error(`${child.name} did not answer on ${url} within ${timeoutMs / 1000} s:\n${child.output()}`);
}

/** A process's resident set size (VmRSS), or its largest since start or `resetPeakResidentSet` (VmHWM), in bytes. */
export function residentSetBytes(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(
    readFileSync(`/proc/${pid}/status`, 'utf8'),
  );
  if (!match) throw new Error(`no ${field} for process ${pid}`);
  return Number(match[1]) * 1024;
}

/**
 * Sets a child's VmHWM back to its current RSS (`5` to /proc/<pid>/clear_refs, Linux 4.0+), so
 * the next reading is the peak of what follows; false when the kernel refuses.
 */
export function resetPeakResidentSet(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** The machine's busy and total CPU time (all cores) so far, in clock ticks (/proc/stat). */
export function cpuTimes(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  return { busy: total - fields[3] - fields[4], total };
}

/** Share of all cores busy over `ms`, in percent: taken while the bench is idle, it is other load. */
export async function machineBusyPercent(ms = 2000): Promise<number> {
  const before = cpuTimes();
  await sleep(ms);
  const after = cpuTimes();
  return (100 * (after.busy - before.busy)) / Math.max(1, after.total - before.total);
}

/**
 * Samples the machine's CPU use (2 s at a time, the bench idle) until it is below `busyPercent`
 * or `maxWaitMs` has passed; returns the last sample and how long it waited.
 */
export async function waitForQuietMachine(busyPercent: number, maxWaitMs: number) {
  const started = Date.now();
  let busy = await machineBusyPercent();
  while (busy > busyPercent && Date.now() - started < maxWaitMs) busy = await machineBusyPercent();
  return { busyPercent: busy, waitedMs: Date.now() - started };
}
