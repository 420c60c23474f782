import request from 'supertest';
import { Activity, type NewExecutionItem } from '../src/execution-items';
import { buildOpenApiDocument } from '../src/openapi/write-openapi-document';
import { OpenApiContract } from './support/openapi-contract';
import { createTestApp, type TestApp } from './support/test-app';
import { adminToken, bearer, token } from './support/tokens';

const MISSING_ID = '0b0c0d0e-0f10-4112-8314-151617181920';
const OTHER_ID = 'c0ffee00-1234-4abc-8def-000000000001';
const NO_ROLE = token({ role: 'Reader' });

const ITEMS: NewExecutionItem[] = [
  {
    objectChangeType: 'Projected',
    externalIdValue: 'E1',
    displayName: 'Jane Smith',
    objectType: 'user',
    outcomes: [
      {
        type: 'Projected',
        detailMessage: 'projected',
        children: [
          { type: 'AttributeFlow', detailCount: 14 },
          { type: 'PendingExportCreated', targetId: 'cs-ldap', targetDescription: 'LDAP', children: [] },
        ],
      },
    ],
  },
  { objectChangeType: 'NoChange' },
  {
    objectChangeType: 'NoChange',
    externalIdValue: 'E3',
    displayName: 'Broken Reference',
    objectType: 'group',
    errorType: 'UnresolvedReference',
    errorMessage: 'manager points nowhere',
    errorStackTrace: 'at resolve()',
  },
];

