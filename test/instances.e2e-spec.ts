import request from 'supertest';
import { Client } from 'pg';
import { createApp, type RunningApp } from '../src/app';
import { loadAppConfig } from '../src/config/app-config';
import { ADVISORY_LOCKS } from '../src/database/advisory-lock';
import { ExecutionRunsService } from '../src/execution-items';
import { RetentionScheduler } from '../src/retention/retention.scheduler';
import { randomUUID } from 'node:crypto';
import { createServerDatabase, onServer } from './support/test-app';
import { bearer, TEST_SECRET, token } from './support/tokens';

/**
 * Several instances of the service on one database, as behind a load balancer. Advisory locks
 * only mean something between processes on a server; the embedded database has one process, so
 * this file runs on PostgreSQL only. The instances share this process, and so passport's one
 * registry of strategies (the last instance's win); what each test checks does not depend on it.
 * What needs instances in processes of their own (start-up together, the shared rate limit, key
 * revocation, a rolling restart) is test/topology.e2e-spec.ts's, on a standby too.
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

  describe('the rate limit (one budget across instances with REDIS_URL: test/topology.e2e-spec.ts)', () => {
    const limited = { RATE_LIMIT_PER_PRINCIPAL: '5', RATE_LIMIT_WINDOW_SECONDS: '60' };

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
});
