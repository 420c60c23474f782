import type { AuthConfig } from './auth-config';
import { bearerToken, JwtStrategy } from './jwt.strategy';

const config: AuthConfig = {
  kind: 'secret',
  secret: 'unit-test-secret-that-is-at-least-32-characters',
  algorithms: ['HS256'],
  generatedForDevelopment: false,
  issuer: null,
  audience: null,
  maxLifetimeSeconds: 3600,
  clockToleranceSeconds: 30,
};

const now = () => Math.floor(Date.now() / 1000);
const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');

describe('JwtStrategy.validate', () => {
  const strategy = new JwtStrategy(config);

  it.each([
    ['issued now, living an hour', () => ({ iat: now(), exp: now() + 3600 })],
    ['issued within the clock tolerance ahead', () => ({ iat: now() + 20, exp: now() + 600 })],
    ['without iat, living an hour from now', () => ({ exp: now() + 3600 })],
    ['without iat, valid from nbf', () => ({ nbf: now() - 60, exp: now() + 3000 })],
  ])('accepts a token %s', (_name, claims) => {
    const payload = claims();
    expect(strategy.validate(payload)).toBe(payload);
  });

  it.each([
    ['without exp', () => ({ iat: now() })],
    ['issued beyond the clock tolerance ahead', () => ({ iat: now() + 31, exp: now() + 600 })],
    ['claiming to be issued in 2100', () => ({ iat: 4102444800, exp: 4102444800 + 600 })],
    ['living longer than the maximum', () => ({ iat: now(), exp: now() + 3601 })],
    ['without iat, living longer than the maximum from now', () => ({ exp: now() + 3700 })],
    ['with iat that is not a number', () => ({ iat: String(now()), exp: now() + 600 })],
  ])('refuses a token %s', (_name, claims) => {
    expect(strategy.validate(claims())).toBe(false);
  });
});

describe('bearerToken', () => {
  const withHeader = (header: object) => `${encode(header)}.${encode({ sub: 'x' })}.c2lnbmF0dXJl`;
  const extract = (authorization: string | undefined) => bearerToken({ headers: { authorization } });

  it('takes the one token after Bearer', () => {
    const token = withHeader({ alg: 'HS256', typ: 'JWT' });
    expect(extract(`Bearer ${token}`)).toBe(token);
  });

  it.each([
    ['an unknown extension', { alg: 'HS256', crit: ['exp-ext'], 'exp-ext': true }],
    ['b64 (RFC 7797), which this service does not implement', { alg: 'HS256', b64: false, crit: ['b64'] }],
    ['an empty list', { alg: 'HS256', crit: [] }],
  ])('refuses a token whose header marks %s critical', (_name, header) => {
    expect(extract(`Bearer ${withHeader(header)}`)).toBeNull();
  });

  it.each([undefined, 'Basic YWJj', 'Bearer a.b.c d.e.f'])('finds no token in %p', (authorization) => {
    expect(extract(authorization)).toBeNull();
  });
});
