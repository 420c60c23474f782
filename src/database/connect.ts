import { DataSource, type DataSourceOptions } from 'typeorm';

/** Milliseconds between connection attempts. */
export const CONNECT_RETRY_DELAY_MS = 3_000;

/** A database error a retry cannot mend: the database named in the URL does not exist. */
export function isMissingDatabase(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '3D000';
}

/** The database could not be opened; the message is one line, fit for a person, without the password. */
export class DatabaseConnectError extends Error {
  override readonly name = 'DatabaseConnectError';
}

/**
 * Opens a data source, trying again `retries` times, 3 s apart, while the server cannot be reached
 * (it may be starting). A database that does not exist is not retried. `onRetry` is told of each
 * failed attempt before the wait.
 */
export async function connectDataSource(
  options: DataSourceOptions & { url?: string },
  retries: number,
  onRetry: (message: string) => void = () => undefined,
  delayMs = CONNECT_RETRY_DELAY_MS,
): Promise<DataSource> {
  const where = describeUrl(options.url);
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await new DataSource(options).initialize();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (isMissingDatabase(error)) {
        throw new DatabaseConnectError(
          `The database ${where.database} does not exist on ${where.server}: create it (createdb ${where.name}) or correct DATABASE_URL.`,
        );
      }
      if (attempt >= retries) {
        throw new DatabaseConnectError(
          `Cannot connect to the database on ${where.server} (${reason})${retries > 0 ? ` after ${retries + 1} attempts` : ''}.`,
        );
      }
      onRetry(
        `Cannot connect to the database on ${where.server} (${reason}); trying again in ${delayMs / 1000} s (retry ${attempt + 1} of ${retries}, DATABASE_CONNECT_RETRIES).`,
      );
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** Server and database of a `postgres://` URL, never its password. */
function describeUrl(url: string | undefined): { server: string; database: string; name: string } {
  try {
    const parsed = new URL(url ?? '');
    const name = decodeURIComponent(parsed.pathname.slice(1)) || parsed.username || 'postgres';
    return { server: parsed.host || 'localhost', database: `"${name}"`, name };
  } catch {
    return { server: 'the configured server', database: 'named in DATABASE_URL', name: '<name>' };
  }
}
