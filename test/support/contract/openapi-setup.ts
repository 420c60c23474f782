/**
 * Once per e2e run: writes the OpenAPI document the service serves (built as the build does,
 * without a database) where every test file's `supertest` reads it, and a folder for the tallies.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOpenApiDocument } from '../../../src/openapi/write-openapi-document';

export async function setUpOpenApiContract(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'openapi-contract-'));
  const document = join(directory, 'openapi.json');
  writeFileSync(document, JSON.stringify(await buildOpenApiDocument()));
  mkdirSync(join(directory, 'tallies'));
  process.env.OPENAPI_CONTRACT_DOCUMENT = document;
  process.env.OPENAPI_CONTRACT_TALLIES = join(directory, 'tallies');
}
