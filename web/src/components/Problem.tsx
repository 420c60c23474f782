import { ApiProblem, sentenceFor } from '../api/errors';
import { signOut } from '../auth/session';

/**
 * An API failure as a sentence. A 403 offers to sign in with another account; a 429 or 503 says
 * it is waiting (TanStack Query retries after the server's `Retry-After`).
 */
export function Problem({ error, retrying = false }: { error: unknown; retrying?: boolean }) {
  const forbidden = error instanceof ApiProblem && error.status === 403;
  return (
    <div role="alert" className={retrying ? 'notice' : 'problem'}>
      <p>{sentenceFor(error)}</p>
      {forbidden && (
        <button type="button" className="button-secondary" onClick={() => signOut(null)}>
          Sign in with another account
        </button>
      )}
    </div>
  );
}

/** While a query retries (429, 503, network), the reason it is waiting; otherwise nothing. */
export function Waiting({ failureReason, isError }: { failureReason: unknown; isError: boolean }) {
  if (isError || !failureReason) return null;
  return <Problem error={failureReason} retrying />;
}
