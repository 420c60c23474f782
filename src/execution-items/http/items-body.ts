import type { IncomingMessage } from 'node:http';
import { ExecutionItemsError, type ValidationErrors } from '../execution-items.error';
import { MAX_ITEMS_PER_BATCH, type NewExecutionItem } from '../new-items';
import { ErrorCode } from '../responses/error-envelope.response';
import { ApiError } from './api-error';

/** The media types a batch of items may be sent as. */
export const ITEMS_MEDIA_TYPES = ['application/json', 'application/x-ndjson'] as const;
export type ItemsMediaType = (typeof ITEMS_MEDIA_TYPES)[number];

/** The route whose handler reads its own body (`readItemsBody`), after its guards. */
const ITEMS_ROUTE = { method: 'POST', path: /\/api\/v1\/activities\/:[^/]+\/items\/?$/ };

/**
 * Whether a route reads its own request body: the host's body parser must leave that body unread
 * (or parse it within the module's byte limit; see docs/embedding.md). `routePath` is the
 * route's pattern (`/api/v1/activities/:id/items`), a global prefix before it allowed.
 */
export function readsOwnBody(method: string, routePath: string | undefined): boolean {
  return method === ITEMS_ROUTE.method && routePath !== undefined && ITEMS_ROUTE.path.test(routePath);
}

/**
 * An item as an engine sends it over HTTP: the field names of the item list
 * (`connectedSystemObjectType`), which are the module's `NewExecutionItem` but for that one.
 */
const HTTP_ITEM_FIELDS: Record<string, keyof NewExecutionItem> = {
  externalIdValue: 'externalIdValue',
  displayName: 'displayName',
  connectedSystemObjectType: 'objectType',
  objectChangeType: 'objectChangeType',
  errorType: 'errorType',
  errorMessage: 'errorMessage',
  errorStackTrace: 'errorStackTrace',
  outcomes: 'outcomes',
};
const HTTP_NAME_OF: Record<string, string> = Object.fromEntries(
  Object.entries(HTTP_ITEM_FIELDS).map(([http, module]) => [module, http]),
);
const UNKNOWN_FIELD = `is not a field of an item; the fields are ${Object.keys(HTTP_ITEM_FIELDS).join(', ')}`;

/** Reports at most this many problems, as the module does. */
const MAX_REPORTED_PROBLEMS = 20;

/** The parts of a request the reader uses: Fastify's request (`raw`) or Node's/Express's. */
export interface ItemsBodyRequest {
  headers: Record<string, string | string[] | undefined>;
  raw?: IncomingMessage;
  body?: unknown;
}

/**
 * Reads a batch of items from the request, as the module's write API takes it, after the route's
 * guards have run: `application/json` `{ "items": [...] }` or `application/x-ndjson` (one item a
 * line; blank lines only at the end). Bytes are counted as they arrive: a declared or actual
 * body over `limitBytes`, or an NDJSON body past its 10,000th item, stops the reading with a 413
 * at once (the exception filter then closes the connection, so the rest is never read). A body
 * the host's parser has already read is taken as it parsed it. Not valid JSON is a 400
 * `VALIDATION_ERROR` naming the line (NDJSON) or the body; a wrong `Content-Type` a 400
 * `BAD_REQUEST`.
 */
export async function readItemsBody(
  request: ItemsBodyRequest,
  limitBytes: number,
): Promise<NewExecutionItem[]> {
  const mediaType = itemsMediaType(request.headers);
  const stream = request.raw ?? (request as unknown as IncomingMessage);
  const items =
    stream.readableDidRead || stream.readableEnded
      ? fromParsedBody(mediaType, request.body, limitBytes)
      : await readStream(stream, mediaType, request.headers, limitBytes);
  return toNewItems(items);
}

function itemsMediaType(headers: ItemsBodyRequest['headers']): ItemsMediaType {
  const header = headers['content-type'];
  const mediaType = (typeof header === 'string' ? header : '').split(';')[0].trim().toLowerCase();
  if (!(ITEMS_MEDIA_TYPES as readonly string[]).includes(mediaType)) {
    throw ApiError.badRequest(
      `Content-Type must be application/json or application/x-ndjson, not ${header ? JSON.stringify(header) : 'absent'}.`,
    );
  }
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') {
    throw ApiError.badRequest('Content-Encoding is not supported; send the batch uncompressed.');
  }
  return mediaType as ItemsMediaType;
}

/** A body the host has parsed already: JSON as a value, NDJSON as text (or bytes). */
function fromParsedBody(mediaType: ItemsMediaType, body: unknown, limitBytes: number): unknown[] {
  if (mediaType === 'application/json') return itemsOfDocument(body);
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : '';
  if (Buffer.byteLength(text) > limitBytes) throw tooManyBytes(limitBytes);
  const lines = new NdjsonLines();
  for (const line of text.split('\n')) lines.add(line);
  return lines.items;
}

