/**
 * `supertest`, as every e2e spec imports it (jest maps the module name here): each response is
 * also checked against the OpenAPI document the service serves (written once per run by
 * `global-setup.ts`), when it comes from the standalone service (`createTestApp`; a spec's own
 * host is not described by the document) and the request's method and path are an operation of
 * the document. A
 * response the document does not describe fails the request's promise, as a failed `.expect()`
 * would. Answers to paths and methods the document does not list (unknown routes, `HEAD`, the
 * document itself) are counted but not checked.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import { readFileSync } from 'node:fs';
import type { Response } from 'supertest';
import { OpenApiContract } from '../openapi-contract';
import { isDescribedByDocument } from './served-apps';

const supertest = require('supertest/index.js') as typeof import('supertest');
const Test = require('supertest/lib/test.js') as {
  prototype: { assert(resError: unknown, res: Response | undefined, fn: unknown): void };
};

/** This test file's tally (its own global object), written out by `setup.ts` after its last test. */
const tally = { validated: 0, unmatched: 0, failed: 0, otherServers: 0 };
(globalThis as { openApiContractTally?: typeof tally }).openApiContractTally = tally;

let contract: OpenApiContract | null = null;

function contractOf(): OpenApiContract | null {
  const file = process.env.OPENAPI_CONTRACT_DOCUMENT;
  if (!file) return null;
  contract ??= new OpenApiContract(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>);
  return contract;
}

/** Why `res` is not what the document says, or null; counts it. */
function checkAgainstDocument(method: string, url: string, res: Response): Error | null {
  const document = contractOf();
  if (!document) return null;
  const path = document.pathFor(method, new URL(url).pathname);
  if (path === null) {
    tally.unmatched += 1;
    return null;
  }
  try {
    document.expectDocumented(method, path, res);
    tally.validated += 1;
    return null;
  } catch (error) {
    tally.failed += 1;
    return new Error(`Not as the OpenAPI document says: ${(error as Error).message}`);
  }
}

const assert = Test.prototype.assert;
Test.prototype.assert = function assertAlsoAgainstDocument(
  this: { method: string; url: string; app: unknown },
  resError: unknown,
  res: Response | undefined,
  fn: unknown,
) {
  if (res && !isDescribedByDocument(this.app)) tally.otherServers += 1;
  const problem =
    res && isDescribedByDocument(this.app) ? checkAgainstDocument(this.method, this.url, res) : null;
  if (problem && typeof fn === 'function') {
    (fn as (error: Error, res: Response | undefined) => void).call(this, problem, res);
    return;
  }
  assert.call(this, resError, res, fn);
};

export = supertest;
