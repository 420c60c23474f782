import { afterEach, describe, expect, it, vi } from 'vitest';
import { getCredential, getEndReason, signIn, signOut } from '../auth/session';
import { api, shouldRetry, retryDelay } from './client';
import { ApiProblem, problemFromResponse } from './errors';

const envelope = (code: string, message: string) => ({
  code,
  message,
  details: null,
  validationErrors: null,
  timestamp: '2026-11-27T18:00:00.000Z',
});
const response = (status: number, headers: Record<string, string> = {}) =>
  new Response(null, { status, headers });

describe('API errors as sentences', () => {
  afterEach(() => signOut());

  it('403 names every role that would do when the API accepts several', () => {
    const problem = problemFromResponse(
      new Response(null, { status: 403 }),
      envelope('FORBIDDEN', 'This requires one of the roles Administrator or Synchronisation Readers.'),
    );
    expect(problem.message).toBe(
      'You are signed in, but your account has none of the roles Administrator or Synchronisation Readers, one of which this needs. Ask whoever manages access to grant it, then sign in again.',
    );
  });

  it('403 names the missing role from the API message', () => {
    const problem = problemFromResponse(
      response(403),
      envelope('FORBIDDEN', 'This requires the Administrator role.'),
    );
    expect(problem.sentence).toBe(
      'You are signed in, but your account does not have the Administrator role, which this needs. Ask whoever manages access to grant it, then sign in again.',
    );
  });

  it('429 and 503 wait as long as Retry-After says, and are retried', () => {
    const limited = problemFromResponse(
      response(429, { 'Retry-After': '12' }),
      envelope('TOO_MANY_REQUESTS', 'Too many requests.'),
    );
    expect(limited.sentence).toBe(
      'Too many requests in a short time: waiting 12 seconds before trying again.',
    );
    expect(shouldRetry(1, limited)).toBe(true);
    expect(retryDelay(1, limited)).toBe(12_000);
    const down = problemFromResponse(
      response(503, { 'Retry-After': '1' }),
      envelope('SERVICE_UNAVAILABLE', 'x'),
    );
    expect(down.sentence).toBe('The service cannot reach its database right now: trying again in 1 second.');
    expect(shouldRetry(5, down)).toBe(false);
  });

  it('a validation error names the parameter', () => {
    const problem = problemFromResponse(response(400), {
      ...envelope('VALIDATION_ERROR', 'The request is not valid.'),
      validationErrors: { sortBy: ['must be one of sequence, displayName'] },
    });
    expect(problem.sentence).toBe(
      'The service did not accept the address: sortBy must be one of sequence, displayName.',
    );
    expect(shouldRetry(0, problem)).toBe(false);
  });

  it('a 401 ends the session with the reason shown on the sign-in screen', async () => {
    signIn({ kind: 'bearer', token: 'expired', source: 'pasted' });
    vi.spyOn(globalThis, 'fetch').mockResolvedValue(
      new Response(JSON.stringify(envelope('UNAUTHORISED', 'A valid bearer token is required.')), {
        status: 401,
      }),
    );
    await expect(api.getActivity('7d3e2a10-5c4b-4f6e-9a8d-1b2c3d4e5f60')).rejects.toBeInstanceOf(ApiProblem);
    expect(getCredential()).toBeNull();
    expect(getEndReason()).toBe('Your sign-in has expired or was not accepted. Please sign in again.');
  });

  it('a 500 gives the request id to pass on', () => {
    const problem = problemFromResponse(
      response(500, { 'X-Request-Id': 'req-42' }),
      envelope('INTERNAL_ERROR', 'x'),
    );
    expect(problem.sentence).toBe(
      "The service failed unexpectedly (request req-42). Try again; if it keeps failing, give this to the service's operators.",
    );
  });
});
