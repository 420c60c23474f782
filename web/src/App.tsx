import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { completeOidcSignIn } from './auth/oidc';
import { getCredential, signOut, subscribe } from './auth/session';
import { SignIn } from './auth/SignIn';
import { followLink, navigate, routeOf, useLocation } from './routing';
import { settings } from './settings';
import { ChangesPage } from './views/ChangesPage';
import { RunPage } from './views/RunPage';
import { RunsPage } from './views/RunsPage';

export function App() {
  const credential = useSyncExternalStore(subscribe, getCredential);
  const location = useLocation();
  const route = routeOf(location.pathname);
  const queryClient = useQueryClient();

  // Another principal must not see the previous one's cached answers.
  useEffect(() => {
    if (!credential) queryClient.clear();
  }, [credential, queryClient]);

  if (route.name === 'callback') return <Callback />;
  if (!credential) return <SignIn />;

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <a className="app-title" href="/" onClick={followLink}>
          Run history
        </a>
        <span className="signed-in-as">
          {credential.kind === 'apiKey' ? 'Signed in with an API key' : 'Signed in'}
        </span>
        <button type="button" className="button-quiet" onClick={() => signOut('You signed out.')}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {route.name === 'runs' && <RunsPage />}
        {route.name === 'run' && <RunPage runId={route.runId} />}
        {route.name === 'changes' && <ChangesPage runId={route.runId} />}
        {route.name === 'notFound' && (
          <section className="page">
            <h1>Page not found</h1>
            <p>
              There is no page at this address.{' '}
              <a href="/" onClick={followLink}>
                See all runs
              </a>
              .
            </p>
          </section>
        )}
      </main>
    </>
  );
}

/** The identity provider's redirect back: exchanges the code (with the PKCE verifier) for tokens. */
function Callback() {
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    completeOidcSignIn(settings).then(
      (returnTo) => !cancelled && navigate(returnTo, { replace: true }),
      (error: unknown) =>
        !cancelled &&
        setProblem(
          `Signing in with the identity provider did not complete: ${error instanceof Error ? error.message : String(error)}.`,
        ),
    );
    return () => {
      cancelled = true;
    };
  }, []);
  return (
    <main id="main" className="page narrow">
      <h1>Signing in…</h1>
      {problem ? (
        <p role="alert" className="problem">
          {problem} <a href="/">Try again</a>.
        </p>
      ) : (
        <p>Completing the sign-in with your identity provider.</p>
      )}
    </main>
  );
}
