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
    .build();
  const document = SwaggerModule.createDocument(app, config);
  for (const path of Object.values(document.paths)) {
    for (const operation of Object.values(path)) {
      const withSecurity = operation as { security?: Array<Record<string, string[]>> };
      if (withSecurity.security?.some((requirement) => BEARER_SCHEME in requirement)) {
        withSecurity.security = [...withSecurity.security, { [API_KEY_SCHEME]: [] }];
      }
    }
  }
  return document;
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
