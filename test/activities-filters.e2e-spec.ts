import request from 'supertest';
import { Activity, type ActivityStatus, type RunType } from '../src/execution-items';
import { createTestApp, type TestApp } from './support/test-app';
import { adminToken, bearer, token } from './support/tokens';

const TIMESTAMP = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
const RUN_TYPE_MESSAGE =
  'must be one of FullImport, DeltaImport, FullSynchronisation, DeltaSynchronisation, Export';
const NAME_MESSAGE = 'must be connected system names of 1 to 256 characters without control characters';

function errorBody(code: string, message: string, validationErrors: Record<string, string[]> | null = null) {
  return { code, message, details: null, validationErrors, timestamp: TIMESTAMP };
}

interface Run {
  id: string;
  created: string;
  completed: string | null;
  status: ActivityStatus;
  targetType: 'ConnectedSystemRunProfile';
  targetName: string;
  targetContext: string;
  runType: RunType;
  itemCount: number;
  itemsWithErrors: number;
}

const id = (n: number) => `b0000000-0000-4000-8000-0000000000${n.toString(16).padStart(2, '0')}`;
const run = (
  n: number,
  created: string,
  targetContext: string,
  targetName: string,
  runType: RunType,
  status: ActivityStatus,
): Run => ({
  id: id(n),
  created,
  // Runs that ended did so an hour after they started.
  completed: status === 'InProgress' ? null : new Date(Date.parse(created) + 3_600_000).toISOString(),
  status,
  targetType: 'ConnectedSystemRunProfile',
  targetName,
  targetContext,
  runType,
  itemCount: 0,
  itemsWithErrors: 0,
});

const HR_SYNC = run(
  1,
  '2022-05-06T09:00:00.000Z',
  'HR Feed',
  'Full Synchronisation',
  'FullSynchronisation',
  'Complete',
);
const LDAP_IMPORT = run(
  2,
  '2022-05-05T09:00:00.000Z',
  'Corporate LDAP',
  'Delta Import',
  'DeltaImport',
  'InProgress',
);
const LDAP_EXPORT = run(
  3,
  '2022-05-04T09:00:00.000Z',
  'Corporate LDAP',
  'Export',
  'Export',
  'CompleteWithError',
);
const HR_IMPORT = run(4, '2022-05-03T09:00:00.000Z', 'HR Feed', 'Full Import', 'FullImport', 'Complete');
// Same name but another case: names match exactly.
const HR_LOWER = run(
  5,
  '2022-05-02T09:00:00.000Z',
  'hr feed',
  'Delta Sync',
  'DeltaSynchronisation',
  'Cancelled',
);
const RUNS = [HR_SYNC, LDAP_IMPORT, LDAP_EXPORT, HR_IMPORT, HR_LOWER];
// An activity that is not a run: no run type, and its connected system is its target, not its context.
const SYSTEM = {
  id: id(9),
  created: '2022-05-01T09:00:00.000Z',
  completed: null,
  status: 'Complete' as const,
  targetType: 'ConnectedSystem' as const,
  targetName: 'HR Feed',
  targetContext: null,
  runType: null,
  itemCount: 0,
  itemsWithErrors: 0,
};

function page(items: object[]) {
  return {
    items,
    totalCount: items.length,
    page: 1,
    pageSize: 25,
    totalPages: items.length === 0 ? 0 : 1,
    hasNextPage: false,
    hasPreviousPage: false,
    nextCursor: null,
  };
}

