import type { ActivityStatus, RunType } from '../src/execution-items';
import { activityPageStatement } from '../src/execution-items/execution-items.query';
import { parseActivityFilters } from '../src/execution-items/run-filters';
import {
  FORBIDDEN_MESSAGE,
  UNAUTHORISED_MESSAGE,
  VALIDATION_MESSAGE,
  errorBody,
  getAs,
} from './support/item-fixtures';
import { createTestApp, type TestApp } from './support/test-app';
import { token } from './support/tokens';

/** Writing the fixture through the app on a machine shared with other suites can take minutes. */
const SETUP_TIMEOUT_MS = 300_000;
/**
 * GET /api/v1/activities, finding runs (contract §11): run profile, creation window and error
 * filters, `nextCursor`, and the indexes behind each filter.
 */

const TIMESTAMP_MESSAGE =
  'must be an ISO 8601 date (2026-11-29) or date-time with an offset (2026-11-29T18:00:00Z, 2026-11-29T19:00:00.5+01:00)';

interface Run {
  id: string;
  /** Microseconds included: the cursor must keep them. */
  created: string;
  system: string;
  profile: string;
  runType: RunType;
  status: ActivityStatus;
  errors: number;
}

const id = (n: number) => `f1d00000-0000-4000-8000-0000000000${n.toString(16).padStart(2, '0')}`;
const RUNS: Run[] = [
  // Newest first, as the list answers.
  {
    id: id(9),
    created: '2026-11-05T10:00:00.000900Z',
    system: 'HR Feed',
    profile: 'Delta Import',
    runType: 'DeltaImport',
    status: 'InProgress',
    errors: 0,
  },
  {
    id: id(8),
    created: '2026-11-05T10:00:00.000500Z',
    system: 'HR Feed',
    profile: 'Full Import',
    runType: 'FullImport',
    status: 'CompleteWithError',
    errors: 2,
  },
  // Same created time: the higher id first.
  {
    id: id(7),
    created: '2026-11-05T10:00:00.000100Z',
    system: 'Corporate LDAP',
    profile: 'Export',
    runType: 'Export',
    status: 'Complete',
    errors: 0,
  },
  {
    id: id(6),
    created: '2026-11-05T10:00:00.000100Z',
    system: 'Corporate LDAP',
    profile: 'Full Import',
    runType: 'FullImport',
    status: 'CompleteWithError',
    errors: 1,
  },
  {
    id: id(5),
    created: '2026-11-04T00:00:00.000000Z',
    system: 'HR Feed',
    profile: 'Full Import',
    runType: 'FullImport',
    status: 'Complete',
    errors: 0,
  },
  {
    id: id(4),
    created: '2026-11-03T23:59:59.999999Z',
    system: 'HR Feed',
    profile: 'Full Synchronisation',
    runType: 'FullSynchronisation',
    status: 'FailedWithError',
    errors: 3,
  },
  {
    id: id(3),
    created: '2026-11-02T12:00:00.000000Z',
    system: 'HR Feed',
    profile: 'Full Import',
    runType: 'FullImport',
    status: 'Cancelled',
    errors: 0,
  },
];

