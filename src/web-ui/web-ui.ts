import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { WebUiConfig } from '../config/web-ui-config';

/** The app's own paths, each answered with `index.html`; the app reads the rest of the URL itself. */
export const WEB_UI_PAGES = ['/', '/runs', '/runs/*', '/auth/callback'] as const;

/** The settings the page reads at start, before anyone has signed in. */
export const WEB_UI_CONFIG_PATH = '/ui-config.json';

/** What the page learns from `GET /ui-config.json`. */
export interface WebUiClientConfig {
  /** Where the API is, relative to the page's origin. */
  apiBase: string;
  oidc: { authority: string; clientId: string; scope: string; resource: string | null } | null;
}

/**
 * The pages' Content-Security-Policy: scripts, styles, fonts and images from this origin only
 * (no inline script or style element, no `eval`), calls to this origin and to the identity
 * provider (discovery and token requests), nothing framed and no framing.
 */
export function webUiContentSecurityPolicy(config: WebUiConfig) {
  const connectSrc = ["'self'"];
  if (config.oidc) connectSrc.push(new URL(config.oidc.authority).origin);
  return {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc,
      objectSrc: ["'none'"],
      frameSrc: ["'none'"],
      workerSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  };
}

export function webUiClientConfig(config: WebUiConfig): WebUiClientConfig {
  return { apiBase: '/api/v1', oidc: config.oidc };
}

/** Hashed file names never change content: a year, and no revalidation. */
const ASSET_CACHE = 'public, max-age=31536000, immutable';
/** The page itself names the current assets: always revalidated (it holds no data). */
const PAGE_CACHE = 'no-cache';

/**
 * Serves the run viewer on the standalone app's Fastify instance: the built files with
 * `@fastify/static`, `index.html` at the app's own paths, and its settings at
 * `/ui-config.json`, all without credentials (the data comes from the API, which needs them),
 * under the CSP above. Does nothing when `UI_ENABLED=false`; when the app is not built, logs how
 * to build it and serves nothing. Call before `init`, after `registerHttpSecurity`.
 */
export async function registerWebUi(app: NestFastifyApplication, config: WebUiConfig): Promise<void> {
  if (!config.enabled) return;
  const root = config.distDir;
  if (!existsSync(join(root, 'index.html'))) {
    new Logger('WebUi').warn(
      `The run viewer is not built (no ${join(root, 'index.html')}): run npm run build.`,
    );
    return;
  }
  // Loaded only when the viewer is served.
  const { default: fastifyStatic } = await import('@fastify/static');
  const csp = webUiContentSecurityPolicy(config);
  const clientConfig = JSON.stringify(webUiClientConfig(config));
  await app.register(async (scope: FastifyInstance) => {
    // Every route of this scope gets the pages' CSP in place of the API's (helmet reads it per route).
    scope.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), helmet: { contentSecurityPolicy: csp } } as never;
    });
    await scope.register(fastifyStatic, {
      root,
      // One route per built file, read at start: an unknown path stays the API's 404.
      wildcard: false,
      index: false,
      serveDotFiles: false,
      // The Cache-Control below, not the plugin's own `public, max-age=0`.
      cacheControl: false,
      setHeaders: (reply, path) => {
        void reply.header('Cache-Control', path.startsWith(join(root, 'assets')) ? ASSET_CACHE : PAGE_CACHE);
      },
    });
    const page = (_request: unknown, reply: FastifyReply) => reply.sendFile('index.html');
    for (const path of WEB_UI_PAGES) scope.get(path, page);
    scope.get(WEB_UI_CONFIG_PATH, (_request, reply) =>
      reply.header('Cache-Control', 'no-store').type('application/json; charset=utf-8').send(clientConfig),
    );
  });
}
