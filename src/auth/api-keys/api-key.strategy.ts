import type { IncomingHttpHeaders } from 'node:http';
import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-custom';
import { ApiError, ErrorCode } from '../../execution-items';
import { API_KEY_STRATEGY } from './api-keys.options';
import { ApiKeysService, type ApiKeyPrincipal } from './api-keys.service';

/**
 * Authenticates `X-API-Key: eik_...`. A request without the header is not this strategy's: it
 * fails quietly and the next strategy (the bearer token) decides. A request with both the header
 * and an `Authorization` header is refused with a 400 (list this strategy before `jwt` so that it
 * sees every such request). A key that is malformed, unknown, revoked or expired is a 401, the
 * same answer for each so that a caller learns nothing about which keys exist.
 */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, API_KEY_STRATEGY) {
  constructor(private readonly apiKeys: ApiKeysService) {
    super();
  }

  async validate(request: { headers: IncomingHttpHeaders }): Promise<ApiKeyPrincipal | false> {
    const presented = request.headers['x-api-key'];
    if (presented === undefined) return false;
    if (request.headers.authorization !== undefined) {
      throw ApiError.badRequest('Send either a bearer token or an API key, not both.');
    }
    // Node joins repeated X-API-Key headers with ", ", which is never a well-formed key.
    const principal = await this.apiKeys.authenticate(
      Array.isArray(presented) ? presented.join(', ') : presented,
    );
    if (!principal) throw new ApiError(ErrorCode.Unauthorised, 'A valid API key is required.');
    return principal;
  }
}
