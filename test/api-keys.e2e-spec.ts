import { createHash } from 'node:crypto';
import request from 'supertest';
import { runApiKeyCommand } from '../src/auth/api-keys/api-key-command';
import { ApiKeysService } from '../src/auth/api-keys/api-keys.service';
import { ApiError } from '../src/execution-items';
import { createCliDatabase, runScript } from './support/cli-database';
import {
  FORBIDDEN_MESSAGE,
  GUID_MESSAGE,
  MISSING_ID,
  UNAUTHORISED_MESSAGE,
  VALIDATION_MESSAGE,
  activityNotFoundBody,
  errorBody,
} from './support/item-fixtures';
import { createTestApp, type TestApp } from './support/test-app';
import { adminToken, bearer, token } from './support/tokens';

const INVALID_KEY_MESSAGE = 'A valid API key is required.';
const BOTH_MESSAGE = 'Send either a bearer token or an API key, not both.';
const DAY_MS = 86_400_000;
/** The test app remembers looked-up keys for this long (API_KEY_CACHE_SECONDS). */
const CACHE_SECONDS = 1;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('API keys: X-API-Key', () => {
  let t: TestApp;
  let apiKeys: ApiKeysService;
  let runId: string;
  let itemIds: string[];
  let adminKey: string;
  let readerKey: string;
  let expiredKey: string;
  let revokedKey: string;

  beforeAll(async () => {
    t = await createTestApp({ API_KEY_CACHE_SECONDS: String(CACHE_SECONDS) });
    apiKeys = t.app.get(ApiKeysService);
    const run = await t.runs.startRun({
      connectedSystemName: 'HR Feed',
      runProfileName: 'Full Import',
      runType: 'FullImport',
    });
    runId = run.id;
    ({ itemIds } = await t.runs.appendItems(runId, [
      { objectChangeType: 'Add', displayName: 'Jane Smith', objectType: 'user' },
      { objectChangeType: 'Update', displayName: 'John Doe', objectType: 'user' },
    ]));
    await t.runs.completeRun(runId, { status: 'Complete' });

    adminKey = (await apiKeys.createKey({ name: 'nightly-export', roles: ['Administrator'] })).key;
    readerKey = (await apiKeys.createKey({ name: 'dashboard', roles: ['Reader', 'Auditor'] })).key;
    const expired = await apiKeys.createKey({
      name: 'contractor',
      roles: ['Administrator'],
      expires: new Date(Date.now() + DAY_MS),
    });
    expiredKey = expired.key;
    await t.dataSource.query(`UPDATE api_keys SET expires = now() - interval '1 minute' WHERE id = $1`, [
      expired.apiKey.id,
    ]);
    const revoked = await apiKeys.createKey({ name: 'leaked', roles: ['Administrator'] });
    revokedKey = revoked.key;
    await apiKeys.revokeKey(revoked.apiKey.id);
  });

  afterAll(() => t?.close());

  const withKey = (path: string, key: string) => request(t.http).get(path).set('X-API-Key', key);
  const itemsPath = () => `/api/v1/activities/${runId}/items`;

  describe('a valid key with the role', () => {
    it('gets the same answer as an administrator token', async () => {
      const byToken = await request(t.http).get(itemsPath()).set(bearer(adminToken())).expect(200);
      const byKey = await withKey(itemsPath(), adminKey).expect(200);
      expect(byKey.body).toEqual(byToken.body);
      expect(byKey.body).toMatchObject({ totalCount: 2, items: [{ id: itemIds[0] }, { id: itemIds[1] }] });
      expect(byKey.headers['www-authenticate']).toBeUndefined();
    });

    it('opens every route', async () => {
      for (const path of [
        '/api/v1/activities',
        `/api/v1/activities/${runId}`,
        `/api/v1/activities/${runId}/stats`,
        `/api/v1/activities/${runId}/items/${itemIds[1]}`,
        `/api/v1/activities/${runId}/items/export?format=ndjson`,
      ]) {
        const res = await withKey(path, adminKey);
        expect({ path, status: res.status }).toEqual({ path, status: 200 });
      }
    });

    it('still meets validation and not found after authentication', async () => {
      const invalid = await withKey('/api/v1/activities/not-a-guid/items', adminKey).expect(400);
      expect(invalid.body).toEqual(errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, { id: [GUID_MESSAGE] }));
      const missing = await withKey(`/api/v1/activities/${MISSING_ID}/items`, adminKey).expect(404);
      expect(missing.body).toEqual(activityNotFoundBody(MISSING_ID));
    });
  });

  describe('401 UNAUTHORISED', () => {
    it.each([
      ['an unknown key', () => `eik_${'A'.repeat(40)}`],
      ['a key that is not of the format', () => 'not-an-api-key'],
      ['an empty header', () => ''],
      ['a key in other case', () => adminKey.toUpperCase()],
      ['a key with a character missing', () => adminKey.slice(0, -1)],
      ['a revoked key', () => revokedKey],
      ['an expired key', () => expiredKey],
    ])('for %s', async (_case, key) => {
      const res = await withKey(itemsPath(), key()).expect(401);
      expect(res.body).toEqual(errorBody('UNAUTHORISED', INVALID_KEY_MESSAGE));
      expect(res.headers['www-authenticate']).toBe('Bearer');
    });

    it('for two keys in one header (what a repeated header arrives as)', async () => {
      const res = await withKey(itemsPath(), `${adminKey}, ${adminKey}`).expect(401);
      expect(res.body).toEqual(errorBody('UNAUTHORISED', INVALID_KEY_MESSAGE));
    });

    it('before the role, validation and the activity', async () => {
      for (const path of [
        `/api/v1/activities/${MISSING_ID}/items`,
        '/api/v1/activities/not-a-guid/items?page=x',
      ]) {
        const res = await withKey(path, revokedKey).expect(401);
        expect(res.body.code).toBe('UNAUTHORISED');
      }
    });

    it('with neither a key nor a token, as before', async () => {
      const res = await request(t.http).get(itemsPath()).expect(401);
      expect(res.body).toEqual(errorBody('UNAUTHORISED', UNAUTHORISED_MESSAGE));
      expect(res.headers['www-authenticate']).toBe('Bearer');
    });
  });

  describe('403 FORBIDDEN', () => {
    it('for a key without the role', async () => {
      const res = await withKey(itemsPath(), readerKey).expect(403);
      expect(res.body).toEqual(errorBody('FORBIDDEN', FORBIDDEN_MESSAGE));
    });

    it('before validation and the activity', async () => {
      for (const path of [`/api/v1/activities/${MISSING_ID}/items`, '/api/v1/activities/not-a-guid/items']) {
        const res = await withKey(path, readerKey).expect(403);
        expect(res.body.code).toBe('FORBIDDEN');
      }
    });
  });

  describe('400 BAD_REQUEST for a token and a key together', () => {
    it.each([
      ['a valid token and a valid key', () => `Bearer ${adminToken()}`, () => adminKey],
      ['an invalid token and a valid key', () => 'Bearer abc.def.ghi', () => adminKey],
      ['a valid token and an unknown key', () => `Bearer ${adminToken()}`, () => `eik_${'B'.repeat(40)}`],
      [
        'a token without the role and a key with it',
        () => `Bearer ${token({ role: 'Reader' })}`,
        () => adminKey,
      ],
      ['another scheme and a valid key', () => 'Basic dXNlcjpwYXNz', () => adminKey],
    ])('with %s', async (_case, authorization, key) => {
      const res = await request(t.http)
        .get(itemsPath())
        .set('Authorization', authorization())
        .set('X-API-Key', key())
        .expect(400);
      expect(res.body).toEqual(errorBody('BAD_REQUEST', BOTH_MESSAGE));
    });

    it('before validation and the activity', async () => {
      for (const path of [`/api/v1/activities/${MISSING_ID}/items`, '/api/v1/activities/not-a-guid/items']) {
        const res = await request(t.http)
          .get(path)
          .set(bearer(adminToken()))
          .set('X-API-Key', adminKey)
          .expect(400);
        expect(res.body).toEqual(errorBody('BAD_REQUEST', BOTH_MESSAGE));
      }
    });
  });

  describe('storage', () => {
    it('keeps only the SHA-256 of a key and its display prefix', async () => {
      const { key, apiKey } = await apiKeys.createKey({ name: 'ci', roles: ['Administrator'] });
      expect(key).toMatch(/^eik_[0-9A-Za-z]{40}$/);
      const [row] = await t.dataSource.query(`SELECT * FROM api_keys WHERE id = $1`, [apiKey.id]);
      expect(row).toEqual({
        id: apiKey.id,
        name: 'ci',
        key_hash: sha256(key),
        prefix: key.slice(0, 12),
        roles: ['Administrator'],
        created: expect.any(Date),
        expires: null,
        revoked: null,
      });
      const [{ found }] = await t.dataSource.query(
        `SELECT count(*)::int AS found FROM api_keys k WHERE strpos(row_to_json(k)::text, $1) > 0`,
        [key.slice(12)],
      );
      expect(found).toBe(0);
    });

    it('finds a key by its hash through the unique index', async () => {
      const [index] = await t.dataSource.query(
        `SELECT indexdef FROM pg_indexes WHERE tablename = 'api_keys' AND indexname = 'api_keys_key_hash_key'`,
      );
      expect(index.indexdef).toMatch(
        /^CREATE UNIQUE INDEX api_keys_key_hash_key ON public\.api_keys USING btree \(key_hash\)$/,
      );
    });
  });

  describe('revocation', () => {
    it('takes effect at once when revoked in the same process', async () => {
      const { key, apiKey } = await apiKeys.createKey({ name: 'short-lived', roles: ['Administrator'] });
      await withKey(itemsPath(), key).expect(200);
      await apiKeys.revokeKey(apiKey.prefix);
      const res = await withKey(itemsPath(), key).expect(401);
      expect(res.body).toEqual(errorBody('UNAUTHORISED', INVALID_KEY_MESSAGE));
    });

    it('takes effect within API_KEY_CACHE_SECONDS when revoked by another process', async () => {
      const { key, apiKey } = await apiKeys.createKey({
        name: 'revoked-elsewhere',
        roles: ['Administrator'],
      });
      await withKey(itemsPath(), key).expect(200);
      // What `npm run apikey -- revoke` does from its own process: this app's cache does not hear of it.
      await t.dataSource.query(`UPDATE api_keys SET revoked = now() WHERE id = $1`, [apiKey.id]);
      await sleep(CACHE_SECONDS * 1000 + 100);
      await withKey(itemsPath(), key).expect(401);
    });

    it('stops a key at its expiry even while it is remembered', async () => {
      const expires = new Date(Date.now() + 1500);
      const { key, apiKey } = await apiKeys.createKey({
        name: 'expiring',
        roles: ['Administrator'],
        expires,
      });
      await withKey(itemsPath(), key).expect(200);
      await sleep(expires.getTime() - Date.now() + 100);
      await withKey(itemsPath(), key).expect(401);
      expect((await apiKeys.listKeys()).find((listed) => listed.id === apiKey.id)?.status).toBe('expired');
    });
  });

  describe('the apikey command', () => {
    it('creates a key, printed once, that then works', async () => {
      const output = await runApiKeyCommand(
        {
          command: 'create',
          name: 'from-the-command',
          roles: ['Administrator'],
          expires: new Date('2099-01-31T00:00:00Z'),
        },
        apiKeys,
      );
      const key = /^ {2}(eik_[0-9A-Za-z]{40})$/m.exec(output)?.[1];
      expect(key).toBeDefined();
      const [row] = await t.dataSource.query(`SELECT id FROM api_keys WHERE key_hash = $1`, [sha256(key!)]);
      expect(output).toBe(
        [
          'API key created. It is shown only this once: store it now.',
          '',
          `  ${key}`,
          '',
          `  id       ${row.id}`,
          '  name     from-the-command',
          `  prefix   ${key!.slice(0, 12)}`,
          '  roles    Administrator',
          '  expires  2099-01-31T00:00:00.000Z',
          '',
          'Send it in the X-API-Key header (not together with an Authorization header).',
          '',
        ].join('\n'),
      );
      await withKey(itemsPath(), key!).expect(200);
    });

    it('lists keys with their status and never the key', async () => {
      const output = await runApiKeyCommand({ command: 'list' }, apiKeys);
      const lines = output.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^ID +PREFIX +STATUS +NAME +ROLES +CREATED +EXPIRES$/);
      const byName = Object.fromEntries(
        lines.slice(1).map((line) => {
          const [id, prefix, status, name, roles, created, expires] = line.split(/ +/);
          return [name, { id, prefix, status, roles, created, expires }];
        }),
      );
      expect(byName['nightly-export']).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        prefix: adminKey.slice(0, 12),
        status: 'active',
        roles: 'Administrator',
        created: expect.stringMatching(/Z$/),
        expires: 'never',
      });
      expect(byName.dashboard).toMatchObject({ status: 'active', roles: 'Reader,Auditor' });
      expect(byName.contractor).toMatchObject({ status: 'expired' });
      expect(byName.leaked).toMatchObject({ status: 'revoked' });
      for (const key of [adminKey, readerKey, expiredKey, revokedKey])
        expect(output).not.toContain(key.slice(12));
    });

    it('revokes by id, prefix or the key itself, and refuses an unknown or ambiguous reference', async () => {
      for (const reference of ['id', 'prefix', 'key'] as const) {
        const { key, apiKey } = await apiKeys.createKey({
          name: `by-${reference}`,
          roles: ['Administrator'],
        });
        const name = reference === 'id' ? apiKey.id : reference === 'prefix' ? apiKey.prefix : key;
        const output = await runApiKeyCommand({ command: 'revoke', reference: name }, apiKeys);
        expect(output).toBe(
          `Revoked API key ${apiKey.id} (${apiKey.prefix}, "by-${reference}").\n` +
            'A running service refuses it at the latest API_KEY_CACHE_SECONDS (default 10) from now.\n',
        );
        await withKey(itemsPath(), key).expect(401);
      }
      await expect(
        runApiKeyCommand({ command: 'revoke', reference: 'eik_00000000' }, apiKeys),
      ).rejects.toEqual(
        new ApiError(ApiError.notFound('').code, 'No API key has the id or prefix eik_00000000.'),
      );
      const { apiKey } = await apiKeys.createKey({ name: 'twin', roles: ['Administrator'] });
      await t.dataSource.query(
        `INSERT INTO api_keys (id, name, key_hash, prefix, roles) VALUES (gen_random_uuid(), 'twin 2', $1, $2, '{Administrator}')`,
        [sha256('another key'), apiKey.prefix],
      );
      await expect(
        runApiKeyCommand({ command: 'revoke', reference: apiKey.prefix }, apiKeys),
      ).rejects.toThrow(`2 API keys have the prefix ${apiKey.prefix}; name one by its id.`);
    });

    it('refuses a name, roles or expiry that are not valid, storing nothing', async () => {
      const before = (await apiKeys.listKeys()).length;
      const refusal = await runApiKeyCommand(
        {
          command: 'create',
          name: ' ',
          roles: ['Administrator', 'Administrator'],
          expires: new Date(Date.now() - 1000),
        },
        apiKeys,
      ).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(ApiError);
      expect(refusal).toMatchObject({
        code: 'VALIDATION_ERROR',
        validationErrors: {
          name: ['must be 1 to 100 characters, without control characters'],
          roles: ['must not repeat a role'],
          expires: ['must be in the future'],
        },
      });
      expect((await apiKeys.listKeys()).length).toBe(before);
    });
  });
});

