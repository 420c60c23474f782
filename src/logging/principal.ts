/**
 * Who made a request, for logs and rate limits: the `sub` of the authenticated principal (a
 * token's subject, or `api-key:<id>` for an API key), or `null` when the request carries no
 * valid credentials.
 */
export function principalOf(user: unknown): string | null {
  if (typeof user !== 'object' || user === null) return null;
  const { sub } = user as { sub?: unknown };
  return typeof sub === 'string' && sub.length > 0 ? sub : null;
}
