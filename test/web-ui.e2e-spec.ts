import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { ConfigError } from '../src/config/app-config';
import { loadWebUiConfig } from '../src/config/web-ui-config';
import { createTestApp, type TestApp } from './support/test-app';
import { adminToken, bearer } from './support/tokens';

const TIMESTAMP = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
const INDEX =
  '<!doctype html><html lang="en"><title>Run history</title><script type="module" src="/assets/app-1a2b3c.js"></script></html>';
const SCRIPT = 'console.log("viewer");';
const PAGE_CSP =
  "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:;font-src 'self';connect-src 'self';" +
  "object-src 'none';frame-src 'none';worker-src 'none';base-uri 'none';form-action 'self';frame-ancestors 'none'";
const API_CSP = "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'";
const RUN = '7d3e2a10-5c4b-4f6e-9a8d-1b2c3d4e5f60';

/** A built app as `vite build` lays it out, with known content. */
function fakeBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'web-ui-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets', 'app-1a2b3c.js'), SCRIPT);
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return dir;
}

const notFound = (_path: string) => ({
  code: 'NOT_FOUND',
  message: 'No such resource.',
  details: null,
  validationErrors: null,
  timestamp: TIMESTAMP,
});

describe('the run viewer at /', () => {
  const dist = fakeBuild();
  afterAll(() => rmSync(dist, { recursive: true, force: true }));

  describe('served (UI_ENABLED=true, no identity provider)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ UI_ENABLED: 'true', UI_DIST_DIR: dist });
    });
    afterAll(() => t?.close());

    it.each([
      '/',
      '/runs',
      `/runs/${RUN}`,
      `/runs/${RUN}?hasError=true&sortBy=displayName`,
      '/auth/callback?code=x&state=y',
    ])('%s answers the page, without credentials, under the pages’ CSP', async (path) => {
      const res = await request(t.http).get(path).expect(200);
      expect(res.text).toBe(INDEX);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toBe(PAGE_CSP);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    });

    it('serves the hashed assets for a year, under the same CSP', async () => {
      const res = await request(t.http).get('/assets/app-1a2b3c.js').expect(200);
      expect(res.text).toBe(SCRIPT);
      expect(res.headers['content-type']).toBe('application/javascript; charset=utf-8');
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(res.headers['content-security-policy']).toBe(PAGE_CSP);
    });

    it('no CSP of the viewer allows inline script, eval or another origin’s script', () => {
      expect(PAGE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:/);
    });

    it('serves its settings without credentials and never caches them', async () => {
      const res = await request(t.http).get('/ui-config.json').expect(200);
      expect(res.body).toEqual({ apiBase: '/api/v1', oidc: null });
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('leaves the API, its CSP and its 404s as they were', async () => {
      const api = await request(t.http).get('/api/v1/activities').set(bearer(adminToken())).expect(200);
      expect(api.headers['content-security-policy']).toBe(API_CSP);
      expect(api.headers['cache-control']).toBe('no-store');
      const unknown = await request(t.http).get('/assets/missing.js').expect(404);
      expect(unknown.body).toEqual(notFound('/assets/missing.js'));
      expect(unknown.headers['content-security-policy']).toBe(API_CSP);
      const outside = await request(t.http).get('/runsx').expect(404);
      expect(outside.body).toEqual(notFound('/runsx'));
    });

    it('answers a dotted path outside the build with a 404, not a file', async () => {
      const res = await request(t.http)
        .get('/assets/../index.html')
        .expect((r) => expect([200, 404]).toContain(r.status));
      if (res.status === 200) expect(res.text).toBe(INDEX);
      await request(t.http).get('/assets/%2e%2e/%2e%2e/package.json').expect(404);
    });
  });

  describe('with an identity provider', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({
        UI_ENABLED: 'true',
        UI_DIST_DIR: dist,
        UI_OIDC_AUTHORITY: 'https://login.example.test/realms/identity',
        UI_OIDC_CLIENT_ID: 'run-viewer',
        UI_OIDC_RESOURCE: 'https://api.example.test/execution-items',
      });
    });
    afterAll(() => t?.close());

    it('tells the page where to sign in, and lets it call the provider', async () => {
      const res = await request(t.http).get('/ui-config.json').expect(200);
      expect(res.body).toEqual({
        apiBase: '/api/v1',
        oidc: {
          authority: 'https://login.example.test/realms/identity',
          clientId: 'run-viewer',
          scope: 'openid profile',
          resource: 'https://api.example.test/execution-items',
        },
      });
      const page = await request(t.http).get('/').expect(200);
      expect(page.headers['content-security-policy']).toContain(
        "connect-src 'self' https://login.example.test;",
      );
    });
  });

  describe('UI_ENABLED=false', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ UI_ENABLED: 'false', UI_DIST_DIR: dist });
    });
    afterAll(() => t?.close());

    it.each(['/', '/ui-config.json', '/assets/app-1a2b3c.js', `/runs/${RUN}`])(
      '%s is a 404 in the envelope',
      async (path) => {
        const res = await request(t.http).get(path).expect(404);
        expect(res.body).toEqual(notFound(path));
        expect(res.headers['content-security-policy']).toBe(API_CSP);
      },
    );
  });

  describe('configuration', () => {
    it.each([
      [
        { UI_OIDC_AUTHORITY: 'https://idp.test' },
        'Set both UI_OIDC_AUTHORITY and UI_OIDC_CLIENT_ID to sign in with an identity provider, or neither.',
      ],
      [
        { UI_OIDC_CLIENT_ID: 'viewer' },
        'Set both UI_OIDC_AUTHORITY and UI_OIDC_CLIENT_ID to sign in with an identity provider, or neither.',
      ],
      [
        { UI_OIDC_AUTHORITY: 'idp.test', UI_OIDC_CLIENT_ID: 'viewer' },
        'UI_OIDC_AUTHORITY must be an http(s) URL.',
      ],
      [
        { UI_OIDC_AUTHORITY: 'https://idp.test', UI_OIDC_CLIENT_ID: 'viewer', UI_OIDC_SCOPE: 'profile' },
        'UI_OIDC_SCOPE must include openid.',
      ],
      [{ UI_ENABLED: 'yes' }, 'UI_ENABLED must be true or false, got "yes".'],
    ])('%j is refused: %s', (env, message) => {
      expect(() => loadWebUiConfig(env)).toThrow(new ConfigError(message));
    });
  });
});
