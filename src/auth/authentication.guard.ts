import { CanActivate, ExecutionContext, Injectable, type Type } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { JWT_STRATEGY } from '../execution-items';
import { API_KEY_STRATEGY } from './api-keys/api-keys.options';

/**
 * The service's ways in, in the order the module's routes try them: an `X-API-Key` first (its
 * strategy is the one that refuses a request carrying a key and a bearer token together), then
 * the bearer token.
 */
export const APP_AUTH_STRATEGIES = [API_KEY_STRATEGY, JWT_STRATEGY];

interface RequestWithUser {
  headers: Record<string, string | string[] | undefined>;
  user?: unknown;
}

/**
 * The service's first global guard: a request that carries credentials is authenticated here,
 * once, and its principal set on `request.user` for the guards after it (the rate limit counts
 * against it) and for the routes (the module's guard accepts a request already authenticated).
 * The header picks the strategy: `X-API-Key` the API key's (which also refuses a request that
 * carries a bearer token beside it), otherwise the bearer token's. Credentials that fail leave
 * the request anonymous; the route then refuses it with its usual answer. Routes without
 * authentication (health, the API documents) are not refused here.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  private readonly byApiKey = new (quietPassportGuard(API_KEY_STRATEGY))();
  private readonly byBearerToken = new (quietPassportGuard(JWT_STRATEGY))();

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<RequestWithUser>();
    if (request.user !== undefined) return true;
    const { headers } = request;
    const guard =
      headers['x-api-key'] !== undefined
        ? this.byApiKey
        : headers.authorization !== undefined
          ? this.byBearerToken
          : null;
    if (!guard) return true;
    try {
      await guard.canActivate(context);
    } catch {
      request.user = undefined;
    }
    return true;
  }
}

/** Passport's guard for one strategy, failing with a plain error that the guard drops. */
function quietPassportGuard(strategy: string): Type<CanActivate> {
  return class extends AuthGuard(strategy) {
    override handleRequest<TUser>(error: unknown, user: TUser | false): TUser {
      if (error || !user) throw new Error('not authenticated');
      return user;
    }
  };
}
