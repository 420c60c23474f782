import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { retryDelay, shouldRetry } from './api/client';
import { App } from './App';
import { takeTokenFromFragment } from './auth/session';
import { prefetchPage } from './prefetch';
import './settings';
import './styles.css';

// Before anything else: a `/#token=` link signs in and leaves the address bar at once.
takeTokenFromFragment();

const queryClient = new QueryClient({
  defaultOptions: {
    queries: { retry: shouldRetry, retryDelay, refetchOnWindowFocus: false, staleTime: 30_000 },
  },
});

// The page's data is on its way while React renders it, and the settings beside both.
prefetchPage(queryClient);
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
