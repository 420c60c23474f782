import {
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
  type OnModuleInit,
  type Type,
} from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import passport from 'passport';
import { EXECUTION_ITEMS_OPTIONS, type ResolvedExecutionItemsOptions } from '../execution-items.options';
import { ErrorCode } from '../responses/error-envelope.response';
import { ApiError } from './api-error';

/** The strategy name `authStrategies` holds by default: the host's bearer token strategy. */
export const JWT_STRATEGY = 'jwt';

/**
 * Requires a principal. A request that the host has already authenticated (`request.user` set
 * by a global guard of its own, before the route's guards run) passes as it is; any other is
 * authenticated here by the host's passport strategies named in `authStrategies`, tried in
 * order. A strategy that refuses the request with an `ApiError` decides the answer (a 400 for
 * a bearer token and an API key together, say); any other failure, or no strategy succeeding,
 * is a 401.
 */
@Injectable()
export class AuthenticatedGuard implements CanActivate {
  private readonly passportGuard: CanActivate;

  constructor(@Inject(EXECUTION_ITEMS_OPTIONS) options: ResolvedExecutionItemsOptions) {
    this.passportGuard = new (passportGuardFor(options.authStrategies))();
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<{ user?: unknown }>();
    if (request.user !== undefined && request.user !== null) return true;
    return (await this.passportGuard.canActivate(context)) as boolean;
  }
}

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

/**
 * Fails the start of a host that mounts the module's routes without registering every passport
 * strategy they authenticate with: otherwise it would start and answer every request with a 500.
 */
@Injectable()
export class AuthStrategiesCheck implements OnModuleInit {
  constructor(@Inject(EXECUTION_ITEMS_OPTIONS) private readonly options: ResolvedExecutionItemsOptions) {}

  onModuleInit(): void {
    // Strategies register themselves with passport when Nest creates them, before any module is
    // initialised. passport's types leave out its lookup by name.
    const registry = passport as unknown as { _strategy(name: string): unknown };
    const missing = this.options.authStrategies.filter((name) => !registry._strategy(name));
    if (missing.length > 0) {
      throw new Error(
        `ExecutionItemsModule: no passport strategy named ${missing.map((name) => `"${name}"`).join(', ')} is registered. ` +
          'Register one in the host (a provider extending PassportStrategy(Strategy, name)), ' +
          "set the module's authStrategies to the host's strategies, or pass http: false to mount no routes.",
      );
    }
  }
}
