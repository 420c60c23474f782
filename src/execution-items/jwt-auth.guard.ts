import { CanActivate, ExecutionContext, Inject, Injectable, type Type } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { ApiError, ErrorCode } from '../common/api-error';
import {
  EXECUTION_ITEMS_OPTIONS,
  type ResolvedExecutionItemsOptions,
} from './execution-items.module-definition';

/** The passport strategy name the host app registers (see `AuthModule`); the default strategy. */
export const JWT_STRATEGY = 'jwt';

/**
 * Requires a principal from the host's passport strategies named in the module's
 * `authStrategies` option (by default only `jwt`), tried in order. A strategy that refuses the
 * request with an `ApiError` decides the answer (e.g. a 400 for a bearer token and an API key
 * together); any other failure, or no strategy succeeding, is a 401.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  private readonly passportGuard: CanActivate;

  constructor(@Inject(EXECUTION_ITEMS_OPTIONS) options: ResolvedExecutionItemsOptions) {
    this.passportGuard = new (passportGuardFor(options.authStrategies))();
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // A global guard (the host's rate limit) may have authenticated this request already: the
    // token is verified once per request, not once per guard.
    const request = context.switchToHttp().getRequest<object>();
    if (authenticated.has(request)) return true;
    const allowed = (await this.passportGuard.canActivate(context)) as boolean;
    if (allowed) authenticated.add(request);
    return allowed;
  }
}

/** Requests whose credentials a `JwtAuthGuard` has accepted. */
const authenticated = new WeakSet<object>();

/** `AuthGuard` fixes its strategies when the class is made, so the class is made from the options. */
function passportGuardFor(strategies: readonly string[]): Type<CanActivate> {
  class PassportGuard extends AuthGuard([...strategies]) {
    override handleRequest<TUser>(error: unknown, user: TUser | false): TUser {
      if (error instanceof ApiError) throw error;
      if (error || !user) throw new ApiError(ErrorCode.Unauthorised, 'A valid bearer token is required.');
      return user;
    }
  }
  return PassportGuard;
}
