import { Readable } from 'node:stream';
import type { ExportBatch } from './export-items.query';
import type { KeyValue } from './item-sql';

/** Items read per statement of an export. */
export const EXPORT_BATCH_SIZE = 1_000;

/**
 * An export's items as an object stream, read in keyset batches as the consumer asks for them:
 * the next batch is read only once the consumer has taken the previous one, so while the client is
 * not reading nothing is read and no connection is held. `first` is the first batch, read before
 * the stream is made so that a failing database is an error answer rather than a cut file.
 */
export function readInBatches(
  first: ExportBatch,
  next: (after: KeyValue[]) => Promise<ExportBatch>,
  batchSize = EXPORT_BATCH_SIZE,
): Readable {
  let ready: ExportBatch | null = first;
  let after: KeyValue[] | null = null;
  let reading = false;
  const stream = new Readable({
    objectMode: true,
    // The next batch is read when a quarter of this one is left: reading overlaps sending, and
    // at most about a batch and a quarter waits here (wide items are kilobytes each).
    highWaterMark: Math.max(1, Math.floor(batchSize / 4)),
    read() {
      if (reading) return;
      if (ready) {
        const batch = ready;
        ready = null;
        push(batch);
        return;
      }
      reading = true;
      next(after!).then(
        (batch) => {
          reading = false;
          if (!stream.destroyed) push(batch);
        },
        (error: unknown) => {
          reading = false;
          stream.destroy(error instanceof Error ? error : new Error(String(error)));
        },
      );
    },
  });
  return stream;

  function push({ items, last }: ExportBatch): void {
    for (const item of items) stream.push(item);
    if (items.length < batchSize || !last) stream.push(null);
    else after = last;
  }
}
