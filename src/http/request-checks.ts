import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, ErrorCode, errorEnvelope, statusForCode } from '../execution-items';

/**
 * Headers a request may carry once. Node keeps the first of two `Authorization` or `Host`
 * headers and drops the other, so a proxy that judged the request by the second one and this
 * service would each see another request; joined `X-API-Key` values would be one bad key.
 */
const SINGLE_HEADERS = new Map(
  ['Authorization', 'Host', 'X-API-Key', 'Proxy-Authorization'].map((name) => [name.toLowerCase(), name]),
);

/** The first header of `SINGLE_HEADERS` that the request repeats (Node's `rawHeaders`). */
export function repeatedSingleHeader(rawHeaders: readonly string[]): string | null {
  const seen = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    if (!SINGLE_HEADERS.has(name)) continue;
    if (seen.has(name)) return SINGLE_HEADERS.get(name) ?? name;
    seen.add(name);
  }
  return null;
}

function isApi(url: string): boolean {
  return url === '/api' || url.startsWith('/api/');
}

/**
 * Checks on the request as a whole, before any route looks at it:
 *
 * - a repeated `Authorization`, `Host`, `X-API-Key` or `Proxy-Authorization` header, and an
 *   HTTP/1.1 request without `Host` (RFC 9112, 3.2), are a 400 `BAD_REQUEST` (before
 *   authentication: the request is malformed, whoever sent it);
 * - `HEAD` under `/api` is a 404, like every other method but `GET`: Fastify would otherwise
 *   answer it by running the `GET` handler, queries and exports included, and drop the body.
 *   Elsewhere (health, the run viewer, Swagger UI's files) `HEAD` keeps working.
 *
 * Call before the routes are registered (before `init`), after `registerHttpSecurity`, so that
 * these answers carry the security headers.
 */
export function registerRequestChecks(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    const { raw } = request;
    const repeated = repeatedSingleHeader(raw.rawHeaders);
    const message =
      repeated !== null
        ? `The request repeats the ${repeated} header.`
        : raw.httpVersion === '1.1' && raw.headers.host === undefined
          ? 'An HTTP/1.1 request needs a Host header.'
          : null;
    if (message === null) return done();
    const error = new ApiError(ErrorCode.BadRequest, message);
    void reply.code(statusForCode(error.code)).send(errorEnvelope(error));
  });
  fastify.addHook('onRoute', (route) => {
    if (route.method === 'HEAD' && isApi(route.url ?? '')) {
      route.handler = function notFound(this: unknown, _request: FastifyRequest, reply: FastifyReply) {
        reply.callNotFound();
      };
    }
  });
}
