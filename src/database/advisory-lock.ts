import type { DataSource } from 'typeorm';

/**
 * Keys of the PostgreSQL advisory locks the service takes, one per kind of work that only one
 * instance may do at a time. Any 64-bit integers would do; these spell "ei-mig" and "ei-ret".
 */
export const ADVISORY_LOCKS = {
  migrations: 0x65692d6d6967,
  retention: 0x65692d726574,
} as const;

/** How often a waiting instance asks for a lock again. */
const RETRY_MS = 250;

/**
 * Runs `work` while this session holds the advisory lock `key`, on a connection of its own:
 * instances sharing a database run it one at a time. `wait: false` gives up at once and returns
 * `{ ran: false }` when another session holds the lock. The lock is asked for with
 * `pg_try_advisory_lock` in a loop rather than a blocking `pg_advisory_lock`, so that the wait is
 * never cut short by `statement_timeout`, and `onWait` is told once that the wait has begun.
 *
 * It needs a pool of two connections or more (one for the lock, one for the work), so a single
 * process on the embedded database, whose pool is one connection, does not take it.
 */
export async function withAdvisoryLock<T>(
  dataSource: DataSource,
  key: number,
  work: () => Promise<T>,
  options: { wait: boolean; onWait?: () => void },
): Promise<{ ran: true; result: T } | { ran: false }> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    let waiting = false;
    while (!(await tryLock(runner.query.bind(runner), key))) {
      if (!options.wait) return { ran: false };
      if (!waiting) options.onWait?.();
      waiting = true;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
    try {
      return { ran: true, result: await work() };
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [key]);
    }
  } finally {
    await runner.release();
  }
}

async function tryLock(
  query: (sql: string, parameters: unknown[]) => Promise<Array<{ locked: boolean }>>,
  key: number,
): Promise<boolean> {
  const [{ locked }] = await query('SELECT pg_try_advisory_lock($1) AS locked', [key]);
  return locked;
}
