import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Client } from 'pg';
import request from 'supertest';
import type { NewExecutionItem } from '../src/execution-items';
import { createServerDatabase, createTestApp, onServer, type TestApp } from './support/test-app';
import { TcpProxy } from './support/tcp-proxy';
import { adminToken, bearer, TEST_SECRET } from './support/tokens';

const UNAVAILABLE = {
  code: 'SERVICE_UNAVAILABLE',
  message: 'The service is temporarily unavailable. Try again shortly.',
  details: null,
  validationErrors: null,
  timestamp: expect.any(String),
};

const adds = (count: number, prefix: string, extra: Partial<NewExecutionItem> = {}): NewExecutionItem[] =>
  Array.from({ length: count }, (_, i) => ({
    objectChangeType: 'Add',
    displayName: `${prefix}-${i}`,
    ...extra,
  }));

// These cases need a server: only there can a connection really be cut or killed, a statement
// really time out and a lock really be held by another session. `.ci/run` runs the suite against
// PostgreSQL, where they run; on embedded PGlite they are skipped.
(onServer ? describe : describe.skip)('database failures (catalogue F, PostgreSQL server)', () => {
  let t: TestApp;
  let proxy: TcpProxy;
  let database: { url: string; drop(): Promise<void> };
  let direct: Client;
  /** Reads pg_stat_activity outside `direct`'s transactions, which would freeze its snapshot. */
  let observer: Client;
  let runId: string;

  beforeAll(async () => {
    database = await createServerDatabase(process.env.DATABASE_URL!);
    const target = new URL(database.url);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.up();
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    t = await createTestApp({
      DATABASE_URL: viaProxy.toString(),
      DATABASE_POOL_SIZE: '2',
      DATABASE_STATEMENT_TIMEOUT_MS: '2000',
      DATABASE_POOL_WAIT_MS: '300',
      DATABASE_CONNECT_RETRIES: '0',
    });
    direct = new Client({ connectionString: database.url });
    observer = new Client({ connectionString: database.url });
    await Promise.all([direct.connect(), observer.connect()]);
    const run = await t.runs.startRun({
      connectedSystemName: 'LDAP',
      runProfileName: 'Full Import',
      runType: 'FullImport',
    });
    runId = run.id;
    await t.runs.appendItems(runId, adds(30, 'user'));
  });

  afterAll(async () => {
    await Promise.all([direct?.end(), observer?.end()]);
    await t?.close();
    await proxy?.down();
    await database?.drop();
  });

  const page = () =>
    request(t.http).get(`/api/v1/activities/${runId}/items?pageSize=5`).set(bearer(adminToken()));

  /** Requests until one succeeds (at most `attempts`); every failure on the way must be a 503. */
  async function recovers(attempts = 5): Promise<void> {
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const res = await page();
      if (res.status === 200) {
        expect(res.body.totalCount).toBe(30);
        return;
      }
      expect(res.status).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no 200 after ${attempts} attempts`);
  }

  const counters = async (activityId: string) =>
    (
      await direct.query(
        `SELECT item_count, error_item_count, change_type_counts FROM activities WHERE id = $1`,
        [activityId],
      )
    ).rows[0];

  const itemCount = async (activityId: string) =>
    (
      await direct.query('SELECT count(*)::int AS n FROM execution_items WHERE activity_id = $1', [
        activityId,
      ])
    ).rows[0].n;

  /** Waits until a statement of the app matching `pattern` shows in pg_stat_activity; its pid. */
  async function backendRunning(pattern: string, waiting = false): Promise<number> {
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const { rows } = await observer.query(
        `SELECT pid FROM pg_stat_activity
          WHERE application_name = 'execution-items' AND query LIKE $1 AND state = 'active'
            AND ($2::boolean = false OR wait_event_type = 'Lock')`,
        [pattern, waiting],
      );
      if (rows.length > 0) return rows[0].pid;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`no backend running ${pattern}`);
  }

  it('27. a database that is down is a 503 with Retry-After and a generic message; it recovers when the database returns', async () => {
    await page().expect(200);
    await proxy.down();
    try {
      const res = await page().expect(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body).toEqual(UNAVAILABLE);
      const exported = await request(t.http)
        .get(`/api/v1/activities/${runId}/items/export`)
        .set(bearer(adminToken()))
        .expect(503);
      expect(exported.body).toEqual(UNAVAILABLE);
    } finally {
      await proxy.up();
    }
    await recovers();
  });

  it('27. connections killed by the server (pg_terminate_backend) cost at most a 503, then requests succeed', async () => {
    await Promise.all([page().expect(200), page().expect(200)]);
    const { rows } = await direct.query(
      `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
        WHERE application_name = 'execution-items' AND datname = current_database()`,
    );
    expect(rows.length).toBeGreaterThan(0);
    await recovers();
  });

  it('29. a statement running past statement_timeout is a 503 before any HTTP timeout; the service recovers', async () => {
    await direct.query('BEGIN');
    await direct.query('LOCK TABLE execution_items IN ACCESS EXCLUSIVE MODE');
    try {
      const started = Date.now();
      const res = await page().expect(503);
      expect(res.body).toEqual(UNAVAILABLE);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await direct.query('COMMIT');
    }
    await recovers();
  });

  it('29. when the pool is exhausted a request waits a bounded time, then gets a 503; the service recovers', async () => {
    await direct.query('BEGIN');
    await direct.query('LOCK TABLE execution_items IN ACCESS EXCLUSIVE MODE');
    try {
      // Two requests take both pooled connections and wait on the lock; the third cannot get one.
      const holders = [page(), page()].map((req) => req.then((res) => res.status));
      await backendRunning('%FROM activities a%', true);
      const started = Date.now();
      const third = await page();
      expect(third.status).toBe(503);
      expect(third.body).toEqual(UNAVAILABLE);
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(await Promise.all(holders)).toEqual([503, 503]);
    } finally {
      await direct.query('ROLLBACK');
    }
    await recovers();
  });

  it('20. a search the database cannot finish in time ends with a 503 within the statement timeout, never a hung socket', async () => {
    // A search that reads the whole run behind a lock stands in for one too costly to finish.
    await direct.query('BEGIN');
    await direct.query('LOCK TABLE execution_items IN ACCESS EXCLUSIVE MODE');
    try {
      const started = Date.now();
      const res = await request(t.http)
        .get(
          `/api/v1/activities/${runId}/items?search=${encodeURIComponent('%_%'.repeat(80))}&sortBy=displayName`,
        )
        .set(bearer(adminToken()))
        .expect(503);
      expect(res.body).toEqual(UNAVAILABLE);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await direct.query('COMMIT');
    }
    await recovers();
  });

  it('31. an append whose connection is killed half-way leaves no items and no counter change', async () => {
    const run = await t.runs.startRun({
      connectedSystemName: 'LDAP',
      runProfileName: 'Delta',
      runType: 'DeltaImport',
    });
    await t.runs.appendItems(run.id, adds(3, 'before'));
    const before = await counters(run.id);
    // The append locks its run and starts writing, then waits on a lock held here; killed there.
    await direct.query('BEGIN');
    await direct.query('LOCK TABLE execution_items IN SHARE MODE');
    const append = t.runs.appendItems(run.id, adds(500, 'lost'));
    try {
      const pid = await backendRunning('COPY execution_items%', true);
      await direct.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await direct.query('ROLLBACK');
    }
    await expect(append).rejects.toBeDefined();
    expect(await itemCount(run.id)).toBe(3);
    expect(await counters(run.id)).toEqual(before);
    // The run takes the same batch again afterwards.
    await expect(t.runs.appendItems(run.id, adds(500, 'again'))).resolves.toMatchObject({
      firstSequence: 4,
      lastSequence: 503,
    });
  });

  it('31. an append the database refuses part-way through (a constraint) writes nothing', async () => {
    const run = await t.runs.startRun({
      connectedSystemName: 'LDAP',
      runProfileName: 'Check',
      runType: 'DeltaImport',
    });
    const before = await counters(run.id);
    await direct.query(
      `ALTER TABLE execution_items ADD CONSTRAINT no_boom CHECK (display_name IS DISTINCT FROM 'boom') NOT VALID`,
    );
    try {
      const items = adds(5_000, 'ok');
      items[3_500] = { objectChangeType: 'Add', displayName: 'boom' };
      await expect(t.runs.appendItems(run.id, items)).rejects.toBeDefined();
    } finally {
      await direct.query('ALTER TABLE execution_items DROP CONSTRAINT no_boom');
    }
    expect(await itemCount(run.id)).toBe(0);
    expect(await counters(run.id)).toEqual(before);
  });

  it('32. SIGTERM: the request in flight completes, new connections are refused, the pool closes after the server, the process exits in time', async () => {
    const backends = async (): Promise<number[]> =>
      (await observer.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)).rows.map(
        (row: { pid: number }) => row.pid,
      );
    const before = await backends();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        NODE_ENV: 'production',
        AUTH_JWT_SECRET: TEST_SECRET,
        PORT: String(port),
        DATABASE_URL: database.url,
        DEMO_DATA: 'false',
        LOG_LEVEL: 'warn',
        RATE_LIMIT_ENABLED: 'false',
        SHUTDOWN_TIMEOUT_MS: '15000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<{ code: number | null; output: string }>((resolve) =>
      child.on('exit', (code) => resolve({ code, output })),
    );
    try {
      await waitUntilUp(`${base}/health/ready`);
      await direct.query('BEGIN');
      await direct.query('LOCK TABLE execution_items IN ACCESS EXCLUSIVE MODE');
      const inFlight = fetch(`${base}/api/v1/activities/${runId}/items?pageSize=5`, {
        headers: bearer(adminToken()),
      });
      await backendRunning('%FROM activities a%', true);
      const signalled = Date.now();
      child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 500));
      await expect(fetch(`${base}/health/live`)).rejects.toThrow();
      await direct.query('COMMIT');
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(((await res.json()) as { totalCount: number }).totalCount).toBe(30);
      expect(await exited).toMatchObject({ code: 0 });
      expect(Date.now() - signalled).toBeLessThan(15_000);
      // The child's pool is closed: no backend opened since it started is left.
      expect((await backends()).filter((pid) => !before.includes(pid))).toEqual([]);
    } finally {
      await direct.query('ROLLBACK').catch(() => undefined);
      child.kill('SIGKILL');
    }
  }, 150_000);

  it('28. a database that is down at start: bounded retries, a message naming the database, a non-zero exit', async () => {
    const closed = new TcpProxy('127.0.0.1', 9);
    await closed.up();
    const port = closed.port;
    await closed.down();
    const started = Date.now();
    const { code, output } = await runMain({
      NODE_ENV: 'production',
      AUTH_JWT_SECRET: TEST_SECRET,
      PORT: '0',
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/nowhere`,
      DATABASE_CONNECT_RETRIES: '1',
    });
    expect({ code, output }).toEqual({ code: 1, output: expect.stringMatching(/ECONNREFUSED/) });
    // One attempt and one retry 3 s later: bounded.
    const attempts = output.split('\n').filter((line) => line.includes('Unable to connect to the database'));
    expect(attempts).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThan(3_000);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 40_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Waits for the service to answer: its start (ts-node, Nest, the pool) takes a minute on a busy machine. */
async function waitUntilUp(url: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer within 90 s`);
}

/** Runs the service's entry point as a process would be started; its exit code and output. */
function runMain(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      env: { ...process.env, ...env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ code, output }));
  });
}
