import { Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { ApiError, ErrorCode } from '../common/api-error';

/** The passport strategy name the host app registers (see `AuthModule`). */
export const JWT_STRATEGY = 'jwt';

/** Requires a principal from the host's `jwt` passport strategy; anything else is a 401. */
@Injectable()
export class JwtAuthGuard extends AuthGuard(JWT_STRATEGY) {
  override handleRequest<TUser>(error: unknown, user: TUser | false): TUser {
    if (error || !user) throw new ApiError(ErrorCode.Unauthorised, 'A valid bearer token is required.');
    return user;
  }
}