describe('npm run apikey', () => {
  it('creates, lists and revokes keys in the configured database', async () => {
    const database = await createCliDatabase();
    try {
      const created = await runScript(
        'apikey',
        [
          'create',
          '--name',
          'ci-export',
          '--role',
          'Administrator',
          '--role',
          'Reader',
          '--expires',
          '2099-12-31',
        ],
        database.env,
      );
      expect(created.code).toBe(0);
      const key = /^ {2}(eik_[0-9A-Za-z]{40})$/m.exec(created.stdout)?.[1];
      expect(key).toBeDefined();

      const listed = await runScript('apikey', ['list'], database.env);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(
        new RegExp(
          `^[0-9a-f-]{36} +${key!.slice(0, 12)} +active +ci-export +Administrator,Reader +\\S+Z +2099-12-31T00:00:00.000Z$`,
          'm',
        ),
      );
      expect(listed.stdout).not.toContain(key!.slice(12));

      const revoked = await runScript('apikey', ['revoke', key!.slice(0, 12)], database.env);
      expect(revoked.code).toBe(0);
      expect(revoked.stdout).toContain(`(${key!.slice(0, 12)}, "ci-export").`);

      const rows = await database.use((dataSource) =>
        dataSource.query(
          `SELECT name, key_hash, prefix, roles, expires, revoked IS NOT NULL AS revoked FROM api_keys`,
        ),
      );
      expect(rows).toEqual([
        {
          name: 'ci-export',
          key_hash: sha256(key!),
          prefix: key!.slice(0, 12),
          roles: ['Administrator', 'Reader'],
          expires: new Date('2099-12-31T00:00:00Z'),
          revoked: true,
        },
      ]);

      const wrong = await runScript('apikey', ['create', '--name', 'x'], database.env);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain('create needs at least one --role.');
      expect(wrong.stderr).toContain('Usage:');
    } finally {
      await database.drop();
    }
  }, 600_000);
});
