import { DynamicModule, Module, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import type { OperationsConfig } from '../config/operations-config';
import { isAuthenticated, RateLimitGuard } from './rate-limit.guard';
import { RedisThrottlerStorage, RedisThrottlerStorageShutdown } from './redis-throttler-storage';

/**
 * Rate limits on every controller route (health excepted, with `@SkipThrottle()`): a sliding
 * window of `windowSeconds`, `perPrincipal` requests for each authenticated principal and `perIp`
 * for each address without valid credentials. Counts live in Redis when `redisUrl` is set, shared
 * by every instance (a fixed window from a budget's first request), otherwise in this process's
 * memory. Over the limit, a 429 `TOO_MANY_REQUESTS` whose `Retry-After` is the wait until a request fits again.
 * The guard itself is registered by the app (`rateLimitGuard`), after the authentication guard.
 */
@Module({})
export class RateLimitModule {
  static forRoot(rateLimit: OperationsConfig['rateLimit']): DynamicModule {
    if (!rateLimit.enabled) return { module: RateLimitModule };
    const throttler = ThrottlerModule.forRoot({
      throttlers: [
        {
          name: 'default',
          ttl: rateLimit.windowSeconds * 1000,
          limit: (context) => (isAuthenticated(context) ? rateLimit.perPrincipal : rateLimit.perIp),
          // No penalty box: a request is refused only until the oldest one in the window expires.
          blockDuration: 0,
        },
      ],
      ...(rateLimit.redisUrl ? { storage: new RedisThrottlerStorage(rateLimit.redisUrl) } : {}),
    });
    return {
      module: RateLimitModule,
      imports: [throttler],
      providers: rateLimit.redisUrl ? [RedisThrottlerStorageShutdown] : [],
      exports: [throttler],
    };
  }
}

/** The global rate-limit guard, or none when rate limits are off. */
export function rateLimitGuard(rateLimit: OperationsConfig['rateLimit']): Provider[] {
  return rateLimit.enabled ? [{ provide: APP_GUARD, useClass: RateLimitGuard }] : [];
}
