import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';

/** How often the size of pg_wal is looked at. */
export const WAL_CHECK_INTERVAL_MS = 1000;

/** A WAL segment's file name: timeline, log and segment numbers, 24 hex digits. */
const SEGMENT_NAME = /^[0-9A-F]{24}$/;

/**
 * The checkpointer's work for a PostgreSQL that has none: PGlite runs a single-user backend, in
 * which neither `max_wal_size` nor `checkpoint_timeout` starts a checkpoint, so WAL grows with
 * every write until the database is closed. Every `intervalMs` this sums the segments in
 * `<dataDir>/pg_wal` (a directory read, no statement), and past `maxWalBytes` runs `checkpoint`,
 * a CHECKPOINT through the caller's pool like any other statement: never between the messages of
 * another one. The checkpoint lets PostgreSQL delete the segments written before it. A failure is
 * logged and the check runs again at the next tick. Returns the stop, which waits for a checkpoint
 * under way.
 */
export function checkpointWhenWalExceeds(
  dataDir: string,
  maxWalBytes: number,
  checkpoint: () => Promise<unknown>,
  intervalMs = WAL_CHECK_INTERVAL_MS,
): () => Promise<void> {
  const walDir = join(dataDir, 'pg_wal');
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running || walBytes(walDir) <= maxWalBytes) return;
    running = checkpoint()
      .then(
        () => undefined,
        (error: unknown) =>
          new Logger('Database').warn(
            `CHECKPOINT of the embedded database failed (${error instanceof Error ? error.message : String(error)}); trying again`,
          ),
      )
      .finally(() => (running = null));
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/** Bytes of the WAL segments in `walDir` (0 when it cannot be read). */
export function walBytes(walDir: string): number {
  let total = 0;
  try {
    for (const name of readdirSync(walDir)) {
      if (SEGMENT_NAME.test(name))
        total += statSync(join(walDir, name), { throwIfNoEntry: false })?.size ?? 0;
    }
  } catch {
    return 0;
  }
  return total;
}
