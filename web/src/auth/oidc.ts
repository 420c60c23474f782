import type { UserManager } from 'oidc-client-ts';
import type { UiConfig } from '../api/types';
import { signIn } from './session';

/** Where the identity provider sends the browser back with the authorization code. */
export const CALLBACK_PATH = '/auth/callback';

/** The client, loaded on first use: a page that never signs in by OIDC never downloads it. */
let manager: Promise<UserManager> | null = null;
const listeners = new Set<() => void>();

/**
 * The identity provider, through oidc-client-ts: authorization code with PKCE (S256), a public
 * client without a secret, the request state in this tab's sessionStorage. No silent renew or
 * session-monitoring iframe (the pages' CSP frames nothing): when the access token expires the
 * API answers 401 and the viewer asks to sign in again.
 */
export function configureOidc(config: UiConfig['oidc']): void {
  manager = config
    ? import('oidc-client-ts').then(
        ({ UserManager, WebStorageStateStore }) =>
          new UserManager({
            authority: config.authority,
            client_id: config.clientId,
            redirect_uri: `${window.location.origin}${CALLBACK_PATH}`,
            post_logout_redirect_uri: `${window.location.origin}/`,
            response_type: 'code',
            scope: config.scope,
            ...(config.resource ? { resource: config.resource } : {}),
            loadUserInfo: false,
            automaticSilentRenew: false,
            monitorSession: false,
            userStore: new WebStorageStateStore({ store: window.sessionStorage }),
            stateStore: new WebStorageStateStore({ store: window.sessionStorage }),
          }),
      )
    : null;
  listeners.forEach((listener) => listener());
}

/** For `useSyncExternalStore`: the sign-in page shows the provider's button once the settings came. */
export function subscribeToOidc(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function oidcAvailable(): boolean {
  return manager !== null;
}

/** Leaves for the identity provider; comes back to `returnTo` after the callback. */
export async function startOidcSignIn(returnTo: string): Promise<void> {
  if (!manager) throw new Error('No identity provider is configured.');
  await (await manager).signinRedirect({ state: { returnTo } });
}

let completing: Promise<string> | null = null;

/** Completes the sign-in at the callback (once, however often it is asked); returns where to go next. */
export function completeOidcSignIn(settings: Promise<unknown>): Promise<string> {
  completing ??= settings.then(exchangeCode);
  return completing;
}

async function exchangeCode(): Promise<string> {
  if (!manager) throw new Error('No identity provider is configured.');
  const client = await manager;
  const user = await client.signinRedirectCallback();
  signIn({ kind: 'bearer', token: user.access_token, source: 'oidc' });
  await client.removeUser();
  const returnTo = (user.state as { returnTo?: unknown } | undefined)?.returnTo;
  return typeof returnTo === 'string' && returnTo.startsWith('/') && !returnTo.startsWith('//')
    ? returnTo
    : '/';
}
