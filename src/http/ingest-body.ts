import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { ApiError, ErrorCode, readsOwnBody } from '../execution-items';

/**
 * Request bodies on Fastify, for the module's write routes. The batch route
 * (`POST /api/v1/activities/{id}/items`) reads its own body after its guards, with its own
 * byte limit (`INGEST_BODY_LIMIT_BYTES`), so that nothing of it is read before the caller is
 * known to be an engine: whatever its `Content-Type`, the parser leaves it unread. Every other
 * route's JSON is parsed as before, within Fastify's `bodyLimit` (1 MiB); any other type is a
 * 400. Call after `app.init()`, which registers Nest's JSON parser that this one replaces.
 */
export function registerIngestBodies(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  const { bodyLimit, onProtoPoisoning, onConstructorPoisoning } = fastify.initialConfig;
  const parseJson = fastify.getDefaultJsonParser(
    onProtoPoisoning ?? 'error',
    onConstructorPoisoning ?? 'error',
  );
  const deferred = (request: FastifyRequest) => readsOwnBody(request.method, request.routeOptions.url);

  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', (request, payload, done) => {
    if (deferred(request)) return done(null, undefined);
    readText(payload, Number(request.headers['content-length']), bodyLimit ?? 1_048_576).then(
      (text) =>
        parseJson(request, text, (error, body) =>
          error ? done(ApiError.validation({ body: ['is not valid JSON'] }), undefined) : done(null, body),
        ),
      (error: Error) => done(error, undefined),
    );
  });
  fastify.addContentTypeParser('*', (request, _payload, done) => {
    if (deferred(request)) return done(null, undefined);
    done(ApiError.badRequest('Content-Type must be application/json.'), undefined);
  });
}

/** The body as text, refused with a 413 as soon as it is longer than `limit` bytes. */
function readText(payload: IncomingMessage, declaredLength: number, limit: number): Promise<string> {
  if (declaredLength > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= limit) return void chunks.push(chunk);
      payload.off('data', onData);
      payload.pause();
      reject(tooLarge(limit));
    };
    payload.on('data', onData);
    payload.on('error', reject);
    payload.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function tooLarge(limit: number): ApiError {
  return new ApiError(ErrorCode.PayloadTooLarge, `The body is larger than ${limit} bytes.`);
}
