import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { sign } from 'jsonwebtoken';
import { HostModule } from '../src/host.module';
import { SyncEngine } from '../src/sync-engine';
import { openDatabase, type HostDatabase } from './database';

const SECRET = 'host-test-secret-of-at-least-32-characters';

const token = (groups: string[]) =>
  sign({ sub: 'host-user', groups }, SECRET, { algorithm: 'HS256', expiresIn: '5m' });

describe('the module’s routes, authenticated by the host’s own passport strategy', () => {
  let database: HostDatabase;
  let app: INestApplication;
  let base: string;
  let runId: string;

  before(async () => {
    database = await openDatabase();
    app = await NestFactory.create(
      HostModule.forRoot({
        databaseUrl: database.url,
        embedded: database.embedded,
        http: true,
        tokenSecret: SECRET,
      }),
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    base = `${await app.getUrl()}/api/v1/activities`;
    runId = await app.get(SyncEngine).importUsers([
      { id: 'E1', name: 'Ada' },
      { id: 'E2', name: 'Brian' },
    ]);
  });

  after(async () => {
    await app?.close();
    await database?.close();
  });

  const get = (path: string, groups?: string[]) =>
    fetch(`${base}${path}`, { headers: groups ? { Authorization: `Bearer ${token(groups)}` } : {} });

  it('serves a run’s items to the configured role', async () => {
    const response = await get(`/${runId}/items?pageSize=1`, ['RunHistoryReaders']);
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(
      { ...body, items: undefined, nextCursor: undefined },
      {
        items: undefined,
        nextCursor: undefined,
        totalCount: 2,
        page: 1,
        pageSize: 1,
        totalPages: 2,
        hasNextPage: true,
        hasPreviousPage: false,
      },
    );
    assert.deepEqual(
      (body.items as Array<{ displayName: string }>).map((item) => item.displayName),
      ['Ada'],
    );
  });

  it('answers 401 and 403 in the contract’s envelope', async () => {
    const unauthorised = await get(`/${runId}/items`);
    assert.equal(unauthorised.status, 401);
    assert.deepEqual(await errorOf(unauthorised), {
      code: 'UNAUTHORISED',
      message: 'A valid bearer token is required.',
    });

    const forbidden = await get(`/${runId}/items`, ['Helpdesk']);
    assert.equal(forbidden.status, 403);
    assert.deepEqual(await errorOf(forbidden), {
      code: 'FORBIDDEN',
      message: 'This requires the RunHistoryReaders role.',
    });
  });
});

async function errorOf(response: Response): Promise<{ code: unknown; message: unknown }> {
  const body = (await response.json()) as { code: unknown; message: unknown; timestamp: unknown };
  assert.equal(typeof body.timestamp, 'string');
  return { code: body.code, message: body.message };
}
