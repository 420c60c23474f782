import { setApiBase } from './api/client';
import type { UiConfig } from './api/types';
import { configureOidc } from './auth/oidc';

async function loadConfig(): Promise<UiConfig> {
  try {
    const response = await fetch('/ui-config.json', { headers: { Accept: 'application/json' } });
    if (response.ok) return (await response.json()) as UiConfig;
  } catch {
    // Served by a host without the config route: no identity provider, the API beside the page.
  }
  return { apiBase: '/api/v1', oidc: null };
}

/**
 * The page's settings, asked for as the script starts and applied when they come. The API is at
 * `/api/v1` until they say otherwise, so a signed-in page need not wait for them; the sign-in
 * page shows the identity provider's button once they are in, and the OIDC callback waits for them.
 */
export const settings: Promise<UiConfig> = loadConfig().then((config) => {
  setApiBase(config.apiBase);
  configureOidc(config.oidc);
  return config;
});
