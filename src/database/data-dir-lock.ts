import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The lock file's name inside a PGlite data directory. */
export const LOCK_FILE = 'execution-items.lock';

/** Who holds a data directory: what the lock file says. */
export interface LockHolder {
  pid: number;
  /** The holder's command line, for the message. */
  command: string;
  /** When it took the lock (ISO 8601). */
  since: string;
  /** The holder's start time in clock ticks since boot (Linux `/proc/<pid>/stat`), to tell a reused pid. */
  startTicks?: string;
}

/**
 * Another live process holds the embedded database's data directory. PGlite is one process's
 * database: a second process would write to files the first has cached, and what it wrote would
 * be lost or corrupt the directory.
 */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  /** The command-line tools exit with this (EX_TEMPFAIL: try again once the holder has stopped). */
  readonly exitCode = 75;

  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder | null,
  ) {
    const who = holder
      ? `process ${holder.pid} (${holder.command}, since ${holder.since})`
      : 'another process (its lock file is being written)';
    super(
      [
        `The embedded database in ${dataDir} is in use by ${who}.`,
        'PGlite allows one process per data directory, so nothing was done.',
        'Stop that process (the service: Ctrl-C or SIGTERM) and run this again, then start the service again;',
        'or run the service and this command on a PostgreSQL server with DATABASE_URL.',
      ].join('\n'),
    );
  }
}

/** Directories this process holds, so that its own earlier lock (a reused pid 1 in a container) is not taken for a live one. */
const held = new Set<string>();

/**
 * Takes the data directory for this process: creates `execution-items.lock` in it exclusively
 * (O_EXCL) with this process's pid. A lock whose process is gone (a crash, a kill) is taken over;
 * a live one is a `DataDirLockedError`. Returns the release, which is also done at exit.
 */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  if (held.has(path)) throw new DataDirLockedError(dataDir, readHolder(path));
  for (let attempt = 0; attempt < 5; attempt += 1) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readHolder(path);
      if (holder ? isAlive(holder) : !isOldEnough(path)) throw new DataDirLockedError(dataDir, holder);
      takeOverStale(path, holder);
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(me())}\n`);
    } finally {
      closeSync(fd);
    }
    held.add(path);
    const release = () => {
      if (!held.delete(path)) return;
      process.removeListener('exit', release);
      // Only our own lock: never one another process took after ours was removed by hand.
      if (readHolder(path)?.pid === process.pid) removeQuietly(path);
    };
    process.once('exit', release);
    return release;
  }
  throw new DataDirLockedError(dataDir, readHolder(path));
}

function me(): LockHolder {
  return {
    pid: process.pid,
    command: process.argv
      .slice(1)
      .map((arg) => arg.replace(/^.*node_modules\//, ''))
      .join(' '),
    since: new Date().toISOString(),
    startTicks: startTicksOf(process.pid),
  };
}

function readHolder(path: string): LockHolder | null {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
    return Number.isSafeInteger(holder?.pid) && holder.pid > 0 ? holder : null;
  } catch {
    return null;
  }
}

/** The process runs, and is the one that took the lock (not another that got its pid since). */
function isAlive(holder: LockHolder): boolean {
  if (holder.pid === process.pid) return false; // not in `held`: a previous life of this pid
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const ticks = startTicksOf(holder.pid);
  return !(holder.startTicks && ticks && ticks !== holder.startTicks);
}

/** A lock file without a pid is being written, unless it has been like that for a while. */
function isOldEnough(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > 5_000;
  } catch {
    return true;
  }
}

/**
 * Moves the stale lock aside with one atomic rename, so that of two processes taking it over only
 * one succeeds; the other finds the new lock on its next attempt.
 */
function takeOverStale(path: string, stale: LockHolder | null): void {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = readHolder(aside);
  if (moved && stale && moved.pid !== stale.pid && isAlive(moved)) {
    // Another process took the lock over between our read and our rename: give it back.
    renameSync(aside, path);
    throw new DataDirLockedError(join(path, '..'), moved);
  }
  removeQuietly(aside);
}

/** Field 22 of `/proc/<pid>/stat` (Linux); undefined elsewhere. */
function startTicksOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
