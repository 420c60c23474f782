import { describe, expect, it, vi } from 'vitest';
import { backoffMs, EventStreamParser, followEventStream, type ServerSentEvent } from './event-stream';

function parse(...chunks: string[]): { events: ServerSentEvent[]; parser: EventStreamParser } {
  const events: ServerSentEvent[] = [];
  const parser = new EventStreamParser((event) => events.push(event));
  for (const chunk of chunks) parser.feed(chunk);
  return { events, parser };
}

describe('EventStreamParser', () => {
  it('reads named events with ids and data, and skips comments', () => {
    const { events, parser } = parse(
      'event: progress\ndata: {"itemCount":2}\n\n: keep-alive\n\nevent: item\nid: 3\ndata: {"id":"a"}\n\n',
    );
    expect(events).toEqual([
      { event: 'progress', id: null, data: '{"itemCount":2}' },
      { event: 'item', id: '3', data: '{"id":"a"}' },
    ]);
    expect(parser.lastEventId).toBe('3');
  });

  it('puts together an event split across chunks anywhere, CRLF split between chunks included', () => {
    const text = 'event: item\r\nid: 7\r\ndata: {"x":1}\r\n\r\nevent: complete\r\ndata: {}\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      const { events } = parse(text.slice(0, cut), text.slice(cut));
      expect(events).toEqual([
        { event: 'item', id: '7', data: '{"x":1}' },
        { event: 'complete', id: null, data: '{}' },
      ]);
    }
  });

  it('joins several data lines, defaults the type to message, and waits for the blank line', () => {
    const { events } = parse('data: one\ndata:two\n\ndata: pending\n');
    expect(events).toEqual([{ event: 'message', id: null, data: 'one\ntwo' }]);
  });

  it('ignores retry: and unknown fields, and an event without data', () => {
    const { events } = parse('retry: 500\nfoo: bar\n\nevent: progress\n\n');
    expect(events).toEqual([]);
  });
});

describe('backoffMs', () => {
  it('grows from 1 s to at most 10 s', () => {
    expect([1, 2, 3, 4, 5, 9].map(backoffMs)).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });
});

function streamOf(text: string, fail = false): Response {
  let pulls = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulls++;
      if (pulls === 1) controller.enqueue(new TextEncoder().encode(text));
      else if (fail) controller.error(new TypeError('network'));
      else controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
}

describe('followEventStream', () => {
  it('reconnects after a dropped connection with Last-Event-ID, and stops after complete', async () => {
    const seen: Array<string | null> = [];
    const fetchMock = vi.fn(async (_url: string, init: RequestInit) => {
      seen.push(new Headers(init.headers).get('Last-Event-ID'));
      return seen.length === 1
        ? streamOf('event: item\nid: 1\ndata: {}\n\nevent: item\nid: 2\ndata: {}\n\n', true)
        : streamOf('event: item\nid: 3\ndata: {}\n\nevent: complete\ndata: {}\n\n');
    });
    vi.stubGlobal('fetch', fetchMock);
    const events: string[] = [];
    const retries: number[] = [];
    await followEventStream('/api/v1', {
      url: '/activities/x/items/stream',
      signal: new AbortController().signal,
      onEvent: (event) => events.push(`${event.event}:${event.id ?? ''}`),
      onRetry: (delay) => retries.push(delay),
      backoff: () => 1,
    });
    vi.unstubAllGlobals();
    expect(seen).toEqual([null, '2']);
    expect(events).toEqual(['item:1', 'item:2', 'item:3', 'complete:']);
    expect(retries).toEqual([1]);
  });

  it('gives up on a 404 and returns at once when aborted', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(
        async () =>
          new Response(JSON.stringify({ code: 'NOT_FOUND', message: 'No such run.' }), {
            status: 404,
            headers: { 'Content-Type': 'application/json' },
          }),
      ),
    );
    await expect(
      followEventStream('/api/v1', { url: '/x', signal: new AbortController().signal, onEvent: () => {} }),
    ).rejects.toMatchObject({ status: 404 });
    const controller = new AbortController();
    controller.abort();
    await followEventStream('/api/v1', { url: '/x', signal: controller.signal, onEvent: () => {} });
    vi.unstubAllGlobals();
  });
});
