import request from 'supertest';
import { Client } from 'pg';
import { createApp, type RunningApp } from '../src/app';
import { loadAppConfig } from '../src/config/app-config';
import { ADVISORY_LOCKS } from '../src/database/advisory-lock';
import { MIGRATIONS } from '../src/database/migrations';
import { ApiKeysService } from '../src/auth/api-keys/api-keys.service';
import { ExecutionRunsService } from '../src/execution-items';
import { RetentionScheduler } from '../src/retention/retention.scheduler';
import { randomUUID } from 'node:crypto';
import { createServerDatabase, onServer } from './support/test-app';
import { bearer, TEST_SECRET, token } from './support/tokens';

/** The Redis `.ci/run` makes sure is running on this kind of machine. */
const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';

/**
 * Several instances of the service on one database, as behind a load balancer. Advisory locks
 * only mean something between processes on a server; the embedded database has one process, so
 * this file runs on PostgreSQL only. The instances share this process, and so passport's one
 * registry of strategies (the last instance's win); what each test checks does not depend on it.
 */
(onServer ? describe : describe.skip)('several instances on one database (PostgreSQL server)', () => {
  let database: { url: string; drop(): Promise<void> };
  let instances: RunningApp[] = [];

  beforeEach(async () => {
    database = await createServerDatabase(process.env.DATABASE_URL!);
  });

  afterEach(async () => {
    await Promise.all(instances.map((instance) => instance.close()));
    instances = [];
    await database.drop();
  });

  async function startInstance(env: Record<string, string> = {}): Promise<RunningApp> {
    const config = loadAppConfig({
      AUTH_JWT_SECRET: TEST_SECRET,
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: '3',
      // A failed start is a failure, not a retry that hides it.
      DATABASE_CONNECT_RETRIES: '0',
      DEMO_DATA: 'false',
      API_DOCS_UI: 'false',
      UI_ENABLED: 'false',
      ...env,
    });
    const running = await createApp(config, { logger: false });
    await running.app.getHttpAdapter().getInstance().ready();
    instances.push(running);
    return running;
  }

  async function withClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  it('three instances starting together on an empty database run each migration once, and all are ready', async () => {
    const started = await Promise.all([startInstance(), startInstance(), startInstance()]);
    for (const instance of started) {
      await request(instance.app.getHttpServer()).get('/health/ready').expect(200);
    }
    const applied = await withClient(async (client) =>
      (await client.query<{ name: string }>('SELECT name FROM migrations ORDER BY id')).rows.map(
        (row) => row.name,
      ),
    );
    // One row per migration: none ran twice, none was left out.
    expect(applied).toHaveLength(MIGRATIONS.length);
    expect(new Set(applied).size).toBe(MIGRATIONS.length);
  });

  it('an instance starting while another holds the migrations lock waits for it, then starts', async () => {
    await startInstance();
    await withClient(async (client) => {
      await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.migrations]);
      let started = false;
      const second = startInstance().then((instance) => {
        started = true;
        return instance;
      });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(started).toBe(false);
      await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.migrations]);
      await request((await second).app.getHttpServer())
        .get('/health/ready')
        .expect(200);
    });
  });

  it('a scheduled purge skips its turn while another instance purges, and purges once it is free', async () => {
    const [first, second] = await Promise.all([
      startInstance({ RETENTION_ENABLED: 'true', RETENTION_DAYS: '30' }),
      startInstance({ RETENTION_ENABLED: 'true', RETENTION_DAYS: '30' }),
    ]);
    const runs = first.app.get(ExecutionRunsService);
    const run = await runs.startRun({
      connectedSystemName: 'HR',
      runProfileName: 'Full Import',
      runType: 'FullImport',
    });
    await runs.appendItems(run.id, [{ externalIdValue: 'E1', objectChangeType: 'Add' }]);
    await runs.completeRun(run.id);
    await withClient((client) =>
      client.query(`UPDATE activities SET created = now() - interval '40 days' WHERE id = $1`, [run.id]),
    );

    await withClient(async (client) => {
      // Another instance's purge, as far as the lock can tell.
      await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.retention]);
      expect(await second.app.get(RetentionScheduler).runScheduledPurge()).toBeNull();
      const [{ count }] = (await client.query('SELECT count(*)::int AS count FROM activities')).rows;
      expect(count).toBe(1);
      await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.retention]);
    });

    expect(await second.app.get(RetentionScheduler).runScheduledPurge()).toMatchObject({
      activities: 1,
      items: 1,
      complete: true,
    });
  });

  describe('with REDIS_URL, the rate limit', () => {
    const limited = { RATE_LIMIT_PER_PRINCIPAL: '5', RATE_LIMIT_WINDOW_SECONDS: '60' };

    it('is one budget across instances: the sixth request of five allowed is a 429 whichever instance it reaches', async () => {
      const [first, second] = await Promise.all([
        startInstance({ ...limited, REDIS_URL }),
        startInstance({ ...limited, REDIS_URL }),
      ]);
      // A principal of this test's own, so that counts left in Redis by other runs do not matter.
      const credentials = bearer(token({ sub: `rate-limit-${randomUUID()}`, role: 'Administrator' }));
      const responses: request.Response[] = [];
      for (const instance of [first, second, first, second, first, second]) {
        responses.push(
          await request(instance.app.getHttpServer()).get('/api/v1/activities').set(credentials),
        );
      }
      expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200, 429]);
      // The wait until the window ends, as without Redis.
      const retryAfter = Number(responses[5].headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    });

    it('counts in each instance alone without REDIS_URL', async () => {
      const [first, second] = await Promise.all([startInstance(limited), startInstance(limited)]);
      const credentials = bearer(token({ sub: `rate-limit-${randomUUID()}`, role: 'Administrator' }));
      const statuses: number[] = [];
      for (const instance of [first, second, first, second, first, second]) {
        const response = await request(instance.app.getHttpServer())
          .get('/api/v1/activities')
          .set(credentials);
        statuses.push(response.status);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    });

    it('lets requests through uncounted when Redis does not answer', async () => {
      // A port nothing listens on: the limiter's store is down, the API is not.
      const instance = await startInstance({ ...limited, REDIS_URL: 'redis://127.0.0.1:1' });
      const credentials = bearer(token({ sub: `rate-limit-${randomUUID()}`, role: 'Administrator' }));
      for (let i = 0; i < 7; i++) {
        await request(instance.app.getHttpServer()).get('/api/v1/activities').set(credentials).expect(200);
      }
    });
  });

  it('a key revoked elsewhere is refused by every instance within API_KEY_CACHE_SECONDS', async () => {
    const cached = { API_KEY_CACHE_SECONDS: '1' };
    const [first, second] = await Promise.all([startInstance(cached), startInstance(cached)]);
    const { key, apiKey } = await first.app
      .get(ApiKeysService)
      .createKey({ name: 'nightly-export', roles: ['Administrator'] });
    const read = (instance: RunningApp) =>
      request(instance.app.getHttpServer()).get('/api/v1/activities').set('X-API-Key', key);
    // Both instances have looked the key up, and remember it.
    await read(first).expect(200);
    await read(second).expect(200);
    // Revoked as another instance or the command line revokes it: in the database.
    await withClient((client) =>
      client.query('UPDATE api_keys SET revoked = now() WHERE id = $1', [apiKey.id]),
    );
    // The bound: the cache's lifetime, after which every instance looks the key up again.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await read(first).expect(401);
    await read(second).expect(401);
  });
});
