import request from 'supertest';
import type { QueryRunner } from 'typeorm';
import { OpenApiContract } from './support/openapi-contract';
import { createTestApp, type TestApp } from './support/test-app';

const UP = { status: 'up' };
const TERMINUS_CACHE_CONTROL = 'no-cache, no-store, must-revalidate';

describe('/health/live and /health/ready', () => {
  let t: TestApp;
  let contract: OpenApiContract;

  beforeAll(async () => {
    // One request per window for an address without credentials: health must not count.
    t = await createTestApp({ RATE_LIMIT_PER_IP: '1', HEALTH_DATABASE_TIMEOUT_MS: '300' });
    contract = new OpenApiContract((await request(t.http).get('/api/openapi/v1.json').expect(200)).body);
  });

  afterAll(() => t?.close());

  const probe = (path: string) => request(t.http).get(path);

  it('live: 200 with terminus’ body, without credentials', async () => {
    const res = await probe('/health/live').expect(200);
    expect(res.body).toEqual({ status: 'ok', info: { process: UP }, error: {}, details: { process: UP } });
    expect(res.headers['cache-control']).toBe(TERMINUS_CACHE_CONTROL);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    contract.expectDocumented('GET', '/health/live', res);
  });

  it('ready: 200 when the database answers', async () => {
    const res = await probe('/health/ready').expect(200);
    expect(res.body).toEqual({ status: 'ok', info: { database: UP }, error: {}, details: { database: UP } });
    expect(res.headers['cache-control']).toBe(TERMINUS_CACHE_CONTROL);
    contract.expectDocumented('GET', '/health/ready', res);
  });

  it('ignores credentials, even broken ones', async () => {
    await probe('/health/ready').set('Authorization', 'Bearer not-a-token').expect(200);
    await probe('/health/live').set('X-API-Key', 'eik_nonsense').expect(200);
  });

  it('lives outside /api', async () => {
    const res = await probe('/api/health/live').expect(404);
    expect(res.body).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('is not rate limited, while /api is', async () => {
    await request(t.http).get('/api/v1/activities').expect(401);
    const limited = await request(t.http).get('/api/v1/activities').expect(429);
    expect(limited.body.code).toBe('TOO_MANY_REQUESTS');
    for (let i = 0; i < 5; i++) {
      const live = await probe('/health/live').expect(200);
      const ready = await probe('/health/ready').expect(200);
      expect([live.headers['x-ratelimit-limit'], ready.headers['x-ratelimit-limit']]).toEqual([
        undefined,
        undefined,
      ]);
    }
  });

  describe('while the database does not answer in time (every pooled connection held)', () => {
    let held: QueryRunner[] = [];

    beforeAll(async () => {
      const poolSize = (t.dataSource.options as { extra: { max: number } }).extra.max;
      held = Array.from({ length: poolSize }, () => t.dataSource.createQueryRunner());
      for (const runner of held) await runner.connect();
    });

    afterAll(async () => {
      for (const runner of held) await runner.release();
    });

    it('ready: 503 with terminus’ detail body, naming the timeout', async () => {
      const res = await probe('/health/ready').expect(503);
      const database = { status: 'down', message: 'timeout of 300ms exceeded' };
      expect(res.body).toEqual({ status: 'error', info: {}, error: { database }, details: { database } });
      expect(res.headers['cache-control']).toBe(TERMINUS_CACHE_CONTROL);
      contract.expectDocumented('GET', '/health/ready', res);
    });

    it('27. live: still 200', async () => {
      await probe('/health/live').expect(200);
    });
  });

  it('ready: 200 again once the database answers', async () => {
    await probe('/health/ready').expect(200);
  });

  describe('when the connection pool is gone', () => {
    beforeAll(() => t.dataSource.destroy());
    afterAll(() => t.dataSource.initialize());

    it('27. ready: 503 with the database down, and no driver message', async () => {
      const res = await probe('/health/ready').expect(503);
      expect(res.body).toEqual({
        status: 'error',
        info: {},
        error: { database: { status: 'down' } },
        details: { database: { status: 'down' } },
      });
    });
  });
});

describe('/health/ready during shutdown', () => {
  it('answers 503 shutting_down for HEALTH_SHUTDOWN_DELAY_MS before the server closes; live stays 200', async () => {
    const t = await createTestApp({ HEALTH_SHUTDOWN_DELAY_MS: '3000' });
    await request(t.http).get('/health/ready').expect(200);
    const closing = t.close('SIGTERM');
    try {
      let res = await request(t.http).get('/health/ready');
      for (let i = 0; res.status === 200 && i < 20; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        res = await request(t.http).get('/health/ready');
      }
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        status: 'shutting_down',
        info: { database: UP },
        error: {},
        details: { database: UP },
      });
      await request(t.http).get('/health/live').expect(200);
    } finally {
      await closing;
    }
  });
});
