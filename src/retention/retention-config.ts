import { ConfigError } from '../config/app-config';

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

type Env = Record<string, string | undefined>;

/**
 * `RETENTION_ENABLED` (default true), `RETENTION_DAYS` (90), `RETENTION_INTERVAL_MINUTES` (60),
 * `RETENTION_BATCH_SIZE` (5000). A wrong value is a `ConfigError` naming the variable.
 */
export function loadRetentionConfig(env: Env): RetentionConfig {
  return {
    enabled: booleanSetting(env, 'RETENTION_ENABLED', true),
    days: integerSetting(env, 'RETENTION_DAYS', 90, 1, 36_500),
    intervalMinutes: integerSetting(env, 'RETENTION_INTERVAL_MINUTES', 60, 1, 10_080),
    batchSize: integerSetting(env, 'RETENTION_BATCH_SIZE', 5_000, 100, 50_000),
  };
}

function integerSetting(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = env[name]?.trim();
  if (!value) return fallback;
  const parsed = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${value}".`);
  }
  return parsed;
}

function booleanSetting(env: Env, name: string, fallback: boolean): boolean {
  const value = env[name]?.trim();
  if (!value) return fallback;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new ConfigError(`${name} must be true or false, got "${value}".`);
}
