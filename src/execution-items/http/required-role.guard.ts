import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { EXECUTION_ITEMS_OPTIONS, type ResolvedExecutionItemsOptions } from '../execution-items.options';
import { ErrorCode } from '../responses/error-envelope.response';
import { ApiError } from './api-error';

/**
 * Lets a request through only when the authenticated principal holds the module's required role
 * (exact, case-sensitive match) in the configured role claim, which may be one string or an
 * array of strings. Runs after the authentication guard.
 */
@Injectable()
export class RequiredRoleGuard implements CanActivate {
  constructor(@Inject(EXECUTION_ITEMS_OPTIONS) private readonly options: ResolvedExecutionItemsOptions) {}

  canActivate(context: ExecutionContext): boolean {
    const principal: unknown = context.switchToHttp().getRequest<{ user?: unknown }>().user;
    if (!rolesOf(principal, this.options.roleClaim).includes(this.options.requiredRole)) {
      throw new ApiError(ErrorCode.Forbidden, `This requires the ${this.options.requiredRole} role.`);
    }
    return true;
  }
}

/** The roles in a claim; a claim of any other shape than a string or an array of strings holds none. */
export function rolesOf(principal: unknown, claim: string): string[] {
  const value = readClaim(principal, claim);
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((role) => typeof role === 'string')) return value;
  return [];
}

function readClaim(principal: unknown, claim: string): unknown {
  if (!isRecord(principal)) return undefined;
  if (Object.hasOwn(principal, claim)) return principal[claim];
  let current: unknown = principal;
  for (const key of claim.split('.')) {
    if (!isRecord(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
