import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { retryDelay, setApiBase, shouldRetry } from './api/client';
import type { UiConfig } from './api/types';
import { App } from './App';
import { configureOidc } from './auth/oidc';
import { takeTokenFromFragment } from './auth/session';
import './styles.css';

// Before anything else: a `/#token=` link signs in and leaves the address bar at once.
takeTokenFromFragment();

async function loadConfig(): Promise<UiConfig> {
  try {
    const response = await fetch('/ui-config.json', { headers: { Accept: 'application/json' } });
    if (response.ok) return (await response.json()) as UiConfig;
  } catch {
    // Served by a host without the config route: no identity provider, the API beside the page.
  }
  return { apiBase: '/api/v1', oidc: null };
}

const queryClient = new QueryClient({
  defaultOptions: {
    queries: { retry: shouldRetry, retryDelay, refetchOnWindowFocus: false, staleTime: 30_000 },
  },
});

void loadConfig().then((config) => {
  setApiBase(config.apiBase);
  configureOidc(config.oidc);
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>
    </StrictMode>,
  );
});
