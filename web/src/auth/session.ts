/**
 * Who the viewer calls the API as: a bearer token (from the identity provider, a pasted token or
 * a `/#token=` link) or an API key. Kept in this tab's sessionStorage, never localStorage: it
 * survives a reload of the tab and is gone when the tab closes.
 */
export type Credential =
  { kind: 'bearer'; token: string; source: 'oidc' | 'pasted' | 'link' } | { kind: 'apiKey'; key: string };

const STORAGE_KEY = 'run-viewer.credential';
let current: Credential | null = read();
/** Why the last session ended, shown on the sign-in screen. */
let endedBecause: string | null = null;
const listeners = new Set<() => void>();

function read(): Credential | null {
  try {
    const stored = sessionStorage.getItem(STORAGE_KEY);
    return stored ? (JSON.parse(stored) as Credential) : null;
  } catch {
    return null;
  }
}

function emit(): void {
  for (const listener of listeners) listener();
}

export function getCredential(): Credential | null {
  return current;
}

export function getEndReason(): string | null {
  return endedBecause;
}

export function signIn(credential: Credential): void {
  current = credential;
  endedBecause = null;
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credential));
  emit();
}

/** Forgets the credential; `reason` is shown on the sign-in screen. */
export function signOut(reason: string | null = null): void {
  current = null;
  endedBecause = reason;
  sessionStorage.removeItem(STORAGE_KEY);
  emit();
}

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The headers that carry the credential. */
export function authHeaders(credential: Credential | null = current): Record<string, string> {
  if (!credential) return {};
  return credential.kind === 'bearer'
    ? { Authorization: `Bearer ${credential.token}` }
    : { 'X-API-Key': credential.key };
}

/** What was pasted into the sign-in form: an API key (`eik_…`) or a bearer token. */
export function credentialFromText(text: string): Credential | null {
  const value = text.trim().replace(/^Bearer\s+/i, '');
  if (value === '') return null;
  if (/^eik_[A-Za-z0-9]+$/.test(value)) return { kind: 'apiKey', key: value };
  return { kind: 'bearer', token: value, source: 'pasted' };
}

/**
 * `/#token=<bearer token>` signs in with that token. The fragment is removed from the address
 * bar (and from history) before anything else runs, so it is not left in the tab's history or
 * shown over a shoulder. Returns true when a token was taken.
 */
export function takeTokenFromFragment(
  location: Location = window.location,
  history: History = window.history,
): boolean {
  const hash = location.hash.replace(/^#/, '');
  if (!hash) return false;
  const parameters = new URLSearchParams(hash);
  const token = parameters.get('token');
  if (token === null) return false;
  history.replaceState(history.state, '', `${location.pathname}${location.search}`);
  if (token.trim() !== '') signIn({ kind: 'bearer', token: token.trim(), source: 'link' });
  return true;
}
