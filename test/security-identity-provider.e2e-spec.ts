import { createServer, type Server } from 'node:http';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { sign, type SignOptions } from 'jsonwebtoken';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/test-app';
import { bearer } from './support/tokens';

/**
 * Catalogue cases 3, 4, 6 and 8 (`../shared/docs/security-cases.md`) against tokens from an
 * identity provider: RS256 keys served at a JWKS URL, with an issuer and an audience configured.
 */

const UNAUTHORISED = {
  code: 'UNAUTHORISED',
  message: 'A valid bearer token is required.',
  details: null,
  validationErrors: null,
  timestamp: expect.any(String),
};

describe('security catalogue, A. tokens from an identity provider (JWKS, issuer and audience)', () => {
  let idp: TestApp;
  let jwks: Server;
  let jwksRequests = 0;
  let signingKey: KeyObject;
  let publicPem: string;
  const kid = 'idp-key-1';
  const issuer = 'https://idp.example.test/';
  const audience = 'execution-items';

  beforeAll(async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    signingKey = pair.privateKey;
    publicPem = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const body = JSON.stringify({
      keys: [{ ...pair.publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }],
    });
    jwks = createServer((_req, res) => {
      jwksRequests += 1;
      res.setHeader('content-type', 'application/json');
      res.end(body);
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const { port } = jwks.address() as { port: number };
    idp = await createTestApp({
      AUTH_JWT_SECRET: '',
      AUTH_JWKS_URI: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      AUTH_JWT_ISSUER: issuer,
      AUTH_JWT_AUDIENCE: audience,
    });
  });

  afterAll(async () => {
    await idp?.close();
    await new Promise((resolve) => jwks?.close(resolve));
  });

  const idpToken = (
    claims: Record<string, unknown> = {},
    options: SignOptions = {},
    key: KeyObject | string = signingKey,
  ) =>
    sign({ role: 'Administrator', ...claims }, key, {
      algorithm: 'RS256',
      keyid: kid,
      expiresIn: '5m',
      issuer,
      audience,
      ...options,
    });
  const idpGet = (jwt: string) => request(idp.http).get('/api/v1/activities').set(bearer(jwt));
  async function refused(jwt: string): Promise<void> {
    const res = await idpGet(jwt).expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toEqual(UNAUTHORISED);
  }

  it('a token signed by the identity provider with our issuer and audience is accepted', async () => {
    await idpGet(idpToken()).expect(200);
  });

  it('3. HS256 signed with the RSA public key (algorithm confusion) is a 401', async () => {
    const confused = sign({ role: 'Administrator' }, publicPem, {
      algorithm: 'HS256',
      keyid: kid,
      expiresIn: '5m',
      issuer,
      audience,
    });
    await refused(confused);
  });

  it('3. RS256 signed by another key with the real kid is a 401', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await refused(idpToken({}, {}, privateKey));
  });

  it('3. an unknown kid is a 401', async () => {
    await refused(idpToken({}, { keyid: 'not-a-key' }));
  });

  it.each([
    ['path traversal', '../../../../etc/passwd'],
    ['SQL', "' OR 1=1; --"],
    ['10 KB long', 'k'.repeat(10_240)],
  ])('4. a kid with %s is a 401, never a 500', async (_name, hostileKid) => {
    await refused(idpToken({}, { keyid: hostileKid }));
  });

  it('6. a wrong issuer is a 401', async () => {
    await refused(idpToken({}, { issuer: 'https://evil.example.test/' }));
  });

  it('6. a wrong or missing audience is a 401; an aud array holding ours is accepted', async () => {
    await refused(idpToken({}, { audience: 'another-api' }));
    const { audience: _omit, ...withoutAudience } = { audience };
    void _omit;
    await refused(
      sign({ role: 'Administrator', ...withoutAudience }, signingKey, {
        algorithm: 'RS256',
        keyid: kid,
        expiresIn: '5m',
        issuer,
      }),
    );
    await idpGet(idpToken({}, { audience: ['another-api', audience] })).expect(200);
  });

  it('8. many random kids make a bounded number of JWKS fetches', async () => {
    const before = jwksRequests;
    for (let i = 0; i < 30; i++) await refused(idpToken({}, { keyid: randomUUID() }));
    expect(jwksRequests - before).toBeLessThanOrEqual(10);
  });
});
