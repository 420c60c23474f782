import { ExpiringCache } from './expiring-cache';

describe('ExpiringCache', () => {
  let now: number;
  const clock = () => now;

  beforeEach(() => {
    now = 1_000_000;
  });

  it('returns an entry until its lifetime has passed', () => {
    const cache = new ExpiringCache<string>(10, 5000, clock);
    cache.set('a', 'A');
    now += 4999;
    expect(cache.get('a')).toBe('A');
    now += 1;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('restarts the lifetime when an entry is set again', () => {
    const cache = new ExpiringCache<string>(10, 5000, clock);
    cache.set('a', 'A');
    now += 4000;
    cache.set('a', 'A2');
    now += 4000;
    expect(cache.get('a')).toBe('A2');
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    const cache = new ExpiringCache<number>(3, 5000, clock);
    for (const [index, key] of ['a', 'b', 'c', 'd', 'e'].entries()) cache.set(key, index);
    expect(cache.size).toBe(3);
    expect(['a', 'b', 'c', 'd', 'e'].map((key) => cache.get(key))).toEqual([undefined, undefined, 2, 3, 4]);
  });

  it('forgets a deleted entry at once', () => {
    const cache = new ExpiringCache<string>(10, 5000, clock);
    cache.set('a', 'A');
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
  });

  it('stores nothing with a lifetime of 0', () => {
    const cache = new ExpiringCache<string>(10, 0, clock);
    cache.set('a', 'A');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
