import { Readable } from 'node:stream';
import type { FollowEvent } from '../follow-items';

/** The comment line sent when nothing else has been sent for a while. */
export const KEEP_ALIVE = ': keep-alive\n\n';

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
 * Batches of events as encoded: followers that shared a read share its batch, and so its
 * encoding, written as the same bytes to each of their connections.
 */
const ENCODED = new WeakMap<readonly FollowEvent[], Buffer>();

/** A batch of events as one write. */
export function encodeBatch(events: readonly FollowEvent[]): Buffer {
  let encoded = ENCODED.get(events);
  if (!encoded) {
    encoded = Buffer.from(events.map(formatEvent).join(''));
    ENCODED.set(events, encoded);
  }
  return encoded;
}

/**
 * The batches of events as a `text/event-stream` body, one write each. They are pulled only as
 * fast as the client reads (the HTTP layer pipes the stream with backpressure); after
 * `keepAliveMs` without anything sent, a comment line keeps idle proxies from closing the
 * connection. Destroying the stream (the client went away) ends the iteration of `batches`.
 */
export function toEventStream(batches: AsyncIterable<readonly FollowEvent[]>, keepAliveMs: number): Readable {
  return Readable.from(encode(batches, keepAliveMs), { objectMode: false });
}

async function* encode(
  batches: AsyncIterable<readonly FollowEvent[]>,
  keepAliveMs: number,
): AsyncGenerator<Buffer | string> {
  const iterator = batches[Symbol.asyncIterator]();
  const pull = () => {
    const next = iterator.next();
    // Awaited later, or never when the client has gone: a failure must not go unhandled meanwhile.
    next.catch(() => undefined);
    return next;
  };
  try {
    let pending = pull();
    for (;;) {
      const next = await orAfter(pending, keepAliveMs);
      if (next === QUIET) {
        yield KEEP_ALIVE;
        continue;
      }
      if (next.done) return;
      pending = pull();
      yield encodeBatch(next.value);
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
