import type { ErrorEnvelope } from './types';

/** A failed call, with the sentence a person reads and what the viewer does about it. */
export class ApiProblem extends Error {
  constructor(
    /** The HTTP status; 0 when the service could not be reached. */
    readonly status: number,
    /** The envelope's code (`FORBIDDEN`), or `NETWORK`. */
    readonly code: string,
    /** A sentence for a person: what happened and what happens next. */
    readonly sentence: string,
    /** Seconds to wait before trying again (429 and 503), from `Retry-After`. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(sentence);
    this.name = 'ApiProblem';
  }

  /** 429, 503 and network failures are worth trying again; the rest are not. */
  get retryable(): boolean {
    return this.status === 429 || this.status === 503 || this.status === 0;
  }
}

function retryAfter(headers: Headers): number | null {
  const value = headers.get('Retry-After');
  if (value === null) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Turns a non-2xx answer into a sentence. */
export function problemFromResponse(response: Response, body: Partial<ErrorEnvelope> | null): ApiProblem {
  const code = body?.code ?? `HTTP_${response.status}`;
  const wait = retryAfter(response.headers);
  switch (response.status) {
    case 401:
      return new ApiProblem(401, code, 'Your sign-in has expired or was not accepted. Please sign in again.');
    case 403: {
      const message = body?.message ?? '';
      const role = /requires the (.+?) role/.exec(message)?.[1];
      const roles = /requires one of the roles (.+?)\.$/.exec(message)?.[1];
      const needs = role
        ? `does not have the ${role} role, which this needs`
        : roles
          ? `has none of the roles ${roles}, one of which this needs`
          : null;
      return new ApiProblem(
        403,
        code,
        needs
          ? `You are signed in, but your account ${needs}. Ask whoever manages access to grant it, then sign in again.`
          : 'You are signed in, but your account is not allowed to see this. Ask whoever manages access for the right role.',
      );
    }
    case 404:
      return new ApiProblem(
        404,
        code,
        'This does not exist (any more): the run or item may have been deleted by the retention policy, or the link is wrong.',
      );
    case 400: {
      if (body?.validationErrors) {
        const [name, messages] = Object.entries(body.validationErrors)[0] ?? ['request', ['is not valid']];
        return new ApiProblem(
          400,
          code,
          `The service did not accept the address: ${name} ${messages.join('; ')}.`,
        );
      }
      return new ApiProblem(400, code, body?.message ?? 'The service did not accept the request.');
    }
    case 429:
      return new ApiProblem(
        429,
        code,
        `Too many requests in a short time: waiting ${plural(wait ?? 5, 'second')} before trying again.`,
        wait ?? 5,
      );
    case 503:
      return new ApiProblem(
        503,
        code,
        `The service cannot reach its database right now: trying again in ${plural(wait ?? 5, 'second')}.`,
        wait ?? 5,
      );
    default: {
      const requestId = response.headers.get('X-Request-Id');
      return new ApiProblem(
        response.status,
        code,
        `The service failed unexpectedly${requestId ? ` (request ${requestId})` : ''}. Try again; if it keeps failing, give this to the service's operators.`,
      );
    }
  }
}

export function networkProblem(): ApiProblem {
  return new ApiProblem(0, 'NETWORK', 'The service cannot be reached: trying again in 5 seconds.', 5);
}

/** The sentence for any error thrown while loading. */
export function sentenceFor(error: unknown): string {
  if (error instanceof ApiProblem) return error.sentence;
  return 'Something went wrong in the viewer. Reload the page to try again.';
}
