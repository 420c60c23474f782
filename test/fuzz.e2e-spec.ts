import fc from 'fast-check';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/test-app';
import { adminToken, bearer } from './support/tokens';

/** Every generated request must hold these, whatever it asks. */
const ENVELOPE_KEYS = ['code', 'details', 'message', 'timestamp', 'validationErrors'];
const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);

const KNOWN_PARAMETERS = [
  'page',
  'pageSize',
  'cursor',
  'errorType',
  'objectChangeType',
  'objectType',
  'outcomeType',
  'hasError',
  'search',
  'sortBy',
  'sortDirection',
  'format',
  'targetType',
  'status',
  'runType',
  'connectedSystemName',
];

/** Parameter names: the real ones, near misses, bracket forms and noise. */
const name = fc.oneof(
  fc.constantFrom(...KNOWN_PARAMETERS),
  fc.constantFrom('page[]', 'page[$gt]', 'pagesize', 'PAGE', '__proto__', 'constructor', 'access_token', ''),
  fc.string({ maxLength: 12 }),
);

/** Values: numbers in every spelling, vocabulary words, hostile text, raw bytes. */
const value = fc.oneof(
  fc.integer().map(String),
  fc.constantFrom('0x10', '1e1', '+1', ' 1', '1.5', '1e309', '9007199254740993', '-0', '', 'NaN'),
  fc.constantFrom('true', 'false', 'asc', 'desc', 'displayName', 'errorType', 'csv', 'ndjson', 'user'),
  fc.constantFrom('DuplicateObject', 'Add,Update', 'Projected', 'ConnectedSystemRunProfile', 'Complete'),
  fc.constantFrom(
    '%',
    '_',
    '\\',
    "'; DROP TABLE activities; --",
    '%00',
    '\u0000',
    '\u202e',
    '😀',
    'a'.repeat(300),
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

/** A query string, sometimes with raw (undecodable or unencoded) parts. */
const queryString = fc
  .array(
    fc
      .tuple(name, value, fc.boolean())
      .map(([key, val, raw]) =>
        raw
          ? `${key}=${val.replace(/[^\x21-\x7e]/g, '%zz')}`
          : `${encodeURIComponent(key)}=${encodeURIComponent(val)}`,
      ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join('&'));

// 1,500 requests a property: on the embedded database, beside the other suite on 2 cores, more
// than the default minute.
jest.setTimeout(300_000);

describe('fuzzing the query string and path (properties hold for every generated request)', () => {
  let t: TestApp;
  let runId: string;
  let itemId: string;
  const totalItems = 37;

  beforeAll(async () => {
    t = await createTestApp();
    const run = await t.runs.startRun({
      connectedSystemName: 'LDAP',
      runProfileName: 'Full Import',
      runType: 'FullImport',
    });
    runId = run.id;
    const result = await t.runs.appendItems(
      runId,
      Array.from({ length: totalItems }, (_, i) => ({
        objectChangeType: i % 3 === 0 ? 'Add' : 'Update',
        displayName: `User ${i} %_\\`,
        objectType: i % 2 === 0 ? 'user' : 'group',
        errorType: i % 5 === 0 ? 'DuplicateObject' : null,
        outcomes: [{ type: 'AttributeFlow', detailCount: i }],
      })),
    );
    itemId = result.itemIds[0];
  });

  afterAll(() => t?.close());

  /** Sends a GET with a raw request target; the status and parsed body. */
  async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await request(t.http).get(path).set(bearer(adminToken()));
    return { status: res.status, body: res.body };
  }

  function checkEnvelope(status: number, body: Record<string, unknown>): void {
    expect(status).toBeLessThan(500);
    if (status >= 400) {
      expect(Object.keys(body).sort()).toEqual(ENVELOPE_KEYS);
      if (status === 400) {
        // A 400 for a run-profile activity always names what was wrong.
        expect(body.code).toBe('VALIDATION_ERROR');
        expect(Object.keys(body.validationErrors as object).length).toBeGreaterThan(0);
      }
    }
  }

  function checkPage(body: Record<string, unknown>, paged: boolean): void {
    const { items, totalCount, page, pageSize, totalPages, hasNextPage, hasPreviousPage } = body as {
      items: unknown[];
      totalCount: number;
      page: number;
      pageSize: number;
      totalPages: number;
      hasNextPage: boolean;
      hasPreviousPage: boolean;
    };
    expect(pageSize).toBeGreaterThanOrEqual(1);
    expect(pageSize).toBeLessThanOrEqual(100);
    expect(page).toBeGreaterThanOrEqual(1);
    expect(totalPages).toBe(Math.ceil(totalCount / pageSize));
    expect(hasNextPage).toBe(page < totalPages);
    expect(hasPreviousPage).toBe(page > 1);
    expect(items.length).toBeLessThanOrEqual(pageSize);
    if (paged) {
      const before = (page - 1) * pageSize;
      expect(items.length).toBe(Math.max(0, Math.min(pageSize, totalCount - before)));
    }
  }

  it('GET /activities/{id}/items: never a 5xx, always the envelope, 400 names a parameter, 200 adds up', async () => {
    await fc.assert(
      fc.asyncProperty(queryString, async (query) => {
        const { status, body } = await get(`/api/v1/activities/${runId}/items?${query}`);
        checkEnvelope(status, body);
        if (status === 200) {
          checkPage(body, !query.includes('cursor='));
          expect(body.totalCount as number).toBeLessThanOrEqual(totalItems);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('following nextCursor from any accepted query keeps the arithmetic', async () => {
    await fc.assert(
      fc.asyncProperty(queryString, async (query) => {
        const first = await get(`/api/v1/activities/${runId}/items?${query}`);
        if (first.status !== 200 || typeof first.body.nextCursor !== 'string') return;
        const next = await get(`/api/v1/activities/${runId}/items?cursor=${first.body.nextCursor}`);
        expect(next.status).toBe(200);
        checkPage(next.body, false);
        expect(next.body.page).toBe((first.body.page as number) + 1);
      }),
      { numRuns: Math.ceil(RUNS / 5) },
    );
  });

  it('other routes: never a 5xx, always the envelope', async () => {
    const segment = fc.oneof(
      fc.constant(runId),
      fc.constant(runId.toUpperCase()),
      fc.constantFrom('%2e%2e', '%00', '{' + runId + '}', 'a'.repeat(1024), 'export', 'stats', '..', '%zz'),
      fc.string({ maxLength: 40 }).map(encodeURIComponent),
    );
    const path = fc.oneof(
      fc.tuple(segment, queryString).map(([id, query]) => `/api/v1/activities/${id}?${query}`),
      fc.tuple(segment, queryString).map(([id, query]) => `/api/v1/activities/${id}/stats?${query}`),
      fc.tuple(segment, queryString).map(([id, query]) => `/api/v1/activities/${id}/items/export?${query}`),
      fc
        .tuple(segment, fc.oneof(fc.constant(itemId), segment), queryString)
        .map(([id, item, query]) => `/api/v1/activities/${id}/items/${item}?${query}`),
      queryString.map((query) => `/api/v1/activities?${query}`),
    );
    await fc.assert(
      fc.asyncProperty(path, async (target) => {
        const res = await request(t.http).get(target).set(bearer(adminToken()));
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) {
          expect(Object.keys(res.body).sort()).toEqual(ENVELOPE_KEYS);
          if (res.status === 400 && target.startsWith(`/api/v1/activities/${runId}`)) {
            expect(res.body.code).toBe('VALIDATION_ERROR');
          }
        }
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });
});
