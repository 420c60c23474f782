import { describePurge } from './execution-runs.service';

describe('describePurge', () => {
  const cutoff = new Date('2026-08-29T12:00:00.000Z');

  it('says what was deleted, how far back and how long it took', () => {
    expect(
      describePurge({
        olderThanDays: 90,
        cutoff,
        activities: 3,
        items: 100_003,
        durationMs: 2_345,
        complete: true,
      }),
    ).toBe(
      'Purged 3 activities and 100003 items created before 2026-08-29T12:00:00.000Z (older than 90 days) in 2.3 s',
    );
  });

  it('counts one in the singular, and says when the purge was stopped', () => {
    expect(
      describePurge({ olderThanDays: 30, cutoff, activities: 1, items: 1, durationMs: 40, complete: false }),
    ).toBe(
      'Purge stopped early after deleting 1 activity and 1 item created before 2026-08-29T12:00:00.000Z (older than 30 days) in 0.0 s',
    );
  });
});
