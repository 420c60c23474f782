import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
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

  /** One budget across all routes (the default keys a budget by controller and handler too). */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }
}

/** Whether the request was authenticated (by `AuthenticationGuard`, which runs first). */
export function isAuthenticated(context: ExecutionContext): boolean {
  return principalOf(context.switchToHttp().getRequest<{ user?: unknown }>().user) !== null;
}
