import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { principalOf } from '../logging/principal';

/**
 * The rate limit, one budget per authenticated principal and one per client address for requests
 * without valid credentials, shared by every route it guards. It runs after `AuthenticationGuard`,
 * which has set `request.user` for a request with valid credentials. The address is Fastify's
 * `request.ip`, which follows `X-Forwarded-For` only from trusted proxies (`TRUST_PROXY`), so a
 * client cannot pick a fresh budget by forging the header.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    return super.canActivate(context);
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    const principal = principalOf(request.user);
    return principal === null ? `address:${await super.getTracker(request)}` : `principal:${principal}`;
  }

  /**
   * A refused request carries the limit headers too (the throttler sets only `Retry-After`):
   * the limit, none remaining, and the seconds until a request fits again (as `Retry-After`).
   */
  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const { res } = this.getRequestResponse(context);
    this.setResponseHeader(res, `${this.headerPrefix}-Limit`, detail.limit);
    this.setResponseHeader(res, `${this.headerPrefix}-Remaining`, 0);
    this.setResponseHeader(res, `${this.headerPrefix}-Reset`, detail.timeToBlockExpire);
    await super.throwThrottlingException(context, detail);
  }

  /** One budget across all routes (the default keys a budget by controller and handler too). */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }
}

/** Whether the request was authenticated (by `AuthenticationGuard`, which runs first). */
export function isAuthenticated(context: ExecutionContext): boolean {
  return principalOf(context.switchToHttp().getRequest<{ user?: unknown }>().user) !== null;
}
