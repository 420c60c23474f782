import { boolean, integer, type Env } from './env';

/** Deleting old run history: what counts as old, how often the app looks, how much per statement. */
export interface RetentionConfig {
  /** Whether the app purges on a schedule (`npm run purge` works either way). */
  enabled: boolean;
  /** Completed activities created more than this many days ago are deleted, with their items. */
  days: number;
  /** Minutes between scheduled purges; the first runs this long after start. */
  intervalMinutes: number;
  /** Most items one DELETE statement (one short transaction) removes. */
  batchSize: number;
}

/**
 * `RETENTION_ENABLED` (default true), `RETENTION_DAYS` (90), `RETENTION_INTERVAL_MINUTES` (60),
 * `RETENTION_BATCH_SIZE` (5000). A wrong value is a `ConfigError` naming the variable.
 */
export function loadRetentionConfig(env: Env): RetentionConfig {
  return {
    enabled: boolean(env, 'RETENTION_ENABLED', true),
    days: integer(env, 'RETENTION_DAYS', 90, 1, 36_500),
    intervalMinutes: integer(env, 'RETENTION_INTERVAL_MINUTES', 60, 1, 10_080),
    batchSize: integer(env, 'RETENTION_BATCH_SIZE', 5_000, 100, 50_000),
  };
}
