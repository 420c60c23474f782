import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { EXECUTION_ITEMS_OPTIONS, type ResolvedExecutionItemsOptions } from '../execution-items.options';
import { ErrorCode } from '../responses/error-envelope.response';
import { ApiError } from './api-error';

/**
 * What a route does with the run history: `read` it (the required role or a reader role) or
 * `write` runs into it (the engine role alone). Neither kind of role grants the other.
 */
export type Access = 'read' | 'write';

const ACCESS = 'execution-items:access';

/** Marks a route or controller with the access it needs; unmarked routes need `read`. */
export const RequiresAccess = (access: Access) => SetMetadata(ACCESS, access);

/**
 * Lets a request through only when the authenticated principal holds a role that grants the
 * route's access (exact, case-sensitive match) in the configured role claim, which may be one
 * string or an array of strings. Runs after the authentication guard.
 */
@Injectable()
export class RequiredRoleGuard implements CanActivate {
  constructor(
    @Inject(EXECUTION_ITEMS_OPTIONS) private readonly options: ResolvedExecutionItemsOptions,
    private readonly reflector: Reflector = new Reflector(),
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const access =
      this.reflector.getAllAndOverride<Access | undefined>(ACCESS, [
        context.getHandler(),
        context.getClass(),
      ]) ?? 'read';
    const granting = rolesGranting(access, this.options);
    const principal: unknown = context.switchToHttp().getRequest<{ user?: unknown }>().user;
    if (!rolesOf(principal, this.options.roleClaim).some((role) => granting.includes(role))) {
      throw new ApiError(ErrorCode.Forbidden, forbiddenMessage(granting));
    }
    return true;
  }
}

/** The roles that grant an access, in the order the refusal names them. */
export function rolesGranting(access: Access, options: ResolvedExecutionItemsOptions): string[] {
  return access === 'write' ? [options.engineRole] : [options.requiredRole, ...options.readerRoles];
}

function forbiddenMessage(roles: string[]): string {
  if (roles.length === 1) return `This requires the ${roles[0]} role.`;
  return `This requires one of the roles ${roles.slice(0, -1).join(', ')} or ${roles.at(-1)}.`;
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
