import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import request from 'supertest';
import { MIGRATIONS } from '../src/database/migrations';
import { EventStreamReader } from './support/event-stream';
import { assertBuiltFromSources, freePort, ServiceProcess } from './support/service-process';
import { bearer, TEST_SECRET, token } from './support/tokens';
import { withClient } from './support/test-app';

/**
 * The production topology for real: instances of the built service (`dist/main.js`, each a
 * process of its own) on the machine's PostgreSQL as the primary, a streaming standby of it as
 * the read replica, and Redis. `.ci/run` starts the standby (test/topology/start-standby) and
 * sets TOPOLOGY_STANDBY_URL; without it this file is skipped, saying so. The cases run in order
 * on one fleet: three instances, A and B skipping a replica more than 1 s behind, C tolerating an
 * hour (so that what the standby holds can be seen through C).
 */
const STANDBY_URL = process.env.TOPOLOGY_STANDBY_URL;
const PRIMARY_URL = process.env.TOPOLOGY_PRIMARY_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
const SCRIPTS = resolve(__dirname, 'topology');
const run = promisify(execFile);

if (!STANDBY_URL) {
  // Straight to stderr: jest does not show the console output of a file whose tests all skip.
  process.stderr.write(
    '\ntest/topology.e2e-spec.ts skipped: TOPOLOGY_STANDBY_URL is not set. Run `npm run build`, then ' +
      '`TOPOLOGY_STANDBY_URL=$(test/topology/start-standby) NODE_OPTIONS=--experimental-vm-modules npx jest test/topology.e2e-spec.ts` ' +
      '(.ci/run does), and test/topology/stop-standby after.\n',
  );
}

/** What a client gets from an instance that is not there: no answer. */
const NO_ANSWER = { status: 0, body: null as unknown, text: '' } as request.Response;

/** The answer to one request, or the failure of both attempts. */
interface Outcome {
  status: number;
  body: unknown;
  /** The first attempt failed (no answer, or a 503) and the request went to another instance. */
  retried: boolean;
}

