import { Readable } from 'node:stream';
import type { FollowEvent } from '../follow-items';

/** The comment line sent when nothing else has been sent for a while. */
export const KEEP_ALIVE = ': keep-alive\n\n';

/** Events gathered into one write at most (characters): a backlog goes out in large writes. */
const MAX_CHUNK = 64 * 1024;

const TURN = Symbol('turn');
const QUIET = Symbol('quiet');

/** One event in the `text/event-stream` format; JSON holds no line break, so `data` is one line. */
export function formatEvent(event: FollowEvent): string {
  switch (event.type) {
    case 'item':
      return `event: item\nid: ${event.sequence}\ndata: ${JSON.stringify(event.item)}\n\n`;
    case 'progress':
      return `event: progress\ndata: ${JSON.stringify(event.progress)}\n\n`;
    case 'complete':
      return `event: complete\ndata: ${JSON.stringify(event.activity)}\n\n`;
  }
}

/**
 * The events as a `text/event-stream` body. The events are pulled only as fast as the client
 * reads (the stream's buffer is small and the HTTP layer pipes it with backpressure); events that
 * are ready at once (a batch read) go out in one write; after `keepAliveMs` without anything
 * sent, a comment line keeps idle proxies from closing the connection. Destroying the stream
 * (the client went away) ends the iteration of `events`.
 */
export function toEventStream(events: AsyncIterable<FollowEvent>, keepAliveMs: number): Readable {
  return Readable.from(encode(events, keepAliveMs), { objectMode: false, highWaterMark: MAX_CHUNK });
}

async function* encode(events: AsyncIterable<FollowEvent>, keepAliveMs: number): AsyncGenerator<string> {
  const iterator = events[Symbol.asyncIterator]();
  const pull = () => {
    const next = iterator.next();
    // Awaited later, or never when the client has gone: a failure must not go unhandled meanwhile.
    next.catch(() => undefined);
    return next;
  };
  try {
    let pending = pull();
    for (;;) {
      const first = await orAfter(pending, keepAliveMs);
      if (first === QUIET) {
        yield KEEP_ALIVE;
        continue;
      }
      if (first.done) return;
      let chunk = formatEvent(first.value);
      pending = pull();
      // Everything that is ready before the event loop turns (the rest of a batch) joins the chunk.
      const turn = new Promise<typeof TURN>((resolve) => setImmediate(resolve, TURN));
      let done = false;
      while (chunk.length < MAX_CHUNK) {
        const ready = await Promise.race([pending, turn]);
        if (ready === TURN) break;
        if (ready.done) {
          done = true;
          break;
        }
        chunk += formatEvent(ready.value);
        pending = pull();
      }
      yield chunk;
      if (done) return;
    }
  } finally {
    await iterator.return?.();
  }
}

/** The promise's result, or `QUIET` when it takes longer than `ms`. */
async function orAfter<T>(promise: Promise<T>, ms: number): Promise<T | typeof QUIET> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<typeof QUIET>((resolve) => (timer = setTimeout(resolve, ms, QUIET))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
