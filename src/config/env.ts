/** The process environment, or a test's stand-in for it. */
export type Env = Record<string, string | undefined>;

/** A configuration value is missing or wrong; the message names the variable. */
export class ConfigError extends Error {}

/** The variable's value, trimmed; `undefined` when unset or blank. */
export function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** A plain decimal integer from `min` to `max`, or `fallback` when unset. */
export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = text(env, name);
  if (value === undefined) return fallback;
  const parsed = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${value}".`);
  }
  return parsed;
}

/** `true` or `false`, or `fallback` when unset. */
export function boolean(env: Env, name: string, fallback: boolean): boolean {
  const value = text(env, name);
  if (value === undefined) return fallback;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new ConfigError(`${name} must be true or false, got "${value}".`);
}

/** One of `values`, or `fallback` when unset. */
export function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const value = text(env, name);
  if (value === undefined) return fallback;
  if ((values as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${name} must be one of ${values.join(', ')}, got "${value}".`);
}
