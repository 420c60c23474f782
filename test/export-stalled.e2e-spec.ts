import { connect, type Socket } from 'node:net';
import request from 'supertest';
import type { NewExecutionItem } from '../src/execution-items';
import { orderBy } from '../src/execution-items/item-sql';
import { appendInBatches, errorBody } from './support/item-fixtures';
import { createTestApp, onServer, type TestApp } from './support/test-app';
import { adminToken, bearer, token } from './support/tokens';

/** Items wide enough (an 8,000-character error message each) that an export outgrows every buffer on the way. */
const ITEMS = 2_500;
const wideItem = (n: number): NewExecutionItem => ({
  objectChangeType: n % 3 === 0 ? 'Add' : 'Update',
  displayName: `Person ${String(n).padStart(5, '0')}`,
  externalIdValue: `E-${(n * 7919) % ITEMS}`,
  objectType: n % 2 === 0 ? 'user' : 'group',
  errorType: n % 5 === 0 ? 'UnhandledError' : null,
  errorMessage: n % 5 === 0 ? `failed ${n} `.padEnd(8_000, 'x') : `note ${n} `.padEnd(8_000, 'y'),
});

const IDLE_TIMEOUT_MS = 15_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const principal = (sub: string) => token({ sub, role: 'Administrator' });

interface StalledExport {
  socket: Socket;
  /** The status line and headers, read before the client stopped reading. */
  head: string;
}

/**
 * Asks for an export on a raw connection, reads the response head, then stops reading for good:
 * the bytes pile up in the socket buffers until the service can write no more.
 */
function stalledExport(port: number, path: string, jwt: string): Promise<StalledExport> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${jwt}\r\n\r\n`);
    });
    let received = '';
    const onData = (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.pause();
      socket.removeListener('data', onData);
      resolve({ socket, head: received.slice(0, end) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/** Everything the connection still delivers once the client reads again, until it closes. */
function readRest(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let rest = '';
    socket.on('data', (chunk: Buffer) => (rest += chunk.toString('latin1')));
    socket.once('close', () => resolve(rest));
    socket.on('error', () => undefined);
    socket.resume();
  });
}

describe('exports and clients that stop reading', () => {
  let t: TestApp;
  let port: number;
  let runId: string;
  const exportPath = () => `/api/v1/activities/${runId}/items/export?format=ndjson`;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // Stalled clients stay stalled for 15 s before they are cut off: longer than the first tests need.
    t = await createTestApp({ EXPORT_WRITE_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS) });
    await t.app.listen(0, '127.0.0.1');
    port = Number(new URL(await t.app.getUrl()).port);
    const run = await t.runs.startRun({
      connectedSystemName: 'HR Feed',
      runProfileName: 'Wide Import',
      runType: 'FullImport',
    });
    runId = run.id;
    await appendInBatches(
      t.runs,
      runId,
      Array.from({ length: ITEMS }, (_, index) => wideItem(index + 1)),
      250,
    );
    await t.runs.completeRun(runId);
  }, 240_000);

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
  });
  afterAll(() => t?.close());

  it('12 stalled exports from 6 principals hold no database connection: a page request still answers 200', async () => {
    const stalled = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        stalledExport(port, exportPath(), principal(`stalled-${index % 6}`)),
      ),
    );
    sockets.push(...stalled.map(({ socket }) => socket));
    expect(stalled.map(({ head }) => head.split('\r\n')[0])).toEqual(Array(12).fill('HTTP/1.1 200 OK'));
    // Let the service write what the buffers take, until every export waits for its client.
    await sleep(1_000);

    const page = await request(t.http)
      .get(`/api/v1/activities/${runId}/items?pageSize=2`)
      .set(bearer(adminToken()))
      .expect(200);
    expect(page.body).toMatchObject({
      totalCount: ITEMS,
      items: [{ displayName: 'Person 00001' }, { displayName: 'Person 00002' }],
    });

    if (onServer) {
      const busy = await t.dataSource.query(
        `SELECT state, query FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'execution-items'
            AND pid <> pg_backend_pid() AND state <> 'idle'`,
      );
      expect(busy).toEqual([]);
    }
  });

  it('a third export of one principal is a 429 TOO_MANY_REQUESTS with Retry-After; others are served; the place frees when a client goes', async () => {
    const first = await stalledExport(port, exportPath(), principal('greedy'));
    const second = await stalledExport(port, exportPath(), principal('greedy'));
    sockets.push(first.socket, second.socket);

    const refused = await request(t.http)
      .get(exportPath())
      .set(bearer(principal('greedy')))
      .expect(429);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body).toEqual(
      errorBody(
        'TOO_MANY_REQUESTS',
        'At most 2 exports may run at once for one caller. Try again when one has finished.',
      ),
    );

    const other = await request(t.http)
      .get(exportPath())
      .set(bearer(principal('patient')))
      .expect(200);
    expect((other.text as string).split('\n')).toHaveLength(ITEMS + 1);

    first.socket.destroy();
    let status = 429;
    while (status === 429) {
      status = (
        await request(t.http)
          .get(`${exportPath()}&hasError=true`)
          .set(bearer(principal('greedy')))
      ).status;
      if (status === 429) await sleep(50);
    }
    expect(status).toBe(200);
  });

  it('an export read in batches is every item in the order of the query, each once', async () => {
    for (const [sortBy, sortDirection] of [
      ['sequence', 'desc'],
      ['displayName', 'asc'],
      ['externalIdValue', 'desc'],
      ['errorType', 'asc'],
      ['objectType', 'desc'],
    ] as const) {
      const res = await request(t.http)
        .get(`${exportPath()}&sortBy=${sortBy}&sortDirection=${sortDirection}`)
        .set(bearer(adminToken()))
        .expect(200);
      const exported = (res.text as string)
        .split('\n')
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { sequence: number }).sequence);
      const expected: Array<{ sequence: number }> = await t.dataSource.query(
        `SELECT i.sequence FROM execution_items i WHERE i.activity_id = $1 ORDER BY ${orderBy(sortBy, sortDirection, 'i')}`,
        [runId],
      );
      expect(exported).toEqual(expected.map((row) => row.sequence));
    }
  });

  it('the write-idle timeout cuts off an export whose client stopped reading (no final chunk) and frees its place', async () => {
    const first = await stalledExport(port, exportPath(), principal('sleepy'));
    const second = await stalledExport(port, exportPath(), principal('sleepy'));
    sockets.push(first.socket, second.socket);
    expect([first.head, second.head].map((head) => head.split('\r\n')[0])).toEqual([
      'HTTP/1.1 200 OK',
      'HTTP/1.1 200 OK',
    ]);
    let status = 429;
    while (status === 429) {
      await sleep(500);
      status = (
        await request(t.http)
          .get(`${exportPath()}&hasError=true`)
          .set(bearer(principal('sleepy')))
      ).status;
    }
    expect(status).toBe(200);
    const rest = await readRest(first.socket);
    expect(rest.endsWith('0\r\n\r\n')).toBe(false);
  }, 120_000);
});
