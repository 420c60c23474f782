import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { Client } from 'pg';
import { createApp, type RunningApp } from '../src/app';
import { ApiKeysService } from '../src/auth/api-keys/api-keys.service';
import { loadAppConfig } from '../src/config/app-config';
import { ExecutionRunsService, type NewExecutionItem } from '../src/execution-items';
import { StoredDiffs } from '../src/execution-items/stored-diffs';
import { describedByDocument } from './support/contract/served-apps';
import { EventStreamReader } from './support/event-stream';
import { TcpProxy } from './support/tcp-proxy';
import { createServerDatabase, onServer, withClient } from './support/test-app';
import { bearer, TEST_SECRET, token } from './support/tokens';

const UP = { status: 'up' };

/**
 * Read replicas (`DATABASE_REPLICA_URLS`) on the PostgreSQL server, without a standby: the
 * "replica" is a copy of the primary's database taken after the first items were written, reached
 * through a TCP proxy that the tests take away and give back. A read it serves answers from the
 * copy, so the reads that may lag show the run as it was, the others the run as it is: which
 * server answered is what a user sees. (The copy is not a standby, so its lag is 0; lag and a
 * real standby are test/topology.e2e-spec.ts's.) The cases run in order on one instance.
 */
(onServer ? describe : describe.skip)(
  'read replicas (PostgreSQL server; a copy behind a proxy as the replica)',
  () => {
    const admin = bearer(token({ role: 'Administrator' }));
    let primary: { url: string; drop(): Promise<void> };
    let replica: { url: string; drop(): Promise<void> };
    let proxy: TcpProxy;
    let replicaServer: string;
    let instance: RunningApp;
    let http: ReturnType<RunningApp['app']['getHttpServer']>;
    /** The run in progress, with 3 items in the copy and 5 on the primary. */
    let runId: string;
    let completedRunId: string;

    const items = (ids: string[], errorFor: string[] = []): NewExecutionItem[] =>
      ids.map((id) => ({
        externalIdValue: id,
        displayName: `User ${id}`,
        objectType: 'user',
        objectChangeType: 'Update',
        ...(errorFor.includes(id) ? { errorType: 'DuplicateObject' as const } : {}),
      }));

    async function start(env: Record<string, string>): Promise<RunningApp> {
      const running = await createApp(
        loadAppConfig({
          AUTH_JWT_SECRET: TEST_SECRET,
          DATABASE_POOL_SIZE: '3',
          DATABASE_CONNECT_RETRIES: '0',
          DEMO_DATA: 'false',
          API_DOCS_UI: 'false',
          UI_ENABLED: 'false',
          RATE_LIMIT_ENABLED: 'false',
          ...env,
        }),
        { logger: false },
      );
      await running.app.getHttpAdapter().getInstance().ready();
      return running;
    }

    beforeAll(async () => {
      const adminUrl = process.env.DATABASE_URL!;
      primary = await createServerDatabase(adminUrl);
      // The runs as the copy will have them, written through the module by an instance that is
      // then closed (a database with sessions cannot be copied).
      const seeding = await start({ DATABASE_URL: primary.url });
      const runs = seeding.app.get(ExecutionRunsService);
      const profile = {
        connectedSystemName: 'HR',
        runProfileName: 'Delta Sync',
        runType: 'DeltaSynchronisation',
      } as const;
      completedRunId = (await runs.startRun(profile)).id;
      await runs.appendItems(completedRunId, items(['E1', 'E2', 'E3'], ['E1']));
      await runs.completeRun(completedRunId);
      runId = (await runs.startRun(profile)).id;
      await runs.appendItems(runId, items(['E1', 'E2', 'E3'], ['E2']));
      await seeding.close();

      const name = `${new URL(primary.url).pathname.slice(1)}_copy_${randomBytes(2).toString('hex')}`;
      await withClient(adminUrl, (client) =>
        client.query(`CREATE DATABASE "${name}" TEMPLATE "${new URL(primary.url).pathname.slice(1)}"`),
      );
      replica = {
        url: Object.assign(new URL(primary.url), { pathname: `/${name}` }).toString(),
        drop: async () => {
          await withClient(adminUrl, (client) =>
            client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
          );
        },
      };
      const target = new URL(adminUrl);
      proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
      await proxy.up();
      await proxy.down(); // the port is kept: the replica is away when the instance starts
      const replicaUrl = Object.assign(new URL(replica.url), { host: `127.0.0.1:${proxy.port}` }).toString();
      replicaServer = `127.0.0.1:${proxy.port}/${name}`;
      instance = await start({ DATABASE_URL: primary.url, DATABASE_REPLICA_URLS: replicaUrl });
      http = instance.app.getHttpServer();
      describedByDocument(http);
    });

    afterAll(async () => {
      await instance?.close();
      await proxy?.down();
      await replica?.drop();
      await primary?.drop();
    });

    const get = (path: string) => request(http).get(path).set(admin);
    const itemIds = async (path: string) =>
      (await get(path).expect(200)).body.items.map(
        (item: { externalIdValue: string }) => item.externalIdValue,
      );
    const readiness = async () => (await request(http).get('/health/ready').expect(200)).body;

    /** The readiness body with the replica in `state`. */
    const readyWith = (state: 'up' | 'down', lagMs: number | null) => {
      const replicas = { status: 'up', servers: [{ server: replicaServer, state, lagMs }] };
      return {
        status: 'ok',
        info: { database: UP, replicas },
        error: {},
        details: { database: UP, replicas },
      };
    };

    async function until(what: string, condition: () => Promise<boolean>): Promise<void> {
      for (let waited = 0; !(await condition()); waited += 100) {
        if (waited > 5_000) throw new Error(`${what}: not after 5 s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    it('starts while its replica does not answer, ready, reporting it down, reading from the primary', async () => {
      expect(await readiness()).toEqual(readyWith('down', null));
      await instance.app.get(ExecutionRunsService).appendItems(runId, items(['E4', 'E5'], ['E4']));
      expect(await itemIds(`/api/v1/activities/${runId}/items`)).toEqual(['E1', 'E2', 'E3', 'E4', 'E5']);
    });

    it('reads from the replica once a check finds it up: the reads that may lag show the run as the replica has it', async () => {
      await proxy.up();
      await until(
        'the replica up',
        async () => (await readiness()).details.replicas.servers[0].state === 'up',
      );
      // Not a standby: nothing to replay, lag 0.
      expect(await readiness()).toEqual(readyWith('up', 0));

      // Item pages, filtered pages, stats, the activity and the list: 3 items, not 5.
      expect(await itemIds(`/api/v1/activities/${runId}/items`)).toEqual(['E1', 'E2', 'E3']);
      expect(await itemIds(`/api/v1/activities/${runId}/items?hasError=true`)).toEqual(['E2']);
      expect((await get(`/api/v1/activities/${runId}/stats`).expect(200)).body).toMatchObject({
        totalCount: 3,
        itemsWithErrors: 1,
      });
      expect((await get(`/api/v1/activities/${runId}`).expect(200)).body).toMatchObject({ itemCount: 3 });
      const list = (await get('/api/v1/activities').expect(200)).body;
      expect(list.items.map((run: { id: string; itemCount: number }) => [run.id, run.itemCount])).toEqual([
        [runId, 3],
        [completedRunId, 3],
      ]);
      // An item written since is not there yet, nor in its object's history; an earlier one is.
      const [e1, e4] = await withClient(primary.url, async (client) =>
        (
          await client.query<{ id: string }>(
            `SELECT id FROM execution_items WHERE activity_id = $1 AND external_id_value IN ('E1', 'E4') ORDER BY sequence`,
            [runId],
          )
        ).rows.map((row) => row.id),
      );
      await get(`/api/v1/activities/${runId}/items/${e1}`).expect(200);
      const missing = await get(`/api/v1/activities/${runId}/items/${e4}`).expect(404);
      expect(missing.body.code).toBe('NOT_FOUND');
      expect((await get('/api/v1/items?externalIdValue=E4').expect(200)).body).toMatchObject({
        totalCount: 0,
        items: [],
      });
      // The diff against the earlier run: E1 resolved, E2 a new error; not yet E4's.
      const diff = (await get(`/api/v1/activities/${runId}/diff`).expect(200)).body;
      expect(diff.counts).toMatchObject({ NewError: 1, Resolved: 1 });
      // The export: the run as the replica has it.
      const csv = await get(`/api/v1/activities/${runId}/items/export?format=ndjson`).expect(200);
      expect(
        csv.text
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line).externalIdValue),
      ).toEqual(['E1', 'E2', 'E3']);
    });

    it('writes, the event stream and API keys use the primary', async () => {
      // An append answers from the primary: sequences after its 5 items.
      const engine = bearer(token({ sub: 'engine', role: 'SyncEngine' }));
      const appended = await request(http)
        .post(`/api/v1/activities/${runId}/items`)
        .set(engine)
        .send({ items: [{ externalIdValue: 'E6', displayName: 'User E6', objectChangeType: 'Update' }] })
        .expect(200);
      expect(appended.body).toMatchObject({ firstSequence: 6, lastSequence: 6 });
      // A follower sees every item the primary has, then the run's end.
      const stream = await EventStreamReader.open(
        `http://127.0.0.1:${await listening(instance)}/api/v1/activities/${runId}/items/stream`,
        admin,
      );
      try {
        expect(stream.status).toBe(200);
        const seen: string[] = [];
        while (seen.length < 6) {
          const event = await stream.next();
          if (event?.event === 'item') seen.push(JSON.parse(event.data).externalIdValue);
          if (!event) throw new Error(`the stream ended after ${seen.join(', ')}`);
        }
        expect(seen).toEqual(['E1', 'E2', 'E3', 'E4', 'E5', 'E6']);
        await request(http).post(`/api/v1/activities/${runId}/complete`).set(engine).expect(200);
        expect((await stream.until('complete')).at(-1)).toMatchObject({ event: 'complete' });
      } finally {
        stream.close();
      }
      // The diff stored once the run completed went to the primary alone.
      await instance.app.get(StoredDiffs).settled();
      const storedDiffs = (url: string) =>
        withClient(
          url,
          async (client) => (await client.query('SELECT run_id, baseline_id FROM run_diffs')).rows,
        );
      expect(await storedDiffs(primary.url)).toEqual([{ run_id: runId, baseline_id: completedRunId }]);
      expect(await storedDiffs(replica.url)).toEqual([]);
      // A key created now is known at once: it is looked up on the primary, not on the copy.
      const { key } = await instance.app
        .get(ApiKeysService)
        .createKey({ name: 'replica-test', roles: ['Administrator'] });
      await request(http).get('/api/v1/activities').set('X-API-Key', key).expect(200);
    });

    it('a replica that goes away with reads in flight fails none of them: each runs again on the primary', async () => {
      const page = () => request(http).get(`/api/v1/activities/${runId}/items?pageSize=100`).set(admin);
      expect((await page().expect(200)).body.totalCount).toBe(3);
      // Reads held on the replica: its activities locked, so that they are in flight, each on a
      // connection of the pool (3) or waiting for one, when the replica goes.
      const blocker = new Client({ connectionString: replica.url });
      await blocker.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query('LOCK TABLE activities IN ACCESS EXCLUSIVE MODE');
        // `.then` sends each now; a supertest request waits to be awaited.
        const held = Array.from({ length: 6 }, () => page().then((res) => res));
        // Counted from another session: one's view of pg_stat_activity holds still within its
        // transaction.
        await until('three reads waiting on the replica', () =>
          withClient(replica.url, async (client) => {
            const { rows } = await client.query<{ waiting: number }>(
              `SELECT count(*)::int AS waiting FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock'`,
            );
            return rows[0].waiting === 3;
          }),
        );
        await proxy.down();
        const responses = await Promise.all(held);
        // The primary's whole page, 6 items, for each.
        expect(responses.map((res) => [res.status, res.body.totalCount])).toEqual(
          responses.map(() => [200, 6]),
        );
      } finally {
        await blocker.query('ROLLBACK').catch(() => undefined);
        await blocker.end();
      }
      expect((await page().expect(200)).body.totalCount).toBe(6);
      expect(await readiness()).toEqual(readyWith('down', null));
    });
  },
);

/** The port the instance's HTTP server listens on, listening on one first (the stream reader needs a socket). */
async function listening(instance: RunningApp): Promise<number> {
  const server = instance.app.getHttpServer();
  if (!server.listening) await instance.app.listen(0, '127.0.0.1');
  return (server.address() as { port: number }).port;
}
