import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import Provider from 'oidc-provider';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectAccessible, launch, newPage, screenshot } from './support/browser';
import { freePort, startService, type RunningService } from './support/service';

const RESOURCE = 'urn:execution-items:api';
const CLIENT_ID = 'run-viewer';
const DEMO_RUN = '7d3e2a10-5c4b-4f6e-9a8d-1b2c3d4e5f60';

/**
 * A real OpenID provider (oidc-provider) on loopback, and a second instance of the built service
 * that trusts only it (its JWKS, issuer and audience) and offers it on the sign-in screen. The
 * viewer signs in by authorization code with PKCE and calls the API with the access token.
 */
describe('sign-in with an OpenID Connect provider', () => {
  const databaseUrl = inject('databaseUrl');
  let issuer: string;
  let providerServer: Server;
  let service: RunningService;
  let browser: Browser;

  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    const servicePort = await freePort();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' };
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: CLIENT_ID,
          token_endpoint_auth_method: 'none',
          application_type: 'web',
          grant_types: ['authorization_code'],
          response_types: ['code'],
          redirect_uris: [`http://127.0.0.1:${servicePort}/auth/callback`],
        },
      ],
      jwks: { keys: [jwk] },
      cookies: { keys: [randomBytes(16).toString('hex')] },
      pkce: { required: () => true },
      scopes: ['openid', 'profile', 'items:read'],
      features: {
        devInteractions: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => RESOURCE,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({
            scope: 'items:read',
            audience: RESOURCE,
            accessTokenTTL: 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          }),
        },
      },
      // The role the API asks for, in the access token's `role` claim.
      extraTokenClaims: () => ({ role: 'Administrator' }),
      findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub, name: 'Jane Admin' }) }),
    });
    providerServer = provider.listen(port, '127.0.0.1') as unknown as Server;
    service = await startService(
      {
        DATABASE_URL: databaseUrl,
        DEMO_DATA: 'false',
        AUTH_JWKS_URI: `${issuer}/jwks`,
        AUTH_JWT_ISSUER: issuer,
        AUTH_JWT_AUDIENCE: RESOURCE,
        UI_OIDC_AUTHORITY: issuer,
        UI_OIDC_CLIENT_ID: CLIENT_ID,
        UI_OIDC_SCOPE: 'openid profile items:read',
        UI_OIDC_RESOURCE: RESOURCE,
      },
      servicePort,
    );
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    await new Promise((done) => providerServer?.close(done));
  });

  it('signs in at the provider with PKCE, returns to the linked run, and reads it with the access token', async () => {
    const { page, context, problems } = await newPage(browser);
    const authorizeRequests: URL[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(`${issuer}/auth`)) authorizeRequests.push(new URL(request.url()));
    });
    await page.goto(`${service.url}/runs/${DEMO_RUN}?hasError=true`);
    await page.getByRole('heading', { name: 'Sign in to the run history' }).waitFor();
    await screenshot(page, '14-sign-in-oidc');
    await expectAccessible(page, 'sign-in with a provider');
    await page.getByRole('button', { name: 'Sign in with your identity provider' }).click();

    // oidc-provider's development login form.
    await page.waitForURL((url) => url.href.startsWith(issuer));
    await page.locator('input[name="login"]').fill('jane.admin');
    await page.locator('input[name="password"]').fill('any password');
    await page.locator('button[type="submit"]').click();
    // Its consent page: the viewer asks for the API's scope.
    await page.getByRole('heading', { name: 'Authorize' }).waitFor();
    expect(await page.locator('body').textContent()).toContain('items:read');
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.getByRole('heading', { name: /HR Feed.*Full Synchronisation/ }).waitFor({ timeout: 20_000 });
    expect(page.url()).toBe(`${service.url}/runs/${DEMO_RUN}?hasError=true`);
    await page.locator('.items > .result-count').filter({ hasText: /items match/ }).waitFor();

    const authorize = authorizeRequests[0];
    expect(authorize.searchParams.get('response_type')).toBe('code');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('client_id')).toBe(CLIENT_ID);
    // Tokens stay in this tab: nothing in localStorage, and no code or state left in the address bar.
    expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);
    expect(new URL(page.url()).searchParams.get('code')).toBeNull();
    await screenshot(page, '15-signed-in-oidc');
    // The provider's own development pages ask for things this closed network cannot give; the viewer's pages must not.
    expect(problems.filter((problem) => !problem.startsWith('console:') || problem.includes(`(at ${service.url}`))).toEqual([]);
    await context.close();
  });
});
