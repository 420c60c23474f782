import { createSecretKey } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { passportJwtSecret } from 'jwks-rsa';
import { Strategy, type StrategyOptionsWithoutRequest } from 'passport-jwt';
import { JWT_STRATEGY } from '../execution-items';
import { AUTH_CONFIG, type AuthConfig } from './auth-config';

/** The verified claims of a bearer token; the principal of a request. */
export type JwtPrincipal = Record<string, unknown> & { exp: number; sub?: string };

/**
 * Verifies `Authorization: Bearer` tokens: signature with the pinned algorithms (HS256 with the
 * shared secret, or RS256/ES256 with keys from the identity provider's JWKS, cached and
 * rate-limited), `exp` required, `nbf`, issuer and audience when configured, and a bounded
 * lifetime. Tokens are read from the header only, never from the URL.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(@Inject(AUTH_CONFIG) private readonly config: AuthConfig) {
    super(strategyOptions(config));
  }

  /**
   * Beyond what the signature check enforces: `exp` present; `iat`, when present, not in the
   * future (beyond the clock tolerance); and the lifetime within the maximum, counted from the
   * issue time and from now alike, so that a token claiming to be issued in 2100 does not pass.
   */
  validate(payload: Record<string, unknown>): JwtPrincipal | false {
    const { exp, iat, nbf } = payload;
    if (typeof exp !== 'number') return false;
    const now = Math.floor(Date.now() / 1000);
    const { clockToleranceSeconds, maxLifetimeSeconds } = this.config;
    if (iat !== undefined && (typeof iat !== 'number' || iat > now + clockToleranceSeconds)) return false;
    const issuedAt = typeof iat === 'number' ? iat : typeof nbf === 'number' ? nbf : now;
    if (exp - Math.min(issuedAt, now) > maxLifetimeSeconds) return false;
    return payload as JwtPrincipal;
  }
}

/** A compact JWS: three base64url parts (RFC 7515), the last one empty for `alg: none`. */
const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i;

/**
 * The token of `Authorization: Bearer <token>` (RFC 6750): one token and nothing else.
 * passport-jwt's own extractor takes the first of `Bearer a b`, which would let a second,
 * unchecked value ride along. A token whose header is marked critical (`crit`) is not taken:
 * this service understands no JWS extension, and RFC 7515 (4.1.11) says a recipient that does
 * not understand a listed extension must reject the token; `jsonwebtoken` ignores `crit`.
 */
export function bearerToken(request: {
  headers: Record<string, string | string[] | undefined>;
}): string | null {
  const header = request.headers.authorization;
  const token = typeof header === 'string' ? (BEARER.exec(header)?.[1] ?? null) : null;
  return token !== null && !hasCriticalHeader(token) ? token : null;
}

/** Whether the JWS header names `crit` at all (or cannot be read, which verification refuses). */
function hasCriticalHeader(token: string): boolean {
  try {
    const header: unknown = JSON.parse(
      Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString(),
    );
    return typeof header === 'object' && header !== null && 'crit' in header;
  } catch {
    return false;
  }
}

function strategyOptions(config: AuthConfig): StrategyOptionsWithoutRequest {
  const common = {
    jwtFromRequest: bearerToken,
    ignoreExpiration: false,
    algorithms: config.algorithms,
    ...(config.issuer ? { issuer: config.issuer } : {}),
    ...(config.audience ? { audience: config.audience } : {}),
    jsonWebTokenOptions: { clockTolerance: config.clockToleranceSeconds },
  };
  if (config.kind === 'secret') {
    // A KeyObject, built once: given a string or Buffer, jsonwebtoken first tries (and fails) to
    // parse it as a PEM public key on every request, which costs more than the HMAC itself.
    // jsonwebtoken 9 takes a KeyObject; passport-jwt's types only list string | Buffer.
    const key = createSecretKey(Buffer.from(config.secret, 'utf8'));
    return { ...common, secretOrKey: key as unknown as Buffer };
  }
  return {
    ...common,
    secretOrKeyProvider: passportJwtSecret({
      jwksUri: config.jwksUri,
      cache: true,
      cacheMaxEntries: 10,
      cacheMaxAge: 10 * 60 * 1000,
      rateLimit: true,
      jwksRequestsPerMinute: 10,
      timeout: 5000,
    }),
  };
}
