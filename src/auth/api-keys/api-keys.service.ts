import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { ApiError, type ValidationErrors } from '../../execution-items';
import { displayPrefixOf, generateApiKey, hashApiKey, isWellFormedApiKey } from './api-key-format';
import { ApiKey } from './api-key.entity';
import { API_KEY_CACHE_ENTRIES, API_KEYS_OPTIONS, type ResolvedApiKeysOptions } from './api-keys.options';
import { ExpiringCache } from './expiring-cache';

export interface NewApiKey {
  name: string;
  roles: string[];
  /** When the key stops working; null or absent for never. Must be in the future. */
  expires?: Date | null;
}

export type ApiKeyStatus = 'active' | 'expired' | 'revoked';

/** A stored key as lists show it: never the key, only its display prefix. */
export interface ApiKeySummary {
  id: string;
  name: string;
  prefix: string;
  roles: string[];
  created: Date;
  expires: Date | null;
  revoked: Date | null;
  status: ApiKeyStatus;
}

/** The principal of a request made with a key; the roles sit in the configured role claim. */
export type ApiKeyPrincipal = Record<string, unknown> & { sub: string; name: string; apiKeyId: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Creates, lists, revokes and checks API keys. */
@Injectable()
export class ApiKeysService {
  /** Keys by hash, as last read; revoking in this process forgets the entry at once. */
  private readonly cache: ExpiringCache<ApiKey>;

  constructor(
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    @Inject(API_KEYS_OPTIONS) private readonly options: ResolvedApiKeysOptions,
  ) {
    this.cache = new ExpiringCache(API_KEY_CACHE_ENTRIES, options.cacheSeconds * 1000);
  }

  /** Stores a new key and returns it: the only time the key itself is available. */
  async createKey(input: NewApiKey): Promise<{ key: string; apiKey: ApiKeySummary }> {
    const now = new Date();
    const { name, roles, expires } = validateNewKey(input, now);
    const key = generateApiKey();
    const row = this.keys.create({
      id: uuidv7(),
      name,
      keyHash: hashApiKey(key),
      prefix: displayPrefixOf(key),
      roles,
      created: now,
      expires,
      revoked: null,
    });
    await this.keys.insert(row);
    return { key, apiKey: summaryOf(row, now) };
  }

  /** Every key, oldest first, with its status now. */
  async listKeys(): Promise<ApiKeySummary[]> {
    const now = new Date();
    const rows = await this.keys.find({ order: { created: 'ASC', id: 'ASC' } });
    return rows.map((row) => summaryOf(row, now));
  }

  /**
   * Revokes one key, named by its id, its display prefix or the whole key. Revoking a revoked key
   * changes nothing. This process forgets the key at once; other processes (the running service,
   * when the command line revokes) within their cache lifetime.
   */
  async revokeKey(reference: string): Promise<ApiKeySummary> {
    const row = await this.findOne(reference.trim());
    if (!row.revoked) {
      await this.keys.update({ id: row.id, revoked: IsNull() }, { revoked: new Date() });
    }
    this.cache.delete(row.keyHash);
    const revoked = await this.keys.findOneByOrFail({ id: row.id });
    return summaryOf(revoked, new Date());
  }

  /**
   * The principal for a presented key, or null when it is malformed, unknown, revoked or expired
   * (the caller answers all of these alike). The key is looked up by its hash, through the unique
   * index, and remembered for a short while.
   *
   * No constant-time comparison is needed: the database compares hashes, not keys, so a timing
   * difference could at most reveal how much of a guess's hash matches a stored hash, which says
   * nothing about the key (SHA-256 preimages cannot be found). The same reasoning covers the cache.
   */
  async authenticate(presented: string): Promise<ApiKeyPrincipal | null> {
    if (!isWellFormedApiKey(presented)) return null;
    const keyHash = hashApiKey(presented);
    let row = this.cache.get(keyHash);
    if (!row) {
      // Unknown keys are not cached: the cache holds only what exists, so nobody can fill it.
      row = (await this.keys.findOneBy({ keyHash })) ?? undefined;
      if (!row) return null;
      this.cache.set(keyHash, row);
    }
    if (summaryOf(row, new Date()).status !== 'active') return null;
    return {
      sub: `api-key:${row.id}`,
      name: row.name,
      apiKeyId: row.id,
      apiKeyPrefix: row.prefix,
      [this.options.roleClaim]: [...row.roles],
    };
  }

  private async findOne(reference: string): Promise<ApiKey> {
    let rows: ApiKey[];
    if (UUID.test(reference)) rows = await this.keys.findBy({ id: reference.toLowerCase() });
    else if (isWellFormedApiKey(reference)) rows = await this.keys.findBy({ keyHash: hashApiKey(reference) });
    else rows = await this.keys.findBy({ prefix: reference });
    if (rows.length === 0) throw ApiError.notFound(`No API key has the id or prefix ${reference}.`);
    if (rows.length > 1) {
      throw ApiError.badRequest(`${rows.length} API keys have the prefix ${reference}; name one by its id.`);
    }
    return rows[0];
  }
}

function summaryOf(row: ApiKey, now: Date): ApiKeySummary {
  const status: ApiKeyStatus = row.revoked
    ? 'revoked'
    : row.expires && row.expires.getTime() <= now.getTime()
      ? 'expired'
      : 'active';
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    roles: [...row.roles],
    created: row.created,
    expires: row.expires,
    revoked: row.revoked,
    status,
  };
}

/** Names of 1-100 characters and 1-20 distinct roles of 1-100 characters, none with control characters. */
export function validateNewKey(
  input: NewApiKey,
  now: Date,
): { name: string; roles: string[]; expires: Date | null } {
  const errors: ValidationErrors = {};
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (name.length < 1 || name.length > 100 || CONTROL.test(name)) {
    errors.name = ['must be 1 to 100 characters, without control characters'];
  }
  const roles = Array.isArray(input.roles) ? input.roles : [];
  if (
    roles.length < 1 ||
    roles.length > 20 ||
    roles.some(
      (role) =>
        typeof role !== 'string' ||
        role.length < 1 ||
        role.length > 100 ||
        role.trim() !== role ||
        CONTROL.test(role),
    )
  ) {
    errors.roles = [
      'must be 1 to 20 roles of 1 to 100 characters, without control characters or surrounding spaces',
    ];
  } else if (new Set(roles).size !== roles.length) {
    errors.roles = ['must not repeat a role'];
  }
  const expires = input.expires ?? null;
  if (expires !== null && (!(expires instanceof Date) || Number.isNaN(expires.getTime()))) {
    errors.expires = ['must be a date'];
  } else if (expires !== null && expires.getTime() <= now.getTime()) {
    errors.expires = ['must be in the future'];
  }
  if (Object.keys(errors).length > 0) throw ApiError.validation(errors);
  return { name, roles: [...roles], expires };
}
