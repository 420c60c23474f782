import { resolve } from 'node:path';
import { boolean, ConfigError, text, type Env } from './env';

/** The identity provider the run viewer signs in with: OIDC authorization code with PKCE. */
export interface WebUiOidcConfig {
  /** The issuer URL; its `/.well-known/openid-configuration` names the endpoints. */
  authority: string;
  /** The public client (no secret) registered for the viewer at the identity provider. */
  clientId: string;
  /** Scopes asked for; `openid` at least. */
  scope: string;
  /** RFC 8707 resource indicator sent with the request, for providers that need one to issue an access token for this API; `null`: none. */
  resource: string | null;
}

/** Where `npm run build` puts the built app: `index.html`, `assets/` (hashed names) and `favicon.svg`. */
export const WEB_UI_DIST_DIR = resolve(__dirname, '..', '..', 'web', 'dist');

/** The run viewer: the browser app at `/`. */
export interface WebUiConfig {
  /** Serve the app at `/` (`UI_ENABLED`); `false`: `/` is a 404 like any unknown route. */
  enabled: boolean;
  /** The built app's folder (`UI_DIST_DIR`); by default `web/dist` of this package. */
  distDir: string;
  /** `null`: no identity provider; the viewer signs in with a pasted token or API key only. */
  oidc: WebUiOidcConfig | null;
}

/** Reads `UI_ENABLED` and the `UI_OIDC_*` variables; the provider needs an authority and a client id. */
export function loadWebUiConfig(env: Env): WebUiConfig {
  const enabled = boolean(env, 'UI_ENABLED', true);
  const distDir = resolve(text(env, 'UI_DIST_DIR') ?? WEB_UI_DIST_DIR);
  const authority = text(env, 'UI_OIDC_AUTHORITY');
  const clientId = text(env, 'UI_OIDC_CLIENT_ID');
  const scope = text(env, 'UI_OIDC_SCOPE') ?? 'openid profile';
  const resource = text(env, 'UI_OIDC_RESOURCE') ?? null;
  if (!authority && !clientId) return { enabled, distDir, oidc: null };
  if (!authority || !clientId) {
    throw new ConfigError(
      'Set both UI_OIDC_AUTHORITY and UI_OIDC_CLIENT_ID to sign in with an identity provider, or neither.',
    );
  }
  if (!isHttpUrl(authority)) throw new ConfigError('UI_OIDC_AUTHORITY must be an http(s) URL.');
  if (!scope.split(/\s+/).includes('openid')) throw new ConfigError('UI_OIDC_SCOPE must include openid.');
  return { enabled, distDir, oidc: { authority, clientId, scope, resource } };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
