import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

/** Where the document and Swagger UI are served. */
export const OPENAPI_DOCUMENT_PATH = '/api/openapi/v1.json';
export const API_DOCS_PATH = '/api/docs';

export const BEARER_SCHEME = 'bearer';
export const API_KEY_SCHEME = 'api-key';

/**
 * The OpenAPI 3.0 document of the application's routes, generated from the controllers and the
 * DTOs' decorators. Routes that take a bearer token also take an API key (`X-API-Key`): the app
 * registers both strategies.
 */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Execution items')
    .setDescription(
      'What happened to each user and group in every import, synchronisation and export run. ' +
        'Every error under `/api` answers in one envelope (`ErrorEnvelope`), its `code` one of those listed for the status.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, BEARER_SCHEME)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, API_KEY_SCHEME)
    .addServer('/', 'This service (paths are relative to where the document is served).')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  for (const path of Object.values(document.paths)) {
    for (const operation of Object.values(path) as OperationObject[]) {
      const secured = operation.security?.some((requirement) => BEARER_SCHEME in requirement) ?? false;
      // Routes without credentials (health) say so, rather than leaving it unsaid.
      operation.security = secured ? [...(operation.security ?? []), { [API_KEY_SCHEME]: [] }] : [];
      describeResponseHeaders(operation, secured);
    }
  }
  // Every tag an operation uses is declared, in the order first used.
  const declared = new Set((document.tags ?? []).map((tag) => tag.name));
  const used = Object.values(document.paths).flatMap((path) =>
    Object.values(path as Record<string, { tags?: string[] }>).flatMap((operation) => operation.tags ?? []),
  );
  document.tags = [
    ...(document.tags ?? []),
    ...[...new Set(used)].filter((name) => !declared.has(name)).map((name) => ({ name })),
  ];
  return strictNullable(document) as OpenAPIObject;
}

type HeaderObject = { description: string; required?: boolean; schema: object };
type OperationObject = {
  security?: Array<Record<string, string[]>>;
  responses: Record<string, { headers?: Record<string, HeaderObject> }>;
};

const SECONDS = { type: 'integer', minimum: 0 };

/**
 * The headers every answer carries, on every documented response: the request id and
 * `Cache-Control`; and, on the routes that take credentials (all rate-limited), the rate-limit
 * headers (absent when `RATE_LIMIT_ENABLED=false`, so not required; required on the 429).
 */
function describeResponseHeaders(operation: OperationObject, rateLimited: boolean): void {
  for (const [status, response] of Object.entries(operation.responses)) {
    const limited = status === '429';
    response.headers = {
      'X-Request-Id': {
        description:
          'The request’s id: the caller’s `X-Request-Id` when it is 1 to 128 of `A-Za-z0-9._:-`, else a new UUID. In the log line too.',
        required: true,
        schema: { type: 'string', maxLength: 128 },
      },
      'Cache-Control': {
        description:
          '`no-store` (health probes: `no-cache, no-store, must-revalidate`): no proxy or browser keeps an answer meant for one principal.',
        required: true,
        schema: { type: 'string' },
      },
      ...(rateLimited
        ? {
            'X-RateLimit-Limit': {
              description:
                'Requests allowed in the window, for this principal (or address, without valid credentials).',
              required: limited,
              schema: { type: 'integer', minimum: 1 },
            },
            'X-RateLimit-Remaining': {
              description: 'Requests left in the window (0 on a 429).',
              required: limited,
              schema: SECONDS,
            },
            'X-RateLimit-Reset': {
              description: 'Seconds until the window frees a request (on a 429, as `Retry-After`).',
              required: limited,
              schema: SECONDS,
            },
          }
        : {}),
      ...response.headers,
    };
  }
}

/**
 * OpenAPI 3.0 lets `nullable` allow `null` only beside a `type` in the same schema, and
 * `@nestjs/swagger` writes a nullable reference (an enum such as `ErrorType`, or a response
 * class) as `{ nullable: true, allOf: [{ $ref }] }` (with `type: 'object'` for a class), which a
 * strict validator reads as "never null". Each such schema becomes `oneOf` the reference and a schema that is only `null`.
 */
function strictNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictNullable);
  if (typeof node !== 'object' || node === null) return node;
  const entries = Object.entries(node).map(([key, value]) => [key, strictNullable(value)] as const);
  const schema = Object.fromEntries(entries) as Record<string, unknown>;
  const { nullable, allOf, type, ...rest } = schema;
  // With a reference `allOf` decides the shape, whatever `type` stands beside it (the plugin
  // writes `type: 'object'` for a nullable class property), and rules out `null`.
  if (
    nullable === true &&
    (type === undefined || type === 'object') &&
    Array.isArray(allOf) &&
    allOf.length === 1
  ) {
    return { ...rest, oneOf: [allOf[0], { type: 'string', nullable: true, enum: [null] }] };
  }
  return schema;
}

/**
 * Serves the document at `/api/openapi/v1.json` and, when `ui` is on, Swagger UI at `/api/docs`
 * (its assets come from `swagger-ui-dist` through `@fastify/static`). Neither needs credentials:
 * the document describes the API, it holds no data, and every call made from the UI needs a
 * token or key like any other.
 */
export function serveOpenApi(app: INestApplication, options: { ui: boolean }): OpenAPIObject {
  const document = createOpenApiDocument(app);
  SwaggerModule.setup(API_DOCS_PATH, app, document, {
    ui: options.ui,
    raw: ['json'],
    jsonDocumentUrl: OPENAPI_DOCUMENT_PATH,
    customSiteTitle: 'Execution items API',
    swaggerOptions: { validatorUrl: 'none', persistAuthorization: false },
  });
  return document;
}
