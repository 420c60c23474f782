import { randomUUID } from 'node:crypto';
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import {
  ApiError,
  BROKEN_PERCENT_ENCODING_MESSAGE,
  ErrorCode,
  errorEnvelope,
  statusForCode,
} from '../execution-items';
import { REQUEST_ID_HEADER } from '../logging/request-logging';
import { apiResponseHeaders } from './http-security';

/**
 * Errors Fastify raises before a request reaches a route or its hooks (a path with broken
 * percent-encoding, a path parameter over `maxParamLength`), answered in the API's envelope with
 * the headers every answer carries, instead of Fastify's own body without them.
 */
export function replyToFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const apiError =
    error.code === 'FST_ERR_BAD_URL'
      ? ApiError.validation({ path: [BROKEN_PERCENT_ENCODING_MESSAGE] })
      : new ApiError(ErrorCode.BadRequest, 'The request could not be processed.');
  for (const [name, value] of apiResponseHeaders()) void reply.header(name, value);
  void reply
    .header(REQUEST_ID_HEADER, request.id)
    .code(statusForCode(apiError.code))
    .send(errorEnvelope(apiError));
}

/** What Node's HTTP server refused, as the envelope's error. */
export function clientErrorFor(error: NodeJS.ErrnoException & { reason?: unknown }): ApiError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError(
        ErrorCode.HeadersTooLarge,
        `The request line and headers exceed the server's limit of ${Math.floor(maxHeaderSize / 1024)} KB.`,
      );
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError(ErrorCode.RequestTimeout, 'The request did not arrive in time.');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new ApiError(ErrorCode.PayloadTooLarge, 'The chunk extensions of the body are too large.');
    default:
      return new ApiError(
        ErrorCode.BadRequest,
        'The request is not valid HTTP/1.1.',
        null,
        // llhttp's reason is a fixed phrase ("Invalid header value char"); nothing of the request.
        typeof error.reason === 'string' ? error.reason : null,
      );
  }
}

/** How long a connection refused by the parser may stay half-closed before it is cut. */
const CLOSE_AFTER_MS = 5000;

/**
 * Fastify's `clientErrorHandler`, for what Node's HTTP parser refuses before there is a request
 * at all: a folded header, a bare LF, a NUL or a raw non-ASCII byte where none may be, both
 * `Content-Length` and `Transfer-Encoding`, a method llhttp does not know, headers over the
 * limit (431), a request that does not arrive in time (408). The answer is the envelope with
 * the standard headers and a new `X-Request-Id` (also in the log line), and `Connection: close`:
 * after a parser error the connection cannot carry another request, and a keep-alive client
 * must not try. The connection is half-closed, so that the client reads the answer before the
 * connection goes (cutting it with unread input would reset it, losing the answer), and cut if
 * the client does not close within a few seconds.
 */
export function createClientErrorHandler(logger: Pick<Logger, 'info'>) {
  return function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
    // A reset connection, or one already answered (the parser reports every later chunk again).
    if (error.code === 'ECONNRESET' || socket.destroyed || socket.writableEnded) return;
    // A response already started on this connection cannot be followed by another.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const apiError = clientErrorFor(error);
    const status = statusForCode(apiError.code);
    const requestId = randomUUID();
    const body = JSON.stringify(errorEnvelope(apiError));
    const headers: Array<[string, string | number]> = [
      ...apiResponseHeaders(),
      [REQUEST_ID_HEADER, requestId],
      ['Content-Type', 'application/json; charset=utf-8'],
      ['Content-Length', Buffer.byteLength(body)],
      ['Date', new Date().toUTCString()],
      ['Connection', 'close'],
    ];
    const head = headers.map(([name, value]) => `${name}: ${value}\r\n`).join('');
    logger.info(
      { requestId, status, code: apiError.code, parserError: error.code, ip: socket.remoteAddress ?? null },
      'request refused by the HTTP parser',
    );
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${body}`);
    socket.setTimeout(CLOSE_AFTER_MS, () => socket.destroy());
  };
}
