import type { Repository } from 'typeorm';
import { rolesOf } from '../../execution-items/http/required-role.guard';
import { ApiKey } from './api-key.entity';
import { ApiKeysService, validateNewKey } from './api-keys.service';

/** The few repository calls the service makes, over an array: enough to count database reads. */
class FakeKeyRepository {
  rows: ApiKey[] = [];
  lookups = 0;

  create(row: ApiKey): ApiKey {
    return { ...row };
  }
  async insert(row: ApiKey): Promise<void> {
    this.rows.push({ ...row });
  }
  async findOneBy(where: Partial<ApiKey>): Promise<ApiKey | null> {
    this.lookups += 1;
    return (await this.findBy(where))[0] ?? null;
  }
  async findBy(where: Partial<ApiKey>): Promise<ApiKey[]> {
    return this.rows
      .filter((row) => Object.entries(where).every(([field, value]) => row[field as keyof ApiKey] === value))
      .map((row) => ({ ...row }));
  }
  async findOneByOrFail(where: Partial<ApiKey>): Promise<ApiKey> {
    return (await this.findBy(where))[0];
  }
  async update(where: { id: string }, changes: Partial<ApiKey>): Promise<void> {
    const row = this.rows.find((candidate) => candidate.id === where.id && !candidate.revoked);
    if (row) Object.assign(row, changes);
  }
}

describe('ApiKeysService.authenticate', () => {
  let repository: FakeKeyRepository;
  const service = (roleClaim = 'role', cacheSeconds = 10) =>
    new ApiKeysService(repository as unknown as Repository<ApiKey>, { roleClaim, cacheSeconds });

  beforeEach(() => {
    repository = new FakeKeyRepository();
    jest.useFakeTimers({ now: new Date('2026-11-27T12:00:00Z') });
  });

  afterEach(() => jest.useRealTimers());

  it('gives a principal with the key’s roles in the role claim', async () => {
    const apiKeys = service();
    const { key, apiKey } = await apiKeys.createKey({ name: 'ci', roles: ['Administrator', 'Reader'] });
    expect(await apiKeys.authenticate(key)).toEqual({
      sub: `api-key:${apiKey.id}`,
      name: 'ci',
      apiKeyId: apiKey.id,
      apiKeyPrefix: key.slice(0, 12),
      role: ['Administrator', 'Reader'],
    });
  });

  it('puts the roles where the role guard reads a dotted claim', async () => {
    const apiKeys = service('realm_access.roles');
    const { key } = await apiKeys.createKey({ name: 'ci', roles: ['Administrator'] });
    expect(rolesOf(await apiKeys.authenticate(key), 'realm_access.roles')).toEqual(['Administrator']);
  });

  it('refuses a malformed key without a database read', async () => {
    const apiKeys = service();
    expect(await apiKeys.authenticate('eik_short')).toBeNull();
    expect(repository.lookups).toBe(0);
  });

  it('reads a key once within the cache lifetime, and again after it', async () => {
    const apiKeys = service('role', 10);
    const { key } = await apiKeys.createKey({ name: 'ci', roles: ['Administrator'] });
    for (let i = 0; i < 3; i++) expect(await apiKeys.authenticate(key)).not.toBeNull();
    expect(repository.lookups).toBe(1);
    jest.advanceTimersByTime(10_000);
    expect(await apiKeys.authenticate(key)).not.toBeNull();
    expect(repository.lookups).toBe(2);
  });

  it('reads every time with a cache lifetime of 0', async () => {
    const apiKeys = service('role', 0);
    const { key } = await apiKeys.createKey({ name: 'ci', roles: ['Administrator'] });
    await apiKeys.authenticate(key);
    await apiKeys.authenticate(key);
    expect(repository.lookups).toBe(2);
  });

  it('does not remember unknown keys', async () => {
    const apiKeys = service();
    const unknown = `eik_${'x'.repeat(40)}`;
    expect(await apiKeys.authenticate(unknown)).toBeNull();
    expect(await apiKeys.authenticate(unknown)).toBeNull();
    expect(repository.lookups).toBe(2);
  });

  it('refuses a remembered key once it expires, and forgets one revoked in this process', async () => {
    const apiKeys = service();
    const expiring = await apiKeys.createKey({
      name: 'expiring',
      roles: ['Administrator'],
      expires: new Date('2026-11-27T12:00:05Z'),
    });
    const revoked = await apiKeys.createKey({ name: 'revoked', roles: ['Administrator'] });
    expect(await apiKeys.authenticate(expiring.key)).not.toBeNull();
    expect(await apiKeys.authenticate(revoked.key)).not.toBeNull();

    jest.advanceTimersByTime(5_000);
    await apiKeys.revokeKey(revoked.apiKey.id);
    expect(await apiKeys.authenticate(expiring.key)).toBeNull();
    expect(await apiKeys.authenticate(revoked.key)).toBeNull();
    expect(repository.lookups).toBe(3);
  });
});

describe('validateNewKey', () => {
  const now = new Date('2026-11-27T12:00:00Z');

  it('trims the name and keeps the roles in order', () => {
    expect(validateNewKey({ name: '  nightly export ', roles: ['Reader', 'Administrator'] }, now)).toEqual({
      name: 'nightly export',
      roles: ['Reader', 'Administrator'],
      expires: null,
    });
  });

  it.each([
    [
      { name: '', roles: ['Administrator'] },
      { name: ['must be 1 to 100 characters, without control characters'] },
    ],
    [
      { name: 'a'.repeat(101), roles: ['Administrator'] },
      { name: ['must be 1 to 100 characters, without control characters'] },
    ],
    [
      { name: 'tab\there', roles: ['Administrator'] },
      { name: ['must be 1 to 100 characters, without control characters'] },
    ],
    [
      { name: 'ci', roles: [] },
      {
        roles: [
          'must be 1 to 20 roles of 1 to 100 characters, without control characters or surrounding spaces',
        ],
      },
    ],
    [
      { name: 'ci', roles: [' Administrator'] },
      {
        roles: [
          'must be 1 to 20 roles of 1 to 100 characters, without control characters or surrounding spaces',
        ],
      },
    ],
    [
      { name: 'ci', roles: [''] },
      {
        roles: [
          'must be 1 to 20 roles of 1 to 100 characters, without control characters or surrounding spaces',
        ],
      },
    ],
    [{ name: 'ci', roles: ['Reader', 'Reader'] }, { roles: ['must not repeat a role'] }],
    [{ name: 'ci', roles: ['Reader'], expires: now }, { expires: ['must be in the future'] }],
    [{ name: 'ci', roles: ['Reader'], expires: new Date('nonsense') }, { expires: ['must be a date'] }],
  ])('refuses %j', (input, validationErrors) => {
    expect(() => validateNewKey(input, now)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_ERROR', validationErrors }),
    );
  });
});
