import { Injectable, type DynamicModule, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AuthModule } from '../src/auth/auth.module';
import { loadAppConfig } from '../src/config/app-config';
import { appendMethodFor, type OpenDatabase } from '../src/database/database-server';
import { buildTypeOrmOptions } from '../src/database/typeorm-options';
import { ExecutionItemsModule, ExecutionItemsService, ExecutionRunsService } from '../src/execution-items';
import { openTestDatabase } from './support/test-app';
import { TEST_SECRET, bearer, token } from './support/tokens';

/** A provider of the host backend that records runs through the module's exported write service. */
@Injectable()
class SyncEngine {
  constructor(private readonly runs: ExecutionRunsService) {}

  async importUsers(names: string[]): Promise<string> {
    const run = await this.runs.startRun({
      connectedSystemName: 'Host HR',
      runProfileName: 'Full Import',
      runType: 'FullImport',
    });
    await this.runs.appendItems(
      run.id,
      names.map((displayName) => ({ objectChangeType: 'Add', displayName, objectType: 'user' })),
    );
    await this.runs.completeRun(run.id, { status: 'Complete' });
    return run.id;
  }
}

/**
 * ExecutionItemsModule as a guest in another backend: on Express rather than Fastify, with its
 * options from forRootAsync, the host's own connection, and no global filter of the host's.
 */
describe('ExecutionItemsModule in a host application', () => {
  let database: OpenDatabase;
  let app: INestApplication;
  let runId: string;

  beforeAll(async () => {
    database = await openTestDatabase();
    const { auth } = loadAppConfig({ AUTH_JWT_SECRET: TEST_SECRET });
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ ...buildTypeOrmOptions(database), migrationsRun: true }),
        AuthModule.forRoot(auth),
        ExecutionItemsModule.forRootAsync({
          useFactory: async () => ({
            defaultPageSize: 2,
            maxPageSize: 3,
            requiredRole: 'RunHistoryReader',
            roleClaim: 'groups',
            appendMethod: appendMethodFor(database),
            preparedStatements: database.kind === 'server',
          }),
        }),
      ],
      providers: [SyncEngine],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    runId = await app.get(SyncEngine).importUsers(['Ada', 'Brian', 'Chidi', 'Dagny', 'Emeka']);
  });

  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  const reader = () => bearer(token({ groups: ['RunHistoryReader'] }));

  it('serves what the host wrote through the exported service, with the configured page sizes', async () => {
    const res = await request(app.getHttpServer())
      .get(`/api/v1/activities/${runId}/items`)
      .set(reader())
      .expect(200);
    expect(res.body).toMatchObject({ totalCount: 5, page: 1, pageSize: 2, totalPages: 3, hasNextPage: true });
    expect(res.body.items.map((item: { displayName: string }) => item.displayName)).toEqual(['Ada', 'Brian']);

    const clamped = await request(app.getHttpServer())
      .get(`/api/v1/activities/${runId}/items?page=2&pageSize=100`)
      .set(reader())
      .expect(200);
    expect(clamped.body).toMatchObject({ pageSize: 3, totalPages: 2, hasNextPage: false });
    expect(clamped.body.items.map((item: { displayName: string }) => item.displayName)).toEqual([
      'Dagny',
      'Emeka',
    ]);
  });

  it('requires the configured role in the configured claim', async () => {
    const res = await request(app.getHttpServer())
      .get(`/api/v1/activities/${runId}/items`)
      .set(bearer(token({ role: 'Administrator' })))
      .expect(403);
    expect(res.body).toEqual({
      code: 'FORBIDDEN',
      message: 'This requires the RunHistoryReader role.',
      details: null,
      validationErrors: null,
      timestamp: expect.any(String),
    });
  });

  it('answers in the contract envelope on Express too', async () => {
    const missing = '0b0c0d0e-0f10-4112-8314-151617181920';
    const notFound = await request(app.getHttpServer())
      .get(`/api/v1/activities/${missing}/items`)
      .set(reader())
      .expect(404);
    expect(notFound.body).toMatchObject({
      code: 'NOT_FOUND',
      message: `Activity with ID ${missing} not found.`,
    });

    const unauthorised = await request(app.getHttpServer())
      .get(`/api/v1/activities/${runId}/items`)
      .expect(401);
    expect(unauthorised.body).toMatchObject({ code: 'UNAUTHORISED', validationErrors: null });
    expect(unauthorised.headers['www-authenticate']).toBe('Bearer');

    const invalid = await request(app.getHttpServer())
      .get(`/api/v1/activities/${runId}/items?page=x`)
      .set(reader())
      .expect(400);
    expect(invalid.body).toMatchObject({
      code: 'VALIDATION_ERROR',
      validationErrors: { page: ['must be an integer'] },
    });
  });

  it('keeps the run counters on the activity row', async () => {
    const [row] = await app
      .get(DataSource)
      .query(
        'SELECT item_count, status, change_type_counts, object_type_counts FROM activities WHERE id = $1',
        [runId],
      );
    expect(row).toEqual({
      item_count: 5,
      status: 'Complete',
      change_type_counts: { Add: 5 },
      object_type_counts: { user: 5 },
    });
  });
  it('takes an engine’s batches on Express: JSON through the host’s parser, NDJSON read by the module', async () => {
    const engine = bearer(token({ groups: ['SyncEngine'] }));
    const http = app.getHttpServer();
    const run = await request(http)
      .post('/api/v1/activities')
      .set(engine)
      .send({ connectedSystemName: 'Host LDAP', runProfileName: 'Delta Import', runType: 'DeltaImport' })
      .expect(201);
    expect(run.headers.location).toBe(`/api/v1/activities/${run.body.id}`);
    const items = `/api/v1/activities/${run.body.id}/items`;
    const json = await request(http)
      .post(items)
      .set(engine)
      .send({ items: [{ objectChangeType: 'Add', displayName: 'Femi', connectedSystemObjectType: 'user' }] })
      .expect(200);
    expect(json.body).toEqual({ activityId: run.body.id, firstSequence: 1, lastSequence: 1, itemCount: 1 });
    const ndjson = await request(http)
      .post(items)
      .set(engine)
      .set('Content-Type', 'application/x-ndjson')
      .send('{"objectChangeType":"Add","displayName":"Gita"}\n{"objectChangeType":"Nope"}\n')
      .expect(400);
    expect(ndjson.body.validationErrors).toEqual({ 'items[1].objectChangeType': [expect.any(String)] });
    await request(http)
      .post(items)
      .set(engine)
      .set('Content-Type', 'application/x-ndjson')
      .send('{"objectChangeType":"Add","displayName":"Gita"}\n')
      .expect(200, { activityId: run.body.id, firstSequence: 2, lastSequence: 2, itemCount: 1 });
    await request(http).post(`/api/v1/activities/${run.body.id}/complete`).set(engine).expect(200);
    const read = await request(http).get(`${items}?pageSize=3`).set(reader()).expect(200);
    expect(read.body.items.map((item: { displayName: string }) => item.displayName)).toEqual([
      'Femi',
      'Gita',
    ]);
    await request(http).get(items).set(engine).expect(403);
  });
});

