/**
 * The CSV export of a whole run, read as a stream (the body is never held: records are counted
 * as chunks arrive), with the service's VmRSS sampled while it streams.
 */
import { request } from 'node:http';
import { residentSetBytes, resetPeakResidentSet } from './processes';
import type { HttpTarget } from './servers';
import { median } from './stats';

export type ExportResult = Awaited<ReturnType<typeof measureExport>>;

const RSS_SAMPLE_MS = 100;
const QUOTE = 0x22;
const LINE_FEED = 0x0a;

/** Counts RFC 4180 records across chunks: line ends outside quoted fields. */
class CsvRecordCounter {
  records = 0;
  bytes = 0;
  private inQuotes = false;
  private endsWithLineFeed = false;
  private head: Buffer[] = [];

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.records === 0 && this.head.length < 8) this.head.push(chunk.subarray(0, 4096));
    // Scans with indexOf for the next quote and the next line feed, not byte by byte: quotes are
    // rare (only fields that hold a comma, quote or line end), so most chunks are line ends only.
    // A doubled quote closes and reopens, which comes to the same.
    let at = 0;
    let quote = chunk.indexOf(QUOTE);
    while (at < chunk.length) {
      const lineFeed = this.inQuotes ? -1 : chunk.indexOf(LINE_FEED, at);
      if (lineFeed !== -1 && (quote === -1 || lineFeed < quote)) {
        this.records += 1;
        at = lineFeed + 1;
        continue;
      }
      if (quote === -1) break;
      this.inQuotes = !this.inQuotes;
      at = quote + 1;
      quote = chunk.indexOf(QUOTE, at);
    }
    if (chunk.length > 0) this.endsWithLineFeed = chunk[chunk.length - 1] === LINE_FEED;
  }

  /** Records in the whole body, a last one without a line end included. */
  total(): number {
    return this.records + (this.bytes > 0 && !this.endsWithLineFeed ? 1 : 0);
  }

  firstLine(): string {
    return Buffer.concat(this.head).toString('utf8').split(/\r?\n/, 1)[0];
  }
}

/**
 * GETs `path` on its own connection and consumes the body as it arrives, sampling the server's
 * VmRSS every 100 ms; rejects on a non-200 answer or a body cut short.
 */
export async function measureExport(target: HttpTarget, path: string, token: string) {
  const pid = target.child.process.pid ?? 0;
  const peakReset = resetPeakResidentSet(pid);
  const rssBeforeBytes = residentSetBytes(pid);
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(residentSetBytes(pid)), RSS_SAMPLE_MS);
  const counter = new CsvRecordCounter();
  const started = process.hrtime.bigint();
  const sinceStart = () => Number(process.hrtime.bigint() - started) / 1e6;
  try {
    const response = await new Promise<{ status: number; contentType: string; firstByteMs: number }>(
      (resolveResponse, reject) => {
        const headers = { authorization: `Bearer ${token}` };
        const req = request(`${target.baseUrl}${path}`, { method: 'GET', agent: false, headers }, (res) => {
          let firstByteMs = NaN;
          const status = res.statusCode ?? 0;
          const errorBody: Buffer[] = [];
          res.on('data', (chunk: Buffer) => {
            if (Number.isNaN(firstByteMs)) firstByteMs = sinceStart();
            if (status === 200) counter.push(chunk);
            else errorBody.push(chunk);
          });
          res.once('end', () => {
            if (status !== 200)
              reject(
                new Error(`export answered ${status}: ${Buffer.concat(errorBody).toString().slice(0, 300)}`),
              );
            else
              resolveResponse({
                status,
                contentType: String(res.headers['content-type'] ?? ''),
                firstByteMs,
              });
          });
          // A stream that fails after it started is closed without its last chunk: 'aborted'/'error'.
          res.once('aborted', () => reject(new Error(`export cut short after ${counter.bytes} bytes`)));
          res.once('error', reject);
        });
        req.once('error', reject);
        req.end();
      },
    );
    const ms = sinceStart();
    const rssAfterBytes = residentSetBytes(pid);
    const rows = Math.max(0, counter.total() - 1); // records after the header row
    return {
      ...response,
      header: counter.firstLine(),
      rows,
      bytes: counter.bytes,
      ms,
      rowsPerSecond: rows / (ms / 1000),
      rssBeforeBytes,
      rssMedianBytes: median(samples),
      rssMaxBytes: Math.max(rssBeforeBytes, rssAfterBytes, ...samples),
      rssAfterBytes,
      // VmHWM after resetting it before the request: the true peak; null when the reset is refused.
      rssPeakBytes: peakReset ? residentSetBytes(pid, 'VmHWM') : null,
    };
  } finally {
    clearInterval(sampler);
  }
}
