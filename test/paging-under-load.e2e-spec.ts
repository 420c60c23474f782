import request from 'supertest';
import type { NewExecutionItem } from '../src/execution-items';
import { createTestApp, type TestApp } from './support/test-app';
import { adminToken, bearer } from './support/tokens';

interface Page {
  items: Array<{ id: string; displayName: string }>;
  totalCount: number;
  page: number;
  pageSize: number;
}

const BATCHES = 30;
const BATCH_SIZE = 40;
const PAGE_SIZE = 37;

function batch(number: number): NewExecutionItem[] {
  return Array.from({ length: BATCH_SIZE }, (_, index) => ({
    objectChangeType: 'AttributeFlow',
    displayName: `batch ${number} item ${index}`,
    outcomes: [{ type: 'AttributeFlow' }],
  }));
}

/** Reading a run while the engine is still writing it (contract §1: stable order, nothing twice, nothing skipped). */
describe('paging while the engine appends', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(() => t?.close());

  const getPage = async (runId: string, page: number): Promise<Page> =>
    (
      await request(t.http)
        .get(`/api/v1/activities/${runId}/items?page=${page}&pageSize=${PAGE_SIZE}`)
        .set(bearer(adminToken()))
        .expect(200)
    ).body;

  it('30. sees every item exactly once, in order, and every page agrees with its totalCount', async () => {
    const run = await t.runs.startRun({
      connectedSystemName: 'HR',
      runProfileName: 'Delta',
      runType: 'DeltaImport',
    });
    const writtenIds: string[] = [];
    let writing = true;
    const writer = (async () => {
      for (let number = 0; number < BATCHES; number++) {
        const { itemIds } = await t.runs.appendItems(run.id, batch(number));
        writtenIds.push(...itemIds);
        await new Promise((resolve) => setImmediate(resolve));
      }
      writing = false;
    })();

    const seen: string[] = [];
    let inconsistentPages = 0;
    let readsWhileWriting = 0;
    let page = 1;
    for (;;) {
      const writerDone = !writing;
      if (!writerDone) readsWhileWriting += 1;
      const body = await getPage(run.id, page);
      const expectedLength = Math.max(0, Math.min(PAGE_SIZE, body.totalCount - (page - 1) * PAGE_SIZE));
      if (body.items.length !== expectedLength) inconsistentPages += 1;
      if (body.items.length === PAGE_SIZE) {
        seen.push(...body.items.map((item) => item.id));
        page += 1;
      } else if (writerDone) {
        seen.push(...body.items.map((item) => item.id));
        break;
      }
    }
    await writer;

    expect(readsWhileWriting).toBeGreaterThan(10);
    expect(inconsistentPages).toBe(0);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(writtenIds);
    expect(seen).toHaveLength(BATCHES * BATCH_SIZE);
  });

  it('30. keeps totalCount equal to the items stored after concurrent appends to several runs', async () => {
    const runs = await Promise.all(
      [1, 2, 3].map((n) =>
        t.runs.startRun({
          connectedSystemName: `System ${n}`,
          runProfileName: 'Full',
          runType: 'FullImport',
        }),
      ),
    );
    await Promise.all(
      runs.flatMap((run, n) => Array.from({ length: 4 + n }, (_, b) => t.runs.appendItems(run.id, batch(b)))),
    );
    for (const [n, run] of runs.entries()) {
      const body = await getPage(run.id, 1);
      const [{ stored, highest }] = await t.dataSource.query(
        'SELECT count(*)::int AS stored, max(sequence) AS highest FROM execution_items WHERE activity_id = $1',
        [run.id],
      );
      expect(body.totalCount).toBe((4 + n) * BATCH_SIZE);
      expect(stored).toBe(body.totalCount);
      expect(highest).toBe(body.totalCount);
    }
  });
});
