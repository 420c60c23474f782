import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NestFactory } from '@nestjs/core';
import { HostModule } from '../src/host.module';
import { openDatabase } from './database';

// A file of its own: node --test runs each file in its own process, and passport keeps the
// strategies that other tests registered for the life of the process.
describe('a host that mounts the routes without the strategy they authenticate with', () => {
  it('fails to start, naming the strategy', async () => {
    const database = await openDatabase();
    const app = await NestFactory.create(
      HostModule.forRoot({ databaseUrl: database.url, embedded: database.embedded, http: true }),
      { logger: false, abortOnError: false },
    );
    try {
      await assert.rejects(
        app.init(),
        /ExecutionItemsModule: no passport strategy named "host-token" is registered/,
      );
    } finally {
      await app.close();
      await database.close();
    }
  });
});
