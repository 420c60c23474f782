import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { getStorageToken, type ThrottlerStorage } from '@nestjs/throttler';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** Longest a request waits for Redis before it is let through uncounted. */
const REDIS_TIMEOUT_MS = 500;
/** Redis failures are logged at most this often, not once per request. */
const WARN_EVERY_MS = 10_000;

/**
 * The rate-limit counts in Redis, shared by every instance of the service (the throttler storage
 * of `@nest-lab/throttler-storage-redis`). When Redis cannot answer within `REDIS_TIMEOUT_MS`,
 * the request is let through uncounted and a warning logged: an outage of the limiter's store
 * does not take the API down with it, and no request waits longer than that for it.
 */
export class RedisThrottlerStorage extends ThrottlerStorageRedisService {
  private readonly logger = new Logger('RateLimit');
  private lastWarning = 0;

  constructor(url: string) {
    super(url, {
      // A command waits for a connection being made, but never longer than `commandTimeout`.
      maxRetriesPerRequest: 0,
      commandTimeout: REDIS_TIMEOUT_MS,
      connectTimeout: REDIS_TIMEOUT_MS * 4,
      // Reconnect forever, at most a second apart; requests meanwhile go through uncounted.
      retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
      lazyConnect: false,
    });
    // ioredis reports a failed connection as an 'error' event; it is handled by the warning below.
    this.redis.on('error', (error: Error) => this.warn(error));
  }

  override async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    try {
      if (blockDuration > 0) return await super.increment(key, ttl, limit, blockDuration, throttlerName);
      // No penalty box (Redis refuses a zero expiry): block for a millisecond, so that a request
      // over the limit is refused until the window ends, as the in-memory storage does.
      const counted = await super.increment(key, ttl, limit, 1, throttlerName);
      return counted.isBlocked ? { ...counted, timeToBlockExpire: counted.timeToExpire } : counted;
    } catch (error) {
      this.warn(error);
      return { totalHits: 0, timeToExpire: 0, isBlocked: false, timeToBlockExpire: 0 };
    }
  }

  private warn(error: unknown): void {
    const now = Date.now();
    if (now - this.lastWarning < WARN_EVERY_MS) return;
    this.lastWarning = now;
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.warn(
      `Redis is not answering (${reason}); requests are let through uncounted until it is back`,
    );
  }
}

/**
 * Closes the Redis connection at shutdown: the storage reaches Nest as an option of
 * `ThrottlerModule`, whose lifecycle hooks Nest does not call.
 */
@Injectable()
export class RedisThrottlerStorageShutdown implements OnApplicationShutdown {
  constructor(@Inject(getStorageToken()) private readonly storage: ThrottlerStorage) {}

  onApplicationShutdown(): void {
    if (this.storage instanceof RedisThrottlerStorage) this.storage.redis.disconnect();
  }
}
