import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { ExecutionItemsError } from '../execution-items.error';
import { ErrorCode } from '../responses/error-envelope.response';
import { ApiError } from './api-error';
import { readItemsBody, readsOwnBody, withHttpNames } from './items-body';

const NDJSON = { 'content-type': 'application/x-ndjson' };
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

/** A request body that arrives in these chunks, counting how many were pulled. */
function arriving(chunks: Array<string | Buffer>, headers: Record<string, string> = NDJSON) {
  let pulled = 0;
  const stream = new Readable({
    read() {
      if (pulled === chunks.length) return void this.push(null);
      const chunk = chunks[pulled++];
      this.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    },
  });
  return { request: { headers, raw: stream as unknown as IncomingMessage }, pulled: () => pulled };
}

/** A body with no end: chunk after chunk of `line`. */
function endless(line: string, headers: Record<string, string> = NDJSON) {
  let pulled = 0;
  const stream = new Readable({
    read() {
      pulled += 1;
      this.push(Buffer.from(line.repeat(100)));
    },
  });
  return { request: { headers, raw: stream as unknown as IncomingMessage }, pulled: () => pulled };
}

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('readItemsBody', () => {
  it('reads NDJSON lines cut anywhere across chunks, a character’s bytes included', async () => {
    const text = '{"objectChangeType":"Add","displayName":"Zoë"}\r\n{"objectChangeType":"Update"}\n\n';
    const bytes = Buffer.from(text);
    const cut = bytes.indexOf(Buffer.from('ë')) + 1; // inside the two bytes of ë
    const { request } = arriving([
      bytes.subarray(0, cut),
      bytes.subarray(cut, cut + 3),
      bytes.subarray(cut + 3),
    ]);
    await expect(readItemsBody(request, 1000)).resolves.toEqual([
      { objectChangeType: 'Add', displayName: 'Zoë' },
      { objectChangeType: 'Update' },
    ]);
  });

  it('maps connectedSystemObjectType to the module’s objectType, keeping null', async () => {
    const body = JSON.stringify({ items: [{ objectChangeType: 'Add', connectedSystemObjectType: null }] });
    const { request } = arriving([body], JSON_TYPE);
    await expect(readItemsBody(request, 1000)).resolves.toEqual([
      { objectChangeType: 'Add', objectType: null },
    ]);
  });

  it('stops reading an endless body once it passes the byte limit', async () => {
    const { request, pulled } = endless('{"objectChangeType":"Add"}\n');
    const error = await refusal(readItemsBody(request, 10_000));
    expect(error.code).toBe(ErrorCode.PayloadTooLarge);
    // At most the stream's read-ahead (16 KiB) past the limit, and nothing more afterwards.
    const stopped = pulled();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pulled()).toBe(stopped);
    expect(stopped * 2700).toBeLessThanOrEqual(10_000 + 16_384 + 2 * 2700);
  });

  it('stops reading an NDJSON body at its 10,001st item, before the byte limit', async () => {
    const { request, pulled } = endless('{"objectChangeType":"Add"}\n');
    const error = await refusal(readItemsBody(request, 1 << 30));
    expect({ code: error.code, message: error.message }).toEqual({
      code: ErrorCode.PayloadTooLarge,
      message: 'A batch holds at most 10,000 items; split it.',
    });
    expect(pulled()).toBeLessThan(110);
  });

  it('refuses a declared Content-Length over the limit without reading', async () => {
    const { request, pulled } = arriving(['{"items":[]}'], { ...JSON_TYPE, 'content-length': '5000' });
    expect((await refusal(readItemsBody(request, 4999))).code).toBe(ErrorCode.PayloadTooLarge);
    expect(pulled()).toBe(0);
  });

  it('refuses compressed bodies and other types before reading', async () => {
    const gzip = arriving(['x'], { ...NDJSON, 'content-encoding': 'gzip' });
    expect((await refusal(readItemsBody(gzip.request, 100))).code).toBe(ErrorCode.BadRequest);
    const csv = arriving(['x'], { 'content-type': 'text/csv' });
    expect((await refusal(readItemsBody(csv.request, 100))).message).toBe(
      'Content-Type must be application/json or application/x-ndjson, not "text/csv".',
    );
    expect(gzip.pulled() + csv.pulled()).toBe(0);
  });

  it('takes a body the host has parsed already: JSON as a value, NDJSON as text', async () => {
    const consumed = { readableDidRead: true, readableEnded: true } as IncomingMessage;
    const json = { headers: JSON_TYPE, raw: consumed, body: { items: [{ objectChangeType: 'Add' }] } };
    await expect(readItemsBody(json, 100)).resolves.toEqual([{ objectChangeType: 'Add' }]);
    const text = { headers: NDJSON, raw: consumed, body: '{"objectChangeType":"Add"}\n' };
    await expect(readItemsBody(text, 100)).resolves.toEqual([{ objectChangeType: 'Add' }]);
    expect((await refusal(readItemsBody(text, 10))).code).toBe(ErrorCode.PayloadTooLarge);
  });
});

describe('withHttpNames', () => {
  it('names item fields and the batch id as the HTTP client sent them', () => {
    const error = new ExecutionItemsError('InvalidInput', 'The batch is not valid; nothing was written.', {
      'items[3].objectType': ['must be at most 256 characters'],
      'items[4].outcomes[0].type': ['unknown value'],
      batchId: ['must be 1 to 200 characters without control characters'],
    });
    expect(() => withHttpNames(error)).toThrow(
      expect.objectContaining({
        reason: 'InvalidInput',
        validationErrors: {
          'items[3].connectedSystemObjectType': ['must be at most 256 characters'],
          'items[4].outcomes[0].type': ['unknown value'],
          'Idempotency-Key': ['must be 1 to 200 characters without control characters'],
        },
      }),
    );
    const other = new Error('connection lost');
    expect(() => withHttpNames(other)).toThrow(other);
  });
});

describe('readsOwnBody', () => {
  it('is the batch route alone, with or without a global prefix', () => {
    expect(readsOwnBody('POST', '/api/v1/activities/:id/items')).toBe(true);
    expect(readsOwnBody('POST', '/engine/api/v1/activities/:id/items')).toBe(true);
    expect(readsOwnBody('POST', '/api/v1/activities')).toBe(false);
    expect(readsOwnBody('POST', '/api/v1/activities/:id/complete')).toBe(false);
    expect(readsOwnBody('GET', '/api/v1/activities/:id/items')).toBe(false);
    expect(readsOwnBody('POST', undefined)).toBe(false);
  });
});
