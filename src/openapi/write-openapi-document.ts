/**
 * `npm run build` ends with `node dist/openapi/write-openapi-document.js`: writes the OpenAPI
 * document to `dist/openapi.json` (or the path given), from the same modules the service runs,
 * in Nest's preview mode: nothing is instantiated, no database is opened.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { AppModule } from '../app.module';
import { loadAppConfig } from '../config/app-config';
import { createOpenApiDocument } from './openapi-document';

/** The document the service serves, built without a database. */
export async function buildOpenApiDocument(): Promise<OpenAPIObject> {
  const config = loadAppConfig({ DEMO_DATA: 'false', LOG_LEVEL: 'silent', LOG_FORMAT: 'json' });
  const database = { kind: 'embedded' as const, url: 'postgres://unused@127.0.0.1:1/unused', poolSize: 1 };
  const app: INestApplication = await NestFactory.create(
    AppModule.forRoot(
      config,
      { ...database, startCheckpoints: () => async () => undefined, close: async () => undefined },
      { pinoHttp: { level: 'silent' } },
    ),
    new FastifyAdapter(),
    { preview: true, logger: false, abortOnError: false },
  );
  try {
    return createOpenApiDocument(app);
  } finally {
    await app.close();
  }
}

async function main(): Promise<void> {
  const target = resolve(process.argv[2] ?? 'dist/openapi.json');
  const document = await buildOpenApiDocument();
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
  process.stdout.write(`OpenAPI document: ${target} (${Object.keys(document.paths).length} paths)\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