describe('GET /api/v1/activities: runType and connectedSystemName', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
    await t.dataSource.getRepository(Activity).insert({ ...SYSTEM, created: new Date(SYSTEM.created) });
    for (const r of RUNS) {
      await t.runs.startRun({
        id: r.id,
        connectedSystemName: r.targetContext,
        runProfileName: r.targetName,
        runType: r.runType,
      });
      if (r.status !== 'InProgress') await t.runs.completeRun(r.id, { status: r.status });
      await t.dataSource.query('UPDATE activities SET created = $2, completed = $3 WHERE id = $1', [
        r.id,
        r.created,
        r.completed,
      ]);
    }
  });

  afterAll(() => t?.close());

  const get = (path: string, jwt: string | null = adminToken()) => {
    const req = request(t.http).get(path);
    return jwt === null ? req : req.set(bearer(jwt));
  };

  it.each([
    ['runType=Export', [LDAP_EXPORT]],
    ['runType=FullImport,DeltaImport', [LDAP_IMPORT, HR_IMPORT]],
    ['runType=FullImport&runType=DeltaImport', [LDAP_IMPORT, HR_IMPORT]],
    ['connectedSystemName=HR%20Feed', [HR_SYNC, HR_IMPORT]],
    ['connectedSystemName=hr%20feed', [HR_LOWER]],
    ['connectedSystemName=HR', []],
    ['connectedSystemName=HR%20Feed,Corporate%20LDAP', [HR_SYNC, LDAP_IMPORT, LDAP_EXPORT, HR_IMPORT]],
    [
      'connectedSystemName=HR%20Feed&connectedSystemName=Corporate%20LDAP',
      [HR_SYNC, LDAP_IMPORT, LDAP_EXPORT, HR_IMPORT],
    ],
    // AND across parameters.
    ['connectedSystemName=Corporate%20LDAP&runType=Export', [LDAP_EXPORT]],
    ['connectedSystemName=Corporate%20LDAP&status=InProgress', [LDAP_IMPORT]],
    ['connectedSystemName=HR%20Feed&runType=Export', []],
    [
      'connectedSystemName=HR%20Feed&targetType=ConnectedSystemRunProfile,ConnectedSystem',
      [HR_SYNC, HR_IMPORT],
    ],
    ['runType=FullSynchronisation&status=Complete&targetType=ConnectedSystemRunProfile', [HR_SYNC]],
  ])('filters: %s', async (query, expected) => {
    const res = await get(`/api/v1/activities?${query}`).expect(200);
    expect(res.body).toEqual(page(expected));
  });

  it('an activity that is not a run has no run type, so a run type filter leaves it out', async () => {
    const res = await get(
      '/api/v1/activities?runType=FullImport,DeltaImport,FullSynchronisation,DeltaSynchronisation,Export',
    ).expect(200);
    expect(res.body).toEqual(page(RUNS));
  });

  it.each([
    ['runType=Import', { runType: [RUN_TYPE_MESSAGE] }],
    ['runType=export', { runType: [RUN_TYPE_MESSAGE] }],
    ['runType=Export,', { runType: [RUN_TYPE_MESSAGE] }],
    ['runType=', { runType: [RUN_TYPE_MESSAGE] }],
    ['runType=Export,Export,Export,Export,Export,Export', { runType: ['lists too many values'] }],
    ['connectedSystemName=', { connectedSystemName: [NAME_MESSAGE] }],
    ['connectedSystemName=HR%20Feed,', { connectedSystemName: [NAME_MESSAGE] }],
    ['connectedSystemName=HR%07Feed', { connectedSystemName: [NAME_MESSAGE] }],
    [`connectedSystemName=${'x'.repeat(257)}`, { connectedSystemName: [NAME_MESSAGE] }],
    ['connectedsystemname=HR', { connectedsystemname: ['is not a known parameter'] }],
  ])('400 for %s', async (query, validationErrors) => {
    const res = await get(`/api/v1/activities?${query}`).expect(400);
    expect(res.body).toEqual(errorBody('VALIDATION_ERROR', 'The request is not valid.', validationErrors));
  });

  it('accepts a name of 256 characters', async () => {
    const res = await get(`/api/v1/activities?connectedSystemName=${'x'.repeat(256)}`).expect(200);
    expect(res.body).toEqual(page([]));
  });

  it('401 before validation, 403 without the role', async () => {
    const unauthorised = await get('/api/v1/activities?runType=Import', null).expect(401);
    expect(unauthorised.body).toEqual(errorBody('UNAUTHORISED', expect.any(String)));
    const forbidden = await get('/api/v1/activities?runType=Import', token({ role: 'Reader' })).expect(403);
    expect(forbidden.body).toEqual(errorBody('FORBIDDEN', 'This requires the Administrator role.'));
  });
});
