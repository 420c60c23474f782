import { useId, useState, useSyncExternalStore, type FormEvent } from 'react';
import { oidcAvailable, startOidcSignIn, subscribeToOidc } from './oidc';
import { credentialFromText, getEndReason, signIn, subscribe } from './session';

/**
 * The sign-in screen: the identity provider when one is configured, and always a form to paste
 * a bearer token or an API key.
 */
export function SignIn() {
  const reason = useSyncExternalStore(subscribe, getEndReason);
  // The settings arrive beside the first render; the provider's button appears with them.
  const withProvider = useSyncExternalStore(subscribeToOidc, oidcAvailable);
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [leaving, setLeaving] = useState(false);
  const fieldId = useId();
  const hintId = useId();
  const returnTo = `${window.location.pathname}${window.location.search}`;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const credential = credentialFromText(text);
    if (!credential) {
      setProblem('Paste a bearer token or an API key first.');
      return;
    }
    signIn(credential);
  };

  const useProvider = () => {
    setLeaving(true);
    startOidcSignIn(returnTo).catch((error: unknown) => {
      setLeaving(false);
      setProblem(
        `The identity provider cannot be reached (${error instanceof Error ? error.message : String(error)}). Try again, or paste a token below.`,
      );
    });
  };

  return (
    <main id="main" className="page narrow sign-in">
      <h1>Sign in to the run history</h1>
      {reason && (
        <p role="status" className="notice">
          {reason}
        </p>
      )}
      {withProvider && (
        <section aria-labelledby="sign-in-provider">
          <h2 id="sign-in-provider">With your organisation’s account</h2>
          <button type="button" className="button-primary" onClick={useProvider} disabled={leaving}>
            {leaving ? 'Opening the sign-in page…' : 'Sign in with your identity provider'}
          </button>
        </section>
      )}
      <section aria-labelledby="sign-in-token">
        <h2 id="sign-in-token">{withProvider ? 'Or with a token' : 'With a token'}</h2>
        <form onSubmit={submit}>
          <label htmlFor={fieldId}>Bearer token or API key</label>
          <p id={hintId} className="hint">
            A JWT with the Administrator role, or an API key (<code>eik_…</code>). It is kept in this tab only
            and forgotten when the tab closes.
          </p>
          <textarea
            id={fieldId}
            aria-describedby={hintId}
            rows={4}
            spellCheck={false}
            autoComplete="off"
            value={text}
            onChange={(event) => setText(event.target.value)}
          />
          {problem && (
            <p role="alert" className="problem">
              {problem}
            </p>
          )}
          <button type="submit" className={withProvider ? 'button-secondary' : 'button-primary'}>
            Sign in with this token
          </button>
        </form>
      </section>
    </main>
  );
}