describe('GET /api/v1/activities: finding runs', () => {
  let t: TestApp;
  const bodies = new Map<string, Record<string, unknown>>();

  beforeAll(async () => {
    t = await createTestApp();
    for (const run of [...RUNS].reverse()) {
      await t.runs.startRun({
        id: run.id,
        connectedSystemName: run.system,
        runProfileName: run.profile,
        runType: run.runType,
      });
      await t.runs.appendItems(run.id, [
        { objectChangeType: 'Add', externalIdValue: 'ok' },
        ...Array.from({ length: run.errors }, (_, i) => ({
          objectChangeType: 'Add' as const,
          externalIdValue: `e${i}`,
          errorType: 'UnhandledError' as const,
        })),
      ]);
      if (run.status !== 'InProgress') await t.runs.completeRun(run.id, { status: run.status });
      await t.dataSource.query('UPDATE activities SET created = $2 WHERE id = $1', [run.id, run.created]);
      bodies.set(run.id, (await get(`/api/v1/activities/${run.id}`).expect(200)).body);
    }
  }, SETUP_TIMEOUT_MS);

  afterAll(() => t?.close());

  const get = (path: string, jwt?: string | null) => getAs(t.http, path, jwt);
  const body = (run: Run) => bodies.get(run.id);
  const page = (runs: Run[], pageNumber = 1, pageSize = 25, totalCount = runs.length) => {
    const totalPages = Math.ceil(totalCount / pageSize);
    return {
      items: runs.map(body),
      totalCount,
      page: pageNumber,
      pageSize,
      totalPages,
      hasNextPage: pageNumber < totalPages,
      hasPreviousPage: pageNumber > 1,
      nextCursor: pageNumber * pageSize < totalCount ? expect.any(String) : null,
    };
  };
  const runs = (...numbers: number[]) => numbers.map((n) => RUNS.find((run) => run.id === id(n))!);

  it('lists newest first, ties on created by id, microseconds apart in order', async () => {
    const res = await get('/api/v1/activities').expect(200);
    expect(res.body).toEqual(page(RUNS));
  });

  it.each([
    ['runProfileName=Full%20Import', [8, 6, 5, 3]],
    ['runProfileName=Export,Delta%20Import', [9, 7]],
    ['runProfileName=full%20import', []],
    ['connectedSystemName=HR%20Feed&runProfileName=Full%20Import&runType=FullImport', [8, 5, 3]],
    ['createdFrom=2026-11-04', [9, 8, 7, 6, 5]],
    ['createdTo=2026-11-04', [4, 3]],
    ['createdFrom=2026-11-03&createdTo=2026-11-04T00:00:00.000001Z', [5, 4]],
    ['createdFrom=2026-11-05T10:00:00.0001Z&createdTo=2026-11-05T10:00:00.0005Z', [7, 6]],
    ['createdFrom=2026-11-05T11:00:00.0005%2B01:00', [9, 8]],
    ['createdTo=2026-11-05T05:00:00-05:00', [5, 4, 3]],
    ['hasErrors=true', [8, 6, 4]],
    ['hasErrors=false', [9, 7, 5, 3]],
    ['hasErrors=true&connectedSystemName=HR%20Feed&createdFrom=2026-11-04', [8]],
    ['hasErrors=false&status=Complete,Cancelled&runType=FullImport', [5, 3]],
  ])('filters: %s', async (query, expected) => {
    const res = await get(`/api/v1/activities?${query}`).expect(200);
    expect(res.body).toEqual(page(runs(...expected)));
  });

  it('walks by cursor exactly as by page number, ties and microseconds included', async () => {
    let res = await get('/api/v1/activities?pageSize=2').expect(200);
    for (let pageNumber = 1; ; pageNumber++) {
      expect(res.body).toEqual(
        page(RUNS.slice((pageNumber - 1) * 2, pageNumber * 2), pageNumber, 2, RUNS.length),
      );
      const byNumber = await get(`/api/v1/activities?pageSize=2&page=${pageNumber}`).expect(200);
      expect(byNumber.body).toEqual(res.body);
      if (res.body.nextCursor === null) break;
      res = await get(`/api/v1/activities?cursor=${res.body.nextCursor}`).expect(200);
    }
  });

  it('a cursor keeps its filters, and may come with the same ones', async () => {
    const first = await get('/api/v1/activities?hasErrors=true&pageSize=1').expect(200);
    const second = await get(
      `/api/v1/activities?hasErrors=true&pageSize=1&cursor=${first.body.nextCursor}`,
    ).expect(200);
    expect(second.body).toEqual(page(runs(6), 2, 1, 3));
    const third = await get(`/api/v1/activities?cursor=${second.body.nextCursor}`).expect(200);
    expect(third.body).toEqual(page(runs(4), 3, 1, 3));
    const changed = await get(`/api/v1/activities?hasErrors=false&cursor=${first.body.nextCursor}`).expect(
      400,
    );
    expect(changed.body).toEqual(
      errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, {
        cursor: [
          'was made for another query (hasErrors differ); send the cursor alone or with the same parameters',
        ],
      }),
    );
    const withPage = await get(`/api/v1/activities?page=2&cursor=${first.body.nextCursor}`).expect(400);
    expect(withPage.body.validationErrors).toEqual({ page: ['cannot be combined with cursor'] });
  });

  it('is the module API: listActivities takes dates, strings and the same filters', async () => {
    const res = await get('/api/v1/activities?createdFrom=2026-11-03&hasErrors=true').expect(200);
    const answer = await t.service.listActivities({
      createdFrom: new Date('2026-11-03T00:00:00Z'),
      hasErrors: true,
    });
    expect(JSON.parse(JSON.stringify(answer))).toEqual(res.body);
    await expect(t.service.listActivities({ createdFrom: 'soon' })).rejects.toMatchObject({
      reason: 'InvalidInput',
      validationErrors: { createdFrom: [TIMESTAMP_MESSAGE] },
    });
  });

  it.each([
    ['createdFrom=yesterday', { createdFrom: [TIMESTAMP_MESSAGE] }],
    ['createdFrom=2026-11-31', { createdFrom: [TIMESTAMP_MESSAGE] }],
    ['createdFrom=2026-11-03T24:00:00Z', { createdFrom: [TIMESTAMP_MESSAGE] }],
    ['createdFrom=2026-11-03T10:00:00', { createdFrom: [TIMESTAMP_MESSAGE] }],
    ['createdFrom=1700000000', { createdFrom: [TIMESTAMP_MESSAGE] }],
    ['createdTo=2026-11-03T10:00:00.1234567Z', { createdTo: [TIMESTAMP_MESSAGE] }],
    ['createdFrom=2026-11-03&createdFrom=2026-11-04', { createdFrom: ['must appear once'] }],
    ['createdFrom=2026-11-04&createdTo=2026-11-04', { createdTo: ['must be later than createdFrom'] }],
    [
      'createdFrom=2026-11-04T01:00:00%2B01:00&createdTo=2026-11-04',
      { createdTo: ['must be later than createdFrom'] },
    ],
    ['hasErrors=yes', { hasErrors: ['must be true or false'] }],
    [
      'runProfileName=',
      { runProfileName: ['must be run profile names of 1 to 256 characters without control characters'] },
    ],
    ['cursor=abc', { cursor: ['is not a cursor this API returned'] }],
    ['hasError=true', { hasError: ['is not a known parameter'] }],
  ])('400 VALIDATION_ERROR naming the parameter: %s', async (query, validationErrors) => {
    const res = await get(`/api/v1/activities?${query}`).expect(400);
    expect(res.body).toEqual(errorBody('VALIDATION_ERROR', VALIDATION_MESSAGE, validationErrors));
  });

  it('401 without a token, 403 for an engine token', async () => {
    const unauthorised = await get('/api/v1/activities?createdFrom=nope', null).expect(401);
    expect(unauthorised.body).toEqual(errorBody('UNAUTHORISED', UNAUTHORISED_MESSAGE));
    const forbidden = await get('/api/v1/activities?createdFrom=nope', token({ role: 'SyncEngine' })).expect(
      403,
    );
    expect(forbidden.body).toEqual(errorBody('FORBIDDEN', FORBIDDEN_MESSAGE));
  });

  describe('with 10,000 activities', () => {
    beforeAll(async () => {
      // 20 systems × 5 profiles, a run every 5 minutes over 35 days, one in ten with errors.
      await t.dataSource.query(`
        INSERT INTO activities (id, created, completed, target_type, target_name, target_context, run_type, status, item_count, error_item_count)
        SELECT md5('run' || n)::uuid,
               timestamptz '2026-09-01' + n * interval '5 minutes',
               timestamptz '2026-09-01' + n * interval '5 minutes' + interval '1 minute',
               'ConnectedSystemRunProfile',
               (ARRAY['Full Import','Delta Import','Full Synchronisation','Delta Synchronisation','Export'])[n % 5 + 1],
               'System ' || (n / 5 % 20),
               (ARRAY['FullImport','DeltaImport','FullSynchronisation','DeltaSynchronisation','Export']::run_type[])[n % 5 + 1],
               CASE WHEN n % 10 = 0 THEN 'CompleteWithError' ELSE 'Complete' END::activity_status,
               1000, CASE WHEN n % 10 = 0 THEN 10 ELSE 0 END
          FROM generate_series(1, 10000) AS n`);
      // As autovacuum leaves a table: statistics, and the visibility map that index-only counts need.
      await t.dataSource.query('VACUUM ANALYZE activities');
    }, SETUP_TIMEOUT_MS);

    it.each([
      ['connectedSystemName', { connectedSystemName: ['System 7'] }],
      [
        'connectedSystemName and runProfileName',
        { connectedSystemName: ['System 7'], runProfileName: ['Export'] },
      ],
      [
        'connectedSystemName, runProfileName and runType',
        { connectedSystemName: ['System 7'], runProfileName: ['Export'], runType: ['Export'] },
      ],
      ['runProfileName', { runProfileName: ['Export'] }],
      ['runType', { runType: ['DeltaImport'] }],
      ['a creation window', { createdFrom: '2026-09-10', createdTo: '2026-09-11' }],
      ['hasErrors=true', { hasErrors: true }],
    ])('%s: read through an index, no sequential scan', async (_name, filters) => {
      const { sql, values } = activityPageStatement(parseActivityFilters(filters), { offset: '0' }, 26);
      const rows: Array<{ 'QUERY PLAN': string }> = await t.dataSource.query(`EXPLAIN ${sql}`, values);
      const plans = [rows.map((row) => row['QUERY PLAN']).join('\n')];
      expect(plans).toHaveLength(1);
      expect({ filters, plan: plans[0] }).toEqual({ filters, plan: expect.not.stringContaining('Seq Scan') });
    });
  });
});
