import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Params } from 'nestjs-pino';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Options } from 'pino-http';
import type { OperationsConfig } from '../config/operations-config';
import { principalOf } from './principal';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** An incoming request id is kept when it is 1 to 128 letters, digits, `.`, `_`, `:` or `-`. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Values that never reach a log line. */
export const REDACTED = '[Redacted]';
const REDACTED_HEADERS = ['authorization', 'cookie', '"set-cookie"', '"x-api-key"', '"proxy-authorization"'];
const REDACT_PATHS = ['req.headers', 'headers', 'res.headers'].flatMap((parent) =>
  REDACTED_HEADERS.map((header) => `${parent}.${header}`),
);

/** Query parameters that may carry a credential; their values are replaced in logged URLs. */
const SECRET_QUERY_PARAMETER = /([?&](?:access_token|id_token|refresh_token|token|api_key|apikey)=)[^&#]*/gi;

/** What the request log line needs from Fastify, which `pino-http` (given the raw request) cannot see. */
interface RequestFacts {
  route: string | null;
  ip: string | null;
  principal: string | null;
}

const requestFacts = new WeakMap<IncomingMessage, RequestFacts>();

/**
 * The request id (Fastify's `genReqId`, so `request.id`, the log lines and the response header
 * agree): a sane incoming `X-Request-Id`, or a new UUID.
 */
export function requestIdFor(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
}

/** The path and query as received (middie rewrites `url` while a middleware runs). */
function requestUrl(req: IncomingMessage): string | undefined {
  return (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url;
}

/** The URL as logged: credentials in the query string replaced. */
export function loggableUrl(url: string | undefined): string | undefined {
  return url?.replace(SECRET_QUERY_PARAMETER, `$1${REDACTED}`);
}

/**
 * The process's one pino logger. JSON lines (level as a label, ISO time) on stdout, or, for
 * `LOG_FORMAT=pretty`, coloured lines through `pino-pretty` (a dev dependency, loaded only then).
 * Credentials in headers are redacted wherever a log carries them.
 */
export function createRootLogger(
  logging: OperationsConfig['logging'],
  destination?: DestinationStream,
): Logger {
  const common: LoggerOptions = {
    level: logging.level,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
  };
  if (logging.format === 'pretty' && !destination) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    return pino(
      common,
      pretty({
        colorize: Boolean(process.stdout.isTTY),
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
        singleLine: true,
      }),
    );
  }
  return pino(
    {
      ...common,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    // Buffered writes (flushed at exit): a write per line costs a third of the throughput. The
    // buffer is bounded: if stdout stops draining, lines beyond 16 MB are dropped, not kept.
    destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096, maxLength: 16 * 1024 * 1024 }),
  );
}

/**
 * `nestjs-pino`'s parameters: one line per request (health probes aside) with its id, method,
 * URL, route, status, duration, principal, client address and user agent. Headers are not logged.
 */
export function requestLoggingParams(logger: Logger): Params {
  const pinoHttp: Options = {
    logger,
    // Fastify's request id, which middie copies to the raw request; a fallback for other hosts.
    genReqId: (req) => req.id ?? requestIdFor(req),
    customAttributeKeys: { reqId: 'requestId', responseTime: 'durationMs' },
    // Logs made while handling a request carry its id only; the request line is built below.
    quietReqLogger: true,
    quietResLogger: true,
    autoLogging: { ignore: (req) => requestUrl(req)?.startsWith('/health/') ?? false },
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
    customSuccessMessage: () => 'request completed',
    customErrorMessage: () => 'request failed',
    customSuccessObject: (req, res, value: { durationMs: number }) => requestLine(req, res, value.durationMs),
    customErrorObject: (req, res, error, value: { durationMs: number }) => ({
      ...requestLine(req, res, value.durationMs),
      err: error,
    }),
  };
  return { pinoHttp };
}

function requestLine(req: IncomingMessage, res: ServerResponse, durationMs: number) {
  const facts = requestFacts.get(req);
  return {
    method: req.method,
    url: loggableUrl(requestUrl(req)),
    route: facts?.route ?? null,
    status: res.statusCode,
    durationMs,
    principal: facts?.principal ?? null,
    ip: facts?.ip ?? req.socket?.remoteAddress ?? null,
    userAgent: req.headers['user-agent'] ?? null,
  };
}

/**
 * Echoes the request id, and hands Fastify's view of each request to the request log line: the
 * matched route and the client address (which honours `TRUST_PROXY`) when it arrives, the
 * principal when the reply is sent.
 */
export function recordRequestFacts(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    requestFacts.set(request.raw, {
      route: request.routeOptions.url ?? null,
      ip: request.ip,
      principal: null,
    });
    done();
  });
  fastify.addHook('onSend', (request, _reply, payload, done) => {
    const facts = requestFacts.get(request.raw);
    if (facts) facts.principal = principalOf((request as { user?: unknown }).user);
    done(null, payload);
  });
}
