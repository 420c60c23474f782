import { ExecutionContext, Injectable } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { JwtAuthGuard } from '../execution-items/jwt-auth.guard';
import { principalOf } from '../logging/principal';

interface RequestWithUser {
  headers: Record<string, string | string[] | undefined>;
  ip: string;
  user?: unknown;
}

/**
 * The rate limit, one budget per authenticated principal and one per client address for requests
 * without valid credentials, shared by every route it guards.
 *
 * A global guard runs before the route's own authentication, so a request that presents
 * credentials is authenticated here first with the route's guard (`JwtAuthGuard`, which tries the
 * configured strategies: bearer token, API key). Credentials that fail count against the address;
 * the route's guard then refuses them with its usual answer. The address is Fastify's
 * `request.ip`, which follows `X-Forwarded-For` only from trusted proxies (`TRUST_PROXY`), so a
 * client cannot pick a fresh budget by forging the header.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private authGuard?: JwtAuthGuard;

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly moduleRef: ModuleRef,
  ) {
    super(options, storage, reflector);
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    await this.authenticate(context);
    return super.canActivate(context);
  }

  /** Sets `request.user` when the request carries credentials that the route would accept. */
  private async authenticate(context: ExecutionContext): Promise<void> {
    const request = context.switchToHttp().getRequest<RequestWithUser>();
    if (request.user !== undefined || !hasCredentials(request)) return;
    this.authGuard ??= this.moduleRef.get(JwtAuthGuard, { strict: false });
    try {
      await this.authGuard.canActivate(context);
    } catch {
      request.user = undefined;
    }
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

function hasCredentials({ headers }: RequestWithUser): boolean {
  return headers.authorization !== undefined || headers['x-api-key'] !== undefined;
}

/** Whether the request was authenticated (by `RateLimitGuard`, which runs first). */
export function isAuthenticated(context: ExecutionContext): boolean {
  return principalOf(context.switchToHttp().getRequest<RequestWithUser>().user) !== null;
}
