/** How bearer tokens are verified. Algorithms are pinned per key kind. */
export type AuthConfig = {
  issuer: string | null;
  audience: string | null;
  /** Longest accepted token lifetime (exp − iat), in seconds. */
  maxLifetimeSeconds: number;
  /** Allowed clock difference for exp and nbf, in seconds. */
  clockToleranceSeconds: number;
} & (
  | { kind: 'secret'; secret: string; algorithms: ['HS256']; generatedForDevelopment: boolean }
  | { kind: 'jwks'; jwksUri: string; algorithms: Array<'RS256' | 'ES256'> }
);

export const AUTH_CONFIG = Symbol('AUTH_CONFIG');
