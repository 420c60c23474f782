import { createProgress } from './progress';

function recorder(isTTY: boolean) {
  const written: string[] = [];
  let clock = 0;
  return {
    written,
    tick: (ms: number) => (clock += ms),
    progress: createProgress({
      total: 1000,
      unit: 'items',
      stream: { isTTY, write: (text: string) => written.push(text) > 0 },
      now: () => clock,
    }),
  };
}

describe('createProgress', () => {
  it('on a terminal rewrites one line with percentage, rate and time left, and ends it', () => {
    const { written, tick, progress } = recorder(true);
    tick(1000);
    progress.update(250);
    tick(100);
    progress.update(300); // within 200 ms of the last drawing: not drawn
    tick(900);
    progress.update(500);
    tick(2000);
    progress.update(1000);
    progress.finish();
    expect(written).toEqual([
      '\r\x1b[2K25% 250 of 1,000 items, 250 items/s, ETA 3 s',
      '\r\x1b[2K50% 500 of 1,000 items, 250 items/s, ETA 2 s',
      '\r\x1b[2K100% 1,000 of 1,000 items, 250 items/s, 4.0 s',
      '\r\x1b[2K100% 1,000 of 1,000 items, 250 items/s, 4.0 s\n',
    ]);
  });

  it('elsewhere writes plain lines, one per tenth and one at the end, without control characters', () => {
    const { written, tick, progress } = recorder(false);
    for (let done = 50; done <= 1000; done += 50) {
      tick(100);
      progress.update(done);
    }
    progress.finish();
    expect(written).toHaveLength(10);
    expect(written[0]).toBe('10% 100 of 1,000 items, 500 items/s, ETA 2 s\n');
    expect(written.at(-1)).toBe('100% 1,000 of 1,000 items, 500 items/s, 2.0 s\n');
    expect(written.some((line) => line.includes('\r') || line.includes('\u001b'))).toBe(false);
  });
});
