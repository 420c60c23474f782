import fastifyHelmet from '@fastify/helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet, { type HelmetOptions } from 'helmet';
import { API_DOCS_PATH, OPENAPI_DOCUMENT_PATH } from '../openapi/openapi-document';

/** The API answers JSON, CSV and NDJSON only: nothing to load, nothing to frame. */
const API_CSP = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
  },
};

/** Helmet's options for every response but Swagger UI's. */
const API_HELMET_OPTIONS: HelmetOptions = { contentSecurityPolicy: API_CSP, frameguard: { action: 'deny' } };

let apiHeaders: ReadonlyArray<[string, string]> | null = null;

/**
 * The headers every API response carries, for answers written outside Fastify's hooks (errors
 * of the HTTP parser, written to the socket): helmet's set, as the hooks would add it (helmet
 * is run once against a stand-in response), and `Cache-Control: no-store`.
 */
export function apiResponseHeaders(): ReadonlyArray<[string, string]> {
  if (apiHeaders === null) {
    const headers = new Map<string, [string, string]>();
    const collector = {
      setHeader: (name: string, value: string) => headers.set(name.toLowerCase(), [name, String(value)]),
      removeHeader: (name: string) => headers.delete(name.toLowerCase()),
    };
    helmet(API_HELMET_OPTIONS)(
      {} as Parameters<ReturnType<typeof helmet>>[0],
      collector as unknown as Parameters<ReturnType<typeof helmet>>[1],
      () => undefined,
    );
    apiHeaders = [...headers.values(), ['Cache-Control', 'no-store']];
  }
  return apiHeaders;
}

/** Swagger UI: its own scripts and styles, inline styles and data: images, calls to this origin. */
const DOCS_CSP = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
};

function isDocs(url: string): boolean {
  return url === API_DOCS_PATH || url.startsWith(`${API_DOCS_PATH}/`);
}

/**
 * Security headers on every response: helmet's set (HSTS, nosniff, frame and referrer policies,
 * cross-origin policies) with a CSP that allows nothing, except under `/api/docs` where Swagger
 * UI gets one that lets it run; `Cache-Control: no-store` on everything but the documentation,
 * so that no proxy or browser keeps a response that was meant for one principal. Fastify sends no
 * `X-Powered-By` or `Server` banner. Call before the routes are registered (before `init`).
 */
export async function registerHttpSecurity(app: NestFastifyApplication): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  // Route-level helmet options for Swagger UI's routes, which SwaggerModule and @fastify/static
  // register without any; helmet reads them from the route's config on each request.
  fastify.addHook('onRoute', (route) => {
    if (isDocs(route.url))
      route.config = { ...(route.config ?? {}), helmet: { contentSecurityPolicy: DOCS_CSP } } as never;
  });
  await app.register(fastifyHelmet as never, API_HELMET_OPTIONS as never);
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const url = request.routeOptions.url ?? '';
    if (!reply.hasHeader('cache-control') && !isDocs(url) && url !== OPENAPI_DOCUMENT_PATH) {
      reply.header('Cache-Control', 'no-store');
    }
    done(null, payload);
  });
}
