import { sign } from 'jsonwebtoken';
import type { AuthConfig } from './auth-config';

/** An administrator token for the generated development secret, valid for 12 hours. */
export function signDevelopmentToken(
  config: Extract<AuthConfig, { kind: 'secret' }>,
  roleClaim: string,
): string {
  return sign(
    { sub: 'development-admin', name: 'Development administrator', [roleClaim]: ['Administrator'] },
    config.secret,
    {
      algorithm: 'HS256',
      expiresIn: '12h',
      ...(config.issuer ? { issuer: config.issuer } : {}),
      ...(config.audience ? { audience: config.audience } : {}),
    },
  );
}
