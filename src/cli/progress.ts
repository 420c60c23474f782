/** How a long command tells a person, or a log, how far it has got. */
export interface Progress {
  /** `done` of the total are finished. */
  update(done: number): void;
  /** Ends the progress line (on a terminal). */
  finish(): void;
}

interface ProgressOptions {
  total: number;
  /** What is counted, plural: `items`. */
  unit: string;
  stream: Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean };
  now?: () => number;
  /** Extra facts for the end of each line (memory, say). */
  extra?: () => string;
}

/**
 * On a terminal one line rewritten in place, at most five times a second: percentage, count, rate
 * and time left. Elsewhere (a log, a pipe) a plain line at each tenth and at the end, nothing
 * rewritten and no control characters.
 */
export function createProgress({ total, unit, stream, now = Date.now, extra }: ProgressOptions): Progress {
  const started = now();
  const tty = stream.isTTY === true;
  let lastDrawn = -Infinity;
  let lastTenth = 0;
  let lastDone = 0;

  const describe = (done: number): string => {
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const rate = done / seconds;
    const percent = Math.floor((done / total) * 100);
    const left = rate > 0 ? (total - done) / rate : Infinity;
    const facts = [
      `${percent}% ${format(done)} of ${format(total)} ${unit}`,
      `${format(Math.round(rate))} ${unit}/s`,
      done >= total ? `${seconds.toFixed(1)} s` : `ETA ${duration(left)}`,
    ];
    const more = extra?.();
    return [...facts, ...(more ? [more] : [])].join(', ');
  };

  return {
    update(done) {
      lastDone = done;
      if (tty) {
        if (now() - lastDrawn < 200 && done < total) return;
        lastDrawn = now();
        stream.write(`\r\x1b[2K${describe(done)}`);
        return;
      }
      const tenth = Math.floor((done / total) * 10);
      if (tenth > lastTenth || done >= total) {
        lastTenth = tenth;
        stream.write(`${describe(done)}\n`);
      }
    },
    finish() {
      if (tty) stream.write(`\r\x1b[2K${describe(lastDone)}\n`);
    },
  };
}

function format(n: number): string {
  return n.toLocaleString('en-US');
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.ceil(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}