(STANDBY_URL ? describe : describe.skip)('the production topology: instances, a standby, Redis', () => {
  const database = `ei_topology_${process.pid}`;
  const primaryUrl = withDatabase(PRIMARY_URL, database);
  const standbyUrl = withDatabase(STANDBY_URL ?? '', database);
  // A principal of its own for each request, since the fleet allows each 50 a minute (see the
  // rate-limit case), unless a case says otherwise.
  const admin = () => bearer(token({ sub: `reader-${randomUUID()}`, role: 'Administrator' }));
  const engine = () => bearer(token({ sub: `engine-${randomUUID()}`, role: 'SyncEngine' }));
  const fleet: Array<{ name: string; env: Record<string, string>; service: ServiceProcess | null }> = [];
  /** A run of 200 items, then 250. */
  let runId: string;

  const env = (maxLagMs: number): Record<string, string> => ({
    NODE_ENV: 'production',
    AUTH_JWT_SECRET: TEST_SECRET,
    DATABASE_URL: primaryUrl,
    DATABASE_REPLICA_URLS: standbyUrl,
    DATABASE_REPLICA_MAX_LAG_MS: String(maxLagMs),
    DATABASE_POOL_SIZE: '4',
    DATABASE_CONNECT_RETRIES: '0',
    REDIS_URL,
    RATE_LIMIT_PER_PRINCIPAL: '50',
    API_KEY_CACHE_SECONDS: '1',
    HEALTH_SHUTDOWN_DELAY_MS: '300',
    RETENTION_ENABLED: 'false',
    UI_ENABLED: 'false',
  });

  const instance = (name: string): ServiceProcess => {
    const service = fleet.find((member) => member.name === name)?.service;
    if (!service) throw new Error(`instance ${name} is not running`);
    return service;
  };

  /** One request to one instance, as a load balancer would forward it. */
  async function call(
    service: ServiceProcess,
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: object,
  ): Promise<request.Response> {
    const pending = (method === 'GET' ? request(service.url).get(path) : request(service.url).post(path)).set(
      headers,
    );
    return body === undefined ? pending : pending.send(body);
  }

  const readiness = async (name: string) => (await call(instance(name), 'GET', '/health/ready', {})).body;
  const replicaState = async (name: string) => (await readiness(name)).details.replicas.servers[0];

  async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
      await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
  }

  const onPrimary = <T>(work: (client: Client) => Promise<T>, url = primaryUrl): Promise<T> =>
    withClient(url, work);
  const onStandby = <T>(work: (client: Client) => Promise<T>) => onPrimary(work, standbyUrl);

  const userItems = (from: number, count: number) =>
    Array.from({ length: count }, (_, index) => {
      const n = from + index;
      return {
        externalIdValue: `U${n}`,
        displayName: `User ${n}`,
        connectedSystemObjectType: 'user',
        objectChangeType: 'Update',
        ...(n % 10 === 0 ? { errorType: 'DuplicateObject' } : {}),
      };
    });

  async function startRun(name: string): Promise<string> {
    const started = await call(instance(name), 'POST', '/api/v1/activities', engine(), {
      connectedSystemName: 'HR',
      runProfileName: 'Full Import',
      runType: 'FullImport',
    });
    expect(started.status).toBe(201);
    return started.body.id;
  }

  async function append(name: string, id: string, items: unknown[]): Promise<void> {
    const appended = await call(instance(name), 'POST', `/api/v1/activities/${id}/items`, engine(), {
      items,
    });
    expect(appended.status).toBe(200);
  }

  beforeAll(async () => {
    assertBuiltFromSources();
    await onPrimary(async (client) => {
      await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await client.query(`CREATE DATABASE ${database}`);
    }, PRIMARY_URL);
    // CREATE DATABASE replicates: the same database appears on the standby.
    await until('the database on the standby', () =>
      onPrimary(
        async (client) =>
          (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount === 1,
        STANDBY_URL,
      ),
    );
    for (const [name, maxLagMs] of [
      ['A', 1_000],
      ['B', 1_000],
      ['C', 3_600_000],
    ] as const) {
      fleet.push({ name, env: { ...env(maxLagMs), PORT: String(await freePort()) }, service: null });
    }
  });

  afterAll(async () => {
    await Promise.all(fleet.map((member) => member.service?.stop('SIGKILL')));
    await onPrimary(
      (client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`),
      PRIMARY_URL,
    );
  });

  it('three instances starting together on a fresh database run each migration once, and all are ready', async () => {
    await Promise.all(
      fleet.map(async (member) => {
        member.service = await ServiceProcess.start(Number(member.env.PORT), member.env);
      }),
    );
    const applied = await onPrimary(async (client) =>
      (await client.query<{ name: string }>('SELECT name FROM migrations ORDER BY id')).rows.map(
        (row) => row.name,
      ),
    );
    expect(applied).toHaveLength(MIGRATIONS.length);
    expect(new Set(applied).size).toBe(MIGRATIONS.length);
    const server = `127.0.0.1:${new URL(standbyUrl).port}/${database}`;
    for (const { name } of fleet) {
      const body = await readiness(name);
      expect(body).toMatchObject({ status: 'ok', details: { database: { status: 'up' } } });
      expect(body.details.replicas).toEqual({
        status: 'up',
        servers: [{ server, state: 'up', lagMs: expect.any(Number) }],
      });
    }
  });

  it('reads land on the standby; a standby further behind than DATABASE_REPLICA_MAX_LAG_MS is skipped', async () => {
    runId = await startRun('A');
    await append('A', runId, userItems(1, 100));
    await append('A', runId, userItems(101, 100));
    const items = (name: string) =>
      call(instance(name), 'GET', `/api/v1/activities/${runId}/items?pageSize=1`, admin());
    await until('the run on the standby', async () => (await items('C')).body?.totalCount === 200);

    // The standby stops replaying what it receives: it holds the run at 200 items.
    await onStandby((client) => client.query('SELECT pg_wal_replay_pause()'));
    try {
      await append('A', runId, userItems(201, 50));
      await until('A skipping the standby', async () => (await replicaState('A')).state === 'lagging');
      expect(await replicaState('A')).toEqual({
        server: expect.any(String),
        state: 'lagging',
        lagMs: expect.any(Number),
      });
      expect((await replicaState('A')).lagMs).toBeGreaterThan(1_000);
      // C accepts an hour's lag: it reads the standby, and sees the run as the standby holds it.
      expect(await replicaState('C')).toMatchObject({ state: 'up' });
      expect((await items('C')).body.totalCount).toBe(200);
      const stats = await call(instance('C'), 'GET', `/api/v1/activities/${runId}/stats`, admin());
      expect(stats.body).toMatchObject({ totalCount: 200, itemsWithErrors: 20 });
      const history = await call(instance('C'), 'GET', '/api/v1/items?externalIdValue=U250', admin());
      expect(history.body).toMatchObject({ totalCount: 0, items: [] });
      const exported = await call(
        instance('C'),
        'GET',
        `/api/v1/activities/${runId}/items/export?format=ndjson`,
        admin(),
      );
      expect(exported.text.trim().split('\n')).toHaveLength(200);
      // A reads the primary: every item.
      expect((await items('A')).body.totalCount).toBe(250);
      expect(
        (await call(instance('A'), 'GET', '/api/v1/items?externalIdValue=U250', admin())).body,
      ).toMatchObject({
        totalCount: 1,
      });
    } finally {
      await onStandby((client) => client.query('SELECT pg_wal_replay_resume()'));
    }
    await until('A reading the standby again', async () => (await replicaState('A')).state === 'up');
    await until('the standby holding every item', async () => (await items('C')).body.totalCount === 250);
  });

  it('a follower on one instance sees every item the engine writes through another, then the end', async () => {
    const followed = await startRun('A');
    const stream = await EventStreamReader.open(
      `${instance('B').url}/api/v1/activities/${followed}/items/stream`,
      admin(),
    );
    try {
      expect(stream.status).toBe(200);
      for (let batch = 0; batch < 3; batch += 1) {
        await append('A', followed, userItems(batch * 30 + 1, 30));
        await new Promise((resolveWait) => setTimeout(resolveWait, 200));
      }
      expect(
        (await call(instance('A'), 'POST', `/api/v1/activities/${followed}/complete`, engine())).status,
      ).toBe(200);
      const events = await stream.until('complete');
      const items = events.filter((event) => event.event === 'item');
      expect(items.map((event) => event.id)).toEqual(
        Array.from({ length: 90 }, (_, index) => String(index + 1)),
      );
      expect(items.map((event) => JSON.parse(event.data).externalIdValue)).toEqual(
        userItems(1, 90).map((item) => item.externalIdValue),
      );
      expect(JSON.parse(events.at(-1)!.data)).toMatchObject({
        id: followed,
        itemCount: 90,
        status: 'CompleteWithError',
      });
    } finally {
      stream.close();
    }
  });

  it('a principal has one rate-limit budget across the fleet (Redis): the 51st request of 50 is a 429 wherever it goes', async () => {
    const credentials = admin();
    const statuses: number[] = [];
    for (let n = 0; n < 51; n += 1) {
      const name = fleet[n % fleet.length].name;
      statuses.push((await call(instance(name), 'GET', '/api/v1/activities?pageSize=1', credentials)).status);
    }
    expect(statuses).toEqual([...Array<number>(50).fill(200), 429]);
  });

  it('an API key revoked with the command line is refused by every instance within API_KEY_CACHE_SECONDS', async () => {
    const cli = (...args: string[]) =>
      run(process.execPath, ['dist/cli/apikey.js', ...args, '--json'], {
        cwd: resolve(__dirname, '..'),
        env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: primaryUrl },
      });
    const created = JSON.parse((await cli('create', '--name', 'topology', '--role', 'Administrator')).stdout);
    const withKey = { 'X-API-Key': created.key as string };
    // Every instance looks the key up (on the primary: it was committed a moment ago) and remembers it.
    for (const { name } of fleet) {
      expect((await call(instance(name), 'GET', '/api/v1/activities?pageSize=1', withKey)).status).toBe(200);
    }
    await cli('revoke', created.apiKey.id);
    await new Promise((resolveWait) => setTimeout(resolveWait, 1_100));
    for (const { name } of fleet) {
      expect((await call(instance(name), 'GET', '/api/v1/activities?pageSize=1', withKey)).status).toBe(401);
    }
  });

  it('the standby stopped mid-traffic fails no request, reported down; started again, it is read from again', async () => {
    const routes = [
      `/api/v1/activities/${runId}/items?pageSize=50&page=5`,
      `/api/v1/activities/${runId}/items?hasError=true&pageSize=5`,
      `/api/v1/activities/${runId}/stats`,
      `/api/v1/activities/${runId}`,
      '/api/v1/activities?pageSize=5',
      '/api/v1/items?externalIdValue=U7',
      `/api/v1/activities/${runId}/items/export?format=ndjson&hasError=true`,
    ];
    const failures: string[] = [];
    let sent = 0;
    let stopping = false;
    let sentAfterStop = 0;
    const client = async (offset: number) => {
      for (let n = offset; !stopping || sentAfterStop < 30; n += 1) {
        const route = routes[n % routes.length];
        const name = fleet[n % fleet.length].name;
        sent += 1;
        if (stopping) sentAfterStop += 1;
        const response = await call(instance(name), 'GET', route, admin()).catch((error: Error) => ({
          status: 0,
          text: error.message,
        }));
        if (response.status !== 200) failures.push(`${name} ${route}: ${response.status} ${response.text}`);
      }
    };
    const traffic = Promise.all([client(0), client(3), client(5)]);
    await new Promise((resolveWait) => setTimeout(resolveWait, 500));
    try {
      await run(resolve(SCRIPTS, 'stop-standby'), ['--keep']);
      stopping = true;
      await traffic;
      expect({ failed: failures.length, first: failures.slice(0, 3) }).toEqual({ failed: 0, first: [] });
      expect(sent).toBeGreaterThan(30);
      for (const { name } of fleet) {
        await until(
          `${name} reporting the standby down`,
          async () => (await replicaState(name)).state === 'down',
        );
        expect(await readiness(name)).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
      }
    } finally {
      stopping = true;
      await traffic;
      // The same standby when it can catch up, else a fresh copy (start-standby says which).
      await run(resolve(SCRIPTS, 'start-standby'));
    }
    for (const { name } of fleet) {
      // A standby started again reconnects to the primary, and each instance's check (every second)
      // opens new connections to it: 30 s on a machine the test suites have just left busy.
      await until(
        `${name} reading the standby again`,
        async () => (await replicaState(name)).state === 'up',
        30_000,
      );
    }
  }, 120_000);

  it('a rolling restart under traffic: no idempotent request fails at a client that retries once on another instance', async () => {
    const written = await startRun('A');
    const outcomes: Outcome[] = [];
    const failures: string[] = [];
    let turn = 0;
    /** Sends to the next instance in turn; on no answer or a 503, once more to the one after. */
    const send = async (
      method: 'GET' | 'POST',
      path: string,
      headers: Record<string, string>,
      body?: object,
    ) => {
      const first = fleet[turn++ % fleet.length];
      const second = fleet[turn % fleet.length];
      const attempt = (member: (typeof fleet)[number]) =>
        member.service
          ? call(member.service, method, path, headers, body).catch(() => NO_ANSWER)
          : Promise.resolve(NO_ANSWER);
      let response = await attempt(first);
      let retried = false;
      if (response.status === 0 || response.status === 503) {
        retried = true;
        response = await attempt(second);
      }
      outcomes.push({ status: response.status, body: response.body, retried });
      return response;
    };
    let restarting = true;
    // Steady traffic rather than as fast as the client can: the machine has to start instances too.
    const pause = () => new Promise((resolveWait) => setTimeout(resolveWait, 20));
    const reader = async () => {
      while (restarting) {
        await pause();
        const page = await send('GET', `/api/v1/activities/${runId}/items?pageSize=10&page=3`, admin());
        if (page.status !== 200 || page.body.items[0]?.externalIdValue !== 'U21') {
          failures.push(`page: ${page.status} ${JSON.stringify(page.body)}`);
        }
      }
    };
    let batches = 0;
    const writer = async () => {
      while (restarting) {
        await pause();
        batches += 1;
        const appended = await send(
          'POST',
          `/api/v1/activities/${written}/items`,
          { ...engine(), 'Idempotency-Key': `batch-${batches}` },
          { items: userItems((batches - 1) * 10 + 1, 10) },
        );
        if (appended.status !== 200 || appended.body.lastSequence !== batches * 10) {
          failures.push(`append ${batches}: ${appended.status} ${JSON.stringify(appended.body)}`);
        }
      }
    };
    const traffic = Promise.all([reader(), reader(), writer()]);

    const exitCodes: Array<number | null> = [];
    for (const member of fleet) {
      const stopping = member.service!;
      member.service = null;
      exitCodes.push(await stopping.stop('SIGTERM'));
      member.service = await ServiceProcess.start(Number(member.env.PORT), member.env);
      await new Promise((resolveWait) => setTimeout(resolveWait, 300));
    }
    restarting = false;
    await traffic;

    expect(exitCodes).toEqual([0, 0, 0]);
    expect({ failed: failures.length, first: failures.slice(0, 3) }).toEqual({ failed: 0, first: [] });
    // Instances were away: some requests went to another one, and none failed twice.
    expect(outcomes.filter((outcome) => outcome.retried).length).toBeGreaterThan(0);
    expect(outcomes.filter((outcome) => outcome.status !== 200)).toEqual([]);
    // Each batch once, in order, whatever was retried.
    const stored = await onPrimary(async (client) =>
      (
        await client.query<{ external_id_value: string }>(
          'SELECT external_id_value FROM execution_items WHERE activity_id = $1 ORDER BY sequence',
          [written],
        )
      ).rows.map((row) => row.external_id_value),
    );
    expect(stored).toEqual(userItems(1, batches * 10).map((item) => item.externalIdValue));
  });
});

/** `url` with its database replaced by `database`. */
function withDatabase(url: string, database: string): string {
  if (!url) return '';
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
