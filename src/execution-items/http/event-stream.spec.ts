import type { FollowEvent } from '../follow-items';
import { encodeBatch, formatEvent, KEEP_ALIVE, toEventStream } from './event-stream';

const item = (sequence: number): FollowEvent => ({
  type: 'item',
  sequence,
  item: {
    id: `id-${sequence}`,
    externalIdValue: 'line\nbreak',
    displayName: null,
    connectedSystemObjectType: 'user',
    objectChangeType: 'Joined',
    errorType: null,
    outcomeSummary: null,
  },
});

async function readAll(stream: NodeJS.ReadableStream): Promise<string[]> {
  const chunks: string[] = [];
  for await (const chunk of stream) chunks.push(String(chunk));
  return chunks;
}

describe('formatEvent', () => {
  it('writes an item with its sequence as the id, its data on one line', () => {
    expect(formatEvent(item(7))).toBe(
      'event: item\nid: 7\ndata: {"id":"id-7","externalIdValue":"line\\nbreak","displayName":null,"connectedSystemObjectType":"user","objectChangeType":"Joined","errorType":null,"outcomeSummary":null}\n\n',
    );
  });

  it('writes progress and complete without an id', () => {
    expect(
      formatEvent({ type: 'progress', progress: { itemCount: 3, itemsWithErrors: 1, status: 'InProgress' } }),
    ).toBe('event: progress\ndata: {"itemCount":3,"itemsWithErrors":1,"status":"InProgress"}\n\n');
  });
});

describe('encodeBatch', () => {
  it('writes a batch as its events one after another, and encodes one batch once', () => {
    const batch = [item(1), item(2)];
    expect(encodeBatch(batch).toString('utf8')).toBe(formatEvent(item(1)) + formatEvent(item(2)));
    expect(encodeBatch(batch)).toBe(encodeBatch(batch));
  });
});

describe('toEventStream', () => {
  it('sends each batch in one write', async () => {
    async function* batches() {
      yield [item(1), item(2)];
      await new Promise((resolve) => setTimeout(resolve, 5));
      yield [item(3)];
    }
    expect(await readAll(toEventStream(batches(), 60_000))).toEqual([
      formatEvent(item(1)) + formatEvent(item(2)),
      formatEvent(item(3)),
    ]);
  });

  it('sends a keep-alive comment while nothing happens', async () => {
    async function* batches() {
      yield [item(1)];
      await new Promise((resolve) => setTimeout(resolve, 80));
      yield [item(2)];
    }
    const chunks = await readAll(toEventStream(batches(), 20));
    expect(chunks[0]).toBe(formatEvent(item(1)));
    expect(chunks.at(-1)).toBe(formatEvent(item(2)));
    expect(chunks.slice(1, -1).length).toBeGreaterThan(0);
    expect(new Set(chunks.slice(1, -1))).toEqual(new Set([KEEP_ALIVE]));
  });

  it('ends the events when the stream is destroyed', async () => {
    let finished = false;
    async function* batches() {
      try {
        for (let sequence = 1; ; sequence++) {
          yield [item(sequence)];
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      } finally {
        finished = true;
      }
    }
    const stream = toEventStream(batches(), 60_000);
    for await (const _chunk of stream) break;
    if (!stream.closed) await new Promise((resolve) => stream.once('close', resolve));
    expect(finished).toBe(true);
  });
});