describe('ExecutionItemsModule options that decide what it is made of', () => {
  let database: OpenDatabase;

  beforeAll(async () => {
    database = await openTestDatabase();
  });

  afterAll(async () => {
    await database?.close();
  });

  async function hostWith(module: DynamicModule): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({
      imports: [TypeOrmModule.forRoot({ ...buildTypeOrmOptions(database), migrationsRun: true }), module],
    }).compile();
    return moduleRef.createNestApplication({ logger: false });
  }

  it('http: false mounts no routes and needs no passport strategy, and the services still answer', async () => {
    const app = await hostWith(
      ExecutionItemsModule.forRoot({
        http: false,
        authStrategies: ['not-registered-anywhere'],
        appendMethod: appendMethodFor(database),
        preparedStatements: database.kind === 'server',
      }),
    );
    try {
      await app.init();
      const run = await app.get(ExecutionRunsService).startRun({
        connectedSystemName: 'HR',
        runProfileName: 'Delta Import',
        runType: 'DeltaImport',
      });
      await request(app.getHttpServer()).get(`/api/v1/activities/${run.id}/items`).expect(404);
      await expect(app.get(ExecutionItemsService).listItems(run.id)).resolves.toMatchObject({
        totalCount: 0,
      });
    } finally {
      await app.close();
    }
  });

  it('with routes, refuses to start when a strategy they authenticate with is not registered, naming it', async () => {
    // `jwt` is registered (by the host above: passport keeps strategies for the process).
    const app = await hostWith(
      ExecutionItemsModule.forRootAsync({
        useFactory: () => ({ authStrategies: ['jwt', 'host-sso'] }),
      }),
    );
    try {
      await expect(app.init()).rejects.toThrow(
        new Error(
          'ExecutionItemsModule: no passport strategy named "host-sso" is registered. Register one in the host ' +
            "(a provider extending PassportStrategy(Strategy, name)), set the module's authStrategies to the host's " +
            'strategies, or pass http: false to mount no routes.',
        ),
      );
    } finally {
      await app.close();
    }
  });
});
