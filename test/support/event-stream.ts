import { request, type IncomingMessage } from 'node:http';

/**
 * A server-sent events reader for the e2e specs, as a browser's fetch-based reader works: the
 * credentials in headers, the body read as it arrives and cut into events. Each stream has a
 * connection of its own, closed with it.
 */

/** One event, or a comment line (`event: 'comment'`, its text in `data`). */
export interface StreamEvent {
  event: string;
  id?: string;
  data: string;
}

export class EventStreamReader {
  private buffer = '';
  private readonly queue: StreamEvent[] = [];
  private ended = false;
  private failure: unknown = null;
  private waiter: (() => void) | null = null;

  private closed = false;

  private constructor(readonly response: IncomingMessage) {
    void this.pump();
  }

  /** Opens the stream; resolves when the response's headers have arrived. */
  static open(url: string, headers: Record<string, string> = {}): Promise<EventStreamReader> {
    return new Promise((resolve, reject) => {
      request(url, { headers, agent: false }, (response) => resolve(new EventStreamReader(response)))
        .on('error', reject)
        .end();
    });
  }

  get status(): number {
    return this.response.statusCode!;
  }

  header(name: string): string | undefined {
    const value = this.response.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  /** The next event, comments included when `comments` is true; `null` once the stream has ended. */
  async next(comments = false): Promise<StreamEvent | null> {
    for (;;) {
      while (this.queue.length > 0) {
        const event = this.queue.shift()!;
        if (comments || event.event !== 'comment') return event;
      }
      if (this.failure) throw this.failure;
      if (this.ended) return null;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** Every event up to the end of the stream (the server closes it after `complete`). */
  async rest(): Promise<StreamEvent[]> {
    const events: StreamEvent[] = [];
    for (let event = await this.next(); event; event = await this.next()) events.push(event);
    return events;
  }

  /** Events until one of type `type` (included). */
  async until(type: string): Promise<StreamEvent[]> {
    const events: StreamEvent[] = [];
    for (;;) {
      const event = await this.next();
      if (!event) throw new Error(`the stream ended before an event ${type}: ${JSON.stringify(events)}`);
      events.push(event);
      if (event.event === type) return events;
    }
  }

  /** Goes away, as a client that closes the tab. */
  close(): void {
    this.closed = true;
    this.response.destroy();
    this.response.socket?.destroy();
  }

  private async pump(): Promise<void> {
    try {
      this.response.setEncoding('utf8');
      for await (const chunk of this.response) {
        this.buffer += chunk as string;
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          this.queue.push(parseEvent(this.buffer.slice(0, end)));
          this.buffer = this.buffer.slice(end + 2);
        }
        this.wake();
      }
    } catch (error) {
      if (!this.closed) this.failure = error;
    } finally {
      this.ended = true;
      this.wake();
    }
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }
}

function parseEvent(block: string): StreamEvent {
  if (block.startsWith(':')) return { event: 'comment', data: block.slice(1).trim() };
  const event: StreamEvent = { event: 'message', data: '' };
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    const field = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event.event = value;
    else if (field === 'id') event.id = value;
    else if (field === 'data') event.data = event.data ? `${event.data}\n${value}` : value;
  }
  return event;
}