describe('OpenAPI document and Swagger UI', () => {
  let t: TestApp;
  let runId: string;
  let itemIds: string[];
  let document: Record<string, unknown>;
  let contract: OpenApiContract;

  beforeAll(async () => {
    t = await createTestApp({ API_DOCS_UI: 'true' });
    const run = await t.runs.startRun({
      connectedSystemName: 'HR Feed',
      runProfileName: 'Full Synchronisation',
      runType: 'FullSynchronisation',
    });
    runId = run.id;
    ({ itemIds } = await t.runs.appendItems(runId, ITEMS));
    await t.runs.completeRun(runId, { status: 'CompleteWithError' });
    await t.dataSource
      .getRepository(Activity)
      .insert({ id: OTHER_ID, targetType: 'ConnectedSystem', status: 'Complete' });
    document = (await request(t.http).get('/api/openapi/v1.json').expect(200)).body;
    contract = new OpenApiContract(document);
  });

  afterAll(() => t?.close());

  const get = (path: string, jwt: string | null = adminToken()) => {
    const req = request(t.http).get(path);
    return jwt === null ? req : req.set(bearer(jwt));
  };

  describe('GET /api/openapi/v1.json', () => {
    it('is served as JSON without credentials', async () => {
      const res = await request(t.http).get('/api/openapi/v1.json').expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ openapi: '3.0.0', info: { title: 'Execution items', version: '1' } });
    });

    it('is the document the build writes to dist/openapi.json', async () => {
      expect(JSON.parse(JSON.stringify(await buildOpenApiDocument()))).toEqual(document);
    });

    it('lists every route, each with its operation id', () => {
      const operations = Object.entries(
        document.paths as Record<string, Record<string, { operationId: string }>>,
      )
        .flatMap(([path, methods]) =>
          Object.entries(methods).map(([method, op]) => `${method} ${path} ${op.operationId}`),
        )
        .sort();
      expect(operations).toEqual(
        [
          'get /api/v1/activities listActivities',
          'get /api/v1/activities/{id} getActivity',
          'get /api/v1/activities/{id}/stats getStats',
          'get /api/v1/activities/{id}/items listItems',
          'get /api/v1/activities/{id}/items/export exportItems',
          'get /api/v1/activities/{id}/items/stream followItems',
          'get /api/v1/activities/{id}/items/{itemId} getItem',
          'get /api/v1/activities/{id}/diff diffRuns',
          'get /api/v1/items objectHistory',
          'get /health/live live',
          'get /health/ready ready',
          'post /api/v1/activities startRun',
          'post /api/v1/activities/{id}/items appendItems',
          'post /api/v1/activities/{id}/complete completeRun',
        ].sort(),
      );
    });

    it('documents for each route the error codes it can answer, by status', () => {
      // BAD_REQUEST on every route: a repeated Authorization or Host header, a token and a key
      // together; 408 and 431 from the HTTP server.
      const common = {
        '400': ['VALIDATION_ERROR', 'BAD_REQUEST'],
        '401': ['UNAUTHORISED'],
        '403': ['FORBIDDEN'],
        '408': ['REQUEST_TIMEOUT'],
        '429': ['TOO_MANY_REQUESTS'],
        '431': ['HEADERS_TOO_LARGE'],
        '500': ['INTERNAL_ERROR'],
        '503': ['SERVICE_UNAVAILABLE'],
      };
      const withRun = { ...common, '404': ['NOT_FOUND'] };
      const expected: Record<string, Record<string, string[]>> = {
        '/api/v1/activities': common,
        '/api/v1/activities/{id}': withRun,
        '/api/v1/activities/{id}/stats': withRun,
        '/api/v1/activities/{id}/items': withRun,
        '/api/v1/activities/{id}/items/export': withRun,
        '/api/v1/activities/{id}/items/stream': withRun,
        '/api/v1/activities/{id}/items/{itemId}': withRun,
        '/api/v1/activities/{id}/diff': withRun,
        '/api/v1/items': common,
      };
      for (const [path, codes] of Object.entries(expected)) {
        const { responses } = contract.operation('GET', path);
        const documented = Object.fromEntries(
          Object.entries(responses)
            .filter(([status]) => status !== '200')
            .map(([status, response]) => {
              const schema = response.content?.['application/json'].schema as {
                allOf: [{ $ref: string }, { properties: { code: { enum: string[] } } }];
              };
              expect(schema.allOf[0]).toEqual({ $ref: '#/components/schemas/ErrorEnvelope' });
              return [status, schema.allOf[1].properties.code.enum];
            }),
        );
        expect({ path, codes: documented }).toEqual({ path, codes });
      }
      const writes: Record<string, Record<string, string[]>> = {
        '/api/v1/activities': { ...common, '409': ['CONFLICT'] },
        '/api/v1/activities/{id}/items': {
          ...withRun,
          '409': ['CONFLICT'],
          '413': ['PAYLOAD_TOO_LARGE'],
        },
        '/api/v1/activities/{id}/complete': { ...withRun, '409': ['CONFLICT'] },
      };
      for (const [path, codes] of Object.entries(writes)) {
        const { responses } = contract.operation('POST', path);
        const documented = Object.fromEntries(
          Object.entries(responses)
            .filter(([status]) => !status.startsWith('2'))
            .map(([status, response]) => {
              const schema = response.content?.['application/json'].schema as {
                allOf: [{ $ref: string }, { properties: { code: { enum: string[] } } }];
              };
              return [status, schema.allOf[1].properties.code.enum];
            }),
        );
        expect({ path, codes: documented }).toEqual({ path, codes });
      }
    });

    it('documents the limits the server enforces on the parameters', () => {
      const schemaOf = (path: string, name: string) =>
        (
          contract.operation('GET', path) as unknown as {
            parameters: Array<{ name: string; schema: Record<string, unknown> }>;
          }
        ).parameters.find((parameter) => parameter.name === name)?.schema;
      const ITEMS_PATH = '/api/v1/activities/{id}/items';
      expect(schemaOf(ITEMS_PATH, 'page')).toMatchObject({
        type: 'integer',
        minimum: Number.MIN_SAFE_INTEGER,
        maximum: Number.MAX_SAFE_INTEGER,
      });
      expect(schemaOf(ITEMS_PATH, 'search')).toMatchObject({ type: 'string', minLength: 1, maxLength: 256 });
      expect(schemaOf(ITEMS_PATH, 'errorType')).toMatchObject({ type: 'array', maxItems: 100 });
      expect(schemaOf(ITEMS_PATH, 'objectType')).toMatchObject({
        type: 'array',
        maxItems: 100,
        items: { type: 'string', minLength: 1, maxLength: 256 },
      });
      expect(schemaOf('/api/v1/activities', 'status')).toMatchObject({ type: 'array', maxItems: 6 });
      expect(schemaOf('/api/v1/activities', 'connectedSystemName')).toMatchObject({
        maxItems: 100,
        items: { minLength: 1, maxLength: 256 },
      });
    });

    it('describes the response headers: the request id and no-store on every answer, the rate limit on the API’s', () => {
      for (const [path, methods] of Object.entries(
        document.paths as Record<
          string,
          Record<string, { responses: Record<string, { headers: Record<string, { required: boolean }> }> }>
        >,
      )) {
        for (const [status, response] of Object.values(methods).flatMap((operation) =>
          Object.entries(operation.responses),
        )) {
          const required = Object.entries(response.headers)
            .filter(([, header]) => header.required)
            .map(([name]) => name)
            .sort();
          const expected = ['Cache-Control', 'X-Request-Id'];
          if (status === '401') expected.push('WWW-Authenticate');
          if (status === '408' || status === '431') expected.push('Connection');
          if (status === '503' && path.startsWith('/api/')) expected.push('Retry-After');
          if (status === '429')
            expected.push('Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset');
          expect({ path, status, required }).toEqual({ path, status, required: expected.sort() });
          expect(Object.keys(response.headers).includes('X-RateLimit-Remaining')).toBe(
            path.startsWith('/api/'),
          );
        }
      }
    });

    it('makes nullable references nullable under OpenAPI 3.0’s strict rule (nullable only beside a type)', () => {
      const schemas = (
        document.components as { schemas: Record<string, { properties: Record<string, unknown> }> }
      ).schemas;
      expect(schemas.ExecutionItem.properties.errorType).toEqual({
        oneOf: [{ $ref: '#/components/schemas/ErrorType' }, { type: 'string', nullable: true, enum: [null] }],
      });
      expect(JSON.stringify(document)).not.toMatch(/"nullable":true,"allOf"/);
      expect(document.servers).toEqual([
        { url: '/', description: 'This service (paths are relative to where the document is served).' },
      ]);
    });

    it('documents the envelope with every code of the contract', () => {
      const schemas = (
        document.components as { schemas: Record<string, { enum?: string[]; required?: string[] }> }
      ).schemas;
      expect(schemas.ErrorCode.enum).toEqual([
        'VALIDATION_ERROR',
        'BAD_REQUEST',
        'UNAUTHORISED',
        'FORBIDDEN',
        'NOT_FOUND',
        'REQUEST_TIMEOUT',
        'CONFLICT',
        'PAYLOAD_TOO_LARGE',
        'TOO_MANY_REQUESTS',
        'HEADERS_TOO_LARGE',
        'INTERNAL_ERROR',
        'SERVICE_UNAVAILABLE',
      ]);
      expect(schemas.ErrorEnvelope.required).toEqual([
        'code',
        'message',
        'details',
        'validationErrors',
        'timestamp',
      ]);
    });

    it('documents the parameters of each route', () => {
      const names = (path: string) =>
        (
          contract.operation('GET', path) as unknown as { parameters: Array<{ name: string; in: string }> }
        ).parameters
          .map((parameter) => `${parameter.in}:${parameter.name}`)
          .sort();
      const filters = [
        'errorType',
        'objectChangeType',
        'objectType',
        'outcomeType',
        'hasError',
        'search',
        'sortBy',
        'sortDirection',
      ];
      expect(names('/api/v1/activities')).toEqual([
        'query:connectedSystemName',
        'query:createdFrom',
        'query:createdTo',
        'query:cursor',
        'query:hasErrors',
        'query:page',
        'query:pageSize',
        'query:runProfileName',
        'query:runType',
        'query:status',
        'query:targetType',
      ]);
      expect(names('/api/v1/activities/{id}/diff')).toEqual([
        'path:id',
        'query:against',
        'query:change',
        'query:cursor',
        'query:page',
        'query:pageSize',
      ]);
      expect(names('/api/v1/items')).toEqual([
        'query:connectedSystemName',
        'query:createdFrom',
        'query:createdTo',
        'query:cursor',
        'query:displayName',
        'query:externalIdValue',
        'query:hasError',
        'query:page',
        'query:pageSize',
      ]);
      expect(names('/api/v1/activities/{id}')).toEqual(['path:id']);
      expect(names('/api/v1/activities/{id}/stats')).toEqual(['path:id']);
      expect(names('/api/v1/activities/{id}/items')).toEqual(
        [
          'path:id',
          'query:page',
          'query:pageSize',
          'query:cursor',
          ...filters.map((name) => `query:${name}`),
        ].sort(),
      );
      expect(names('/api/v1/activities/{id}/items/export')).toEqual(
        ['path:id', 'query:format', ...filters.map((name) => `query:${name}`)].sort(),
      );
      expect(names('/api/v1/activities/{id}/items/{itemId}')).toEqual(['path:id', 'path:itemId']);
      expect(names('/api/v1/activities/{id}/items/stream')).toEqual(
        [
          'header:Last-Event-ID',
          'path:id',
          'query:after',
          ...filters.slice(0, 5).map((name) => `query:${name}`),
        ].sort(),
      );
    });

    it('asks for a bearer token or an API key on every /api route, and says health needs nothing (security: [])', () => {
      const schemes = (document.components as { securitySchemes: unknown }).securitySchemes;
      expect(schemes).toEqual({
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        'api-key': { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      });
      for (const [path, methods] of Object.entries(
        document.paths as Record<string, Record<string, { security?: unknown }>>,
      )) {
        for (const [method, operation] of Object.entries(methods)) {
          expect({ path, method, security: operation.security }).toEqual({
            path,
            method,
            security: path.startsWith('/api/') ? [{ bearer: [] }, { 'api-key': [] }] : [],
          });
        }
      }
    });
  });

  describe('real responses validate against the document', () => {
    const ACTIVITIES = '/api/v1/activities';
    const ACTIVITY = '/api/v1/activities/{id}';
    const STATS = '/api/v1/activities/{id}/stats';
    const ITEMS_PATH = '/api/v1/activities/{id}/items';
    const EXPORT = '/api/v1/activities/{id}/items/export';
    const ITEM = '/api/v1/activities/{id}/items/{itemId}';
    const DIFF = '/api/v1/activities/{id}/diff';
    const HISTORY = '/api/v1/items';
    const STREAM = '/api/v1/activities/{id}/items/stream';

    /** [operation path, URL, token (null: none), expected status]; URLs may use :run, :other, :item. */
    const CASES: Array<[string, string, string | null, number]> = [
      [ACTIVITIES, '/api/v1/activities', 'admin', 200],
      [
        ACTIVITIES,
        '/api/v1/activities?targetType=ConnectedSystem&status=Complete,FailedWithError',
        'admin',
        200,
      ],
      [ACTIVITIES, '/api/v1/activities?page=99', 'admin', 200],
      [ACTIVITIES, '/api/v1/activities?pageSize=abc', 'admin', 400],
      [ACTIVITIES, '/api/v1/activities', null, 401],
      [ACTIVITIES, '/api/v1/activities', 'reader', 403],
      [ACTIVITY, '/api/v1/activities/:run', 'admin', 200],
      [ACTIVITY, '/api/v1/activities/:other', 'admin', 200],
      [ACTIVITY, '/api/v1/activities/not-a-guid', 'admin', 400],
      [ACTIVITY, '/api/v1/activities/:run', null, 401],
      [ACTIVITY, '/api/v1/activities/:run', 'reader', 403],
      [ACTIVITY, `/api/v1/activities/${MISSING_ID}`, 'admin', 404],
      [STATS, '/api/v1/activities/:run/stats', 'admin', 200],
      [STATS, '/api/v1/activities/:other/stats', 'admin', 400],
      [STATS, '/api/v1/activities/:run/stats?x=1', 'admin', 400],
      [STATS, '/api/v1/activities/:run/stats', null, 401],
      [STATS, '/api/v1/activities/:run/stats', 'reader', 403],
      [STATS, `/api/v1/activities/${MISSING_ID}/stats`, 'admin', 404],
      [ITEMS_PATH, '/api/v1/activities/:run/items', 'admin', 200],
      [
        ITEMS_PATH,
        '/api/v1/activities/:run/items?hasError=true&sortBy=displayName&sortDirection=desc',
        'admin',
        200,
      ],
      [ITEMS_PATH, '/api/v1/activities/:run/items?pageSize=1', 'admin', 200],
      [ITEMS_PATH, '/api/v1/activities/:run/items?page=5', 'admin', 200],
      [ITEMS_PATH, '/api/v1/activities/:run/items?sortBy=colour', 'admin', 400],
      [ITEMS_PATH, '/api/v1/activities/:other/items', 'admin', 400],
      [ITEMS_PATH, '/api/v1/activities/:run/items', null, 401],
      [ITEMS_PATH, '/api/v1/activities/:run/items', 'reader', 403],
      [ITEMS_PATH, `/api/v1/activities/${MISSING_ID}/items`, 'admin', 404],
      [EXPORT, '/api/v1/activities/:run/items/export', 'admin', 200],
      [EXPORT, '/api/v1/activities/:run/items/export?format=ndjson&hasError=false', 'admin', 200],
      [EXPORT, '/api/v1/activities/:run/items/export?format=xml', 'admin', 400],
      [EXPORT, '/api/v1/activities/:other/items/export', 'admin', 400],
      [EXPORT, '/api/v1/activities/:run/items/export', null, 401],
      [EXPORT, '/api/v1/activities/:run/items/export', 'reader', 403],
      [EXPORT, `/api/v1/activities/${MISSING_ID}/items/export`, 'admin', 404],
      [ITEM, '/api/v1/activities/:run/items/:item', 'admin', 200],
      [ITEM, '/api/v1/activities/:run/items/:bare', 'admin', 200],
      [ITEM, '/api/v1/activities/:run/items/not-a-guid', 'admin', 400],
      [ITEM, `/api/v1/activities/:other/items/${MISSING_ID}`, 'admin', 400],
      [ITEM, '/api/v1/activities/:run/items/:item', null, 401],
      [ITEM, '/api/v1/activities/:run/items/:item', 'reader', 403],
      [ITEM, `/api/v1/activities/:run/items/${MISSING_ID}`, 'admin', 404],
      [DIFF, '/api/v1/activities/:run/diff?against=:run', 'admin', 200],
      [DIFF, '/api/v1/activities/:run/diff?against=:run&change=StillFailing&pageSize=1', 'admin', 200],
      [DIFF, '/api/v1/activities/:run/diff?against=nope', 'admin', 400],
      [DIFF, '/api/v1/activities/:other/diff', 'admin', 400],
      [DIFF, '/api/v1/activities/:run/diff', null, 401],
      [DIFF, '/api/v1/activities/:run/diff', 'reader', 403],
      [DIFF, '/api/v1/activities/:run/diff', 'admin', 404],
      [HISTORY, '/api/v1/items?externalIdValue=E1', 'admin', 200],
      [HISTORY, '/api/v1/items?displayName=jane%20smith&hasError=false&createdFrom=2020-01-01', 'admin', 200],
      [HISTORY, '/api/v1/items', 'admin', 400],
      [HISTORY, '/api/v1/items?externalIdValue=E1', null, 401],
      [HISTORY, '/api/v1/items?externalIdValue=E1', 'reader', 403],
      [STREAM, '/api/v1/activities/:run/items/stream', 'admin', 200],
      [STREAM, '/api/v1/activities/:run/items/stream?hasError=true&after=1', 'admin', 200],
      [STREAM, '/api/v1/activities/:run/items/stream?search=x', 'admin', 400],
      [STREAM, '/api/v1/activities/:other/items/stream', 'admin', 400],
      [STREAM, '/api/v1/activities/:run/items/stream', null, 401],
      [STREAM, '/api/v1/activities/:run/items/stream', 'reader', 403],
      [STREAM, `/api/v1/activities/${MISSING_ID}/items/stream`, 'admin', 404],
      ['/health/live', '/health/live', null, 200],
      ['/health/ready', '/health/ready', null, 200],
    ];

    it.each(CASES)('%s: GET %s as %s answers %d as documented', async (path, url, who, status) => {
      const concrete = url
        .replaceAll(':run', runId)
        .replace(':other', OTHER_ID)
        .replace(':item', itemIds[0])
        .replace(':bare', itemIds[1]);
      const jwt = who === 'admin' ? adminToken() : who === 'reader' ? NO_ROLE : null;
      const res = await get(concrete, jwt);
      expect(res.status).toBe(status);
      contract.expectDocumented('GET', path, res);
    });

    it('refuses a body with a field too many, a field missing, a wrong null or an undocumented code', async () => {
      const real = await get(`/api/v1/activities/${runId}/items/${itemIds[0]}`).expect(200);
      const notFound = await get(`/api/v1/activities/${MISSING_ID}`).expect(404);
      const { errorType: _errorType, ...missing } = real.body as Record<string, unknown>;
      const bodies: Array<[string, number, unknown]> = [
        [ITEM, 200, { ...real.body, extra: 1 }],
        [ITEM, 200, missing],
        [ITEM, 200, { ...real.body, sequence: null }],
        [ITEM, 200, { ...real.body, outcomes: [{ ...real.body.outcomes[0], children: [{ type: 'Nope' }] }] }],
        [ACTIVITY, 404, { ...notFound.body, code: 'BAD_REQUEST' }],
      ];
      for (const [path, status, body] of bodies) {
        const fake = { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body };
        expect(() => contract.expectDocumented('GET', path, fake as unknown as request.Response)).toThrow();
      }
    });

    it('reads nullable strictly: null only where nullable stands beside a type, and never outside an enum', () => {
      const strict = new OpenApiContract({
        openapi: '3.0.0',
        paths: {
          '/x': {
            get: {
              responses: {
                '200': {
                  content: {
                    'application/json': {
                      schema: {
                        type: 'object',
                        properties: {
                          loose: { nullable: true, allOf: [{ $ref: '#/components/schemas/Colour' }] },
                          typed: { type: 'string', nullable: true, enum: ['red'] },
                          right: { type: 'string', nullable: true, enum: ['red', null] },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
        components: { schemas: { Colour: { type: 'string', enum: ['red'] } } },
      });
      const answer = (body: unknown) =>
        ({
          status: 200,
          headers: { 'content-type': 'application/json' },
          body,
        }) as unknown as request.Response;
      expect(() =>
        strict.expectDocumented('GET', '/x', answer({ loose: 'red', typed: 'red', right: null })),
      ).not.toThrow();
      expect(() => strict.expectDocumented('GET', '/x', answer({ loose: null }))).toThrow();
      expect(() => strict.expectDocumented('GET', '/x', answer({ typed: null }))).toThrow();
    });

    const START = '/api/v1/activities';
    const APPEND = '/api/v1/activities/{id}/items';
    const COMPLETE = '/api/v1/activities/{id}/complete';
    const ITEM_BATCH = { items: [{ objectChangeType: 'Add', connectedSystemObjectType: 'user' }] };
    const NEW_RUN = { connectedSystemName: 'LDAP', runProfileName: 'Export', runType: 'Export' as const };

    /**
     * [operation path, URL, token (null: none), body, expected status] of the write routes; URLs
     * may use :run (complete), :open and :closing (in progress).
     */
    const WRITE_CASES: Array<[string, string, string | null, object | string, number]> = [
      [START, '/api/v1/activities', 'engine', NEW_RUN, 201],
      [START, '/api/v1/activities', 'engine', {}, 400],
      [START, '/api/v1/activities', null, NEW_RUN, 401],
      [START, '/api/v1/activities', 'admin', NEW_RUN, 403],
      [START, '/api/v1/activities', 'engine', { ...NEW_RUN, id: OTHER_ID }, 409],
      [APPEND, '/api/v1/activities/:open/items', 'engine', ITEM_BATCH, 200],
      [APPEND, '/api/v1/activities/:open/items', 'engine', { items: [{ objectChangeType: 'Moved' }] }, 400],
      [APPEND, '/api/v1/activities/:open/items', 'engine', 'objectChangeType\nAdd', 400],
      [APPEND, '/api/v1/activities/:open/items', null, ITEM_BATCH, 401],
      [APPEND, '/api/v1/activities/:open/items', 'admin', ITEM_BATCH, 403],
      [APPEND, `/api/v1/activities/${MISSING_ID}/items`, 'engine', ITEM_BATCH, 404],
      [APPEND, '/api/v1/activities/:run/items', 'engine', ITEM_BATCH, 409],
      [
        APPEND,
        '/api/v1/activities/:open/items',
        'engine',
        { items: Array(10_001).fill(ITEM_BATCH.items[0]) },
        413,
      ],
      [COMPLETE, '/api/v1/activities/:closing/complete', 'engine', {}, 200],
      [COMPLETE, '/api/v1/activities/:open/complete', 'engine', { status: 'InProgress' }, 400],
      [COMPLETE, '/api/v1/activities/:open/complete', null, {}, 401],
      [COMPLETE, '/api/v1/activities/:open/complete', 'admin', {}, 403],
      [COMPLETE, `/api/v1/activities/${MISSING_ID}/complete`, 'engine', {}, 404],
      [COMPLETE, '/api/v1/activities/:run/complete', 'engine', {}, 409],
    ];

    it.each(WRITE_CASES)(
      '%s: POST %s as %s answers %d as documented',
      async (path, url, who, body, status) => {
        const open = await t.runs.startRun(NEW_RUN);
        const concrete = url.replace(':run', runId).replace(':open', open.id).replace(':closing', open.id);
        const jwt = who === 'admin' ? adminToken() : who === 'engine' ? token({ role: 'SyncEngine' }) : null;
        const req = request(t.http).post(concrete);
        if (jwt) void req.set(bearer(jwt));
        if (typeof body === 'string') void req.set('Content-Type', 'text/csv');
        const res = await req.send(body);
        expect(res.status).toBe(status);
        contract.expectDocumented('POST', path, res);
      },
    );

    it('cover 200, 201, 400, 401, 403 and (where documented) 404, 409 and 413 of every /api route', () => {
      const expected = Object.entries(
        document.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>,
      )
        .filter(([path]) => path.startsWith('/api/'))
        .flatMap(([path, methods]) =>
          Object.entries(methods).flatMap(([method, operation]) =>
            ['200', '201', '400', '401', '403', '404', '409', '413']
              .filter((status) => status in operation.responses)
              .map((status) => `${method.toUpperCase()} ${path} ${status}`),
          ),
        );
      const cases = new Set([
        ...CASES.map(([path, , , status]) => `GET ${path} ${status}`),
        ...WRITE_CASES.map(([path, , , , status]) => `POST ${path} ${status}`),
      ]);
      expect(expected.filter((entry) => !cases.has(entry))).toEqual([]);
    });
  });

  describe('Swagger UI at /api/docs', () => {
    it('serves the page with a CSP that lets it load its own scripts and styles', async () => {
      const res = await request(t.http).get('/api/docs').expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('swagger-ui-bundle.js');
      expect(res.headers['content-security-policy']).toBe(
        "default-src 'self';script-src 'self';style-src 'self' 'unsafe-inline';img-src 'self' data:;font-src 'self' data:;connect-src 'self';object-src 'none';base-uri 'self';form-action 'self';frame-ancestors 'none'",
      );
    });

    it('serves its assets and the document inside its init script', async () => {
      const bundle = await request(t.http).get('/api/docs/swagger-ui-bundle.js').expect(200);
      expect(bundle.headers['content-type']).toMatch(/javascript/);
      const init = await request(t.http).get('/api/docs/swagger-ui-init.js').expect(200);
      expect(init.text).toContain('"/api/v1/activities/{id}/items"');
    });

    it('26. is a 404 in the envelope when turned off (API_DOCS_UI=false, the production default), while the document is still served', async () => {
      const off = await createTestApp({ API_DOCS_UI: 'false' });
      try {
        const res = await request(off.http).get('/api/docs').expect(404);
        expect(res.body).toEqual({
          code: 'NOT_FOUND',
          message: 'No such resource.',
          details: null,
          validationErrors: null,
          timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        });
        await request(off.http).get('/api/docs/swagger-ui-bundle.js').expect(404);
        await request(off.http).get('/api/openapi/v1.json').expect(200);
      } finally {
        await off.close();
      }
    });
  });
});
