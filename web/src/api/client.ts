import { authHeaders, signOut } from '../auth/session';
import { ApiProblem, networkProblem, problemFromResponse } from './errors';
import type { Activity, ActivityStats, DiffPage, ExecutionItemDetail, ItemPage, Page } from './types';

let apiBase = '/api/v1';

export function getApiBase(): string {
  return apiBase;
}

export function setApiBase(base: string): void {
  apiBase = base.replace(/\/+$/, '');
}

/** A query string from name → value or values; empty values are left out, lists are repeated. */
export function queryString(
  parameters: Record<string, string | readonly string[] | number | undefined | null>,
): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const one of value) search.append(name, one);
    else search.append(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * Calls the API with the signed-in credential. A 401 ends the session (the sign-in screen says
 * why); every other failure is thrown as an `ApiProblem` carrying its sentence.
 */
export async function apiFetch(path: string, init: { signal?: AbortSignal } = {}): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(`${apiBase}${path}`, {
      headers: { Accept: 'application/json', ...authHeaders() },
      signal: init.signal,
    });
  } catch (error) {
    if (init.signal?.aborted) throw error;
    throw networkProblem();
  }
  if (response.ok) return response;
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const problem = problemFromResponse(response, body);
  if (problem.status === 401) signOut(problem.sentence);
  throw problem;
}

async function json<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await apiFetch(path, { signal })).json() as Promise<T>;
}

export interface RunsFilter {
  status: string[];
  runType: string[];
  connectedSystemName: string[];
}

export const api = {
  listRuns: (filter: RunsFilter, page: number, pageSize: number, signal?: AbortSignal) =>
    json<Page<Activity>>(
      `/activities${queryString({ targetType: 'ConnectedSystemRunProfile', ...filter, page, pageSize })}`,
      signal,
    ),
  getActivity: (id: string, signal?: AbortSignal) =>
    json<Activity>(`/activities/${encodeURIComponent(id)}`, signal),
  getStats: (id: string, signal?: AbortSignal) =>
    json<ActivityStats>(`/activities/${encodeURIComponent(id)}/stats`, signal),
  listItems: (id: string, query: string, signal?: AbortSignal) =>
    json<ItemPage>(`/activities/${encodeURIComponent(id)}/items${query}`, signal),
  getItem: (id: string, itemId: string, signal?: AbortSignal) =>
    json<ExecutionItemDetail>(
      `/activities/${encodeURIComponent(id)}/items/${encodeURIComponent(itemId)}`,
      signal,
    ),
  /** The run against its baseline (by default the previous ended run of the same profile and type). */
  diff: (id: string, query: string, signal?: AbortSignal) =>
    json<DiffPage>(`/activities/${encodeURIComponent(id)}/diff${query}`, signal),
  /** The export as a file: its name from `Content-Disposition`, its content as a Blob. */
  exportItems: async (id: string, query: string): Promise<{ fileName: string; blob: Blob }> => {
    const response = await apiFetch(`/activities/${encodeURIComponent(id)}/items/export${query}`);
    const disposition = response.headers.get('Content-Disposition') ?? '';
    const fileName = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `items-${id}`;
    return { fileName, blob: await response.blob() };
  },
};

/** TanStack Query's retry rule: 429, 503 and network failures up to 5 times, as long as the server asks. */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  return error instanceof ApiProblem && error.retryable && failureCount < 5;
}

export function retryDelay(_attempt: number, error: unknown): number {
  return error instanceof ApiProblem && error.retryAfterSeconds !== null
    ? error.retryAfterSeconds * 1000
    : 2000;
}
