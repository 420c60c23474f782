import { useSyncExternalStore } from 'react';

/**
 * The address bar is the view's state: every view is a path and a query string, so a copied
 * link or a reload gives the same view. A change pushes a history entry (Back returns to the
 * previous view) or, for typing in the search box, replaces the current one.
 */
const NAVIGATED = 'run-viewer:navigated';

function subscribe(listener: () => void): () => void {
  window.addEventListener('popstate', listener);
  window.addEventListener(NAVIGATED, listener);
  return () => {
    window.removeEventListener('popstate', listener);
    window.removeEventListener(NAVIGATED, listener);
  };
}

const snapshot = () => `${window.location.pathname}${window.location.search}`;

/** The current path and query, re-rendering on every navigation. */
export function useLocation(): { pathname: string; search: URLSearchParams; href: string } {
  const href = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(href, 'http://viewer.invalid');
  return { pathname: url.pathname, search: url.searchParams, href };
}

export function navigate(href: string, options: { replace?: boolean } = {}): void {
  if (href === snapshot()) return;
  if (options.replace) window.history.replaceState(null, '', href);
  else window.history.pushState(null, '', href);
  window.dispatchEvent(new Event(NAVIGATED));
}

export type Route =
  | { name: 'runs' }
  | { name: 'run'; runId: string }
  | { name: 'changes'; runId: string }
  | { name: 'callback' }
  | { name: 'notFound' };

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function routeOf(pathname: string): Route {
  if (pathname === '/' || pathname === '/runs' || pathname === '/runs/') return { name: 'runs' };
  if (pathname === '/auth/callback') return { name: 'callback' };
  const run = /^\/runs\/([^/]+)\/?$/.exec(pathname);
  if (run && GUID.test(run[1])) return { name: 'run', runId: run[1].toLowerCase() };
  const changes = /^\/runs\/([^/]+)\/changes\/?$/.exec(pathname);
  if (changes && GUID.test(changes[1])) return { name: 'changes', runId: changes[1].toLowerCase() };
  return { name: 'notFound' };
}

/** Follows a link without reloading the page, unless the user asked for a new tab or window. */
export function followLink(event: React.MouseEvent<HTMLAnchorElement>): void {
  if (
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    event.altKey
  )
    return;
  event.preventDefault();
  navigate(event.currentTarget.getAttribute('href') ?? '/');
}
