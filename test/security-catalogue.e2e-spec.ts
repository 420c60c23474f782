import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { sign } from 'jsonwebtoken';
import request from 'supertest';
import { Activity } from '../src/execution-items';
import { portOf, rawRequest } from './support/raw-http';
import { createTestApp, type TestApp } from './support/test-app';
import { adminToken, bearer, TEST_SECRET, token, unsignedToken } from './support/tokens';

/**
 * The hostile-input catalogue (`../shared/docs/security-cases.md`), one test per case, named by
 * its number, run against every route it concerns. Failure cases 27-29 and 31 are in
 * `database-failures.e2e-spec.ts` (they need a PostgreSQL server); the identity-provider token
 * cases (3, 4, 6, 8 with JWKS) in `security-identity-provider.e2e-spec.ts` (passport keeps one
 * `jwt` strategy per process, so an app with other token settings needs a test file of its own).
 */

const MISSING = '0b0c0d0e-0f10-4112-8314-151617181920';
const ENVELOPE_KEYS = ['code', 'details', 'message', 'timestamp', 'validationErrors'];

const UNAUTHORISED = {
  code: 'UNAUTHORISED',
  message: 'A valid bearer token is required.',
  details: null,
  validationErrors: null,
  timestamp: expect.any(String),
};
const BROKEN_ENCODING = (parameter: string) => ({
  code: 'VALIDATION_ERROR',
  message: 'The request is not valid.',
  details: null,
  validationErrors: { [parameter]: ['is not valid percent-encoding'] },
  timestamp: expect.any(String),
});
const FORBIDDEN = {
  code: 'FORBIDDEN',
  message: 'This requires the Administrator role.',
  details: null,
  validationErrors: null,
  timestamp: expect.any(String),
};

