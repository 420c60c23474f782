import { authHeaders, signOut } from '../auth/session';
import { problemFromResponse } from './errors';

/** One server-sent event: its type (`message` when the stream names none), id and data. */
export interface ServerSentEvent {
  event: string;
  id: string | null;
  data: string;
}

/**
 * The text/event-stream format, fed in chunks as they arrive (a chunk may end anywhere, even
 * inside a line or between a CR and its LF). Comments (`: keep-alive`) and `retry:` are skipped;
 * an event is dispatched at a blank line when it has data.
 */
export class EventStreamParser {
  private buffer = '';
  private pendingCr = false;
  private event = '';
  private data: string[] = [];
  private id: string | null = null;
  /** The last `id:` seen, as a reconnecting client sends it in `Last-Event-ID`. */
  lastEventId: string | null = null;

  constructor(private readonly onEvent: (event: ServerSentEvent) => void) {}

  feed(chunk: string): void {
    let text = chunk;
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    let start = 0;
    for (let index = 0; index < this.buffer.length; index++) {
      const char = this.buffer[index];
      if (char !== '\n' && char !== '\r') continue;
      this.line(this.buffer.slice(start, index));
      if (char === '\r') {
        if (index + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer[index + 1] === '\n') index++;
      }
      start = index + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) {
        this.onEvent({ event: this.event || 'message', id: this.id, data: this.data.join('\n') });
      }
      this.event = '';
      this.data = [];
      this.id = null;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) {
      this.id = value;
      this.lastEventId = value;
    }
  }
}

/** The reconnect delay after the given number of consecutive failures: 1 s, 2 s, 4 s, 8 s, then 10 s. */
export function backoffMs(failures: number): number {
  return Math.min(10_000, 1000 * 2 ** Math.max(0, failures - 1));
}

export interface FollowOptions {
  /** The path under the API base, with its query string. */
  url: string;
  signal: AbortSignal;
  onEvent: (event: ServerSentEvent) => void;
  /** Called when a connection fails and another will be tried, with the delay before it. */
  onRetry?: (delayMs: number, error: unknown) => void;
  /** Called when a connection is open (the answer's headers arrived). */
  onOpen?: () => void;
  /** Tests pass a shorter backoff. */
  backoff?: (failures: number) => number;
}

/**
 * Follows a server-sent event stream with `fetch` (so the credential goes in a header), until
 * the server ends it after a `complete` event or the signal aborts. A failed or dropped
 * connection is opened again with `Last-Event-ID`, after a backoff of 1 s growing to 10 s.
 * 401 ends the session; another 4xx other than 429 ends the following with that problem.
 */
export async function followEventStream(apiBase: string, options: FollowOptions): Promise<void> {
  const { signal } = options;
  const backoff = options.backoff ?? backoffMs;
  let lastEventId: string | null = null;
  let completed = false;
  let failures = 0;
  while (!signal.aborted && !completed) {
    try {
      const headers: Record<string, string> = { Accept: 'text/event-stream', ...authHeaders() };
      if (lastEventId) headers['Last-Event-ID'] = lastEventId;
      const response = await fetch(`${apiBase}${options.url}`, {
        headers,
        signal,
        cache: 'no-store',
      });
      if (!response.ok || !response.body) {
        let body = null;
        try {
          body = await response.json();
        } catch {
          body = null;
        }
        const problem = problemFromResponse(response, body);
        if (problem.status === 401) {
          signOut(problem.sentence);
          return;
        }
        throw problem;
      }
      options.onOpen?.();
      failures = 0;
      const parser = new EventStreamParser((event) => {
        if (event.id !== null) lastEventId = event.id;
        if (event.event === 'complete') completed = true;
        options.onEvent(event);
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.feed(value);
        }
      } finally {
        reader.releaseLock();
      }
      if (!completed) throw new Error('The stream ended before the run did.');
    } catch (error) {
      if (signal.aborted) return;
      if (isFinal(error)) throw error;
      failures++;
      const delay = backoff(failures);
      options.onRetry?.(delay, error);
      await sleep(delay, signal);
    }
  }
}

function isFinal(error: unknown): boolean {
  const status = (error as { status?: unknown } | null)?.status;
  const retryable = (error as { retryable?: unknown } | null)?.retryable;
  return typeof status === 'number' && status >= 400 && status < 500 && retryable !== true;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
