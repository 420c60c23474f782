import { sign, type SignOptions } from 'jsonwebtoken';

/** The HS256 secret the e2e apps are configured with. */
export const TEST_SECRET = 'e2e-test-secret-that-is-at-least-32-characters';

/**
 * A token signed like an identity provider would: HS256 with the test secret, valid 5 minutes
 * unless the claims set `exp` themselves (`exp: undefined` leaves it out).
 */
export function token(claims: Record<string, unknown> = {}, options: SignOptions = {}): string {
  const lifetime: SignOptions = 'exp' in claims ? {} : { expiresIn: '5m' };
  const payload = Object.fromEntries(
    Object.entries({ sub: 'e2e-user', ...claims }).filter(([, value]) => value !== undefined),
  );
  return sign(payload, TEST_SECRET, { algorithm: 'HS256', ...lifetime, ...options });
}

export function adminToken(): string {
  return token({ role: 'Administrator' });
}

export function bearer(jwt: string): { Authorization: string } {
  return { Authorization: `Bearer ${jwt}` };
}

/** A token with `alg: none` and no signature. */
export function unsignedToken(claims: Record<string, unknown>): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: 'e2e-user', iat: now, exp: now + 300, ...claims })}.`;
}