describe('security catalogue', () => {
  let t: TestApp;
  let runId: string;
  let itemId: string;
  let otherId: string;

  /** Every read route, for one activity id. */
  const routes = (id: string, item = itemId) => [
    `/api/v1/activities/${id}`,
    `/api/v1/activities/${id}/items`,
    `/api/v1/activities/${id}/stats`,
    `/api/v1/activities/${id}/items/${item}`,
    `/api/v1/activities/${id}/items/export`,
  ];
  const allRoutes = () => ['/api/v1/activities', ...routes(runId)];

  beforeAll(async () => {
    t = await createTestApp();
    const run = await t.runs.startRun({
      connectedSystemName: 'LDAP',
      runProfileName: 'Full',
      runType: 'FullImport',
    });
    runId = run.id;
    const names = [
      'Ann 100% Archer',
      'Bob_Baker',
      'Cy\\Cole',
      "O'Brien; DROP TABLE activities; --",
      'Dana Diaz',
      'שלום',
      '😀 Emoji',
    ];
    ({
      itemIds: [itemId],
    } = await t.runs.appendItems(
      runId,
      names.map((displayName, i) => ({
        objectChangeType: 'Add',
        displayName,
        externalIdValue: `E${i}`,
        objectType: 'user',
      })),
    ));
    otherId = randomUUID();
    await t.dataSource
      .getRepository(Activity)
      .insert({ id: otherId, targetType: 'ConnectedSystem', status: 'Complete' });
  });

  afterAll(() => t?.close());

  const get = (path: string, headers: Record<string, string> = bearer(adminToken())) =>
    request(t.http).get(path).set(headers);

  async function expectUnauthorised(path: string, headers: Record<string, string>): Promise<void> {
    const res = await get(path, headers).expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toEqual(UNAUTHORISED);
  }

  describe('A. tokens', () => {
    it('1. no Authorization header is a 401 on every route, even for an activity that does not exist', async () => {
      for (const path of [...allRoutes(), ...routes(MISSING)]) await expectUnauthorised(path, {});
    });

    it.each([
      ['Basic', 'Basic YWRtaW46YWRtaW4='],
      ['Token', `Token ${adminToken()}`],
      ['Bearer with nothing after it', 'Bearer '],
      ['Bearer with garbage', 'Bearer abc.def.ghi'],
      ['the token without a scheme', adminToken()],
      ['two tokens', `Bearer ${adminToken()} ${adminToken()}`],
    ])('2. %s is a 401', async (_name, authorization) => {
      for (const path of allRoutes()) await expectUnauthorised(path, { Authorization: authorization });
    });

    it('3. alg none is a 401', async () => {
      for (const path of allRoutes()) {
        await expectUnauthorised(path, bearer(unsignedToken({ role: 'Administrator' })));
      }
    });

    it('3. a token that brings its own key (jwk, jku, x5u, x5c headers) is judged by the configured key only', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const jwk = publicKey.export({ format: 'jwk' });
      const forged = sign({ role: 'Administrator' }, privateKey, {
        algorithm: 'RS256',
        expiresIn: '5m',
        header: { alg: 'RS256', jwk, jku: 'http://127.0.0.1:1/jwks', x5u: 'http://127.0.0.1:1/x5u' } as never,
      });
      await expectUnauthorised(`/api/v1/activities/${runId}/items`, bearer(forged));
    });

    it.each([
      ['expired', token({ role: 'Administrator', exp: Math.floor(Date.now() / 1000) - 120 })],
      [
        'not valid before a future time',
        token({ role: 'Administrator', nbf: Math.floor(Date.now() / 1000) + 600 }),
      ],
      ['without exp', token({ role: 'Administrator', exp: undefined })],
      ['living longer than 24 hours', token({ role: 'Administrator' }, { expiresIn: '25h' })],
    ])('5. a token %s is a 401', async (_name, jwt) => {
      for (const path of allRoutes()) await expectUnauthorised(path, bearer(jwt));
    });

    it('7. a token in the query string is a 401, with or without a header-less request', async () => {
      await expectUnauthorised(`/api/v1/activities/${runId}/items?access_token=${adminToken()}`, {});
    });

    it('7. access_token next to a valid header is an unknown parameter (400), never a second way in', async () => {
      const res = await get(`/api/v1/activities/${runId}/items?access_token=${adminToken()}`).expect(400);
      expect(res.body.validationErrors).toEqual({ access_token: ['is not a known parameter'] });
    });

    it('9. a 20 KB Authorization header is refused by the HTTP server (431), never a 500', async () => {
      const res = await get(`/api/v1/activities/${runId}/items`, {
        Authorization: `Bearer ${'a'.repeat(20_000)}`,
      });
      expect(res.status).toBe(431);
      expect(res.body.code).toBe('HEADERS_TOO_LARGE');
    });
  });

  describe('B. roles', () => {
    it.each([
      ['no role', {}],
      ['Reader', { role: 'Reader' }],
      ['Administrators', { role: 'Administrators' }],
      ['administrator', { role: 'administrator' }],
    ])('10. a valid token with %s is a 403', async (_name, claims) => {
      for (const path of allRoutes()) {
        const res = await get(path, bearer(token(claims))).expect(403);
        expect(res.body).toEqual(FORBIDDEN);
      }
    });

    it('11. the role as a string or in an array is accepted', async () => {
      await get(`/api/v1/activities/${runId}/items`, bearer(token({ role: 'Administrator' }))).expect(200);
      await get(
        `/api/v1/activities/${runId}/items`,
        bearer(token({ role: ['Reader', 'Administrator'] })),
      ).expect(200);
    });

    it.each([
      ['null', null],
      ['{}', {}],
      ['[["Administrator"]]', [['Administrator']]],
      ['{ "Administrator": true }', { Administrator: true }],
    ])('11. the role claim as %s is a 403', async (_name, role) => {
      await get(`/api/v1/activities/${runId}/items`, bearer(token({ role }))).expect(403);
    });

    it.each([
      ['realm_access.roles', { realm_access: { roles: ['Administrator'] } }],
      ['groups', { groups: ['Administrator'] }],
      ['scp', { scp: 'Administrator' }],
    ])('12. the role only in %s (not the configured claim) is a 403', async (_name, claims) => {
      await get(`/api/v1/activities/${runId}/items`, bearer(token(claims))).expect(403);
    });

    it('13. a non-administrator asking for a nonexistent activity gets 403, not 404', async () => {
      for (const path of routes(MISSING)) {
        await get(path, bearer(token({ role: 'Reader' }))).expect(403);
      }
    });
  });

  describe('C. path and query', () => {
    it.each([
      ['not a GUID', 'not-a-guid'],
      ['a GUID with braces', `{${MISSING}}`],
      ['1 KB long', 'a'.repeat(1024)],
      ['encoded traversal', '%2e%2e'],
      ['an encoded NUL', '%00'],
    ])('14. an id that is %s is a 400 naming it, on every route', async (_name, id) => {
      for (const path of routes(id, MISSING)) {
        const res = await get(path).expect(400);
        expect(res.body).toMatchObject({
          code: 'VALIDATION_ERROR',
          validationErrors: { id: expect.any(Array) },
        });
      }
    });

    it('14. upper-case GUIDs work on every route', async () => {
      for (const path of routes(runId.toUpperCase(), itemId.toUpperCase())) await get(path).expect(200);
    });

    it.each(['abc', '1.5', '', '1e309', '9007199254740993', '0x10', '+1', '1e1', ' 1'])(
      '15. page and pageSize %p are a 400 naming the parameter',
      async (value) => {
        for (const name of ['page', 'pageSize']) {
          const res = await get(
            `/api/v1/activities/${runId}/items?${name}=${encodeURIComponent(value)}`,
          ).expect(400);
          expect(res.body.validationErrors).toEqual({ [name]: ['must be an integer'] });
        }
      },
    );

    it.each([
      ['page=-1', 1, 25],
      ['page=0', 1, 25],
      ['pageSize=1000', 1, 100],
      ['pageSize=0', 1, 25],
    ])('15. %s is clamped as the contract says', async (query, page, pageSize) => {
      const res = await get(`/api/v1/activities/${runId}/items?${query}`).expect(200);
      expect(res.body).toMatchObject({ page, pageSize });
    });

    it.each([
      ['a repeated parameter', 'page=1&page=2', 'page'],
      ['a bracket form', 'page[]=1', 'page[]'],
      ['an operator bracket form', 'page[$gt]=0', 'page[$gt]'],
      ['an unknown parameter', 'pagesize=10', 'pagesize'],
      ['a repeated search', 'search=a&search=b', 'search'],
    ])('16. %s is a 400 naming it', async (_name, query, parameter) => {
      const res = await get(`/api/v1/activities/${runId}/items?${query}`).expect(400);
      expect(Object.keys(res.body.validationErrors)).toEqual([parameter]);
    });

    const searchNames = async (search: string) => {
      const res = await get(`/api/v1/activities/${runId}/items?search=${encodeURIComponent(search)}`).expect(
        200,
      );
      return res.body.items.map((item: { displayName: string }) => item.displayName);
    };

    it('17. SQL metacharacters in a search match literally', async () => {
      expect(await searchNames("'Brien; DROP TABLE activities; --")).toEqual([
        "O'Brien; DROP TABLE activities; --",
      ]);
      expect(await searchNames("' OR 1=1 --")).toEqual([]);
      await get(`/api/v1/activities/${runId}/items`).expect(200);
    });

    it('17. %, _ and \\ in a search match only themselves', async () => {
      expect(await searchNames('%')).toEqual(['Ann 100% Archer']);
      expect(await searchNames('_')).toEqual(['Bob_Baker']);
      expect(await searchNames('\\')).toEqual(['Cy\\Cole']);
    });

    it.each([
      ['NUL', '\u0000'],
      ['a newline', 'a\nb'],
      ['an escape character', '\u001b[31m'],
      ['257 characters', 'x'.repeat(257)],
    ])('17. a search with %s is a 400 naming it', async (_name, search) => {
      const res = await get(`/api/v1/activities/${runId}/items?search=${encodeURIComponent(search)}`).expect(
        400,
      );
      expect(res.body.validationErrors).toEqual({
        search: ['must be 1 to 256 characters without control characters'],
      });
    });

    it('17. invalid percent-encoding, emoji and right-to-left text never cause a 500', async () => {
      const broken = await get(`/api/v1/activities/${runId}/items?search=%zz%E2%82`);
      expect(broken.status).toBeLessThan(500);
      expect(await searchNames('😀')).toEqual(['😀 Emoji']);
      expect(await searchNames('שלום')).toEqual(['שלום']);
    });

    it.each(['post', 'put', 'patch', 'delete'] as const)(
      '18. %s on the read routes is a 404 or 405 (403 on the engines’ POST routes), never a 500',
      async (method) => {
        const engineRoutes = ['/api/v1/activities', `/api/v1/activities/${runId}/items`];
        for (const path of allRoutes()) {
          const res = await request(t.http)[method](path).set(bearer(adminToken()));
          expect(method === 'post' && engineRoutes.includes(path) ? [403] : [404, 405]).toContain(res.status);
          expect(Object.keys(res.body).sort()).toEqual(ENVELOPE_KEYS);
        }
      },
    );
  });

  describe('D. resource use', () => {
    it('21. 50 concurrent maximum-size pages all succeed, without a pool deadlock', async () => {
      const started = Date.now();
      const responses = await Promise.all(
        Array.from({ length: 50 }, () =>
          get(`/api/v1/activities/${runId}/items?pageSize=100&sortBy=displayName`),
        ),
      );
      expect(responses.map((res) => res.status)).toEqual(Array(50).fill(200));
      expect(Date.now() - started).toBeLessThan(30_000);
    });
  });

  describe('E. what leaves the server', () => {
    it('22. item JSON has exactly the documented keys, in the list, the detail and the export', async () => {
      const list = await get(`/api/v1/activities/${runId}/items?pageSize=1`).expect(200);
      expect(Object.keys(list.body.items[0])).toEqual([
        'id',
        'externalIdValue',
        'displayName',
        'connectedSystemObjectType',
        'objectChangeType',
        'errorType',
        'outcomeSummary',
      ]);
      const detail = await get(`/api/v1/activities/${runId}/items/${itemId}`).expect(200);
      expect(Object.keys(detail.body)).toEqual([
        'id',
        'sequence',
        'externalIdValue',
        'displayName',
        'connectedSystemObjectType',
        'objectChangeType',
        'errorType',
        'outcomeSummary',
        'errorMessage',
        'errorStackTrace',
        'outcomes',
      ]);
      const exported = await get(`/api/v1/activities/${runId}/items/export?format=ndjson`).expect(200);
      expect(Object.keys(JSON.parse(exported.text.split('\n')[0]))).toEqual([
        'sequence',
        'id',
        'externalIdValue',
        'displayName',
        'connectedSystemObjectType',
        'objectChangeType',
        'errorType',
        'outcomeSummary',
        'errorMessage',
      ]);
    });

    it('23. a database error answers a plain 500: no stack trace, SQL, driver message or file path', async () => {
      await t.dataSource.query('ALTER TABLE execution_items RENAME COLUMN display_name TO display_name_gone');
      try {
        for (const path of [
          `/api/v1/activities/${runId}/items`,
          `/api/v1/activities/${runId}/items/${itemId}`,
        ]) {
          const res = await get(path).expect(500);
          expect(res.body).toEqual({
            code: 'INTERNAL_ERROR',
            message: 'An unexpected error occurred.',
            details: null,
            validationErrors: null,
            timestamp: expect.any(String),
          });
          expect(res.text).not.toMatch(/display_name|SELECT|column|\.ts|at |node_modules/);
        }
      } finally {
        await t.dataSource.query(
          'ALTER TABLE execution_items RENAME COLUMN display_name_gone TO display_name',
        );
      }
      await get(`/api/v1/activities/${runId}/items`).expect(200);
    });

    it('26. other versions and unversioned paths are a 404 in the envelope', async () => {
      for (const path of [
        `/api/v2/activities/${runId}/items`,
        `/activities/${runId}/items`,
        `/api/activities/${runId}/items`,
      ]) {
        const res = await get(path).expect(404);
        expect(Object.keys(res.body).sort()).toEqual(ENVELOPE_KEYS);
      }
    });
  });

  describe('G. found later: the HTTP parser, HTTP edges and tokens', () => {
    let port: number;

    beforeAll(async () => {
      await t.app.listen(0, '127.0.0.1');
      port = portOf(t.http);
    });

    /** A GET with the given header lines, sent as is. */
    const rawGet = (path: string, headerLines: string[]) =>
      rawRequest(port, [`GET ${path} HTTP/1.1`, ...headerLines, '', ''].join('\r\n'));

    /** The headers every API answer carries, whatever its status, as a normal 404 has them. */
    const VARYING = new Set([
      'date',
      'content-length',
      'content-type',
      'x-request-id',
      'connection',
      'keep-alive',
    ]);
    const standardHeaders = (headers: Record<string, string>) =>
      Object.fromEntries(Object.entries(headers).filter(([name]) => !VARYING.has(name)));

    const PARSER_ERRORS: Array<[string, string | Buffer]> = [
      ['a folded header', 'GET /api/v1/activities HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n  b\r\n\r\n'],
      ['bare LFs', 'GET /api/v1/activities HTTP/1.1\nHost: x\n\n'],
      ['a NUL in a header value', 'GET /api/v1/activities HTTP/1.1\r\nHost: x\r\nX-Nul: a\u0000b\r\n\r\n'],
      [
        'raw non-ASCII in the URL',
        Buffer.from('GET /api/v1/activities?search=\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n', 'utf8'),
      ],
      [
        'Content-Length with Transfer-Encoding',
        'POST /api/v1/activities HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      ],
      ['an unknown method', 'FOO /api/v1/activities HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['a space in a header name', 'GET /api/v1/activities HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n'],
      [
        'two different Content-Lengths',
        'POST /api/v1/activities HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      ],
    ];

    it.each(PARSER_ERRORS)(
      '33. %s: 400 in the envelope with the standard headers, Connection: close, and the connection closed',
      async (_name, bytes) => {
        const normal = await rawGet('/api/v1/nothing-here', ['Host: 127.0.0.1']);
        expect(normal.status).toBe(404);
        const res = await rawRequest(port, bytes);
        expect({ status: res.status, body: res.json }).toEqual({
          status: 400,
          body: {
            code: 'BAD_REQUEST',
            message: 'The request is not valid HTTP/1.1.',
            details: expect.any(String),
            validationErrors: null,
            timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          },
        });
        expect(standardHeaders(res.headers)).toEqual(standardHeaders(normal.headers));
        expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
        expect(res.headers.connection).toBe('close');
        expect(res.closed).toBe(true);
      },
    );

    it.each([
      [
        'a 20 KB header',
        `GET /api/v1/activities HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      ],
      ['a 20 KB URL', `GET /api/v1/activities?search=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
    ])('33. %s: 431 HEADERS_TOO_LARGE in the envelope, Connection: close', async (_name, bytes) => {
      const normal = await rawGet('/api/v1/nothing-here', ['Host: 127.0.0.1']);
      const res = await rawRequest(port, bytes);
      expect({ status: res.status, body: res.json }).toEqual({
        status: 431,
        body: {
          code: 'HEADERS_TOO_LARGE',
          message: "The request line and headers exceed the server's limit of 16 KB.",
          details: null,
          validationErrors: null,
          timestamp: expect.any(String),
        },
      });
      expect(standardHeaders(res.headers)).toEqual(standardHeaders(normal.headers));
      expect([res.headers.connection, res.closed]).toEqual(['close', true]);
    });

    it('33. after a 431, a keep-alive client’s next request goes through on a new connection', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const send = (headers: Record<string, string>) =>
        new Promise<{ status: number; connection: string | undefined; socket: object }>((resolve, reject) => {
          const req = httpRequest(
            { host: '127.0.0.1', port, path: `/api/v1/activities/${runId}`, agent, headers },
            (res) => {
              res.resume();
              res.on('end', () =>
                resolve({
                  status: res.statusCode ?? 0,
                  connection: res.headers.connection,
                  socket: req.socket as object,
                }),
              );
            },
          );
          req.on('error', reject);
          req.end();
        });
      try {
        const first = await send(bearer(adminToken()));
        const refused = await send({ ...bearer(adminToken()), 'X-Big': 'a'.repeat(20_000) });
        const next = await send(bearer(adminToken()));
        expect([first.status, refused.status, refused.connection, next.status]).toEqual([
          200,
          431,
          'close',
          200,
        ]);
        expect(refused.socket).toBe(first.socket);
        expect(next.socket).not.toBe(first.socket);
      } finally {
        agent.destroy();
      }
    });

    it('33. a path with broken percent-encoding (a framework error) carries the standard headers and a request id', async () => {
      const normal = await rawGet('/api/v1/nothing-here', ['Host: 127.0.0.1']);
      const res = await rawGet('/api/v1/activities/%zz', ['Host: 127.0.0.1', 'X-Request-Id: trace-33']);
      expect({ status: res.status, body: res.json }).toEqual({
        status: 400,
        body: BROKEN_ENCODING('path'),
      });
      expect(standardHeaders(res.headers)).toEqual(standardHeaders(normal.headers));
      expect(res.headers['x-request-id']).toBe('trace-33');
    });

    it('33. an HTTP/1.1 request without Host is a 400 in the envelope, and a method Fastify does not route a 404', async () => {
      const normal = await rawGet('/api/v1/nothing-here', ['Host: 127.0.0.1']);
      const noHost = await rawGet(`/api/v1/activities/${runId}`, [`Authorization: Bearer ${adminToken()}`]);
      expect({ status: noHost.status, body: noHost.json }).toEqual({
        status: 400,
        body: {
          code: 'BAD_REQUEST',
          message: 'An HTTP/1.1 request needs a Host header.',
          details: null,
          validationErrors: null,
          timestamp: expect.any(String),
        },
      });
      expect(standardHeaders(noHost.headers)).toEqual(standardHeaders(normal.headers));
      const propfind = await rawRequest(port, 'PROPFIND /api/v1/activities HTTP/1.1\r\nHost: x\r\n\r\n');
      expect([propfind.status, (propfind.json as { code: string }).code]).toEqual([404, 'NOT_FOUND']);
      expect(standardHeaders(propfind.headers)).toEqual(standardHeaders(normal.headers));
    });

    it('34. two Authorization headers are a 400, even when both carry the same valid token', async () => {
      const authorization = `Authorization: Bearer ${adminToken()}`;
      for (const path of allRoutes()) {
        const res = await rawGet(path, ['Host: 127.0.0.1', authorization, authorization]);
        expect({ path, status: res.status, body: res.json }).toEqual({
          path,
          status: 400,
          body: {
            code: 'BAD_REQUEST',
            message: 'The request repeats the Authorization header.',
            details: null,
            validationErrors: null,
            timestamp: expect.any(String),
          },
        });
        expect(res.headers['x-content-type-options']).toBe('nosniff');
      }
      const once = await rawGet(`/api/v1/activities/${runId}`, ['Host: 127.0.0.1', authorization]);
      expect(once.status).toBe(200);
    });

    it('34. two Host headers are a 400, and so are two X-API-Key headers', async () => {
      const res = await rawGet(`/api/v1/activities/${runId}`, [
        'Host: 127.0.0.1',
        'Host: internal.example',
        `Authorization: Bearer ${adminToken()}`,
      ]);
      expect([res.status, (res.json as { message: string }).message]).toEqual([
        400,
        'The request repeats the Host header.',
      ]);
      const keys = await rawGet(`/api/v1/activities/${runId}`, [
        'Host: 127.0.0.1',
        'X-API-Key: a',
        'x-api-key: b',
      ]);
      expect([keys.status, (keys.json as { message: string }).message]).toEqual([
        400,
        'The request repeats the X-API-Key header.',
      ]);
    });

    it.each([
      [
        'issued beyond the clock skew in the future',
        () => token({ role: 'Administrator', iat: Math.floor(Date.now() / 1000) + 120 }),
      ],
      [
        'claiming to be issued in 2100, living 5 minutes from then',
        () => token({ role: 'Administrator', iat: 4102444800 }),
      ],
      [
        'with a JWS crit header naming an unknown extension',
        () =>
          sign({ role: 'Administrator' }, TEST_SECRET, {
            algorithm: 'HS256',
            expiresIn: '5m',
            header: { alg: 'HS256', crit: ['urn:example:unknown'], 'urn:example:unknown': true } as never,
          }),
      ],
    ])('35. a token %s is a 401', async (_name, jwt) => {
      for (const path of allRoutes()) await expectUnauthorised(path, bearer(jwt()));
    });

    it('35. a token issued a little in the future, within the clock skew, is accepted', async () => {
      const jwt = token({ role: 'Administrator', iat: Math.floor(Date.now() / 1000) + 10 });
      await get(`/api/v1/activities/${runId}`, bearer(jwt)).expect(200);
    });

    it.each([
      ['%FF%FE', 'search'],
      ['%E0%A4%A', 'search'],
      ['%zz', 'search'],
    ])(
      '36. broken percent-encoding %s in a query value is a 400 naming the parameter',
      async (value, name) => {
        const res = await get(`/api/v1/activities/${runId}/items?page=1&${name}=${value}`).expect(400);
        expect(res.body).toEqual(BROKEN_ENCODING(name));
        const exported = await get(`/api/v1/activities/${runId}/items/export?${name}=${value}`).expect(400);
        expect(exported.body).toEqual(BROKEN_ENCODING(name));
      },
    );

    it('36. broken percent-encoding in a parameter name or a list value is a 400 naming it, on every route', async () => {
      for (const path of allRoutes()) {
        const res = await get(`${path}?%FF=1`).expect(400);
        expect(res.body).toEqual(BROKEN_ENCODING('%FF'));
      }
      const list = await get('/api/v1/activities?connectedSystemName=LDAP,%E2%82').expect(400);
      expect(list.body).toEqual(BROKEN_ENCODING('connectedSystemName'));
      const encoded = await get(
        `/api/v1/activities/${runId}/items?search=${encodeURIComponent('100%')}`,
      ).expect(200);
      expect(encoded.body.items.map((item: { displayName: string }) => item.displayName)).toEqual([
        'Ann 100% Archer',
      ]);
    });

    it('36. broken percent-encoding is judged after the credentials: without a token it is a 401', async () => {
      await expectUnauthorised(`/api/v1/activities/${runId}/items?search=%FF`, {});
    });

    it("39. HEAD on every read route is a 404 in the envelope's headers, and the export is not run", async () => {
      const exports = jest.spyOn(t.service, 'exportItems');
      try {
        for (const path of allRoutes()) {
          const res = await request(t.http).head(path).set(bearer(adminToken()));
          expect({ path, status: res.status }).toEqual({ path, status: 404 });
          expect(res.headers['content-type']).toMatch(/^application\/json/);
          expect(res.headers['x-content-type-options']).toBe('nosniff');
          expect(res.headers['cache-control']).toBe('no-store');
          expect(res.headers['x-request-id']).toEqual(expect.any(String));
        }
        expect(exports).not.toHaveBeenCalled();
      } finally {
        exports.mockRestore();
      }
      const headBody = await rawRequest(
        port,
        `HEAD /api/v1/activities/${runId}/items/export HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${adminToken()}\r\n\r\n`,
        { head: true },
      );
      expect(headBody.status).toBe(404);
      await request(t.http).head('/health/live').expect(200);
    });
  });

  it('the activity that is not a run profile answers 400 BAD_REQUEST on the item routes, never a 500', async () => {
    for (const path of routes(otherId, MISSING).slice(1)) {
      const res = await get(path).expect(400);
      expect(res.body.code).toBe('BAD_REQUEST');
    }
  });
});
