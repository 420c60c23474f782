import { integer, type Env } from './env';

/** Following runs as server-sent events (`GET /api/v1/activities/{id}/items/stream`). */
export interface FollowConfig {
  /** Streams one principal may hold open at once. */
  maxStreamsPerPrincipal: number;
  /** A comment line after this long without anything sent. */
  keepAliveMs: number;
  /** A follower re-reads its run at least this often when no change notice has come. */
  pollIntervalMs: number;
}

export function loadFollowConfig(env: Env): FollowConfig {
  return {
    maxStreamsPerPrincipal: integer(env, 'FOLLOW_MAX_STREAMS_PER_PRINCIPAL', 5, 1, 10_000),
    keepAliveMs: integer(env, 'FOLLOW_KEEP_ALIVE_MS', 15_000, 10, 3_600_000),
    pollIntervalMs: integer(env, 'FOLLOW_POLL_INTERVAL_MS', 1_000, 10, 600_000),
  };
}