function readStream(
  stream: IncomingMessage,
  mediaType: ItemsMediaType,
  headers: ItemsBodyRequest['headers'],
  limitBytes: number,
): Promise<unknown[]> {
  if (Number(headers['content-length']) > limitBytes) return Promise.reject(tooManyBytes(limitBytes));
  return new Promise<unknown[]>((resolve, reject) => {
    const ndjson = mediaType === 'application/x-ndjson' ? new NdjsonLines() : null;
    const chunks: Buffer[] = [];
    let received = 0;
    let pending: Buffer = Buffer.alloc(0);
    const stop = (error: unknown) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', stop);
      stream.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limitBytes) return stop(tooManyBytes(limitBytes));
      if (!ndjson) return void chunks.push(chunk);
      try {
        // Lines are cut at the newline byte, which never occurs inside a UTF-8 sequence.
        let data: Buffer = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
        for (let newline = data.indexOf(10); newline !== -1; newline = data.indexOf(10)) {
          ndjson.add(data.subarray(0, newline).toString('utf8'));
          data = data.subarray(newline + 1);
        }
        pending = data;
      } catch (error) {
        stop(error);
      }
    };
    const onEnd = () => {
      stream.off('data', onData);
      stream.off('error', stop);
      try {
        if (!ndjson) return resolve(itemsOfDocument(parseJson(Buffer.concat(chunks).toString('utf8'))));
        ndjson.add(pending.toString('utf8'));
        resolve(ndjson.items);
      } catch (error) {
        reject(error);
      }
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', stop);
  });
}

/** NDJSON lines as they arrive: one item a line, blank lines allowed only at the end. */
class NdjsonLines {
  readonly items: unknown[] = [];
  private line = 0;
  private firstBlankLine = 0;

  add(text: string): void {
    this.line += 1;
    if (text.trim() === '') {
      this.firstBlankLine ||= this.line;
      return;
    }
    const at = `items[${this.items.length}]`;
    if (this.firstBlankLine) {
      throw ApiError.validation(
        { [at]: [`line ${this.firstBlankLine} is blank; blank lines may only end the body`] },
        'The batch is not valid NDJSON; nothing was written.',
      );
    }
    if (this.items.length === MAX_ITEMS_PER_BATCH) throw tooManyItems();
    let item: unknown;
    try {
      item = JSON.parse(text);
    } catch {
      throw ApiError.validation(
        { [at]: [`line ${this.line} is not valid JSON`] },
        'The batch is not valid NDJSON; nothing was written.',
      );
    }
    this.items.push(item);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw ApiError.validation(
      { body: ['is not valid JSON'] },
      'The batch is not valid JSON; nothing was written.',
    );
  }
}

/** The items of a JSON document `{ "items": [...] }`; nothing else may be in it. */
function itemsOfDocument(document: unknown): unknown[] {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw ApiError.validation({ body: ['must be an object with an items array'] }, BATCH_MESSAGE);
  }
  const problems: ValidationErrors = {};
  for (const key of Object.keys(document)) {
    if (key !== 'items') problems[key] = ['is not a known parameter'];
  }
  const { items } = document as { items?: unknown };
  if (!Array.isArray(items)) problems.items = ['must be a non-empty array'];
  if (Object.keys(problems).length > 0) throw ApiError.validation(problems, BATCH_MESSAGE);
  if ((items as unknown[]).length > MAX_ITEMS_PER_BATCH) throw tooManyItems();
  return items as unknown[];
}

const BATCH_MESSAGE = 'The batch is not valid; nothing was written.';

/**
 * The items with the module's field names. An unknown field is refused rather than dropped, so
 * that a misspelt name does not lose data silently; anything else is the module's to check.
 */
function toNewItems(items: unknown[]): NewExecutionItem[] {
  const problems: ValidationErrors = {};
  let count = 0;
  const converted = items.map((item, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return item as NewExecutionItem;
    const fields = item as Record<string, unknown>;
    const newItem: Record<string, unknown> = {};
    for (const [httpName, name] of Object.entries(HTTP_ITEM_FIELDS)) {
      if (Object.hasOwn(fields, httpName)) newItem[name] = fields[httpName];
    }
    for (const key of Object.keys(fields)) {
      if (Object.hasOwn(HTTP_ITEM_FIELDS, key)) continue;
      count += 1;
      if (count <= MAX_REPORTED_PROBLEMS) problems[`items[${index}].${key}`] = [UNKNOWN_FIELD];
    }
    return newItem as unknown as NewExecutionItem;
  });
  if (count > 0) {
    const omitted = count - MAX_REPORTED_PROBLEMS;
    throw new ApiError(
      ErrorCode.ValidationError,
      BATCH_MESSAGE,
      problems,
      omitted > 0 ? `${omitted} more problems not listed.` : null,
    );
  }
  return converted;
}

/**
 * A module error about an append, with the names the HTTP client used: the item field
 * `connectedSystemObjectType` for the module's `objectType`, the `Idempotency-Key` header for
 * its `batchId`. Anything else is passed on as it is.
 */
export function withHttpNames(error: unknown): never {
  if (!(error instanceof ExecutionItemsError) || error.validationErrors === null) throw error;
  const renamed = Object.fromEntries(
    Object.entries(error.validationErrors).map(([key, messages]) => [httpName(key), messages]),
  );
  throw new ExecutionItemsError(error.reason, error.message, renamed, error.details);
}

function httpName(key: string): string {
  if (key === 'batchId') return 'Idempotency-Key';
  return key.replace(/^(items\[\d+\])\.([A-Za-z]+)/, (whole, item: string, field: string) =>
    HTTP_NAME_OF[field] ? `${item}.${HTTP_NAME_OF[field]}` : whole,
  );
}

function tooManyBytes(limitBytes: number): ApiError {
  return new ApiError(
    ErrorCode.PayloadTooLarge,
    `The body is larger than ${limitBytes} bytes; split the batch.`,
  );
}

function tooManyItems(): ApiError {
  return new ApiError(
    ErrorCode.PayloadTooLarge,
    `A batch holds at most ${MAX_ITEMS_PER_BATCH.toLocaleString('en')} items; split it.`,
  );
}
