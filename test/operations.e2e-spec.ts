import request from 'supertest';
import { ApiKeysService } from '../src/auth/api-keys/api-keys.service';
import { JwtStrategy } from '../src/auth/jwt.strategy';
import { OpenApiContract } from './support/openapi-contract';
import { createTestApp, type TestApp } from './support/test-app';
import { adminToken, bearer, token } from './support/tokens';

const TIMESTAMP = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MISSING_ID = '0b0c0d0e-0f10-4112-8314-151617181920';

const TOO_MANY = {
  code: 'TOO_MANY_REQUESTS',
  message: 'Too many requests. Try again later.',
  details: null,
  validationErrors: null,
  timestamp: TIMESTAMP,
};

/** What the app's pino logger wrote: one JSON object per line. */
class LogCapture {
  private readonly chunks: string[] = [];
  write(chunk: string): void {
    this.chunks.push(chunk);
  }
  get text(): string {
    return this.chunks.join('');
  }
  lines(): Array<Record<string, unknown>> {
    return this.text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
  /** The request line of the request with this id. */
  requestLine(requestId: string): Record<string, unknown> | undefined {
    return this.lines().find(
      (line) => line.requestId === requestId && line.msg?.toString().startsWith('request'),
    );
  }
}

/** The log line is written when the response finishes, just after the client has it. */
async function requestLineOf(logs: LogCapture, requestId: string): Promise<Record<string, unknown>> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const line = logs.requestLine(requestId);
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no request line for ${requestId}`);
}

describe('structured logs and security headers', () => {
  const logs = new LogCapture();
  let t: TestApp;
  let runId: string;

  beforeAll(async () => {
    // The first app of this file: nestjs-pino keeps the first logger it is given in a process.
    t = await createTestApp({ LOG_LEVEL: 'info', TRUST_PROXY: '1' }, { logDestination: logs });
    runId = (
      await t.runs.startRun({ connectedSystemName: 'HR', runProfileName: 'Full', runType: 'FullImport' })
    ).id;
  });

  afterAll(() => t?.close());

  describe('request log lines', () => {
    it('24/25. carry the request id, method, URL, route, status, duration, principal, address and user agent', async () => {
      const res = await request(t.http)
        .get(`/api/v1/activities/${runId}/items?pageSize=5`)
        .set(bearer(token({ sub: 'jane@example.com', role: 'Administrator' })))
        .set('X-Request-Id', 'trace-42.a_b:c')
        .set('X-Forwarded-For', '198.51.100.7')
        .set('User-Agent', 'e2e-agent/1.0')
        .expect(200);
      expect(res.headers['x-request-id']).toBe('trace-42.a_b:c');
      expect(await requestLineOf(logs, 'trace-42.a_b:c')).toEqual({
        level: 'info',
        time: TIMESTAMP,
        pid: process.pid,
        hostname: expect.any(String),
        requestId: 'trace-42.a_b:c',
        method: 'GET',
        url: `/api/v1/activities/${runId}/items?pageSize=5`,
        route: '/api/v1/activities/:id/items',
        status: 200,
        durationMs: expect.any(Number),
        principal: 'jane@example.com',
        ip: '198.51.100.7',
        userAgent: 'e2e-agent/1.0',
        msg: 'request completed',
      });
    });

    it('name an API key’s principal by the key’s id', async () => {
      const { key, apiKey } = await t.app
        .get(ApiKeysService)
        .createKey({ name: 'nightly export', roles: ['Administrator'] });
      const res = await request(t.http).get('/api/v1/activities').set('X-API-Key', key).expect(200);
      expect(await requestLineOf(logs, res.headers['x-request-id'])).toMatchObject({
        status: 200,
        principal: `api-key:${apiKey.id}`,
      });
      expect(logs.text.includes(key)).toBe(false);
    });

    it('name no principal for a request without valid credentials, and log its status', async () => {
      const res = await request(t.http)
        .get(`/api/v1/activities/${MISSING_ID}`)
        .set(bearer(token({ sub: 'mallory', role: 'Administrator' }).slice(0, -2)))
        .expect(401);
      const line = await requestLineOf(logs, res.headers['x-request-id']);
      expect(line).toMatchObject({ status: 401, principal: null, route: '/api/v1/activities/:id' });
    });

    it('log unknown routes with no route', async () => {
      const res = await request(t.http).get('/no/such/thing').expect(404);
      expect(await requestLineOf(logs, res.headers['x-request-id'])).toMatchObject({
        status: 404,
        route: null,
        url: '/no/such/thing',
      });
    });

    it.each([
      ['too long', 'x'.repeat(129)],
      ['with a space', 'a b'],
      ['with a slash', 'a/b'],
      ['with a quote', 'a"b'],
      ['empty', ''],
    ])('24. replace an incoming X-Request-Id %s with a generated UUID, echoed', async (_case, incoming) => {
      const res = await request(t.http).get('/health/live').set('X-Request-Id', incoming).expect(200);
      expect(res.headers['x-request-id']).toMatch(UUID);
    });

    it('generate a different id for every request without one', async () => {
      const ids = await Promise.all(
        [1, 2, 3].map(
          async () => (await request(t.http).get('/health/live').expect(200)).headers['x-request-id'],
        ),
      );
      ids.forEach((id) => expect(id).toMatch(UUID));
      expect(new Set(ids).size).toBe(3);
    });

    it('25. never contain the bearer token, cookies, an API key or an access_token in the URL', async () => {
      const jwt = adminToken();
      const res = await request(t.http)
        .get(`/api/v1/activities?access_token=${jwt}`)
        .set(bearer(jwt))
        .set('Cookie', 'session=cookie-secret-value')
        .expect(400);
      const apiKey = await request(t.http)
        .get('/api/v1/activities')
        .set('X-API-Key', 'eik_api-key-secret-value')
        .expect(401);
      const line = await requestLineOf(logs, res.headers['x-request-id']);
      await requestLineOf(logs, apiKey.headers['x-request-id']);
      expect(line.url).toBe('/api/v1/activities?access_token=[Redacted]');
      for (const secret of [jwt, jwt.split('.')[2], 'cookie-secret-value', 'api-key-secret-value']) {
        expect({ secret, logged: logs.text.includes(secret) }).toEqual({ secret, logged: false });
      }
    });

    it('leave out health probes', async () => {
      const res = await request(t.http).get('/health/ready').set('X-Request-Id', 'probe-1').expect(200);
      expect(res.headers['x-request-id']).toBe('probe-1');
      await request(t.http).get('/api/v1/activities').set('X-Request-Id', 'after-probe').expect(401);
      await requestLineOf(logs, 'after-probe');
      expect(logs.requestLine('probe-1')).toBeUndefined();
    });
  });

  describe('headers', () => {
    it('24. authenticated JSON: no-store, helmet’s set with a CSP that allows nothing, no framework banner', async () => {
      const res = await request(t.http)
        .get(`/api/v1/activities/${runId}`)
        .set(bearer(adminToken()))
        .expect(200);
      expect(res.headers).toMatchObject({
        'cache-control': 'no-store',
        'content-security-policy':
          "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'cross-origin-resource-policy': 'same-origin',
      });
      expect(res.headers['x-powered-by']).toBeUndefined();
      expect(res.headers.server).toBeUndefined();
    });

    it('24. the export too is no-store', async () => {
      const res = await request(t.http)
        .get(`/api/v1/activities/${runId}/items/export`)
        .set(bearer(adminToken()))
        .expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-security-policy']).toBe(
        "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'",
      );
    });

    it('24. 401: WWW-Authenticate: Bearer, no-store', async () => {
      const res = await request(t.http).get('/api/v1/activities').expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.headers['cache-control']).toBe('no-store');
    });
  });
});

describe('rate limits', () => {
  let t: TestApp;
  let contract: OpenApiContract;

  beforeAll(async () => {
    t = await createTestApp({
      RATE_LIMIT_WINDOW_SECONDS: '60',
      RATE_LIMIT_PER_PRINCIPAL: '3',
      RATE_LIMIT_PER_IP: '2',
    });
    contract = new OpenApiContract((await request(t.http).get('/api/openapi/v1.json').expect(200)).body);
  });

  afterAll(() => t?.close());

  const asPrincipal = (sub: string, path = '/api/v1/activities') =>
    request(t.http)
      .get(path)
      .set(bearer(token({ sub, role: 'Administrator' })));

  it('19. allow each principal its own budget, across routes, then 429 in the envelope with the real wait', async () => {
    const statuses: number[] = [];
    const remaining: string[] = [];
    for (const path of [
      '/api/v1/activities',
      `/api/v1/activities/${MISSING_ID}`,
      '/api/v1/activities?page=2',
    ]) {
      const res = await asPrincipal('alice', path);
      statuses.push(res.status);
      remaining.push(res.headers['x-ratelimit-remaining']);
      expect(res.headers['x-ratelimit-limit']).toBe('3');
    }
    expect(statuses).toEqual([200, 404, 200]);
    expect(remaining).toEqual(['2', '1', '0']);

    const limited = await asPrincipal('alice').expect(429);
    expect(limited.body).toEqual(TOO_MANY);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect([
      limited.headers['x-ratelimit-limit'],
      limited.headers['x-ratelimit-remaining'],
      limited.headers['x-ratelimit-reset'],
    ]).toEqual(['3', '0', limited.headers['retry-after']]);
    expect(limited.headers['cache-control']).toBe('no-store');
    contract.expectDocumented('GET', '/api/v1/activities', limited);
  });

  it('count a token’s other principal separately, from the same address', async () => {
    await asPrincipal('bob').expect(200);
    await asPrincipal('alice').expect(429);
  });

  it('give an API key a budget of its own', async () => {
    const { key } = await t.app.get(ApiKeysService).createKey({ name: 'script', roles: ['Administrator'] });
    const withKey = () => request(t.http).get('/api/v1/activities').set('X-API-Key', key);
    expect([(await withKey()).status, (await withKey()).status, (await withKey()).status]).toEqual([
      200, 200, 200,
    ]);
    await withKey().expect(429);
  });

  it('count a principal’s 403s against its own budget', async () => {
    const reader = () =>
      request(t.http)
        .get('/api/v1/activities')
        .set(bearer(token({ sub: 'carol', role: 'Reader' })));
    expect([(await reader()).status, (await reader()).status, (await reader()).status]).toEqual([
      403, 403, 403,
    ]);
    await reader().expect(429);
  });

  it('verify a request’s credentials once: the rate limit and the route share one authentication', async () => {
    const verifiedTokens = jest.spyOn(JwtStrategy.prototype, 'validate');
    const lookedUpKeys = jest.spyOn(ApiKeysService.prototype, 'authenticate');
    try {
      await asPrincipal('erin', `/api/v1/activities/${MISSING_ID}`).expect(404);
      expect(verifiedTokens).toHaveBeenCalledTimes(1);
      expect(lookedUpKeys).not.toHaveBeenCalled();

      const { key } = await t.app.get(ApiKeysService).createKey({ name: 'once', roles: ['Administrator'] });
      await request(t.http).get(`/api/v1/activities/${MISSING_ID}`).set('X-API-Key', key).expect(404);
      expect(lookedUpKeys).toHaveBeenCalledTimes(1);
      expect(verifiedTokens).toHaveBeenCalledTimes(1);
    } finally {
      verifiedTokens.mockRestore();
      lookedUpKeys.mockRestore();
    }
  });

  it('19. count requests without valid credentials per address, however X-Forwarded-For is forged', async () => {
    const forged = (n: number) =>
      request(t.http)
        .get('/api/v1/activities')
        .set('X-Forwarded-For', `203.0.113.${n}`)
        // Expired (beyond the 30 s clock tolerance): each names another subject, none is valid.
        .set(bearer(token({ sub: `forged-${n}`, role: 'Administrator' }, { expiresIn: -120 })));
    expect([(await forged(1)).status, (await forged(2)).status]).toEqual([401, 401]);
    const limited = await forged(3).expect(429);
    expect(limited.body).toEqual(TOO_MANY);
    await request(t.http).get('/api/v1/activities').expect(429);
    // Authenticated principals keep their own budgets.
    await asPrincipal('dave').expect(200);
  });

  it('do not apply to health probes or the OpenAPI document', async () => {
    for (let i = 0; i < 4; i++) {
      await request(t.http).get('/health/live').expect(200);
      await request(t.http).get('/api/openapi/v1.json').expect(200);
    }
  });
});

describe('rate limits behind a trusted proxy (TRUST_PROXY=1), with a short window', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      TRUST_PROXY: '1',
      RATE_LIMIT_WINDOW_SECONDS: '2',
      RATE_LIMIT_PER_PRINCIPAL: '2',
      RATE_LIMIT_PER_IP: '2',
    });
  });

  afterAll(() => t?.close());

  /** A client behind the proxy: whatever it put in the header, the proxy appended its address. */
  const fromClient = (address: string, forged = '10.9.8.7') =>
    request(t.http).get('/api/v1/activities').set('X-Forwarded-For', `${forged}, ${address}`);

  /** Sends until a 429 (the window is short: a slow machine may need more than the limit). */
  async function untilLimited(send: () => request.Test): Promise<request.Response> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const res = await send();
      if (res.status === 429) return res;
    }
    throw new Error('never limited');
  }

  it('19. count each client by the address the proxy saw, not by what the client forged', async () => {
    let n = 0;
    const limited = await untilLimited(() => fromClient('198.51.100.1', `10.0.0.${++n}`));
    expect(limited.body).toEqual(TOO_MANY);
    await fromClient('198.51.100.2').expect(401);
  });

  it('Retry-After is the real wait: after it, the next request goes through', async () => {
    const send = () =>
      request(t.http)
        .get('/api/v1/activities')
        .set(bearer(token({ sub: 'erin', role: 'Administrator' })));
    const limited = await untilLimited(send);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter >= 1 && retryAfter <= 2).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 50));
    await send().expect(200);
  });
});
