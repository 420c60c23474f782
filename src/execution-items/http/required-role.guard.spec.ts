import type { ExecutionContext } from '@nestjs/common';
import { resolveOptions } from '../execution-items.options';
import { ApiError } from './api-error';
import { ErrorCode } from '../responses/error-envelope.response';
import { RequiredRoleGuard, RequiresAccess, rolesOf, type Access } from './required-role.guard';

describe('rolesOf', () => {
  it('reads a string claim as one role', () => {
    expect(rolesOf({ role: 'Administrator' }, 'role')).toEqual(['Administrator']);
  });

  it('reads an array claim as its roles', () => {
    expect(rolesOf({ role: ['Reader', 'Administrator'] }, 'role')).toEqual(['Reader', 'Administrator']);
  });

  it('gives no roles for an array with non-string members', () => {
    expect(rolesOf({ role: ['Administrator', 1] }, 'role')).toEqual([]);
    expect(rolesOf({ role: ['Administrator', null] }, 'role')).toEqual([]);
    expect(rolesOf({ role: [{ name: 'Administrator' }] }, 'role')).toEqual([]);
  });

  it.each([
    ['null', null],
    ['an object', { Administrator: true }],
    ['a nested array', [['Administrator']]],
    ['a number', 1],
    ['a boolean', true],
  ])('gives no roles for a claim that is %s', (_shape, value) => {
    expect(rolesOf({ role: value }, 'role')).toEqual([]);
  });

  it('gives no roles when the claim is absent or the principal is not an object', () => {
    expect(rolesOf({ roles: 'Administrator' }, 'role')).toEqual([]);
    expect(rolesOf(undefined, 'role')).toEqual([]);
    expect(rolesOf(null, 'role')).toEqual([]);
    expect(rolesOf('Administrator', 'role')).toEqual([]);
    expect(rolesOf([{ role: 'Administrator' }], 'role')).toEqual([]);
  });

  it('does not read inherited properties as claims', () => {
    expect(rolesOf({}, 'constructor')).toEqual([]);
    expect(rolesOf({}, '__proto__')).toEqual([]);
    expect(rolesOf({ a: {} }, 'a.constructor.name')).toEqual([]);
  });

  it('reads a dotted claim as a path when no claim has that exact name', () => {
    const principal = { realm_access: { roles: ['offline_access', 'Administrator'] } };
    expect(rolesOf(principal, 'realm_access.roles')).toEqual(['offline_access', 'Administrator']);
  });

  it('gives no roles when the path breaks off', () => {
    expect(rolesOf({ realm_access: 'Administrator' }, 'realm_access.roles')).toEqual([]);
    expect(rolesOf({ realm_access: null }, 'realm_access.roles')).toEqual([]);
    expect(rolesOf({ realm_access: {} }, 'realm_access.roles')).toEqual([]);
  });

  it('prefers a claim whose exact name has dots over the path', () => {
    const principal = { 'realm_access.roles': 'Administrator', realm_access: { roles: ['Reader'] } };
    expect(rolesOf(principal, 'realm_access.roles')).toEqual(['Administrator']);
  });
});

describe('RequiredRoleGuard', () => {
  class ReadRoutes {
    read(): void {}
  }
  @RequiresAccess('write')
  class WriteRoutes {
    write(): void {}
  }

  function contextFor(user: unknown, access: Access = 'read'): ExecutionContext {
    const request = { user };
    const [controller, handler] =
      access === 'write'
        ? [WriteRoutes, WriteRoutes.prototype.write]
        : [ReadRoutes, ReadRoutes.prototype.read];
    return {
      switchToHttp: () => ({ getRequest: () => request }),
      getHandler: () => handler,
      getClass: () => controller,
    } as unknown as ExecutionContext;
  }

  function rejectionOf(guard: RequiredRoleGuard, user: unknown, access: Access = 'read'): unknown {
    try {
      guard.canActivate(contextFor(user, access));
    } catch (error) {
      return error;
    }
    throw new Error('canActivate let the request through');
  }

  const guard = new RequiredRoleGuard(resolveOptions({}));

  it('lets through a principal with the required role as a string', () => {
    expect(guard.canActivate(contextFor({ sub: 'u1', role: 'Administrator' }))).toBe(true);
  });

  it('lets through a principal with the required role in an array', () => {
    expect(guard.canActivate(contextFor({ sub: 'u1', role: ['Reader', 'Administrator'] }))).toBe(true);
  });

  it.each([
    ['another role', { role: 'Reader' }],
    ['the role in another case', { role: 'administrator' }],
    ['no role claim', { sub: 'u1' }],
    ['a role array with a non-string', { role: ['Administrator', 7] }],
    ['no principal', undefined],
  ])('throws FORBIDDEN for %s', (_case, user) => {
    const error = rejectionOf(guard, user);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      code: ErrorCode.Forbidden,
      message: 'This requires the Administrator role.',
    });
  });

  it('uses the configured role and claim', () => {
    const custom = new RequiredRoleGuard(
      resolveOptions({ requiredRole: 'Auditor', roleClaim: 'realm_access.roles' }),
    );
    expect(custom.canActivate(contextFor({ realm_access: { roles: ['Auditor'] } }))).toBe(true);
    expect(rejectionOf(custom, { role: 'Auditor' })).toMatchObject({ code: ErrorCode.Forbidden });
    expect(rejectionOf(custom, { realm_access: { roles: ['Administrator'] } })).toMatchObject({
      code: ErrorCode.Forbidden,
    });
  });

  describe('reading and writing', () => {
    const roles = new RequiredRoleGuard(
      resolveOptions({ readerRoles: ['Synchronisation Readers', 'Auditors'], engineRole: 'Connector' }),
    );

    it('lets a reader role read, and names every reading role when refusing', () => {
      expect(roles.canActivate(contextFor({ role: 'Synchronisation Readers' }))).toBe(true);
      expect(roles.canActivate(contextFor({ role: 'Administrator' }))).toBe(true);
      expect(rejectionOf(roles, { role: 'Connector' })).toMatchObject({
        code: ErrorCode.Forbidden,
        message: 'This requires one of the roles Administrator, Synchronisation Readers or Auditors.',
      });
    });

    it('lets only the engine role write', () => {
      expect(roles.canActivate(contextFor({ role: 'Connector' }, 'write'))).toBe(true);
      for (const role of ['Administrator', 'Synchronisation Readers', 'SyncEngine']) {
        expect(rejectionOf(roles, { role }, 'write')).toMatchObject({
          code: ErrorCode.Forbidden,
          message: 'This requires the Connector role.',
        });
      }
    });

    it('refuses an engine role that is also a reading role', () => {
      expect(() => resolveOptions({ engineRole: 'Administrator' })).toThrow(
        'must not also be a reading role',
      );
      expect(() => resolveOptions({ readerRoles: ['SyncEngine'] })).toThrow(
        'must not also be a reading role',
      );
    });
  });
});
